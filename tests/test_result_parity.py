"""Parity of the result panel and the notes: the string builder they replace (kept here only
for this comparison, tests/legacy_*.py) and the presenter with its templates must give the
same HTML (whitespace normalised) and the same note text for every golden case."""

import json
import re
from pathlib import Path

import pytest
from django.utils import timezone

from checklist.content.rule_book import snapshot
from checklist.engine.diagnosis.evaluate import evaluate
from checklist.web.forms import CaseForm
from checklist.web.presenters import diagnosis
from checklist.web.report import plain_text_report, short_report
from checklist.web.templatetags import result_panel
from tests import legacy_report, legacy_result_panel

GOLDEN = Path(__file__).parent / "golden"
CASES = [
    pytest.param(case, id=case["id"])
    for path in sorted(GOLDEN.glob("*.json"))
    for case in json.loads(path.read_text(encoding="utf-8"))["cases"]
    if isinstance(case["input"], dict)
]


def form_data(case: dict) -> dict[str, str]:
    """A golden case's API input as the checklist form posts it."""
    data = {}
    if isinstance(case.get("criteria_set"), str):
        data["criteria_set"] = case["criteria_set"]
    findings = case.get("findings")
    for code, value in (findings if isinstance(findings, dict) else {}).items():
        data[code] = "yes" if value is True else "no" if value is False else str(value)
    labs = case.get("labs")
    for code, value in (labs if isinstance(labs, dict) else {}).items():
        if isinstance(value, dict):
            data[code] = str(value.get("value", ""))
            if "unit" in value:
                data[f"{code}__unit"] = str(value["unit"])
        else:
            data[code] = "" if value is None else str(value)
    return data


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", text)).strip()


@pytest.mark.parametrize("case", CASES)
def test_the_templates_give_the_string_builders_html(case, seeded):
    snap = snapshot()
    form = CaseForm(form_data(case["input"]), snapshot=snap)
    form.is_valid()
    result = evaluate(form.case, snap.book) if form.case is not None else None
    today = timezone.localdate()
    ctx = diagnosis.parts(None, form, result, snap, today)
    old_reports = (
        {
            "short": legacy_report.short_report(form, result, snap, today),
            "full": legacy_report.plain_text_report(form, result, snap, today),
        }
        if result
        else {}
    )
    view = diagnosis.shape(ctx)
    new_reports = {"short": short_report(view), "full": plain_text_report(view)} if result else {}
    assert new_reports == old_reports
    for reports in ({}, old_reports):
        old = legacy_result_panel.result_html({**ctx, "reports": reports})
        new = result_panel.result_html({**ctx, "reports": reports})
        assert normalised(new) == normalised(old)
    # Exact, not normalised: a textarea keeps its whitespace.
    assert result_panel.note_body(old_reports).strip() == legacy_result_panel.note_body(old_reports).strip()
