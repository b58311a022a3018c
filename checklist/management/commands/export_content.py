"""python manage.py export_content [FILE] [--release N]: content as a natural-key JSON fixture.

Exports the draft (default) or a published release. The file can be imported
on another server with ``import_content`` (then published there with
``publish_content``): this is how a reviewed set of content moves from staging
to production. Only content models are exported, the same ones import accepts.
"""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from checklist.content.models import ContentRelease
from checklist.content.rule_book import content_records


class Command(BaseCommand):
    help = "Export the draft content (or a published release) to FILE or standard output."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", nargs="?", default="-")
        parser.add_argument("--release", type=int, metavar="NUMBER", help="Export this published release.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["release"] is not None:
            release = ContentRelease.objects.published().filter(number=options["release"]).first()
            if release is None:
                raise CommandError(f"No published release number {options['release']}.")
            records = list(release.records or [])
        else:
            records = content_records()
        text = json.dumps(records, indent=1, ensure_ascii=False)
        if options["file"] == "-":
            sys.stdout.write(text + "\n")
        else:
            with open(options["file"], "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stderr.write(f"Exported {len(records)} objects to {options['file']}.")
