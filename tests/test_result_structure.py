"""The result panel's structure for every golden case, through the presenter and its
templates. Before the string builder was removed (it is in git history: commit b421495 and
the one after kept it as tests/legacy_result_panel.py), this file compared its HTML and its
notes with the templates', case by case, and they were the same; what is asserted now is the
structure that comparison guarded."""

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

GOLDEN = Path(__file__).parent / "golden"
CASES = [
    pytest.param(case, id=case["id"])
    for path in sorted(GOLDEN.glob("*.json"))
    for case in json.loads(path.read_text(encoding="utf-8"))["cases"]
    if isinstance(case["input"], dict)
]
ORDER = (
    'class="headline"',
    'class="chips"',
    'id="flags-title"',
    "Criteria, with reasons",
    'class="print-criteria print-only"',
    'id="treatment-title"',
    'id="copy-note"',
    "Inputs, as entered",
    "Not a diagnosis.",
)


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


@pytest.mark.parametrize("case", CASES)
def test_every_golden_case_shows_its_whole_result_in_order(case, seeded):
    snap = snapshot()
    form = CaseForm(form_data(case["input"]), snapshot=snap)
    form.is_valid()
    result = evaluate(form.case, snap.book) if form.case is not None else None
    view = diagnosis.present(form, result, snap, today=timezone.localdate())
    out = result_panel.panel_html(view)
    assert out.startswith('<div id="result" class="result status-') and out.rstrip().endswith("</div>")
    assert out.count("<") == out.count(">")
    if result is None:
        assert 'class="result status-empty"' in out and 'id="flags-title"' not in out
        return
    positions = [out.find(marker) for marker in ORDER]
    assert -1 not in positions and positions == sorted(positions), dict(zip(ORDER, positions, strict=True))
    # Every criterion with its status and each reason; every chip; every flag; every missing link.
    for c in result["criteria"]:
        assert f'data-code="{c["code"]}" data-status="{c["status"]}"' in out
    items = re.findall(r'<ul class="reasons">(.*?)</ul>', out)
    assert [it.count("<li>") for it in items] == [len(c["reasons"]) for c in result["criteria"]]
    assert out.count('<li class="chip ') == len(view.chips)
    assert out.count('<a href="/differentials/') == len(result["differentials"])
    for code in result["missing"]:
        assert f'href="#id_{code}_0"' in out
    assert ('id="missing-title"' in out) == bool(result["missing"])
    assert ('id="res-compare"' in out) == bool(result.get("comparison"))
    # The before-treatment section is the engine's answer: shown exactly when it sent one.
    sent = bool(result["staging_missing"] or result["extent"] or result["risk_factors_present"])
    sent = sent or bool(result["drug_cautions"])
    assert ('id="before-treatment"' in out) == sent
    if sent:
        n = (
            len(result["staging_missing"])
            + len(result["risk_factors_present"])
            + len(result["drug_cautions"])
        )
        # Issue 19: reasons and cautions carry the label too, so count inside the section only.
        section = out[
            out.index('id="before-treatment"') : out.index("</details>", out.index('id="before-treatment"'))
        ]
        assert section.count('<span class="ev ev-') == n
        # Each risk factor read from a threshold says whether its cut-off is published or an
        # app default; a factor read from a finding has no cut-off and no such label.
        with_cut_off = sum(1 for r in result["risk_factors_present"] if r["basis"])
        assert section.count('<span class="ev basis-') == with_cut_off
    # Issue 19: every criterion reason, differential reason, extent reason (in the treatment
    # section) and caution has its evidence label, none missing.
    reasons = sum(len(c["reasons"]) for c in result["criteria"])
    flagged = sum(len(d["reasons"]) for d in result["differentials"])
    extent = len(result["extent"]["reasons"]) if result["extent"] else 0
    assert all(len(d["reason_evidence"]) == len(d["reasons"]) for d in result["differentials"])
    expected = reasons + flagged + extent + len(result["cautions"]) + (n if sent else 0)
    assert out.count('<span class="ev ev-') == expected
    # A reason that applied a threshold names its basis beside the tag, wherever it stands.
    extent_rows = [result["extent"]] if extent else []
    applied = [
        r
        for row in (*result["criteria"], *result["differentials"], *extent_rows)
        for r in row["reason_evidence"]
        if r["thresholds"]
    ]
    cut_offs = sum(1 for r in result["risk_factors_present"] if r["basis"]) if sent else 0
    assert out.count('<span class="ev basis-') == len(applied) + cut_offs
    assert all(r.evidence_word for c in view.criteria for r in c.reasons)
    # The notes come from the same view: the same headline, set and version as the panel.
    short, full = short_report(view), plain_text_report(view)
    for text in (short, full):
        assert f"Result: {view.headline} under {view.set_name}" in text
    assert f"version {view.set_version}" in out and f"version {view.set_version}" in full
