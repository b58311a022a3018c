"""python manage.py screen [FILE|-] (design.md §3.10): the CIDP clinic screen. Exit 2 on bad input."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from checklist.content.care_rules import care_context, screen_rules
from checklist.content.evaluation import as_json, decode_json
from checklist.engine.inputs import FieldError, InputError
from checklist.engine.screen import screen_json


class Command(BaseCommand):
    help = "Screen one CIDP clinic patient (JSON, design.md §3.10) and print the answer. Exit 2 on bad input."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", nargs="?", default="-", help="JSON file, or - for standard input.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = decode_json(self._read(options["file"]))
        except InputError as exc:
            self.stdout.write(as_json(exc.as_dict()))
            sys.exit(2)
        context = care_context()
        out = screen_json(
            data,
            screen_rules(),
            today=timezone.localdate(),
            content_version=context.content_version,
            disclaimer=context.disclaimer,
        )
        self.stdout.write(as_json(out))
        if "errors" in out:
            sys.exit(2)

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
