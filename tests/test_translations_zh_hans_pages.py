"""The Chinese (Simplified) translation of the long content pages, read as data (issue 23).

``fixtures/translations/zh_hans/pages.json`` is checked against the English seed
``fixtures/content_pages.json`` without a database: each record it names must exist in the
English, only the human-language fields may be translated, none may be empty, and a
translation may change the words but never the numbers (the publishing gate refuses a
release otherwise), the "[unverified]" marks or the shape of the Markdown lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from checklist.content.translation_check import number_mismatch

ROOT = Path(__file__).resolve().parent.parent
TRANSLATION = ROOT / "fixtures" / "translations" / "zh_hans" / "pages.json"
ENGLISH = ROOT / "fixtures" / "content_pages.json"

# The natural key and the translatable fields of each page model (the shared contract).
NATURAL_KEY = {
    "checklist.differential": "code",
    "checklist.treatment": "slug",
    "checklist.sitetext": "key",
    "checklist.reference": "key",
}
FIELDS = {
    "checklist.differential": {"name", "summary", "why_it_matters", "distinguishing", "tests"},
    "checklist.treatment": {"name", "summary", "body"},
    "checklist.sitetext": {"title", "body"},
    "checklist.reference": {"short"},
}

# A Markdown list item: a bullet or a numbered item at the start of a line.
LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+\S", re.MULTILINE)
# "[unverified]" and its longer forms such as "[unverified: not checked against a paper]".
UNVERIFIED = re.compile(r"\[unverified[\]:]")
# The other bracketed evidence mark of the English, "[secondary]" or "[secondary: ...]".
SECONDARY = re.compile(r"\[secondary[\]:]")


@cache
def load_english() -> dict[str, dict[str, dict[str, str]]]:
    english: dict[str, dict[str, dict[str, str]]] = {model: {} for model in NATURAL_KEY}
    for record in json.loads(ENGLISH.read_text(encoding="utf-8")):
        model = record["model"]
        if model in NATURAL_KEY:
            english[model][record["fields"][NATURAL_KEY[model]]] = record["fields"]
    return english


def load_translation() -> dict[str, dict[str, dict[str, str]]]:
    data = json.loads(TRANSLATION.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "pages.json must be an object keyed by model"
    return data


def translated_fields() -> Iterator[tuple[str, str, str, object]]:
    for model, records in load_translation().items():
        for key, fields in records.items():
            for field, text in fields.items():
                yield model, key, field, text


CASES = list(translated_fields())
IDS = [f"{model.split('.')[1]}:{key}:{field}" for model, key, field, _ in CASES]


def test_only_page_models_and_known_records() -> None:
    english = load_english()
    translation = load_translation()
    assert set(translation) <= set(NATURAL_KEY), f"unknown models: {set(translation) - set(NATURAL_KEY)}"
    unknown = [
        f"{model} {key}"
        for model, records in translation.items()
        for key in records
        if key not in english[model]
    ]
    assert not unknown, f"records that are not in {ENGLISH.name}: {unknown}"
    assert CASES, "the translation file holds no field"


@pytest.mark.parametrize(("model", "key", "field", "text"), CASES, ids=IDS)
def test_field_is_translatable_and_not_empty(model: str, key: str, field: str, text: object) -> None:
    allowed = sorted(FIELDS[model])
    assert field in FIELDS[model], f"{model} {key}: '{field}' is not a translated field ({allowed})"
    assert isinstance(text, str) and text.strip(), f"{model} {key}: '{field}' is empty"


@pytest.mark.parametrize(("model", "key", "field", "text"), CASES, ids=IDS)
def test_numbers_are_the_english_ones(model: str, key: str, field: str, text: str) -> None:
    english = load_english()[model][key][field]
    assert number_mismatch(english, text) is None, f"{model} {key} {field}: {number_mismatch(english, text)}"


@pytest.mark.parametrize(("model", "key", "field", "text"), CASES, ids=IDS)
def test_unverified_marks_are_kept(model: str, key: str, field: str, text: str) -> None:
    english = load_english()[model][key][field]
    assert len(UNVERIFIED.findall(text)) == len(UNVERIFIED.findall(english))
    assert len(SECONDARY.findall(text)) == len(SECONDARY.findall(english))


@pytest.mark.parametrize(("model", "key", "field", "text"), CASES, ids=IDS)
def test_markdown_list_items_match(model: str, key: str, field: str, text: str) -> None:
    english = load_english()[model][key][field]
    assert len(LIST_ITEM.findall(text)) == len(LIST_ITEM.findall(english))


def test_the_checks_can_fail() -> None:
    # The same checks on a deliberately wrong translation: a changed cut-off, a lost mark and
    # a list run together must each be caught.
    english = "- VEGF above 1920 pg/mL [unverified]\n- platelets above 450"
    wrong = "- VEGF 高于 1902 pg/mL，血小板高于 450"
    assert number_mismatch(english, wrong) == "missing 1920; not in the English 1902"
    assert len(UNVERIFIED.findall(wrong)) != len(UNVERIFIED.findall(english))
    assert len(LIST_ITEM.findall(wrong)) != len(LIST_ITEM.findall(english))
