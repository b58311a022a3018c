"""Issue 19: the evidence tag beside every rule, and published thresholds told from app defaults.

The tags come from content (a threshold's, a criterion's or a caution's record), never from the
call site that applies them; these tests change the content and see the answer follow.
"""

import copy
import io
import json
import re
import sys

import pytest
from django.core.management import call_command
from django.test import Client

from checklist.api.openapi import evaluation_components
from checklist.engine.diagnosis.evaluate import evaluate
from checklist.engine.diagnosis.golden import differences
from checklist.engine.diagnosis.rulebook import RuleBookError
from checklist.engine.evidence import BASES, EVIDENCE_TAGS
from checklist.engine.inputs import parse_case
from tests.conftest import build_book, fixture_records

SERUM = {
    "findings": {"polyneuropathy": True, "m_protein_present": True, "splenomegaly": True},
    "labs": {"vegf_pg_ml": 2000, "vegf_specimen": "serum", "light_chain_type": "kappa"},
}


def run(book, data):
    return evaluate(parse_case(data, book.sets), book)


def vegf(result):
    return next(c for c in result["criteria"] if c["code"] == "vegf_elevated")


def test_every_threshold_criterion_and_caution_in_the_seed_carries_a_tag():
    records = fixture_records()
    for r in records:
        f = r["fields"]
        if r["model"] == "checklist.threshold":
            assert f["evidence"] in EVIDENCE_TAGS, f["code"]
            assert f["basis"] in BASES, f["code"]
            # A published threshold names its citation.
            assert f["basis"] != "published" or f.get("reference"), f["code"]
        if r["model"] in ("checklist.criterion", "checklist.caution"):
            assert f["evidence"] in EVIDENCE_TAGS, f["code"]


def test_the_serum_cut_off_is_the_app_default_and_the_plasma_one_is_published(book):
    serum, plasma = book.thresholds["vegf_serum_cutoff"], book.thresholds["vegf_plasma_cutoff"]
    assert (serum.basis, serum.evidence) == ("app_default", "secondary")  # clinical.md §f.3 A14
    assert (plasma.basis, plasma.evidence) == ("published", "read_abstract")  # §g.1, Dispenzieri 2012
    assert book.thresholds["platelets_thrombocytosis"].basis == "app_default"  # §f.2 A9


def test_each_reason_has_one_entry_and_names_the_threshold_it_applied(book):
    result = run(book, SERUM)
    for c in result["criteria"]:
        assert len(c["reason_evidence"]) == len(c["reasons"]), c["code"]
    (entry,) = vegf(result)["reason_evidence"]
    (used,) = entry["thresholds"]
    assert used == {
        "code": "vegf_serum_cutoff",
        "limit": ">= 1920 pg/mL",
        "basis": "app_default",
        "evidence": "secondary",
        "source": "Springer 2023 chapter, secondary source",
    }
    assert entry["evidence"] == "secondary"


def test_the_tag_follows_the_content_not_the_call_site():
    records = copy.deepcopy(fixture_records())
    for r in records:
        f = r["fields"]
        if r["model"] == "checklist.threshold" and f["code"] == "vegf_serum_cutoff":
            f["evidence"], f["basis"] = "read_table", "published"
        if r["model"] == "checklist.caution" and f["code"] == "kappa_light_chain":
            f["evidence"] = "read_abstract"
        if r["model"] == "checklist.criterion" and f["code"] == "organomegaly":
            f["evidence"] = "unverified"
    book = build_book(records)
    result = run(book, SERUM)
    (entry,) = vegf(result)["reason_evidence"]
    assert entry["evidence"] == "read_table" and entry["thresholds"][0]["basis"] == "published"
    kappa = next(c for c in result["cautions"] if c["code"] == "kappa_light_chain")
    assert kappa["evidence"] == "read_abstract" and kappa["source"] == "Abe 2008"
    organ = next(c for c in result["criteria"] if c["code"] == "organomegaly")
    assert [r["evidence"] for r in organ["reason_evidence"]] == ["unverified"]


def test_content_with_a_bad_tag_or_an_uncited_published_threshold_is_refused():
    records = copy.deepcopy(fixture_records())
    for r in records:
        f = r["fields"]
        if r["model"] == "checklist.threshold" and f["code"] == "platelets_borderline":
            f["basis"] = "published"  # it names no reference
        if r["model"] == "checklist.caution" and f["code"] == "igm_heavy_chain":
            f["evidence"] = "strong"
    with pytest.raises(RuleBookError) as err:
        build_book(records)
    text = str(err.value)
    assert "platelets_borderline is marked published but names no reference" in text
    assert "caution igm_heavy_chain: evidence tag 'strong'" in text


