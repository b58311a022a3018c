"""python manage.py evaluate [FILE|-] [--criteria-set SLUG] (design.md §3.4)."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from checklist.content.evaluation import as_json, decode_json, evaluate_data
from checklist.engine.inputs import FieldError, InputError


class Command(BaseCommand):
    help = "Evaluate one case (JSON, design.md §3.2) and print the result. Exit 2 on bad input."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", nargs="?", default="-", help="JSON file, or - for standard input.")
        parser.add_argument(
            "--criteria-set", dest="criteria_set", help="e.g. mayo-2007, mayo-2003, suichi-2019"
        )
        parser.add_argument("--compare", action="store_true", help="Also show the case under every set.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = decode_json(self._read(options["file"]))
            if isinstance(data, dict):
                if options["criteria_set"]:
                    data["criteria_set"] = options["criteria_set"]
                if options["compare"]:
                    data["compare"] = True
            result = evaluate_data(data)
        except InputError as exc:
            self.stdout.write(as_json(exc.as_dict()))
            sys.exit(2)
        self.stdout.write(as_json(result))

    def _read(self, name: str) -> str:
        if name == "-":
            return sys.stdin.read()
        try:
            with open(name, encoding="utf-8") as handle:
                return handle.read()
        except OSError as exc:
            raise InputError([FieldError("(file)", f"cannot read {name}: {exc.strerror}")]) from None
        except UnicodeDecodeError:
            raise InputError([FieldError("(file)", f"{name} is not UTF-8 text")]) from None
