"""Engine unit tests: pure Python, no database."""

import math

import pytest

from checklist.engine.diagnosis.evaluate import evaluate
from checklist.engine.diagnosis.rulebook import RuleBookError
from checklist.engine.inputs import InputError, parse_case
from checklist.engine.units import UnitError, to_canonical
from checklist.engine.vocabulary import CRITERION_LABS, LABS

from .conftest import build_book, fixture_records


def run(book, findings=None, labs=None, **extra):
    return evaluate(parse_case({"findings": findings or {}, "labs": labs or {}, **extra}, book.sets), book)


def errors_of(book, data):
    with pytest.raises(InputError) as info:
        parse_case(data, book.sets)
    return {e.field: e.message for e in info.value.errors}


# --- units -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lab", "value", "unit", "expected"),
    [
        ("vegf_pg_ml", 0.45, "ng/mL", 450),
        ("hemoglobin_g_dl", 135, "g/L", 13.5),
        ("hemoglobin_g_dl", 10, "mmol/L", 16.11),
        ("platelets_10e9_l", 480_000, "/uL", 480),
        ("platelets_10e9_l", 480, "10^3/µL", 480),
        ("hematocrit_pct", 0.5, "L/L", 50),
        ("calcium_mg_dl", 2.75, "mmol/L", 11.022),
        ("creatinine_mg_dl", 176.8, "µmol/L", 2.0),
        ("m_protein_g_dl", 30, "g/L", 3.0),
        ("albumin_g_dl", 32, "g/L", 3.2),
        ("flc_kappa_mg_l", 2, "mg/dL", 20),
        ("vitamin_b12_pg_ml", 100, "pmol/L", 135.5),
        ("csf_protein_mg_dl", 1.2, "g/L", 120),
    ],
)
def test_converts_to_canonical_units(lab, value, unit, expected):
    assert math.isclose(to_canonical(lab, value, unit), expected, rel_tol=1e-9)


def test_unknown_unit_lists_the_allowed_units():
    with pytest.raises(UnitError) as info:
        to_canonical("vegf_pg_ml", 1, "mg/dL")
    assert info.value.allowed == ("pg/mL", "ng/mL", "ng/L")


def test_every_lab_has_a_range_or_choices():
    for lab in LABS.values():
        assert lab.choices or (lab.minimum is not None and lab.maximum is not None), lab.code


def test_every_soft_warning_names_the_bounds_it_is_given_for():
    # The words are written next to the numbers (the platelets' from the same constants):
    # moving a bound without its words would warn with the wrong range.
    import re

    for lab in LABS.values():
        if not lab.soft_hint:
            continue
        said = set(re.findall(r"\d+(?:\.\d+)?", lab.soft_hint))
        for bound in (lab.soft_low, lab.soft_high):
            if bound is not None:
                assert f"{bound:g}" in said, (lab.code, bound, lab.soft_hint)


# --- input validation ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"findings": {"not_a_code": True}}, "findings.not_a_code", "unknown finding"),
        ({"findings": {"polyneuropathy": "yes"}}, "findings.polyneuropathy", "true (present)"),
        ({"findings": {"polyneuropathy": 1}}, "findings.polyneuropathy", "true (present)"),
        ({"labs": {"vegf_pg_ml": "450"}}, "labs.vegf_pg_ml", "must be a number"),
        ({"labs": {"vegf_pg_ml": True}}, "labs.vegf_pg_ml", "must be a number"),
        ({"labs": {"vegf_pg_ml": float("nan")}}, "labs.vegf_pg_ml", "finite"),
        ({"labs": {"vegf_pg_ml": float("inf")}}, "labs.vegf_pg_ml", "finite"),
        ({"labs": {"vegf_pg_ml": 60000}}, "labs.vegf_pg_ml", "plausible range 0-50000"),
        ({"labs": {"vegf_pg_ml": {"value": 60, "unit": "ng/mL"}}}, "labs.vegf_pg_ml", "plausible range"),
        (
            {"labs": {"vegf_pg_ml": {"value": 1, "unit": "furlongs"}}},
            "labs.vegf_pg_ml.unit",
            "allowed: pg/mL, ng/mL",
        ),
        ({"labs": {"vegf_pg_ml": {"value": 1}}}, "labs.vegf_pg_ml", '"unit"'),
        ({"labs": {"sex": "X"}}, "labs.sex", "M, F"),
        ({"labs": {"vegf_specimen": "urine"}}, "labs.vegf_specimen", "serum, plasma, unknown"),
        ({"labs": {"bone_lesion_count": 2.5}}, "labs.bone_lesion_count", "whole number"),
        ({"labs": {"nope": 1}}, "labs.nope", "unknown lab"),
        ({"criteria_set": "mayo-1999"}, "criteria_set", "mayo-2007"),
        ({"extra": 1}, "extra", "unknown key"),
        ({"findings": []}, "findings", "must be an object"),
        ({"compare": "yes"}, "compare", "true or false"),
    ],
)
def test_bad_input_names_the_field_and_what_is_allowed(book, data, field, fragment):
    errors = errors_of(book, data)
    assert field in errors
    assert fragment in errors[field]


