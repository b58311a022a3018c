"""The CIDP clinic screen in Japanese and Chinese (issue 23): POST /api/v1/screen answers in the
language Accept-Language asks for with the English answer's codes and numbers, on every golden
case; English without the header; the page's "Open the full checklist" stays in its language."""

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.test_screen_page import CASES, api, form_fields, moved

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _codes(out):
    """Everything of the answer that is not a translated text."""
    return {
        "category": out["category"],
        "red_flags": [{k: v for k, v in f.items() if k != "reason"} for f in out["red_flags"]],
        "tests": [t["code"] for t in out["tests"]],
        "notes": [n["code"] for n in out["notes"]],
        "not_assessed": out["not_assessed"],
        "content_version": out["content_version"],
        "disclaimer": out["disclaimer"],
    }


def _texts(out):
    return [
        out["message"],
        *(f["reason"] for f in out["red_flags"]),
        *(t["why"] for t in out["tests"]),
        *(n["message"] for n in out["notes"]),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ja", "zh-hans"])
@pytest.mark.parametrize(("case", "golden_today"), CASES)
def test_api_answers_in_the_language_asked_with_the_same_codes(seeded, language, case, golden_today):
    today = timezone.localdate()
    data = moved(case["input"], (today - golden_today).days)
    english = api(Client(), data)
    assert english.status_code == 200
    assert english.get("Content-Language", "en").startswith("en")
    asked = Client().post(
        "/api/v1/screen", json.dumps(data), content_type="application/json", HTTP_ACCEPT_LANGUAGE=language
    )
    assert asked.status_code == 200
    assert asked["Content-Language"] == language
    assert "Accept-Language" in asked["Vary"]
    en, tr = english.json(), asked.json()
    assert _codes(tr) == _codes(en)
    for en_text, tr_text in zip(_texts(en), _texts(tr), strict=True):
        assert CJK.search(tr_text), tr_text
        # No number is changed or lost (a threshold, a value as entered, a date's digits).
        assert sorted(NUMBER.findall(tr_text)) == sorted(NUMBER.findall(en_text)), (en_text, tr_text)


@pytest.mark.django_db
def test_english_first_in_accept_language_is_english(seeded):
    data = moved(CASES[0].values[0]["input"], (timezone.localdate() - CASES[0].values[1]).days)
    plain = api(Client(), data).json()
    asked = Client().post(
        "/api/v1/screen", json.dumps(data), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en, ja"
    )
    assert asked.json() == plain


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_open_the_full_checklist_carries_every_value_into_the_same_language(seeded, language):
    case = next(c for c, _t in (p.values for p in CASES) if c["id"] == "S3-igg-lambda-serum-vegf-2400")
    fields = form_fields(case["input"]["values"])
    html = Client().post(f"/{language}/screen", fields).content.decode()
    form = re.search(r'<form method="post" action="([^"]+)" class="carry[^>]*>(.*?)</form>', html, re.S)
    assert form and form.group(1) == f"/{language}/"
    carried = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2)))
    for name, value in fields.items():
        if name != "acquired_demyelinating_neuropathy":
            assert carried.get(name) == value, name
    # Then the English page still links the English checklist.
    english = Client().post("/screen", fields).content.decode()
    assert 'action="/" class="carry' in english


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_a_value_left_out_is_explained_in_the_page_language(seeded, language):
    fields = {
        "acquired_demyelinating_neuropathy": "yes",
        "m_protein_present": "yes",
        "sife_date": "2999-01-01",
        "vegf_specimen": "serum",
    }
    html = Client().post(f"/{language}/screen", fields).content.decode()
    errors = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert errors
    items = re.findall(r"<li>(.*?)</li>", errors.group(0), re.S)
    assert len(items) == 2
    for item in items:
        text = re.sub(r"<[^>]+>", "", item)
        assert CJK.search(text) and "_" not in text, text
    assert "2999-01-01" in errors.group(0)
