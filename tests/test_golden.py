"""Golden clinical cases (tests/golden/*.json) run through the pure engine, no database."""

import json
from pathlib import Path

import pytest

from checklist.engine.diagnosis.evaluate import evaluate
from checklist.engine.diagnosis.golden import differences
from checklist.engine.inputs import parse_case

GOLDEN = Path(__file__).parent / "golden"
CASES = [
    pytest.param(case, id=case["id"])
    for path in sorted(GOLDEN.glob("*.json"))
    for case in json.loads(path.read_text(encoding="utf-8"))["cases"]
]


def test_golden_ids_are_unique_and_sourced():
    ids = [p.values[0]["id"] for p in CASES]
    assert len(ids) == len(set(ids))
    assert all(p.values[0].get("source") for p in CASES)
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", CASES)
def test_golden_case(case, book):
    result = evaluate(parse_case(case["input"], book.sets), book)
    assert differences(case["expect"], result) == []


def test_an_expectation_read_off_an_answer_matches_it_and_catches_a_change(book):
    """A case kept from the page guards its answer: it matches now, and a changed answer fails it."""
    from checklist.engine.diagnosis.golden import expectation_from

    case = next(
        p.values[0]
        for p in CASES
        if p.values[0]["expect"].get("status") == "met" and p.values[0]["expect"].get("differentials")
    )
    result = evaluate(parse_case(case["input"], book.sets), book)
    expected = expectation_from(result)
    assert expected["differentials"]  # the case chosen has a flag to lose
    assert differences(expected, result) == []
    assert differences(expected, {**result, "status": "not_met"})
    assert differences(expected, {**result, "differentials": []})
