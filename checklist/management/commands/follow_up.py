"""python manage.py follow_up [FILE|-] (design.md §3.9): the follow-up JSON, exit 2 on bad input."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from checklist.content.care_rules import follow_up_data
from checklist.content.evaluation import as_json, decode_json
from checklist.engine.inputs import InputError
from checklist.management.commands.evaluate import Command as EvaluateCommand


class Command(EvaluateCommand):  # its _read: a file or standard input, errors named
    help = "Evaluate a follow-up timeline (JSON, design.md §3.9) and print the result. Exit 2 on bad input."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", nargs="?", default="-", help="JSON file, or - for standard input.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = follow_up_data(decode_json(self._read(options["file"])))
        except InputError as exc:
            self.stdout.write(as_json(exc.as_dict()))
            sys.exit(2)
        self.stdout.write(as_json(result))
