"""python manage.py import_content FILE: load exported content, matching rows by natural key.

Runs in one transaction and validates the result with the engine before
committing, so a file that would leave the rules inconsistent changes nothing.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from checklist.content import content_records, invalidate
from checklist.engine import RuleBookError, from_records


class Command(BaseCommand):
    help = "Import a content export (natural keys). Existing rows with the same key are updated."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                call_command("loaddata", options["file"], verbosity=0)
                from_records(content_records())
        except RuleBookError as exc:
            raise CommandError(f"Import rejected, nothing changed: {'; '.join(exc.problems)}") from None
        invalidate()
        self.stdout.write(f"Imported {options['file']}.")
