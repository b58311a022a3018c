"""The MHLW set mhlw-jp (clinical.md §j.5): encoded as content, switched off by its content flag.

The golden cases in tests/golden/mhlw/ run with the flag on (a copy of the seed with
``enabled`` ticked, as an editor would tick it); with the flag off, as shipped, every entry
point refuses the set by name and no list offers it.
"""

import json
from pathlib import Path

import pytest

from checklist.engine.diagnosis.evaluate import evaluate
from checklist.engine.diagnosis.golden import differences
from checklist.engine.inputs import InputError, parse_case
from tests.conftest import build_book, fixture_records

CASES = [
    pytest.param(case, id=case["id"])
    for case in json.loads((Path(__file__).parent / "golden" / "mhlw" / "mhlw_jp.json").read_text("utf-8"))[
        "cases"
    ]
]


def _flag_on():
    records = json.loads(json.dumps(fixture_records()))
    for r in records:
        if r["model"] == "checklist.criteriaset" and r["fields"]["slug"] == "mhlw-jp":
            r["fields"]["enabled"] = True
    return build_book(records)


@pytest.fixture(scope="module")
def mhlw_book():
    return _flag_on()


def test_cases_cover_both_sides_of_1000_in_serum_and_plasma_and_each_category():
    inputs = [p.values[0] for p in CASES]
    assert all(c["source"] for c in inputs)
    vegf = {
        (c["input"]["labs"].get("vegf_specimen"), c["input"]["labs"].get("vegf_pg_ml"))
        for c in inputs
        if isinstance(c["input"]["labs"].get("vegf_pg_ml"), int)
    }
    assert {("serum", 1000), ("serum", 999), ("plasma", 999)} <= vegf
    assert any(s == "plasma" and v >= 1000 for s, v in vegf)
    categories = {c["expect"].get("mhlw_category") for c in inputs}
    assert {"definite", "probable", "possible", "not_met", "unknown"} <= categories


@pytest.mark.parametrize("case", CASES)
def test_mhlw_golden_case(case, mhlw_book):
    result = evaluate(parse_case(case["input"], mhlw_book.sets), mhlw_book)
    assert differences(case["expect"], result) == []


def test_the_shipped_flag_is_off_and_the_set_refused_by_name(book):
    assert "mhlw-jp" not in book.sets and "mhlw-jp" in book.drafts
    assert book.drafts["mhlw-jp"].flag == "criteria_set_mhlw_jp_enabled"
    with pytest.raises(InputError) as caught:
        parse_case({"criteria_set": "mhlw-jp"}, book.sets, drafts=book.draft_messages)
    (error,) = caught.value.errors
    assert error.field == "criteria_set"
    assert "criteria_set_mhlw_jp_enabled" in error.message and "draft" in error.message


def test_other_sets_do_not_carry_the_category(book):
    result = evaluate(
        parse_case({"criteria_set": "mayo-2007", "findings": {"polyneuropathy": True}}, book.sets), book
    )
    assert "mhlw_category" not in result
    flagged = _flag_on()
    compared = evaluate(
        parse_case({"findings": {"polyneuropathy": True}, "compare": True}, flagged.sets), flagged
    )
    assert "mhlw-jp" in [r["criteria_set"] for r in compared["comparison"]]
    shipped = evaluate(parse_case({"findings": {"polyneuropathy": True}, "compare": True}, book.sets), book)
    assert "mhlw-jp" not in [r["criteria_set"] for r in shipped["comparison"]]


def test_a_category_asking_for_a_criterion_outside_its_set_is_refused():
    from checklist.engine.diagnosis.rulebook import RuleBookError

    records = json.loads(json.dumps(fixture_records()))
    for r in records:
        if r["model"] == "checklist.criteriaset" and r["fields"]["slug"] == "mhlw-jp":
            r["fields"]["categories"][0]["requires"].append("no_such_criterion")
            r["fields"]["excluded_by"] = ["no_such_caution"]
    with pytest.raises(RuleBookError) as caught:
        build_book(records)
    text = str(caught.value)
    assert "no_such_criterion" in text and "no_such_caution" in text


@pytest.mark.django_db
def test_api_and_cli_refuse_the_draft_and_the_list_does_not_offer_it(client):
    body = client.post(
        "/api/v1/evaluate", {"criteria_set": "mhlw-jp", "findings": {}}, content_type="application/json"
    )
    assert body.status_code == 400
    (error,) = body.json()["errors"]
    assert error["field"] == "criteria_set" and "criteria_set_mhlw_jp_enabled" in error["message"]
    sets = client.get("/api/v1/criteria-sets").json()["criteria_sets"]
    assert "mhlw-jp" not in [s["slug"] for s in sets]
    page = client.get("/criteria").content.decode()
    assert "mhlw-jp" in page and "Draft" in page and "criteria_set_mhlw_jp_enabled" in page


@pytest.mark.django_db
def test_cli_refuses_the_draft(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "case.json"
    path.write_text(json.dumps({"criteria_set": "mhlw-jp", "findings": {}}))
    out = StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("evaluate", str(path), stdout=out)
    assert exit_code.value.code == 2
    assert "criteria_set_mhlw_jp_enabled" in out.getvalue()
