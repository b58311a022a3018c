"""The follow-up engine (clinical.md §h, design.md §3.9): golden timelines, properties, bad input.

Pure engine, no database: the rules are built from fixtures/follow_up_rules.json.
"""

import json
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checklist.engine.exact import decimal_factor, unit_factor
from checklist.engine.follow_up import evaluate_follow_up, parse_follow_up, rules_from_dict, to_json
from checklist.engine.follow_up.inputs import LAB_CODES
from checklist.engine.follow_up.rules import RulesError
from checklist.engine.inputs import InputError
from checklist.engine.vocabulary import LABS

ROOT = Path(__file__).resolve().parent.parent
RULES_DATA = json.loads((ROOT / "fixtures" / "follow_up_rules.json").read_text(encoding="utf-8"))
RULES = rules_from_dict(RULES_DATA)
TODAY = date(2028, 12, 31)
GOLDEN = Path(__file__).parent / "golden" / "follow_up"
CASES = [
    pytest.param(case, id=case["id"])
    for path in sorted(GOLDEN.glob("*.json"))
    for case in json.loads(path.read_text(encoding="utf-8"))["cases"]
]


def run(document, rules=RULES):
    return to_json(evaluate_follow_up(parse_follow_up(document, TODAY), rules))


def differences(expect, answer):
    """Every way ``answer`` departs from the expectation of one timeline, in words."""
    out = []
    got_visits = answer["visits"]
    if len(got_visits) != len(expect["visits"]):
        return [f"{len(got_visits)} visits, expected {len(expect['visits'])}"]
    for want, got in zip(expect["visits"], got_visits, strict=True):
        day = want["date"]
        if got["date"] != day:
            out.append(f"{day}: got date {got['date']}")
        for domain, category in want["categories"].items():
            if got["domains"][domain]["category"] != category:
                r = got["domains"][domain]
                out.append(
                    f"{day} {domain}: {r['category']} ({r['rule']}: {r['reason']}), expected {category}"
                )
        if got["possible_progression"] != want["possible_progression"]:
            flag, wanted = got["possible_progression"], want["possible_progression"]
            out.append(f"{day}: possible_progression {flag!r}, expected {wanted!r}")
        for domain, rule in want.get("rules", {}).items():
            if got["domains"][domain]["rule"] != rule:
                out.append(f"{day} {domain}: rule {got['domains'][domain]['rule']}, expected {rule}")
        for domain, pct in want.get("change_pct", {}).items():
            if got["domains"][domain]["change_pct"] != pct:
                out.append(
                    f"{day} {domain}: change_pct {got['domains'][domain]['change_pct']}, expected {pct}"
                )
        for domain, cautions in want.get("cautions", {}).items():
            have = [[c["code"], c["level"]] for c in got["domains"][domain]["cautions"]]
            for c in cautions:
                if c not in have:
                    out.append(f"{day} {domain}: caution {c} missing (have {have})")
        for domain, cautions in want.get("no_cautions", {}).items():
            have = [c["code"] for c in got["domains"][domain]["cautions"]]
            for c in cautions:
                if c in have:
                    out.append(f"{day} {domain}: caution {c} should not be there")
        if "triggers" in want:
            have = [[t["domain"], t["rule"]] for t in got["progression_triggers"]]
            if have != want["triggers"]:
                out.append(f"{day}: triggers {have}, expected {want['triggers']}")
        for key in ("baseline", "nadir"):
            for domain, (when, value) in want.get(key, {}).items():
                point = got["domains"][domain][key]
                if point is None or [point["date"], point["value"]] != [when, value]:
                    out.append(f"{day} {domain}: {key} {point}, expected {when} {value}")
        for domain, words in want.get("reason_contains", {}).items():
            if words not in got["domains"][domain]["reason"]:
                out.append(f"{day} {domain}: reason {got['domains'][domain]['reason']!r} lacks {words!r}")
    return out


def test_golden_timelines_are_sourced_unique_and_cover_the_browser_three():
    ids = [p.values[0]["id"] for p in CASES]
    assert len(ids) == len(set(ids))
    assert all("clinical.md §h" in p.values[0]["source"] for p in CASES)
    assert {"fu-complete-responder", "fu-vegf-only-relapse", "fu-specimen-change"} <= set(ids)
    assert sum(i.startswith("fu-h9-t") for i in ids) == 12


