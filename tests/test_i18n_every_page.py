"""Every page in Japanese and Chinese shows no English left untranslated (issue 23, design.md
§3.12): each page, empty and with a case, is read by ``tests.i18n_pages.untranslated``. English
that the page declares (``lang="en…"``: citations, content not yet translated, marked as such)
is allowed; anything else in English is a string that missed the catalogue."""

import json
from pathlib import Path

import pytest
from django.test import Client

from tests.follow_up_helpers import form_fields as follow_up_fields
from tests.i18n_pages import is_english, untranslated
from tests.test_reasons_i18n import FULL_CASE
from tests.test_screen_page import form_fields as screen_fields

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("ja", "zh-hans")


def _golden(folder: str, file: str, case_id: str) -> dict:
    cases = json.loads((ROOT / "tests" / "golden" / folder / file).read_text("utf-8"))["cases"]
    return next(c for c in cases if c["id"] == case_id)["input"]


# The brief's met case with the work-up (tests/test_reasons_i18n.py), a screen case with red
# flags, tests and confounders (clinical.md §i.8 S3), a three-visit complete responder (§h.9 T1).
SCREEN_CASE = screen_fields(_golden("screen", "i8_examples.json", "S3-igg-lambda-serum-vegf-2400")["values"])
FOLLOW_UP_CASE = follow_up_fields(
    _golden("follow_up", "h9_worked_examples.json", "fu-h9-t1-complete-responder")
)

PAGES = {
    "checklist": ("get", "", None),
    "checklist-case": ("post", "", FULL_CASE),
    "result": ("post", "result", FULL_CASE),
    "note": ("post", "result/note", FULL_CASE),
    "report": ("post", "report", FULL_CASE),
    "criteria": ("get", "criteria", None),
    "differentials": ("get", "differentials", None),
    "differential": ("get", "differentials/cidp", None),
    "treatments": ("get", "treatments", None),
    "treatment": ("get", "treatments/radiation-therapy", None),
    "references": ("get", "references", None),
    "about": ("get", "about", None),
    "changelog": ("get", "changelog", None),
    "screen": ("get", "screen", None),
    "screen-case": ("post", "screen", SCREEN_CASE),
    "screen-result": ("post", "screen/result", SCREEN_CASE),
    "follow-up": ("get", "follow-up", None),
    "follow-up-case": ("post", "follow-up", FOLLOW_UP_CASE),
    "follow-up-result": ("post", "follow-up/result", FOLLOW_UP_CASE),
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", list(PAGES))
def test_no_english_left_untranslated(seeded, language, page):
    method, path, data = PAGES[page]
    url = f"/{language}/{path}"
    client = Client()
    response = client.get(url) if method == "get" else client.post(url, data)
    assert response.status_code == 200, url
    left = untranslated(response.content.decode())
    assert left == [], f"{url}: {len(left)} English texts, e.g. " + "; ".join(
        f"{w}: {t!r}" for w, t in left[:25]
    )


def test_the_reader_finds_english_and_spares_what_the_page_declares():
    assert is_english("Platelets")
    assert is_english("VEGF confounders")
    assert not is_english("血小板数")
    assert not is_english("VEGF 200 pg/mL")
    assert not is_english("IgG λ, eGFR 40 mL/min")
    html = (
        '<p>血小板</p><p lang="en-GB"><span>Dispenzieri 2023</span></p>'
        '<button aria-label="Remove visit">×</button><code>vegf_pg_ml</code><p>Full result</p>'
    )
    assert untranslated(html) == [("button[aria-label]", "Remove visit"), ("p", "Full result")]
