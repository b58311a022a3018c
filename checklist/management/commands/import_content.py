"""python manage.py import_content FILE --user NAME [--reason TEXT]: load exported content into the draft.

Content models only (anything else, e.g. ``auth.user``, is refused and named).
Every object is checked with ``full_clean()`` and the threshold plausibility
ranges; rows are matched by natural key, saved with a history row naming the
importing user and the reason, and the resulting draft must still make a valid
rule book. Any problem: "Import rejected: ...", exit 1, nothing changed.
Importing changes the draft only; ``publish_content`` makes it live.
"""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.management.base import BaseCommand
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError, transaction

from checklist.content.plausibility import check_threshold
from checklist.content.publishing import rule_book_problems
from checklist.content.rule_book import CONTENT_LABELS, content_records, with_placement


class Rejected(Exception):
    """The file cannot be imported; the message names the object and field."""


def _name(record: Any, index: int) -> str:
    if not isinstance(record, dict):
        return f"object #{index + 1}"
    raw = record.get("fields")
    fields: dict[str, Any] = raw if isinstance(raw, dict) else {}
    key = next(
        (fields[k] for k in ("code", "slug", "key", "version", "username", "name") if k in fields), None
    )
    model = record.get("model", "?")
    return f"{model} {key}" if key is not None else f"{model} #{index + 1}"


def _validation_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(m for m in msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Import a content export into the draft (content models only, validated, with history)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--user", help="Username recorded on every history row of the import.")
        parser.add_argument("--reason", help="Why this import happened (recorded on every history row).")
        parser.add_argument(
            "--confirm-unusual",
            action="store_true",
            help="Accept threshold values that look like unit slips (they are listed either way).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count, warnings = self._import(options)
        except Rejected as exc:
            self.stderr.write(f"Import rejected: {exc}")
            self.stderr.write("Nothing changed.")
            sys.exit(1)
        for warning in warnings:
            self.stdout.write(f"Confirmed: {warning}")
        self.stdout.write(
            f"Imported {count} objects from {options['file']} into the draft. "
            "Review the draft against the live release in the admin, then publish (publish_content)."
        )

    def _import(self, options: dict[str, Any]) -> tuple[int, list[str]]:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise Rejected(f"no user named {options['user']!r}")
        reason = options["reason"] or f"import_content {options['file']}"
        records = self._read(options["file"])
        warnings: list[str] = []
        with transaction.atomic():
            for index, record in enumerate(records):
                name = _name(record, index)
                warnings.extend(self._load_one(record, name, user, reason, options["confirm_unusual"]))
            _book, problems = rule_book_problems(content_records())
            if problems:
                raise Rejected("the content would not make a valid rule book: " + "; ".join(problems))
        return len(records), warnings

    def _read(self, path: str) -> list[Any]:
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except OSError as exc:
            raise Rejected(f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise Rejected(f"{path} is not UTF-8 text") from None
        except ValueError as exc:
            raise Rejected(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(data, list):
            raise Rejected(f"{path} must hold a list of objects, as export_content writes")
        refused = []
        for index, record in enumerate(data):
            if not isinstance(record, dict) or not isinstance(record.get("fields"), dict):
                raise Rejected(f"{_name(record, index)}: each object needs 'model' and 'fields'")
            if str(record.get("model", "")).lower() not in CONTENT_LABELS:
                refused.append(_name(record, index))
            if "pk" in record:
                raise Rejected(f"{_name(record, index)} pk: objects are matched by natural key, not pk")
        if refused:
            raise Rejected(
                "only content may be imported; refused: "
                + ", ".join(refused)
                + f" (content models: {', '.join(sorted(CONTENT_LABELS))})"
            )
        return data

    def _load_one(
        self, record: dict[str, Any], name: str, user: Any, reason: str, confirm: bool
    ) -> list[str]:
        # An export made before a field existed keeps what it meant: without this, an
        # old file would blank every finding's place on the form.
        record = {**record, "fields": with_placement(str(record["model"]).lower(), record["fields"])}
        try:
            objects = list(serializers.deserialize("python", [record], ignorenonexistent=False))
        except DeserializationError as exc:
            cause = exc.__cause__ or exc
            raise Rejected(f"{name}: {cause}") from None
        except (ObjectDoesNotExist, ValidationError, ValueError, TypeError, KeyError, LookupError) as exc:
            raise Rejected(f"{name}: {exc}") from None
        warnings: list[str] = []
        for deserialized in objects:
            obj: Any = deserialized.object
            # A row matched by natural key is an update: validate it as one.
            if obj.pk is not None and type(obj).objects.filter(pk=obj.pk).exists():
                obj._state.adding = False
            if record["model"].lower() == "checklist.threshold":
                check = check_threshold(obj.code, obj.lab, obj.value)
                if check.errors:
                    raise Rejected(f"{name} value: {'; '.join(check.errors)}")
                if check.warnings and not confirm:
                    raise Rejected(
                        f"{name} value: {'; '.join(check.warnings)} (re-run with --confirm-unusual)"
                    )
                warnings.extend(f"{name} value: {w}" for w in check.warnings)
            try:
                obj.full_clean()
            except ValidationError as exc:
                raise Rejected(f"{name} {_validation_text(exc)}") from None
            obj._history_user = user
            obj._change_reason = reason[:100]
            try:
                obj.save()
                for field_name, values in (deserialized.m2m_data or {}).items():
                    getattr(obj, field_name).set(values)
            except (DatabaseError, ValueError, TypeError) as exc:
                raise Rejected(f"{name}: {exc}") from None
        return warnings