@pytest.mark.parametrize("case", CASES)
def test_golden_timeline(case):
    rules = RULES
    if case.get("rules_override"):
        data = json.loads(json.dumps(RULES_DATA))
        for code, value in case["rules_override"].items():
            data["thresholds"][code]["value"] = value
        rules = rules_from_dict(data)
    assert differences(case["expect"], run(case["input"], rules)) == []


def test_the_golden_check_can_fail():
    case = next(p.values[0] for p in CASES if p.values[0]["id"] == "fu-h9-t3-vegf-progression-boundary")
    answer = run(case["input"])
    answer["visits"][3]["domains"]["vegf"]["category"] = "pr"
    answer["visits"][3]["possible_progression"] = False
    assert len(differences(case["expect"], answer)) == 2


# --- Properties (clinical.md §h.3 H-B5) -------------------------------------------------

SPECIMENS = st.sampled_from(["plasma", "serum", "unknown"])
IFE = st.sampled_from(["positive", "negative", "not_done"])


@st.composite
def visit_values(draw):
    values = {}
    if draw(st.booleans()):
        values["vegf_pg_ml"] = draw(st.one_of(st.integers(0, 5000), st.floats(0, 5000, allow_nan=False)))
        values["vegf_specimen"] = draw(SPECIMENS)
        if draw(st.booleans()):
            values["vegf_pg_ml"] = {"value": values["vegf_pg_ml"] / 1000, "unit": "ng/mL"}
    if draw(st.booleans()):
        values["m_protein_g_dl"] = draw(st.sampled_from([0, 0.1, 0.25, 0.4, 0.5, 0.6, 1.0, 1.2, 2.0]))
        values["sife_result"] = draw(IFE)
        values["uife_result"] = draw(IFE)
    if draw(st.booleans()):
        values["pet_done"] = True
        values["pet_avid_lesion_count"] = draw(st.integers(0, 5))
        values["pet_suv_max"] = draw(st.sampled_from([2.0, 4.0, 4.1, 6.0, 8.0]))
        values["pet_new_avid_lesion"] = draw(st.booleans())
    if draw(st.booleans()):
        values["onls_total"] = draw(st.integers(0, 12))
        values["pleural_effusion"] = draw(st.booleans())
    if draw(st.booleans()):
        values["acute_infection"] = True
    return values


@st.composite
def timelines(draw):
    days = draw(st.lists(st.integers(0, 1300), min_size=1, max_size=8, unique=True))
    start = date(2025, 1, 1)
    visits = [
        {"date": date.fromordinal(start.toordinal() + d).isoformat(), "values": draw(visit_values())}
        for d in days
    ]
    treatments = []
    for line, d in enumerate(sorted(draw(st.lists(st.integers(0, 1300), max_size=2, unique=True))), start=1):
        kind = draw(st.sampled_from(["radiation", "systemic", "asct"]))
        first = date.fromordinal(start.toordinal() + d)
        end = date.fromordinal(first.toordinal() + 40).isoformat() if kind == "radiation" else None
        treatments.append({"line": line, "type": kind, "start": first.isoformat(), "end": end})
    return {"visits": visits, "treatments": treatments}


@settings(deadline=None)
@given(timelines(), st.randoms(use_true_random=False))
def test_reordering_the_visits_does_not_change_the_output(document, rnd):
    shuffled = {**document, "visits": rnd.sample(document["visits"], len(document["visits"]))}
    assert run(shuffled) == run(document)


@settings(deadline=None)
@given(timelines(), visit_values())
def test_adding_a_later_visit_never_changes_an_earlier_result(document, later_values):
    before = run(document)
    last = max(date.fromisoformat(v["date"]) for v in document["visits"])
    later = {"date": date.fromordinal(last.toordinal() + 30).isoformat(), "values": later_values}
    after = run({**document, "visits": [*document["visits"], later]})
    assert after["visits"][:-1] == before["visits"]


@settings(deadline=None)
@given(timelines())
def test_every_result_is_tagged_and_worded_as_the_spec_asks(document):
    for visit in run(document)["visits"]:
        assert visit["possible_progression"] in (True, False, "confounded")
        for result in visit["domains"].values():
            assert result["evidence"] in (
                "read_abstract",
                "read_table",
                "secondary",
                "unverified",
                "app_convention",
            )
            assert result["source"] and result["reason"]
            assert "relapse" not in result["reason"].lower()
            assert all(c["level"] in ("major", "minor") for c in result["cautions"])


def test_the_flag_reads_possible_progression_review():
    case = next(p.values[0] for p in CASES if p.values[0]["id"] == "fu-h9-t3-vegf-progression-boundary")
    last = run(case["input"])["visits"][-1]
    assert last["progression_label"] == "possible progression: review"
    assert "consistent with progression" in last["domains"]["vegf"]["reason"]