def test_all_errors_are_reported_at_once(book):
    errors = errors_of(book, {"findings": {"x": True}, "labs": {"sex": "Q", "vegf_pg_ml": -1}})
    assert set(errors) == {"findings.x", "labs.sex", "labs.vegf_pg_ml"}


def test_body_that_is_not_an_object_is_rejected(book):
    assert "(body)" in errors_of(book, [1, 2])


def test_null_finding_means_not_assessed(book):
    case = parse_case({"findings": {"polyneuropathy": None}}, book.sets)
    assert "polyneuropathy" not in case.findings


def test_suspicious_value_is_a_warning_not_an_error(book):
    case = parse_case({"labs": {"vegf_pg_ml": 0.5}}, book.sets)
    assert case.labs["vegf_pg_ml"] == 0.5
    assert "ng/mL" in case.warnings[0].message


# --- not assessed is never absent -------------------------------------------------


def test_empty_case_is_incomplete_and_lists_the_mandatory_criteria(book):
    result = run(book)
    assert result["status"] == "incomplete"
    assert not result["meets_criteria"]
    assert {"polyneuropathy", "monoclonal_plasma_cell_disorder"} <= set(result["missing"])
    assert all(c["status"] == "unknown" for c in result["criteria"])


def test_absent_finding_differs_from_not_assessed(book):
    absent = run(book, {"papilledema": False})
    unassessed = run(book)
    status = {c["code"]: c["status"] for c in absent["criteria"]}
    assert status["papilledema"] == "not_met"
    assert {c["code"]: c["status"] for c in unassessed["criteria"]}["papilledema"] == "unknown"


def test_meets_criteria_is_true_exactly_when_met(book):
    met = run(
        book,
        {
            "polyneuropathy": True,
            "m_protein_present": True,
            "sclerotic_bone_lesions": True,
            "skin_plethora": True,
        },
    )
    assert met["status"] == "met" and met["meets_criteria"] is True
    assert met["mandatory_met"] == ["polyneuropathy", "monoclonal_plasma_cell_disorder"]
    assert met["major_met"] == ["sclerotic_bone_lesions"]
    assert met["minor_met"] == ["skin_changes"]
    assert met["missing"] == []


def test_output_carries_disclaimer_and_versions(book):
    result = run(book)
    assert "diagnosis" in result["disclaimer"].lower()
    assert result["content_version"].startswith("2026.12.1")
    assert result["criteria_set"] == {
        "slug": "mayo-2007",
        "name": "Mayo (Dispenzieri) 2007-2023",
        "version": "1",
    }


def test_reasons_name_value_threshold_specimen_and_source(book):
    result = run(book, labs={"vegf_pg_ml": 450, "vegf_specimen": "plasma"})
    reason = next(c for c in result["criteria"] if c["code"] == "vegf_elevated")["reasons"][0]
    assert "Plasma VEGF 450 pg/mL" in reason and ">= 200 pg/mL" in reason and "Dispenzieri 2012" in reason


def test_unverified_thresholds_are_marked(book):
    result = run(book, labs={"platelets_10e9_l": 480})
    reason = next(c for c in result["criteria"] if c["code"] == "thrombocytosis_polycythemia")["reasons"][0]
    assert "[unverified]" in reason


