"""python manage.py publish_content --note "..." (design.md §3.7).

Exit 0: published, the new release number printed. Exit 1: nothing changed,
every rule-book error and every failing regression case printed, in clinical words.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from checklist.content.models import ContentRelease
from checklist.content.publishing import Outcome, publish, revert


class Command(BaseCommand):
    help = "Publish the draft as the next release, after validating it and running every regression case."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--note", required=True, help="What changed, in plain words (public changelog).")
        parser.add_argument("--user", help="Username of the editor publishing (recorded on the release).")
        parser.add_argument(
            "--revert-to",
            type=int,
            metavar="NUMBER",
            help="Publish the content of this earlier release again, as a new release.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user named {options['user']!r}.")
        if options["revert_to"] is not None:
            target = ContentRelease.objects.published().filter(number=options["revert_to"]).first()
            if target is None:
                raise CommandError(f"No published release number {options['revert_to']}.")
            outcome = revert(target, options["note"], user)
        else:
            outcome = publish(options["note"], user)
        self.report(outcome)

    def report(self, outcome: Outcome) -> None:
        if outcome.ok:
            r = outcome.release
            assert r is not None
            self.stdout.write(
                f"Published release {r.number} ({r.stamp}); {outcome.cases_run} regression cases pass."
            )
            return
        self.stdout.write("Not published; nothing changed.")
        for problem in outcome.problems:
            self.stdout.write(f"Rule book: {problem}")
        for failure in outcome.failures:
            self.stdout.write(failure)
        if outcome.failures:
            self.stdout.write(
                f"{len(outcome.failures)} of {outcome.cases_run} regression cases would change."
            )
        sys.exit(1)
