"""Translations may change words, never numbers (design.md §3.12; the publishing gate).

A translated text must carry exactly the numbers of its English original: a cut-off of
1000 pg/mL that came out as 100 in Japanese would change a criterion without changing the
rule book. Numbers are read after NFKC (full-width ０-９ are digits), with thousands
separators dropped, and compared as a multiset (word order differs between languages).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Field suffixes of the translated content fields (django-modeltranslation's naming).
TRANSLATED_SUFFIXES = ("_ja", "_zh_hans")

_NUMBER = re.compile(r"\d+(?:[.,]\d{3})*(?:\.\d+)?")
# Placeholders such as %(n)s and {{ n }} are not numbers of the text.
_PLACEHOLDER = re.compile(r"%\([^)]*\)[sd]|\{\{[^}]*\}\}")


def numbers(text: str) -> Counter[str]:
    plain = _PLACEHOLDER.sub(" ", unicodedata.normalize("NFKC", text))
    found: Counter[str] = Counter()
    for match in _NUMBER.findall(plain):
        value = match.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", match) else match
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        found[value.lstrip("0") or "0"] += 1
    return found


def number_mismatch(english: str, translated: str) -> str | None:
    """How the numbers differ, in words; None when they are the same."""
    want, got = numbers(english), numbers(translated)
    if want == got:
        return None
    lost = sorted((want - got).elements())
    added = sorted((got - want).elements())
    parts = []
    if lost:
        parts.append("missing " + ", ".join(lost))
    if added:
        parts.append("not in the English " + ", ".join(added))
    return "; ".join(parts)


def translation_problems(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every translated content field whose numbers differ from its English field."""
    problems: list[str] = []
    for record in records:
        fields = record.get("fields", {})
        for name, value in fields.items():
            suffix = next((s for s in TRANSLATED_SUFFIXES if name.endswith(s)), None)
            if suffix is None or not isinstance(value, str) or not value.strip():
                continue
            base = name[: -len(suffix)]
            english = fields.get(base)
            if not isinstance(english, str):
                continue
            mismatch = number_mismatch(english, value)
            if mismatch:
                key = fields.get("code") or fields.get("slug") or fields.get("key") or "?"
                problems.append(
                    f"{record.get('model')} {key}: the {suffix[1:].replace('_', '-')} text of '{base}' "
                    f"has other numbers than the English ({mismatch})"
                )
    return problems


def catalogue_problems(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """The same check on interface strings (msgid, msgstr), for the .po catalogues' test."""
    out = []
    for english, translated in pairs:
        mismatch = number_mismatch(english, translated) if translated else None
        if mismatch:
            out.append(f"{english!r}: {mismatch}")
    return out
