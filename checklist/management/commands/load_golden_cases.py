"""python manage.py load_golden_cases: the repository's golden cases become regression cases."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from checklist.content.regression import load_golden


class Command(BaseCommand):
    help = "Create or update a regression case for every golden case in tests/golden/."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Loaded {load_golden()} golden cases as regression cases.")
