"""The CIDP clinic screen engine (clinical.md §i, design.md §3.10): golden cases, bad input, policies.

Pure engine tests: no database. The golden cases live in tests/golden/screen/.
"""

import copy
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from checklist.engine.screen import (
    Coding,
    DraftOrder,
    RulesError,
    build_rules,
    card_decision,
    parse_screen,
    screen_json,
)
from checklist.engine.screen.evaluate import add_months
from checklist.engine.screen.rules import CATEGORY_CODES

ROOT = Path(__file__).resolve().parent.parent
SEED = json.loads((ROOT / "fixtures" / "screen_rules.json").read_text(encoding="utf-8"))
RULES = build_rules(SEED)
GOLDEN = ROOT / "tests" / "golden" / "screen"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
# Not a real RxNorm code: the seed leaves IVIG empty for the terminology editor (§j.7 item 6),
# so the card tests fill in a placeholder that can never be mistaken for one.
FAKE_IVIG = "TEST-ONLY-IVIG"


def _cases():
    for path in sorted(GOLDEN.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        today = dt.date.fromisoformat(doc["today"])
        for case in doc["cases"]:
            yield pytest.param(case, today, id=f"{path.stem}:{case['id']}")


CASES = list(_cases())


def _out(data, today=dt.date(2026, 12, 6), rules=RULES):
    return screen_json(data, rules, today=today, content_version="cv-test", disclaimer="disc-test")


def _cds_rules():
    seed = copy.deepcopy(SEED)
    seed["cds"]["trigger_orders"][0]["codes"] = [FAKE_IVIG]
    seed["cds"]["trigger_orders"][2]["codes"] = ["TEST-ONLY-PREDNISOLONE"]
    return build_rules(seed)


CDS_RULES = _cds_rules()
IVIG_ORDER = DraftOrder("MedicationRequest", (Coding(RXNORM, FAKE_IVIG),))


def test_golden_counts():
    # All 12 examples of §i.8, and more boundary cases than red flags.
    ids = [p.values[0]["id"] for p in CASES]
    assert sum(i.startswith("S") for i in ids) == 12
    assert len(ids) == len(set(ids))
    assert len(ids) >= 70


@pytest.mark.parametrize(("case", "today"), CASES)
def test_golden(case, today):
    assert case["source"].strip()
    out = _out(case["input"], today)
    assert "errors" not in out, out
    expect = case["expect"]
    assert out["category"] == expect["category"]
    assert [f["code"] for f in out["red_flags"]] == expect["red_flags"]
    if "tests" in expect:
        assert [t["code"] for t in out["tests"]] == expect["tests"]
    notes = [n["code"] for n in out["notes"]]
    for code in expect.get("notes_include", []):
        assert code in notes
    for code in expect.get("not_assessed_include", []):
        assert code in out["not_assessed"]
    # Every bracket of the wording is filled; every flag says why and from where.
    assert "{" not in out["message"] and "[" not in out["message"].split("(")[0]
    for f in out["red_flags"]:
        assert f["reason"] and f["source"] and f["evidence"]
    if "cds_ivig_order_sign" in expect:
        inp = parse_screen(case["input"], CDS_RULES, today=today)
        card = card_decision("order-sign", [IVIG_ORDER], [], inp, CDS_RULES)
        want = expect["cds_ivig_order_sign"]
        assert card.due is want["due"], card
        if want["due"]:
            assert card.indicator == want["indicator"]
            assert len(card.summary) < 140
        if "why" in want:
            assert card.why == want["why"]


def test_output_shape_is_design_3_10():
    out = _out({"values": {"acquired_demyelinating_neuropathy": True}})
    assert list(out) == [
        "category",
        "message",
        "red_flags",
        "tests",
        "notes",
        "not_assessed",
        "content_version",
        "disclaimer",
    ]
    assert out["content_version"] == "cv-test" and out["disclaimer"] == "disc-test"


def test_every_category_reachable_by_a_golden_case():
    seen = {p.values[0]["expect"]["category"] for p in CASES}
    assert seen == set(CATEGORY_CODES)


def test_every_red_flag_has_a_case_on_both_sides():
    fired, not_fired = set(), set()
    for p in CASES:
        flags = set(p.values[0]["expect"]["red_flags"])
        fired |= flags
        not_fired |= {f.code for f in RULES.red_flags} - flags
    assert fired == not_fired == {f.code for f in RULES.red_flags}


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"acquired_demyelinating_neuropathy": True, "copd": "yes"}, "values.copd", "true (yes)"),
        ({"acquired_demyelinating_neuropathy": True, "bogus": True}, "values.bogus", "unknown screen code"),
        ({}, "values.acquired_demyelinating_neuropathy", "not given"),
        ({"acquired_demyelinating_neuropathy": False}, "values.acquired_demyelinating_neuropathy", "false"),
        (
            {
                "acquired_demyelinating_neuropathy": True,
                "platelets_10e9_l": {"value": 450, "unit": "furlongs"},
            },
            "values.platelets_10e9_l.unit",
            "unknown unit",
        ),
        (
            {"acquired_demyelinating_neuropathy": True, "platelets_10e9_l": 99999},
            "values.platelets_10e9_l",
            "plausible",
        ),
        ({"acquired_demyelinating_neuropathy": True, "median_tli": 1.5}, "values.median_tli", "plausible"),
        ({"acquired_demyelinating_neuropathy": True, "vegf_pg_ml": "high"}, "values.vegf_pg_ml", "number"),
        (
            {"acquired_demyelinating_neuropathy": True, "vegf_pg_ml": 100, "vegf_specimen": "urine"},
            "values.vegf_specimen",
            "serum, plasma, unknown",
        ),
        (
            {"acquired_demyelinating_neuropathy": True, "m_protein_present": True, "sife_date": "2027-01-01"},
            "values.sife_date",
            "future",
        ),
        (
            {"acquired_demyelinating_neuropathy": True, "m_protein_present": True, "sife_date": "06/12/2026"},
            "values.sife_date",
            "YYYY-MM-DD",
        ),
        (
            {"acquired_demyelinating_neuropathy": True, "light_chain_type": "lambda"},
            "values.light_chain_type",
            "given without",
        ),
        (
            {
                "acquired_demyelinating_neuropathy": True,
                "m_protein_present": False,
                "light_chain_type": "lambda",
            },
            "values.light_chain_type",
            "contradicts",
        ),
        (
            {"acquired_demyelinating_neuropathy": True, "vegf_uln_pg_ml": 300},
            "values.vegf_uln_pg_ml",
            "given without",
        ),
    ],
)
def test_bad_input_names_field_and_what_is_allowed(values, field, words):
    out = _out({"values": values})
    assert list(out) == ["errors"]
    matching = [e for e in out["errors"] if e["field"] == field]
    assert matching, out
    assert words in matching[0]["message"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "(body)"),
        ({"values": [], "screen_policy": "test_all"}, "values"),
        (
            {"values": {"acquired_demyelinating_neuropathy": True}, "screen_policy": "sometimes"},
            "screen_policy",
        ),
        ({"values": {"acquired_demyelinating_neuropathy": True}, "findings": {}}, "findings"),
    ],
)
def test_bad_top_level(data, field):
    out = _out(data)
    assert field in [e["field"] for e in out["errors"]]


