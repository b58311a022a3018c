"""The follow-up in Japanese and Chinese (issue 23): its texts change, no code or number does."""

import copy
import html
import json
import re
from datetime import date
from pathlib import Path

import pytest
from django.test import Client

from checklist.content.care_rules import follow_up_data
from checklist.content.say import translate_follow_up
from checklist.engine.follow_up import evaluate_follow_up, parse_follow_up
from checklist.engine.follow_up.result import to_json
from checklist.engine.follow_up.rules import rules_from_dict
from tests.test_reasons_i18n import skeleton as shared_skeleton

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# The texts translate_follow_up may change; everything else must be byte-identical.
TEXT_KEYS = {"reason", "message", "progression_label"}
RULES = rules_from_dict(json.loads((ROOT / "fixtures" / "follow_up_rules.json").read_text("utf-8")))


def skeleton(value, texts):
    return shared_skeleton(value, texts, TEXT_KEYS)


def _cases():
    for path in sorted((ROOT / "tests" / "golden" / "follow_up").glob("*.json")):
        for case in json.loads(path.read_text("utf-8"))["cases"]:
            try:
                timeline = parse_follow_up(case["input"], date(2030, 1, 1))
            except Exception:  # a case that tests a refusal: no result to translate
                continue
            yield case["id"], to_json(evaluate_follow_up(timeline, RULES))


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_every_golden_case_keeps_its_codes_and_numbers(language):
    cases = list(_cases())
    assert len(cases) >= 20
    translated_texts = 0
    for case_id, english in cases:
        said = translate_follow_up(copy.deepcopy(english), language)
        texts: list[str] = []
        # Every key but the texts is byte-identical; the texts keep each number they carry.
        assert skeleton(said, texts) == skeleton(english, []), case_id
        translated_texts += sum(1 for t in texts if CJK.search(t))
        assert json.dumps(translate_follow_up(copy.deepcopy(english), "en-gb")) == json.dumps(english)
    assert translated_texts > 100


@pytest.mark.django_db
def test_the_api_answers_in_the_language_asked_for(seeded):
    case = json.loads(
        (ROOT / "tests" / "golden" / "follow_up" / "h9_worked_examples.json").read_text("utf-8")
    )
    body = case["cases"][0]["input"]
    client = Client()

    def post(**headers):
        return client.post("/api/v1/follow-up", body, content_type="application/json", **headers)

    plain, english, japanese = (
        post(),
        post(HTTP_ACCEPT_LANGUAGE="en-GB,ja;q=0.5"),
        post(HTTP_ACCEPT_LANGUAGE="ja"),
    )
    assert plain.status_code == 200 and plain.content == english.content
    assert "Accept-Language" in plain["Vary"] and japanese["Content-Language"] == "ja"
    ja, en = japanese.json(), plain.json()
    assert skeleton(ja, []) == skeleton(en, [])
    assert en == follow_up_data(body)
    reason = ja["visits"][1]["domains"]["vegf"]["reason"]
    assert CJK.search(reason) and "380 pg/mL" in reason and "[unverified]" in reason


def _note(response):
    found = re.search(
        r'<textarea[^>]*id="fu-note-text"[^>]*>(.*?)</textarea>', response.content.decode(), re.S
    )
    assert found is not None
    return html.unescape(found.group(1))


@pytest.mark.django_db
def test_the_note_follows_the_page_and_switches_to_english(seeded):
    from tests.test_i18n_every_page import FOLLOW_UP_CASE

    client = Client()
    english = _note(client.post("/follow-up/result", FOLLOW_UP_CASE))
    japanese_page = client.post("/ja/follow-up/result", FOLLOW_UP_CASE)
    japanese = _note(japanese_page)
    assert CJK.search(japanese) and "800 pg/mL" in japanese and "H-V4" in japanese
    assert 'name="note_lang"' in japanese_page.content.decode()
    # The English switch (a referral letter) gives the English page's note, word for word.
    assert _note(client.post("/ja/follow-up/result", FOLLOW_UP_CASE | {"note_lang": "en"})) == english
    assert 'name="note_lang"' not in client.post("/follow-up/result", FOLLOW_UP_CASE).content.decode()