def test_compare_lists_every_set_with_an_explanation(book):
    result = run(
        book, {"polyneuropathy": True, "m_protein_present": True, "skin_plethora": True}, compare=True
    )
    rows = {r["criteria_set"]: r for r in result["comparison"]}
    assert rows["mayo-2003"]["status"] == "met"
    assert rows["mayo-2007"]["status"] == "incomplete"
    assert "other major" in rows["mayo-2007"]["explanation"]
    assert rows["suichi-2019"]["status"] == "incomplete"
    assert "VEGF" in rows["suichi-2019"]["explanation"]
    assert "Met under Mayo (Dispenzieri) 2003 only" in rows["mayo-2003"]["explanation"]


def test_thresholds_are_content_not_code(book):
    """Moving a threshold in content moves the engine's answer: the numbers are data."""
    records = fixture_records()
    for record in records:
        if (
            record["model"] == "checklist.threshold"
            and record["fields"]["code"] == "platelets_thrombocytosis"
        ):
            record["fields"]["value"] = 500
    edited = build_book(records)
    case = parse_case({"labs": {"platelets_10e9_l": 480, "hemoglobin_g_dl": 14}}, edited.sets)
    crit = {c["code"]: c["status"] for c in evaluate(case, edited)["criteria"]}
    assert crit["thrombocytosis_polycythemia"] == "not_met"
    crit = {c["code"]: c["status"] for c in evaluate(case, book)["criteria"]}
    assert crit["thrombocytosis_polycythemia"] == "met"


def test_a_new_criteria_set_is_content_alone():
    records = fixture_records()
    records.append(
        {
            "model": "checklist.criteriaset",
            "fields": {"slug": "strict-test", "name": "Strict", "year": 2030, "major_min": 2, "minor_min": 2},
        }
    )
    for code, role in [
        ("polyneuropathy", "mandatory"),
        ("vegf_elevated", "major"),
        ("sclerotic_bone_lesions", "major"),
    ]:
        records.append(
            {
                "model": "checklist.membership",
                "fields": {"criteria_set": ["strict-test"], "criterion": [code], "role": role},
            }
        )
    for code in ("skin_changes", "organomegaly"):
        records.append(
            {
                "model": "checklist.membership",
                "fields": {"criteria_set": ["strict-test"], "criterion": [code], "role": "minor"},
            }
        )
    book = build_book(records)
    findings = {
        "polyneuropathy": True,
        "sclerotic_bone_lesions": True,
        "skin_plethora": True,
        "hepatomegaly": True,
    }
    case = parse_case(
        {
            "criteria_set": "strict-test",
            "findings": findings,
            "labs": {"vegf_pg_ml": 300, "vegf_specimen": "plasma"},
        },
        book.sets,
    )
    assert evaluate(case, book)["status"] == "met"
    case = parse_case({"criteria_set": "strict-test", "findings": findings}, book.sets)
    assert evaluate(case, book)["missing"] == ["vegf_elevated"]


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (
            lambda r: [
                x
                for x in r
                if not (x["model"] == "checklist.threshold" and x["fields"]["code"] == "mm_calcium")
            ],
            "threshold mm_calcium is missing",
        ),
        (
            lambda r: [
                x
                for x in r
                if not (x["model"] == "checklist.criterion" and x["fields"]["code"] == "papilledema")
            ],
            "criterion papilledema is missing",
        ),
        (
            lambda r: [x for x in r if x["model"] != "checklist.caution"],
            "caution kappa_light_chain is missing",
        ),
        (
            lambda r: [
                x for x in r if not (x["model"] == "checklist.differential" and x["fields"]["code"] == "cidp")
            ],
            "differential cidp is missing",
        ),
    ],
)
def test_inconsistent_content_is_refused(mutate, problem):
    with pytest.raises(RuleBookError) as info:
        build_book(mutate(fixture_records()))
    assert any(problem in p for p in info.value.problems)


# --- clinical.md §f.2 A7: one reading of a raw value for the API, CLI and form ----------------

