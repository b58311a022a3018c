"""python manage.py export_content [FILE]: all content as a natural-key JSON fixture.

The file can be imported on another server with ``import_content``: this is
how a reviewed set of content moves from staging to production.
"""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from checklist.content import content_records


class Command(BaseCommand):
    help = "Export all content (natural keys, no primary keys) to FILE or standard output."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", nargs="?", default="-")

    def handle(self, *args: Any, **options: Any) -> None:
        records = content_records()
        # Dates and times become ISO strings, as in a Django fixture.
        text = json.dumps(records, indent=1, ensure_ascii=False, default=str)
        if options["file"] == "-":
            sys.stdout.write(text + "\n")
        else:
            with open(options["file"], "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stderr.write(f"Exported {len(records)} objects to {options['file']}.")
