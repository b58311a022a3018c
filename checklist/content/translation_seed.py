"""The seed translations: fixtures/translations/<lang>/{pages,checklist}.json into the _ja/_zh_hans columns.

Each file maps a model label to natural keys (a membership's is "<set slug>/<criterion code>")
to field -> text, the English field's name without a suffix. Every one of them is a machine or
draft translation, not reviewed by a clinician (the TranslationReview rows say so until an
editor reviews). Loading fills only translation columns that are empty, so running
``load_content`` again never overwrites an editor's translation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist

from checklist.content.translated_fields import LANGUAGE_SUFFIXES, TRANSLATED

SEED_FILES = ("pages.json", "checklist.json")
# Language code -> its folder under fixtures/translations/.
FOLDERS = {"ja": "ja", "zh-hans": "zh_hans"}

# (model label, natural key) -> {column (with suffix): text}
Texts = dict[tuple[str, str], dict[str, str]]


class TranslationSeedError(ValueError):
    """A seed file names a model, key or field that is not translated content."""


def seed_dir() -> Path:
    return Path(settings.BASE_DIR) / "fixtures" / "translations"


def read_seed(base: Path | None = None) -> Texts:
    """Every seed text, checked: a file naming an unknown model or field is refused by name."""
    texts: Texts = {}
    for language, folder in FOLDERS.items():
        suffix = LANGUAGE_SUFFIXES[language]
        for name in SEED_FILES:
            path = (base or seed_dir()) / folder / name
            if not path.exists():
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
            for label, rows in data.items():
                allowed = TRANSLATED.get(label)
                if allowed is None:
                    raise TranslationSeedError(f"{path}: {label} is not translated content")
                for key, fields in rows.items():
                    for field, text in fields.items():
                        if field not in allowed:
                            raise TranslationSeedError(
                                f"{path}: {label} {key}: '{field}' is not a translated field "
                                f"(translated: {', '.join(allowed)})"
                            )
                        if not isinstance(text, str):
                            raise TranslationSeedError(f"{path}: {label} {key}: '{field}' must be text")
                        texts.setdefault((label, key), {})[field + suffix] = text
    return texts


def record_key(record: Mapping[str, Any]) -> str:
    """The natural key of a fixture-shaped record, as the seed files write it."""
    fields = record["fields"]
    if record["model"] == "checklist.membership":
        return f"{fields['criteria_set'][0]}/{fields['criterion'][0]}"
    return str(fields.get("code") or fields.get("slug") or fields.get("key") or "")


def _empty(value: Any) -> bool:
    return not (isinstance(value, str) and value.strip())


def fill_draft(texts: Texts) -> int:
    """Put the seed texts into the draft's empty translation columns; the number of fields filled.

    A key the draft does not have (an editor deleted the row) is skipped: the seed never
    recreates content. Saved with ``update()``: the text columns only, nothing else touched.
    """
    filled = 0
    for (label, key), columns in texts.items():
        model = apps.get_model(label)
        try:
            row = model._default_manager.get_by_natural_key(*key.split("/"))
        except ObjectDoesNotExist:
            continue
        new = {c: t for c, t in columns.items() if _empty(getattr(row, c))}
        if new:
            model._default_manager.filter(pk=row.pk).update(**new)
            filled += len(new)
    return filled


def fill_records(records: Iterable[dict[str, Any]], texts: Texts) -> tuple[list[dict[str, Any]], int]:
    """The records with the seed texts in their empty translation fields, and how many were filled."""
    out, filled = [], 0
    for record in records:
        columns = texts.get((str(record["model"]), record_key(record)))
        if columns:
            fields = dict(record["fields"])
            for column, text in columns.items():
                if _empty(fields.get(column)):
                    fields[column] = text
                    filled += 1
            record = {**record, "fields": fields}
        out.append(record)
    return out, filled