from checklist.engine.inputs import (  # noqa: E402
    FieldError,
    duplicate_key_errors,
    object_without_duplicates,
    read_lab,
    read_number_text,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("450", 450.0),
        ("0.45", 0.45),
        ("0,45", 0.45),
        (" 16.2 ", 16.2),
        ("1,5", 1.5),
        ("0,450", 0.45),
        (".5", 0.5),
    ],
)
def test_typed_numbers_are_read_with_a_point_or_a_decimal_comma(text, expected):
    assert read_number_text(text) == expected


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("1,200", "1200"),
        ("12 500", "12500"),
        ("1,200.5", "1200.5"),
        ("1.200,5", "1200.5"),
        ("480,000", "480000"),
    ],
)
def test_thousands_separators_are_an_error_saying_how_to_write_the_number(text, written):
    message = read_number_text(text)
    assert isinstance(message, str)
    assert "thousands separator" in message and f"write {written}" in message


@pytest.mark.parametrize("text", ["lots", "1e3", "1.2.3", "", "--4"])
def test_other_text_is_not_a_number(text):
    assert "enter a number" in read_number_text(text)


def test_text_is_read_only_when_asked_for():
    assert isinstance(read_lab("vegf_pg_ml", "450"), FieldError)  # the API takes JSON numbers
    assert read_lab("vegf_pg_ml", "450", text=True).value == 450


def test_the_plausible_range_is_stated_in_the_unit_entered():
    error = read_lab("hemoglobin_g_dl", 400, "g/L")
    assert isinstance(error, FieldError)
    assert "400 g/L is outside the plausible range 20-250 g/L" in error.message
    error = read_lab("calcium_mg_dl", 9.5, "mmol/L")
    assert "mmol/L" in error.message and "was it mg/dL?" in error.message


def test_a_converted_value_outside_the_usual_range_names_the_slip():
    reading = read_lab("hemoglobin_g_dl", 15.3, "mmol/L")
    assert reading.value == pytest.approx(24.6483)
    assert "15.3 mmol/L is 24.6 g/dL: was it g/dL?" in reading.warning
    assert read_lab("hemoglobin_g_dl", 9.0, "mmol/L").warning is None  # 14.5 g/dL: usual


@pytest.mark.parametrize(
    ("lab", "unit", "canonical"),
    [
        ("vegf_pg_ml", "ng/L", 450),
        ("platelets_10e9_l", "x10^9/L", 450),
        ("platelets_10e9_l", "×10⁹/L", 450),
        ("platelets_10e9_l", "10E9/L", 450),
        ("platelets_10e9_l", "G/L", 450),
        ("platelets_10e9_l", "K/µL", 450),
        ("platelets_10e9_l", "10³/µL", 450),
    ],
)
def test_common_unit_spellings_are_accepted(lab, unit, canonical):
    assert read_lab(lab, 450, unit).value == canonical


def test_per_cubic_millimetre_is_per_microlitre():
    assert read_lab("platelets_10e9_l", 480_000, "/mm3").value == pytest.approx(480)
    assert read_lab("platelets_10e9_l", 480_000, "/mm³").value == pytest.approx(480)


def test_values_are_shown_as_entered_with_the_canonical_value_rounded(book):
    case = parse_case(
        {
            "labs": {
                "hemoglobin_g_dl": {"value": 90, "unit": "g/L"},
                "creatinine_mg_dl": {"value": 220, "unit": "µmol/L"},
                "vegf_pg_ml": 450,
            }
        },
        book.sets,
    )
    assert case.show("hemoglobin_g_dl") == "90 g/L (9.0 g/dL)"
    assert case.show("creatinine_mg_dl") == "220 µmol/L (2.49 mg/dL)"
    assert case.show("vegf_pg_ml") == "450 pg/mL"


def test_duplicate_json_keys_are_found_with_their_path():
    import json

    value = json.loads(
        '{"labs": {"sex": "M", "sex": "F"}, "findings": {"polyneuropathy": true}}',
        object_pairs_hook=object_without_duplicates,
    )
    assert [e.field for e in duplicate_key_errors(value)] == ["labs.sex"]
    assert duplicate_key_errors(json.loads('{"a": 1}', object_pairs_hook=object_without_duplicates)) == []


# --- registries and the typed result ------------------------------------------------------------


