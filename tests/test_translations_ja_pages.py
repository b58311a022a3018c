"""The Japanese translation of the long content pages (issue 23) against its English source.

Pure Python, no database: the data file is read as the loader will read it, and every field
is held to the publishing gate's rule (the same numbers as the English) and to the English's
shape (its evidence markers and its Markdown list items), so a translation cannot quietly
drop a threshold, an "[unverified]" mark or a line of a list.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from checklist.content.translation_check import number_mismatch

ROOT = Path(__file__).resolve().parent.parent
ENGLISH = ROOT / "fixtures" / "content_pages.json"
TRANSLATION = ROOT / "fixtures" / "translations" / "ja" / "pages.json"
GLOSSARY = ROOT / "locale" / "glossary.tsv"

# The models of the "pages" group, the field naming each record, and the fields translated.
FIELDS = {
    "checklist.differential": ("code", ("name", "summary", "why_it_matters", "distinguishing", "tests")),
    "checklist.treatment": ("slug", ("name", "summary", "body")),
    "checklist.sitetext": ("key", ("title", "body")),
    "checklist.reference": ("key", ("short",)),
}

# Evidence words that stay in English beside the Japanese (locale/glossary.tsv, "unverified").
MARKERS = ("[unverified]", "[unverified", "unverified", "[secondary", "secondary", "app convention")

_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+", re.MULTILINE)


def _english() -> dict[str, dict[str, dict[str, Any]]]:
    records = json.loads(ENGLISH.read_text(encoding="utf-8"))
    out: dict[str, dict[str, dict[str, Any]]] = {model: {} for model in FIELDS}
    for record in records:
        model = record["model"]
        if model in FIELDS:
            key_field = FIELDS[model][0]
            out[model][record["fields"][key_field]] = record["fields"]
    return out


def _translation() -> dict[str, dict[str, dict[str, str]]]:
    data = json.loads(TRANSLATION.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _pairs() -> list[tuple[str, str, str, str, str]]:
    """(model, key, field, English, Japanese) for every translated field."""
    english = _english()
    out = []
    for model, records in _translation().items():
        for key, fields in records.items():
            for field, text in fields.items():
                source = english.get(model, {}).get(key, {}).get(field)
                out.append((model, key, field, source if isinstance(source, str) else "", text))
    return out


def test_models_are_those_of_the_pages_group() -> None:
    assert set(_translation()) <= set(FIELDS)


def test_every_key_exists_in_the_english_fixture() -> None:
    english = _english()
    unknown = [
        f"{model} {key}"
        for model, records in _translation().items()
        for key in records
        if key not in english.get(model, {})
    ]
    assert unknown == []


def test_every_field_is_translatable_and_not_empty() -> None:
    bad = []
    for model, records in _translation().items():
        allowed = FIELDS[model][1]
        for key, fields in records.items():
            assert isinstance(fields, dict), f"{model} {key}"
            for field, text in fields.items():
                if field not in allowed:
                    allowed_words = ", ".join(allowed)
                    bad.append(
                        f"{model} {key}: '{field}' is not a translated field (allowed: {allowed_words})"
                    )
                elif not isinstance(text, str) or not text.strip():
                    bad.append(f"{model} {key}: '{field}' is empty")
    assert bad == []


def test_every_record_and_field_is_translated() -> None:
    """The task is the whole of the pages group: nothing left to fall back to English."""
    english, translated = _english(), _translation()
    missing = [
        f"{model} {key}.{field}"
        for model, (_, fields) in FIELDS.items()
        for key, record in english[model].items()
        for field in fields
        if (record.get(field) or "").strip()
        and not translated.get(model, {}).get(key, {}).get(field, "").strip()
    ]
    assert missing == []


def test_numbers_are_those_of_the_english() -> None:
    bad = [
        f"{model} {key}.{field}: {mismatch}"
        for model, key, field, source, text in _pairs()
        if (mismatch := number_mismatch(source, text))
    ]
    assert bad == []


@pytest.mark.parametrize("marker", MARKERS)
def test_evidence_markers_are_kept(marker: str) -> None:
    bad = [
        f"{model} {key}.{field}: {source.count(marker)} in English, {text.count(marker)} here"
        for model, key, field, source, text in _pairs()
        if source.count(marker) != text.count(marker)
    ]
    assert bad == []


def test_markdown_list_items_match_the_english() -> None:
    bad = []
    for model, key, field, source, text in _pairs():
        want, got = len(_LIST_ITEM.findall(source)), len(_LIST_ITEM.findall(text))
        if want != got:
            bad.append(f"{model} {key}.{field}: {want} list items in English, {got} here")
    assert bad == []


def _glossary_misses(source: str, text: str) -> list[str]:
    """Glossary terms of the English whose Japanese term is not in the translation.

    A longer term is matched first and masked, so "plasma-cell" asks for the term of
    "plasma cell", not that of "plasma" (the specimen); hyphens read as spaces and a plural
    as its singular. As in
    tests/test_i18n.py, a term whose Japanese ends with the English abbreviation in
    brackets may stay that abbreviation.
    """
    with GLOSSARY.open(encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f, delimiter="\t"), key=lambda r: -len(r["english"]))
    plain = source.replace("-", " ")
    misses = []
    for row in rows:
        pattern = re.compile(rf"\b{re.escape(row['english'].replace('-', ' '))}(?:e?s)?\b", re.IGNORECASE)
        if not pattern.search(plain):
            continue
        plain = pattern.sub(" ", plain)
        term = row["ja"].split(" (")[0]
        allowed = {term, row["english"]} if row["ja"].endswith(f"({row['english']})") else {term}
        if not any(t in text for t in allowed):
            misses.append(f"{row['english']} -> {term}")
    return misses


def test_glossary_terms_are_used() -> None:
    bad = [
        f"{model} {key}.{field}: {', '.join(misses)}"
        for model, key, field, source, text in _pairs()
        if (misses := _glossary_misses(source, text))
    ]
    assert bad == []


def test_the_checks_can_fail() -> None:
    """The rules above catch what they are meant to catch, on a known-bad pair."""
    assert number_mismatch("above 1920 pg/mL", "1,920 pg/mL超") is None
    assert number_mismatch("above 1920 pg/mL", "192 pg/mL超") is not None
    assert len(_LIST_ITEM.findall("- a\n- b")) == 2
    assert len(_LIST_ITEM.findall("- a、b")) == 1
    assert _glossary_misses("marrow plasma cells", "骨髄形質細胞") == []
    assert _glossary_misses("plasma VEGF", "血清VEGF") == ["plasma -> 血漿"]
