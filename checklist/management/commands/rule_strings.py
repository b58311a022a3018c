"""python manage.py rule_strings [--check]: write checklist/content/rule_strings.py (issue 23)."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from checklist.content.msgids import CATALOGUES, OUTPUT, msgids, render, sync_catalogue


class Command(BaseCommand):
    help = "List every engine and rules-data text as gettext_noop calls, for makemessages."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--check", action="store_true", help="Exit 1 if stale; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        text = render()
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if options["check"]:
            if current != text:
                self.stderr.write(f"{OUTPUT.name} is stale: run manage.py rule_strings")
                sys.exit(1)
            return
        if current != text:
            OUTPUT.write_text(text, encoding="utf-8")
        wanted = msgids()
        self.stdout.write(f"{OUTPUT.name}: {len(wanted)} strings")
        for language, path in CATALOGUES.items():
            added, dropped = sync_catalogue(path, language, wanted)
            self.stdout.write(f"{language}: {added} to translate, {dropped} dropped ({path})")