def test_not_assessed_never_counts_as_absent():
    base = {
        "acquired_demyelinating_neuropathy": True,
        "ncs_conduction_block": False,
        "ncs_temporal_dispersion": False,
    }
    # Two of the three "all absent" findings: the third not assessed does not complete the rule...
    assert _out({"values": base})["red_flags"] == []
    # ...and given as false, it does.
    full = _out({"values": {**base, "ncs_sural_sparing": False}})
    assert [f["code"] for f in full["red_flags"]] == ["rf_ncs_profile"]
    # Confounders not asked about are not "no confounder": the screen says what decides.
    raised = {
        "acquired_demyelinating_neuropathy": True,
        "m_protein_present": True,
        "heavy_chain_type": "IgG",
        "light_chain_type": "lambda",
        "vegf_pg_ml": 2400,
        "vegf_specimen": "serum",
    }
    out = _out({"values": raised})
    assert out["category"] == "screen_depends_on_input"
    assert "COPD" in out["message"]
    # Only what decides is asked for: the undated tests change nothing here.
    assert "date" not in out["message"]
    # null is not assessed too, never false.
    nulls = _out({"values": {**raised, "copd": None}})
    assert nulls["category"] == "screen_depends_on_input"
    # An undated negative pair is not taken as recent.
    neg = {
        "acquired_demyelinating_neuropathy": True,
        "m_protein_present": False,
        "vegf_pg_ml": 50,
        "vegf_specimen": "plasma",
    }
    undated = _out({"values": neg})
    assert undated["category"] == "screen_depends_on_input"
    assert "date of the serum immunofixation" in undated["message"] and "specimen" not in undated["message"]