def test_chronic_confounders_keep_an_acronym_in_capitals():
    """H-C1's chronic confounders in one sentence: COPD read "Copd" first and "copd" after."""
    values = {"vegf_pg_ml": 800, "vegf_specimen": "plasma"}
    for flags, words in (
        ({"copd": True}, "COPD can raise VEGF by itself."),
        ({"iron_deficiency_anemia": True, "copd": True}, "Iron-deficiency anaemia, COPD can raise"),
    ):
        answer = run({"visits": [{"date": "2026-01-05", "values": {**values, **flags}}]})
        domains = answer["visits"][0]["domains"].values()
        messages = [c["message"] for d in domains for c in d.get("cautions", [])]
        assert any(words in m for m in messages), messages


# --- Bad input: every problem named by its field, never an exception escaping ----------

GOOD_VISIT = {"date": "2026-01-05", "values": {"vegf_pg_ml": 800, "vegf_specimen": "plasma"}}


def errors_of(document):
    with pytest.raises(InputError) as caught:
        parse_follow_up(document, TODAY)
    return {e["field"]: e["message"] for e in caught.value.as_dict()["errors"]}


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"vegf_pg_ml": 800}, "visits[0].values.vegf_specimen", "required"),
        ({"vegf_pg_ml": "800", "vegf_specimen": "plasma"}, "visits[0].values.vegf_pg_ml", "number"),
        ({"vegf_pg_ml": 60000, "vegf_specimen": "plasma"}, "visits[0].values.vegf_pg_ml", "plausible range"),
        (
            {"vegf_pg_ml": {"value": 1, "unit": "mg/dL"}, "vegf_specimen": "plasma"},
            "visits[0].values.vegf_pg_ml.unit",
            "ng/mL",
        ),
        ({"vegf_specimen": "blood"}, "visits[0].values.vegf_specimen", "serum, plasma, unknown"),
        (
            {"m_protein_g_dl": {"value": 200, "unit": "g/L"}},
            "visits[0].values.m_protein_g_dl",
            "plausible range",
        ),
        ({"onls_total": 13}, "visits[0].values.onls_total", "0-12"),
        ({"onls_total": 2.5}, "visits[0].values.onls_total", "whole number"),
        ({"mrs": True}, "visits[0].values.mrs", "number"),
        ({"pet_suv_max": 51}, "visits[0].values.pet_suv_max", "0-50"),
        ({"pet_done": "yes"}, "visits[0].values.pet_done", "true, false"),
        ({"pet_done": False, "pet_suv_max": 3}, "visits[0].values.pet_done", "PET values"),
        ({"sife_result": "pos"}, "visits[0].values.sife_result", "positive"),
        ({"flc_ratio_ref_low": 0.26}, "visits[0].values.flc_ratio_ref_low", "both ends"),
        ({"flc_ratio_ref_low": 2, "flc_ratio_ref_high": 1}, "visits[0].values.flc_ratio_ref_high", "above"),
        ({"vegf_lab": "x" * 81}, "visits[0].values.vegf_lab", "80"),
        ({"gcsf_last_date": "2030-01-01"}, "visits[0].values.gcsf_last_date", "today"),
        ({"nonsense": 1}, "visits[0].values.nonsense", "unknown code"),
    ],
)
def test_a_bad_value_is_named_with_what_is_allowed(values, field, words):
    found = errors_of({"visits": [{"date": "2026-01-05", "values": values}]})
    assert field in found, found
    assert words in found[field]


def test_structural_errors_name_their_field():
    assert "visits" in errors_of({"visits": []})
    assert "(body)" in errors_of([])
    assert "extra" in errors_of({"visits": [GOOD_VISIT], "extra": 1})
    assert "visits[0].date" in errors_of({"visits": [{"values": {}}]})
    assert "visits[0].date" in errors_of({"visits": [{"date": "05/01/2026", "values": {}}]})
    assert "YYYY-MM-DD" in errors_of({"visits": [{"date": "2026-W02-1", "values": {}}]})["visits[0].date"]
    assert "visits[0].date" in errors_of({"visits": [{"date": "1949-12-31", "values": {}}]})
    assert "visits[0].when" in errors_of({"visits": [{**GOOD_VISIT, "when": 1}]})


def test_two_visits_on_one_date_are_refused():
    found = errors_of({"visits": [GOOD_VISIT, {"date": "2026-01-05", "values": {}}]})
    assert "visits[0]" in found["visits[1].date"]


