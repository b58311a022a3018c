"""The engine's reasons in Japanese and Chinese (issue 23): the texts change, no code or number does."""

import copy
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from checklist.content.evaluation import evaluate_data
from checklist.content.say import accept_language, say, translate_result
from checklist.content.translation_check import numbers
from checklist.engine.message import Message
from checklist.web.presenters import diagnosis

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("ja", "zh-hans")
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# The texts translate_result may change; everything else must be byte-identical.
TEXT_KEYS = {
    "reasons",
    "to_settle",
    "message",
    "detail",
    "test",
    "why",
    "settles",
    "factor",
    "wording",
    "explanation",
}

FULL_CASE = {
    "polyneuropathy": "yes",
    "m_protein_present": "yes",
    "light_chain_type": "lambda",
    "vegf_pg_ml": "0.45",
    "vegf_pg_ml__unit": "ng/mL",
    "vegf_specimen": "plasma",
    "lymphadenopathy": "yes",
    "platelets_10e9_l": "480",
    "neuropathy_demyelinating": "yes",
}


def _golden():
    for path in sorted((ROOT / "tests" / "golden").glob("*.json")):
        yield from json.loads(path.read_text("utf-8"))["cases"]


def skeleton(value, texts, keys=TEXT_KEYS):
    """The answer with each text under ``keys`` replaced by the numbers it carries; the texts
    are collected. Shared by the follow-up's and the screen's language tests."""
    if isinstance(value, dict):
        return {k: (_numbers(v, texts) if k in keys else skeleton(v, texts, keys)) for k, v in value.items()}
    if isinstance(value, list):
        return [skeleton(v, texts, keys) for v in value]
    return value


def _numbers(value, texts):
    if isinstance(value, list):
        return [_numbers(v, texts) for v in value]
    if isinstance(value, str):
        texts.append(value)
        return Counter(numbers(value))
    return value


@pytest.mark.django_db
def test_every_golden_case_keeps_its_codes_and_numbers_in_each_language(seeded):
    cases = list(_golden())
    assert len(cases) >= 500
    engine_texts = 0
    for case in cases:
        english = evaluate_data(case["input"])
        # The engine does not know the language: evaluating under ja gives the same answer.
        with translation.override("ja"):
            assert evaluate_data(case["input"]) == english, case["id"]
        en_texts: list[str] = []
        en_shape = skeleton(english, en_texts)
        for language in LANGUAGES:
            texts: list[str] = []
            answer = translate_result(copy.deepcopy(english), language)
            assert skeleton(answer, texts) == en_shape, (case["id"], language)
            for before, after in zip(en_texts, texts, strict=True):
                if isinstance(before, Message):
                    # Every engine text is translated (its content labels may stay English;
                    # "eGFR 39.9 ... ." differs only by its 。).
                    assert after != before and (CJK.search(after) or "。" in after), (
                        case["id"],
                        language,
                        before,
                    )
                    engine_texts += 1
                else:
                    # Content (a criterion's investigations, a caution's message): the content
                    # room translates it; until then it stays English, never garbled.
                    assert after == before, (case["id"], language, before)
    assert engine_texts > 10_000


@pytest.mark.django_db
def test_the_japanese_page_shows_the_reasons_in_japanese(seeded):
    client = Client()
    english = client.post("/result", FULL_CASE, HTTP_HX_REQUEST="true").content.decode()
    japanese = client.post("/ja/result", FULL_CASE, HTTP_HX_REQUEST="true").content.decode()
    chinese = client.post("/zh-hans/result", FULL_CASE, HTTP_HX_REQUEST="true").content.decode()
    assert "Recorded by the clinician as present." in english
    assert "臨床医が「あり」と記録。" in japanese and "Recorded by the clinician as present." not in japanese
    assert "临床医生记录为“有”。" in chinese
    # The value as entered and the threshold stand as they are, its [unverified] tag too; the
    # evidence word is the interface catalogue's (locale/ wins over the app catalogue), which
    # keeps the English term beside the Japanese.
    assert "血小板 480 x10^9/L &gt; 450 x10^9/L (アプリの取り決め (app convention)" in japanese
    assert "Platelets 480 x10^9/L &gt; 450 x10^9/L (app convention" in english
    assert japanese.count("[unverified]") == english.count("[unverified]")
    # The English page carries no lang marks of ours.
    assert '<span lang="en-GB">' not in english