def test_every_caution_and_differential_code_is_in_one_registry():
    from checklist.engine.diagnosis import cautions, differentials
    from checklist.engine.diagnosis.cautions import CAUTIONS
    from checklist.engine.diagnosis.differentials import DIFFERENTIALS

    assert tuple(r.code for r in cautions.RULES) == CAUTIONS
    assert tuple(r.code for r in differentials.RULES) == DIFFERENTIALS
    assert len(set(CAUTIONS)) == len(CAUTIONS) and len(set(DIFFERENTIALS)) == len(DIFFERENTIALS)


def test_every_caution_in_the_output_has_a_level(book):
    result = run(
        book,
        {
            "polyneuropathy": True,
            "m_protein_present": True,
            "castleman_disease": True,
            "lymphadenopathy": True,
        },
        {"light_chain_type": "kappa", "platelets_10e9_l": 420, "calcium_mg_dl": 12},
    )
    levels = [c["level"] for c in result["cautions"]]
    assert set(levels) == {"major", "minor"}
    assert levels == sorted(levels)  # major first


def test_a_rule_book_without_the_lesion_limit_is_refused_not_a_500_later():
    records = [
        r
        for r in fixture_records()
        if not (r["model"] == "checklist.threshold" and r["fields"]["code"] == "extent_limited_max_lesions")
    ]
    with pytest.raises(RuleBookError) as caught:
        build_book(records)
    assert any("extent_limited_max_lesions" in p for p in caught.value.problems)


def test_slot_init_keeps_the_value_objects_frozen_dataclasses():
    """engine/slots.py replaces __init__ for speed; what a frozen dataclass promises must hold."""
    import dataclasses

    from checklist.engine.diagnosis.result import CriterionOutcome, Status
    from checklist.engine.inputs import Case
    from checklist.engine.vocabulary import Group

    row = CriterionOutcome("papilledema", "Papilloedema", Group.MINOR, Status.UNKNOWN, ("Not assessed.",))
    assert row.to_settle is None  # the default
    assert row == CriterionOutcome(
        "papilledema", "Papilloedema", Group.MINOR, Status.UNKNOWN, ("Not assessed.",)
    )
    assert hash(row) == hash(dataclasses.replace(row))
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.status = Status.MET  # type: ignore[misc]
    with pytest.raises(TypeError):
        CriterionOutcome("papilledema")  # type: ignore[call-arg]  # required fields stay required
    # default_factory fields: a fresh dict per object, never one shared.
    a, b = Case(), Case()
    assert a.findings == {} and a.findings is not b.findings
    assert Case(findings={"polyneuropathy": True}).findings == {"polyneuropathy": True}


@pytest.mark.parametrize("slug", ["mayo-2007", "mayo-2003"])
def test_an_overridden_endocrinopathy_flag_is_named_under_every_set(book, slug):
    # Mayo 2003 derives endocrinopathy from its own list (no diabetes/thyroid caveat); the
    # reason that the clinician's flag was set aside must not get lost there.
    case = parse_case(
        {"criteria_set": slug, "findings": {"endocrinopathy": True, "endo_diabetes_mellitus": False}},
        book.sets,
    )
    endo = next(c for c in evaluate(case, book)["criteria"] if c["code"] == "endocrinopathy")
    assert "The explicit endocrinopathy flag is ignored when endocrine findings are given." in endo["reasons"]


def test_slot_init_refuses_what_its_init_would_skip():
    from dataclasses import dataclass, field

    from checklist.engine.slots import slot_init

    with pytest.raises(TypeError, match="__post_init__"):

        @slot_init
        @dataclass(frozen=True, slots=True)
        class WithPostInit:
            a: int

            def __post_init__(self) -> None:
                pass

    with pytest.raises(TypeError, match="init=False"):

        @slot_init
        @dataclass(frozen=True, slots=True)
        class WithComputed:
            a: int
            b: int = field(init=False, default=0)