def test_not_assessed_lists_codes_in_page_order_without_details_of_missing_results():
    out = _out({"values": {"acquired_demyelinating_neuropathy": True}})
    assert out["not_assessed"] == [c for c in out["not_assessed"] if c in RULES.input_codes]
    assert out["not_assessed"].index("m_protein_present") < out["not_assessed"].index("vegf_pg_ml")
    assert "vegf_specimen" not in out["not_assessed"] and "sife_date" not in out["not_assessed"]


def test_policies_as_i4_says():
    nothing = {"acquired_demyelinating_neuropathy": True}
    assert _out({"values": nothing})["category"] == "screen_test_now_policy"
    assert _out({"values": nothing, "screen_policy": "test_all"})["category"] == "screen_test_now_policy"
    assert _out({"values": nothing, "screen_policy": "red_flag_only"})["category"] == "screen_no_red_flags"
    # The default is data: a seed that defaults to red_flag_only changes the answer.
    seed = copy.deepcopy(SEED)
    seed["default_policy"] = "red_flag_only"
    assert _out({"values": nothing}, rules=build_rules(seed))["category"] == "screen_no_red_flags"
    # A red flag gives the same answer under both policies.
    flag = {**nothing, "ivig_refractory": True}
    for policy in ("test_all", "red_flag_only"):
        assert _out({"values": flag, "screen_policy": policy})["category"] == "screen_test_now_red_flags"


def test_thresholds_are_data():
    seed = copy.deepcopy(SEED)
    seed["thresholds"]["platelets"]["value"] = 500
    rules = build_rules(seed)
    values = {"acquired_demyelinating_neuropathy": True, "platelets_10e9_l": 480}
    assert _out({"values": values}, rules=rules)["red_flags"] == []
    assert [f["code"] for f in _out({"values": values})["red_flags"]] == ["rf_thrombocytosis"]


def test_boundary_never_rounds_the_entered_value():
    # 1.92 ng/mL is exactly the serum cut-off; a float product (1.92 * 1000) must not decide it.
    values = {"acquired_demyelinating_neuropathy": True, "vegf_specimen": "serum"}
    at = _out({"values": {**values, "vegf_pg_ml": {"value": 1.92, "unit": "ng/mL"}}})
    below = _out({"values": {**values, "vegf_pg_ml": {"value": 1.9199999, "unit": "ng/mL"}}})
    assert [f["code"] for f in at["red_flags"]] == ["rf_vegf_raised"]
    assert below["red_flags"] == []
    assert "1.92 ng/mL" in at["red_flags"][0]["reason"]


def test_a_threshold_seeded_in_another_unit_of_its_lab_is_converted_exactly():
    seed = copy.deepcopy(SEED)
    seed["thresholds"]["vegf_serum"].update(value=1.92, unit="ng/mL")
    rules = build_rules(seed)
    values = {"acquired_demyelinating_neuropathy": True, "vegf_specimen": "serum"}
    fired = {
        (value, unit): [
            f["code"]
            for f in _out({"values": {**values, "vegf_pg_ml": {"value": value, "unit": unit}}}, rules=rules)[
                "red_flags"
            ]
        ]
        for value, unit in ((1920, "pg/mL"), (1919.99, "pg/mL"), (1.92, "ng/mL"), (1.9199, "ng/mL"))
    }
    assert fired == {
        (1920, "pg/mL"): ["rf_vegf_raised"],
        (1919.99, "pg/mL"): [],
        (1.92, "ng/mL"): ["rf_vegf_raised"],
        (1.9199, "ng/mL"): [],
    }


def test_recency_counts_calendar_months():
    assert add_months(dt.date(2025, 12, 6), 12) == dt.date(2026, 12, 6)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)


def test_messages_fill_brackets():
    s4 = {
        "acquired_demyelinating_neuropathy": True,
        "vegf_pg_ml": 600,
        "vegf_specimen": "serum",
        "vegf_uln_pg_ml": 300,
        "iron_deficiency_anemia": True,
    }
    out = _out({"values": s4})
    assert "low-iron anaemia can raise it too" in out["message"]
    assert "after iron repletion" in out["message"]
    s2 = {
        "acquired_demyelinating_neuropathy": True,
        "m_protein_present": True,
        "heavy_chain_type": "IgA",
        "light_chain_type": "lambda",
        "platelets_10e9_l": 520,
    }
    msg = _out({"values": s2})["message"]
    assert "Lambda M-protein" in msg and "Muscle Nerve 2015" in msg and "(1) VEGF" in msg