def test_a_date_in_the_future_is_refused_against_the_today_given():
    visit = {"date": "2029-01-01", "values": {}}
    assert "today (2028-12-31)" in errors_of({"visits": [visit]})["visits[0].date"]
    assert parse_follow_up({"visits": [visit]}, date(2029, 1, 1)).visits[0].date == date(2029, 1, 1)


@pytest.mark.parametrize(
    ("treatment", "field", "words"),
    [
        (
            {"line": 1, "type": "systemic", "start": "2026-02-01", "end": "2026-01-01"},
            "treatments[0].end",
            "before the start",
        ),
        ({"line": 0, "type": "systemic", "start": "2026-02-01"}, "treatments[0].line", "from 1"),
        ({"line": 1, "type": "surgery", "start": "2026-02-01"}, "treatments[0].type", "radiation"),
        ({"line": 1, "type": "systemic", "start": "2030-02-01"}, "treatments[0].start", "today"),
        ({"line": 1, "type": "systemic"}, "treatments[0].start", "ISO date"),
    ],
)
def test_a_bad_treatment_is_named(treatment, field, words):
    found = errors_of({"visits": [GOOD_VISIT], "treatments": [treatment]})
    assert field in found, found
    assert words in found[field]


def test_a_line_given_twice_names_both():
    first = {"line": 1, "type": "systemic", "start": "2026-02-01"}
    bad = {"line": 0, "type": "systemic", "start": "2026-02-01"}
    found = errors_of({"visits": [GOOD_VISIT], "treatments": [first, bad, {**first, "start": "2026-06-01"}]})
    assert "treatments[0]" in found["treatments[2].line"]


def test_every_error_is_reported_at_once():
    found = errors_of({"visits": [{"date": "2030-01-01", "values": {"onls_total": 99, "vegf_pg_ml": -1}}]})
    assert {"visits[0].date", "visits[0].values.onls_total", "visits[0].values.vegf_pg_ml"} <= set(found)


def test_every_unit_of_a_follow_up_lab_converts_exactly_in_decimal():
    # The follow-up computes in Decimal (speed); a unit whose factor no decimal holds would round.
    for code in LAB_CODES:
        for unit in LABS[code].allowed_units:
            factor = decimal_factor(code, unit)
            assert Fraction(factor) == unit_factor(code, unit), (code, unit)
    with pytest.raises(ValueError, match="not a terminating decimal"):
        decimal_factor("creatinine_mg_dl", "umol/L")


def test_a_boundary_entered_in_another_unit_is_exact():
    # 5 g/L is exactly the 0.5 g/dL measurable minimum; 4.99 g/L is below it (clinical.md §h.5 H-H6).
    def hem(spike):
        visits = [
            {"date": "2026-01-05", "values": {"m_protein_g_dl": spike, "sife_result": "positive"}},
            {"date": "2026-04-05", "values": {"m_protein_g_dl": {"value": 1, "unit": "g/L"}}},
        ]
        treatments = [{"line": 1, "type": "systemic", "start": "2026-01-10"}]
        return run({"visits": visits, "treatments": treatments})["visits"][1]["domains"]["hem"]["category"]

    assert hem({"value": 5, "unit": "g/L"}) == "pr"
    assert hem({"value": 4.99, "unit": "g/L"}) == "not_cr_unmeasurable"


# --- Rules are content -----------------------------------------------------------------


def test_rules_refuse_missing_or_untagged_content():
    data = json.loads(json.dumps(RULES_DATA))
    del data["thresholds"]["fu_vegf_pr_fall_pct"]
    data["thresholds"]["fu_hem_pr_fall_pct"]["evidence"] = "trust me"
    data["rules"]["H-V3"]["source"] = ""
    with pytest.raises(RulesError) as caught:
        rules_from_dict(data)
    text = str(caught.value)
    assert (
        "fu_vegf_pr_fall_pct: missing" in text
        and "fu_hem_pr_fall_pct.evidence" in text
        and "H-V3.source" in text
    )


def test_a_threshold_changed_in_content_changes_the_answer():
    case = next(p.values[0] for p in CASES if p.values[0]["id"] == "fu-h9-t2-vegf-pr-boundary")
    data = json.loads(json.dumps(RULES_DATA))
    data["thresholds"]["fu_vegf_pr_fall_pct"]["value"] = 49
    answer = run(case["input"], rules_from_dict(data))
    assert answer["visits"][1]["domains"]["vegf"]["category"] == "pr"
    assert answer["content_version"] == RULES_DATA["version"]