@pytest.mark.django_db
def test_an_untranslated_text_shows_in_english_marked_as_such(seeded):
    # An editor's new wording has no translation yet: English, with lang="en-GB".
    (c,) = diagnosis.criteria(
        [
            {
                "code": "x",
                "name": "X",
                "group": "minor",
                "status": "met",
                "reasons": ["An editor's new reason."],
            }
        ],
        "ja",
    )
    assert c.reasons[0].text == "An editor's new reason." and c.reasons[0].lang == "en-GB"
    (c,) = diagnosis.criteria(
        [
            {
                "code": "x",
                "name": "X",
                "group": "minor",
                "status": "met",
                "reasons": [Message("Not assessed.")],
            }
        ],
        "ja",
    )
    assert c.reasons[0].text == "未評価。" and c.reasons[0].lang == ""
    html = Client().post("/ja/result", {"polyneuropathy": "yes"}, HTTP_HX_REQUEST="true").content.decode()
    # A content text the catalogues lack (a criterion's investigations) is marked, not hidden.
    assert '<span lang="en-GB">' in html


def test_a_broken_catalogue_placeholder_falls_back_to_english():
    m = Message("Present: %(names)s.", names="Skin changes")
    assert say(m, "ja") == "あり：Skin changes。"
    assert say(m, "en-gb") == m and say(m, "en-gb").lang == ""


@pytest.mark.django_db
def test_the_api_answers_in_the_language_asked_for_with_the_same_codes(seeded):
    client = Client()
    case = {
        "criteria_set": "mayo-2007",
        "findings": {"polyneuropathy": True, "m_protein_present": True},
        "labs": {"vegf_pg_ml": {"value": 450, "unit": "pg/mL"}, "vegf_specimen": "plasma"},
    }

    def post(**headers):
        return client.post("/api/v1/evaluate", case, content_type="application/json", **headers)

    plain = post()
    english = post(HTTP_ACCEPT_LANGUAGE="en-GB,ja;q=0.5")
    japanese = post(HTTP_ACCEPT_LANGUAGE="ja,en;q=0.5")
    chinese = post(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert plain.content == english.content  # English unless asked otherwise, byte for byte
    assert plain.get("Content-Language", "en-gb") == "en-gb" and "Accept-Language" in plain["Vary"]
    assert japanese["Content-Language"] == "ja" and chinese["Content-Language"] == "zh-hans"
    ja, zh, en = japanese.json(), chinese.json(), plain.json()
    assert skeleton(ja, []) == skeleton(en, []) == skeleton(zh, [])
    poly = next(c for c in ja["criteria"] if c["code"] == "polyneuropathy")
    assert poly["reasons"] == ["臨床医が「あり」と記録。"] and poly["status"] == "met"
    vegf = next(c for c in zh["criteria"] if c["code"] == "vegf_elevated")
    assert "血浆" in vegf["reasons"][0] and "450 pg/mL" in vegf["reasons"][0]


def test_accept_language_reading():
    assert accept_language("") is None
    assert accept_language("en-US,en;q=0.9,ja;q=0.8") is None
    assert accept_language("ja-JP,ja;q=0.9") == "ja"
    assert accept_language("zh-CN") == "zh-hans" and accept_language("zh") == "zh-hans"
    assert accept_language("fr, ja;q=0.5") == "ja"
    assert accept_language("*") is None


def test_a_content_label_inside_a_reason_is_never_looked_up():
    # "Pleural effusion" is also a risk factor's msgid; as a finding's label (content) inside
    # "Not assessed: ..." it stays as content gives it, beside the translated words.
    from checklist.engine.i18n import COMMA
    from checklist.engine.message import join

    m = Message("Not assessed: %(names)s.", names=join(COMMA, ["Peripheral oedema", "Pleural effusion"]))
    assert say(m, "ja") == "未評価：Peripheral oedema、Pleural effusion。"