def test_a_release_published_before_the_tags_reads_as_unverified_and_cited_numbers_as_published():
    records = copy.deepcopy(fixture_records())
    for r in records:
        for name in ("evidence", "basis"):
            r["fields"].pop(name, None)
    book = build_book(records)
    assert book.thresholds["vegf_serum_cutoff"].basis == "app_default"  # not verified
    assert book.thresholds["vegf_plasma_cutoff"].basis == "published"  # verified, cited
    assert {t.evidence for t in book.thresholds.values()} == {"unverified"}


def test_the_golden_comparison_catches_a_wrong_tag_or_basis(book):
    result = run(book, SERUM)
    assert differences({"threshold_basis": {"vegf_serum_cutoff": "app_default"}}, result) == []
    assert differences({"threshold_basis": {"vegf_serum_cutoff": "published"}}, result)
    assert differences({"threshold_basis": {"vegf_plasma_cutoff": "published"}}, result)  # not applied
    assert differences({"reason_evidence": {"vegf_elevated": ["read_abstract"]}}, result)
    assert differences({"caution_evidence": {"kappa_light_chain": "read_abstract"}}, result)


def test_openapi_describes_the_new_fields():
    schemas = evaluation_components()
    assert "reason_evidence" in schemas["CriterionOutcome"]["properties"]
    assert set(schemas["ThresholdUse"]["properties"]) == {"code", "limit", "basis", "evidence", "source"}
    assert {"evidence", "source"} <= set(schemas["Caution"]["properties"])
    assert "basis" in schemas["RiskFactor"]["properties"]
    assert "reason_evidence" in schemas["ExtentOut"]["properties"]
    assert "reason_evidence" in schemas["Differential"]["properties"]
    assert schemas["Differential"]["properties"]["reason_evidence"]["items"] == {
        "$ref": "#/components/schemas/ReasonEvidence"
    }
    text = json.dumps(schemas)
    for word in (*EVIDENCE_TAGS, *BASES):
        assert f'"{word}"' in text


@pytest.mark.django_db
def test_api_and_cli_carry_the_tags(seeded, monkeypatch):
    body = Client().post("/api/v1/evaluate", data=json.dumps(SERUM), content_type="application/json").json()
    assert vegf(body)["reason_evidence"][0]["thresholds"][0]["basis"] == "app_default"
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(SERUM)))
    out = io.StringIO()
    call_command("evaluate", "-", stdout=out)
    assert json.loads(out.getvalue())["criteria"] == body["criteria"]
    assert next(c for c in body["cautions"] if c["code"] == "kappa_light_chain")["evidence"] == "secondary"


@pytest.mark.django_db
def test_criteria_page_tells_a_published_threshold_from_an_app_default(client, seeded):
    html = client.get("/criteria").content.decode()
    rows = re.findall(r"<tr>.*?</tr>", html, re.S)
    plasma = next(r for r in rows if "high-specificity plasma cut-off" in r)
    serum = next(r for r in rows if "not standardised" in r)
    assert 'class="ev basis-published">published threshold' in plasma and ">read: abstract<" in plasma
    assert 'class="ev basis-app_default">app default' in serum and ">secondary<" in serum


def test_a_differential_reason_names_the_imwg_threshold_it_applied(book):
    """Issue 19: like a criterion's, one entry per reason; IMWG's calcium is published (Rajkumar
    2014), the eGFR stand-in for clearance is the app's default (clinical.md §f.2 A3)."""
    case = {
        "findings": {"polyneuropathy": True, "m_protein_present": True},
        "labs": {"calcium_mg_dl": 11.5, "egfr_ml_min_1_73m2": 35, "light_chain_type": "lambda"},
    }
    flag = next(d for d in run(book, case)["differentials"] if d["code"] == "multiple_myeloma")
    assert len(flag["reason_evidence"]) == len(flag["reasons"]) == 2
    calcium, egfr = (r["thresholds"] for r in flag["reason_evidence"])
    assert calcium == [
        {
            "code": "mm_calcium",
            "limit": "> 11 mg/dL",
            "basis": "published",
            "evidence": "read_abstract",
            "source": "Rajkumar 2014",
        }
    ]
    assert [(t["code"], t["basis"], t["evidence"]) for t in egfr] == [
        ("mm_egfr", "app_default", "app_convention")
    ]
    assert [r["evidence"] for r in flag["reason_evidence"]] == ["read_abstract", "app_convention"]