def test_each_set_reads_its_own_conflicts_and_the_derivation_is_left_as_it_was(book):
    import copy

    from checklist.engine.diagnosis.derive import derive
    from checklist.engine.diagnosis.sets import apply_rule

    # Acrocyanosis is in the current skin list, not in the 2003 one: "skin changes: absent"
    # contradicts it under Mayo 2007 only.
    findings = {"polyneuropathy": True, "skin_changes": False, "skin_acrocyanosis": True}
    derived = derive(parse_case({"findings": findings}, book.sets), book)
    before = copy.deepcopy(derived)
    conflicts = {}
    for slug in ("mayo-2003", "mayo-2007", "mayo-2003"):
        outcome = apply_rule(book.sets[slug], derived, book)
        conflicts[slug] = dict(outcome.conflicts)
        assert derived == before, slug  # applying a set is not a side effect on the shared derivation
    assert conflicts["mayo-2003"] == {}
    assert list(conflicts["mayo-2007"]) == ["skin_changes"]


def test_an_any_of_criterion_without_sub_findings_in_content_is_decided_only_by_its_flag():
    # Content may leave an any-of criterion without a list (from_records accepts it; an editor
    # can detach every organomegaly finding). derive then reads an empty list (derive._NO_SUBS):
    # unknown whatever is entered, never "not met" by nothing; the explicit flag still decides.
    records = fixture_records()
    for record in records:
        if record["model"] == "checklist.finding" and record["fields"].get("criterion") == ["organomegaly"]:
            record["fields"]["criterion"] = None
    book = build_book(records)
    assert book.subfinding_list("organomegaly") is None

    def organomegaly(findings):
        result = run(book, findings)
        return next(c for c in result["criteria"] if c["code"] == "organomegaly")["status"]

    assert organomegaly({"hepatomegaly": True}) == "unknown"
    assert organomegaly({"hepatomegaly": False}) == "unknown"
    assert organomegaly({"organomegaly": True}) == "met"
    assert organomegaly({"organomegaly": False, "hepatomegaly": True}) == "not_met"


class _ReadLabs(dict):
    """Labs that remember which codes the derivation looked up (present or not)."""

    def __init__(self, labs):
        super().__init__(labs)
        self.read = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


@pytest.mark.parametrize("code", ["vegf_elevated", "thrombocytosis_polycythemia"])
def test_criterion_labs_are_exactly_what_the_derivation_reads(book, code):
    # vocabulary.CRITERION_LABS places these labs on the criterion's line in the form; the
    # derivation reads lab codes itself. Every subset of a pool of labs is given, so each
    # branch has its chance to look a lab up.
    import dataclasses
    import itertools

    from checklist.engine.diagnosis import derive as d

    derivation = {"vegf_elevated": d._vegf, "thrombocytosis_polycythemia": d._thrombocytosis}[code]
    pool = {
        "vegf_pg_ml": 300,
        "vegf_specimen": "plasma",
        "vegf_uln_pg_ml": 100,
        "platelets_10e9_l": 300,
        "hemoglobin_g_dl": 17,
        "hematocrit_pct": 45,
        "sex": "F",
        "light_chain_type": "lambda",
        "calcium_mg_dl": 9,
    }
    read = set()
    for n in range(len(pool) + 1):
        for given in itertools.combinations(pool, n):
            case = parse_case({"labs": {k: pool[k] for k in given}}, book.sets)
            labs = _ReadLabs(case.labs)
            derivation(dataclasses.replace(case, labs=labs), book, [])
            read |= labs.read
    assert read == set(CRITERION_LABS[code])


def test_every_evidence_tag_has_its_label_and_none_else():
    """clinical.md §h's opening table: a tag added to the engine without a label would show raw."""
    from checklist.engine.diagnosis import words
    from checklist.engine.diagnosis.result import Evidence

    assert set(words._EVIDENCE) == set(Evidence)
    assert words.evidence_word(Evidence.READ_ABSTRACT) == "read: abstract"


def test_an_flc_ratio_beyond_any_float_is_an_answer_not_an_exception(book):
    """Found by test_properties: the exact ratio of 100000 mg/L over 5e-324 mg/L overflows a float."""
    case = parse_case(
        {
            "findings": {"polyneuropathy": True, "m_protein_present": True},
            "labs": {"flc_kappa_mg_l": 100000, "flc_lambda_mg_l": 5e-324},
        },
        book.sets,
    )
    result = evaluate(case, book)
    assert "myeloma_defining_events" in [c["code"] for c in result["cautions"]]