def test_input_list_for_the_page():
    items = RULES.input_list()
    assert len(items) <= 15
    assert [i["item"] for i in items] == list(range(1, 16))
    for item in items:
        for inp in item["inputs"]:
            assert inp["label"] and inp["help"]
    assert items[0]["inputs"][0]["code"] == "acquired_demyelinating_neuropathy"
    assert "poems_known" not in RULES.input_codes


def test_seed_marks_unknown_codes_for_the_terminology_editor():
    cds = SEED["cds"]
    for order in cds["trigger_orders"]:
        assert order["codes"] == [] and order["needs_terminology_editor"]
    icd = cds["cidp_conditions"][0]
    assert icd["codes"] == ["G61.81"] and icd["evidence"] == "read_table"
    assert all(c["needs_terminology_editor"] for c in cds["poems_conditions"])
    # With the seed as shipped, nothing triggers a card: no code is asserted.
    inp = parse_screen(
        {"values": {"acquired_demyelinating_neuropathy": True}}, RULES, today=dt.date(2026, 12, 6)
    )
    assert not card_decision("order-sign", [IVIG_ORDER], [], inp, RULES).due


def _chart(values):
    return parse_screen({"values": values}, CDS_RULES, today=dt.date(2026, 12, 6), require_context=False)


def test_cds_steroid_needs_a_cidp_reason():
    steroid = DraftOrder("MedicationRequest", (Coding(RXNORM, "TEST-ONLY-PREDNISOLONE"),))
    chart = _chart({})
    assert card_decision("order-select", [steroid], [], chart, CDS_RULES).why == "no_trigger_order"
    cidp = Coding("http://hl7.org/fhir/sid/icd-10-cm", "G61.81")
    on_list = card_decision("order-select", [steroid], [cidp], chart, CDS_RULES)
    assert on_list.due and on_list.why == "tests_missing" and on_list.indicator == "info"
    as_reason = DraftOrder(steroid.resource_type, steroid.codings, (cidp,))
    assert card_decision("order-sign", [as_reason], [], chart, CDS_RULES).due


def test_cds_red_flag_and_tests():
    lam = _chart({"m_protein_present": True, "heavy_chain_type": "IgG", "light_chain_type": "lambda"})
    card = card_decision("order-select", [IVIG_ORDER], [], lam, CDS_RULES)
    assert card.due and card.why == "red_flag" and card.indicator == "warning"
    assert card.missing_tests == ("vegf", "serum_ife")  # IFE undated: not shown to be recent
    # A clinical-pattern flag is not a chart red flag (§i.7 (a)); organomegaly is not one either.
    organ = _chart(
        {
            "organomegaly": True,
            "vegf_pg_ml": 50,
            "vegf_specimen": "plasma",
            "vegf_date": "2026-10-01",
            "m_protein_present": False,
            "sife_date": "2026-10-01",
        }
    )
    assert card_decision("order-sign", [IVIG_ORDER], [], organ, CDS_RULES).why == "tests_on_file"
    assert card_decision("patient-view", [IVIG_ORDER], [], lam, CDS_RULES).why == "hook_not_served"
    # Wrong resource type for the code: no trigger.
    odd = DraftOrder("ServiceRequest", IVIG_ORDER.codings)
    assert not card_decision("order-sign", [odd], [], lam, CDS_RULES).due


def test_rules_refuse_a_broken_seed():
    seed = copy.deepcopy(SEED)
    seed["default_policy"] = "sometimes"
    seed["thresholds"]["platelets"]["unit"] = "furlongs"
    seed["red_flags"][0]["evidence"] = "hearsay"
    seed["items"].append({"item": 16, "title": "x", "codes": ["poems_known"]})
    with pytest.raises(RulesError) as exc:
        build_rules(seed)
    text = str(exc.value)
    for words in (
        "default_policy",
        "furlongs",
        "red_flags.rf_lambda_mprotein.evidence",
        "'hearsay'",
        "at most 15",
    ):
        assert words in text
    with pytest.raises(RulesError):
        build_rules({"version": "x"})


def test_every_number_in_sources_has_an_evidence_tag():
    tag = re.compile(r"\[(read|secondary|app convention|unverified|no published)")
    for f in SEED["red_flags"]:
        assert tag.search(f["source"]), f["code"]
    for t in SEED["thresholds"].values():
        assert tag.search(t["source"])
    for t in SEED["tests"]:
        assert tag.search(t["why"])
