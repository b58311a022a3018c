"""python manage.py check_cases: run every regression case; exit 1 if any fails."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from checklist.content.regression import load_golden, run_all


class Command(BaseCommand):
    help = "Run all regression cases against the current content and print each failure."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--load-golden",
            action="store_true",
            help="First load the repository's golden cases as regression cases.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["load_golden"]:
            load_golden()
        results = run_all(save=True)
        failed = [r for r in results if not r.passed]
        for r in failed:
            self.stdout.write(f"FAIL {r.slug} ({r.name})")
            for line in r.differences:
                self.stdout.write(f"    {line}")
        self.stdout.write(f"{len(results) - len(failed)} passed, {len(failed)} failed")
        if failed:
            sys.exit(1)
