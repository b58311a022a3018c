"""python manage.py load_content [--force]: load the reviewed seed content.

Loads only into an empty content database unless --force, so re-running
`make setup` never overwrites what editors have changed. If nothing is
published yet, the seed is published as release 1, so a fresh install serves.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from checklist.content.models import CriteriaSet
from checklist.content.publishing import publish_seed
from checklist.ehr.models import LoincMapping, TerminologyCode

SEED_FIXTURES = ("checklist_content", "content_pages", "loinc_mappings", "terminology_codes")


class Command(BaseCommand):
    help = "Load the seed content fixtures (only into an empty database unless --force)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Load even if content exists (overwrites seed rows)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if CriteriaSet.objects.exists() and not options["force"]:
            if not LoincMapping.objects.exists():
                # The LOINC mapping came after the first content; databases seeded before it get it once.
                call_command("loaddata", "loinc_mappings", verbosity=0)
                self.stdout.write("Loaded the seed LOINC mapping.")
            if not TerminologyCode.objects.exists():
                # The order-hook codes came later still; they reach the pages once an editor publishes.
                call_command("loaddata", "terminology_codes", verbosity=0)
                self.stdout.write("Loaded the seed order-hook codes (publish to serve them).")
            self.stdout.write("Content already present; not loading the seed (use --force to overwrite).")
            self._publish_seed()
            return
        call_command("loaddata", *SEED_FIXTURES, verbosity=0)
        # Fixtures load as raw saves, which keep no history; record the seed as
        # each row's first version so an editor can always revert to it.
        call_command("populate_history", auto=True, verbosity=0)
        self.stdout.write(f"Loaded seed content: {', '.join(SEED_FIXTURES)}.")
        self._publish_seed()

    def _publish_seed(self) -> None:
        outcome = publish_seed()
        if not outcome.ok:
            raise CommandError(
                "The seed content cannot be published: " + "; ".join(outcome.problems + outcome.failures)
            )
        release = outcome.release
        assert release is not None
        self.stdout.write(f"Serving release {release.number} ({release.stamp}).")
