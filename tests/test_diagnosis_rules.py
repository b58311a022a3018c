"""The §j work-up, the biclonal kappa detail and the per-unit published thresholds are content
(fixtures/diagnosis_rules.json), handed to the engine with the content records: edit the data
and the answer follows; bad data is refused naming what is wrong."""

import copy

import pytest

from checklist.engine.diagnosis.evaluate import evaluate
from checklist.engine.diagnosis.rulebook import RuleBookError
from checklist.engine.inputs import parse_case
from tests.conftest import build_book, fixture_records, fixture_rules

MET = {
    "findings": {
        "polyneuropathy": True,
        "m_protein_present": True,
        "sclerotic_bone_lesions": True,
        "skin_plethora": True,
    },
    "labs": {
        "age_years": 60,
        "light_chain_type": "kappa_and_lambda",
        "calcium_mg_dl": {"value": 2.75, "unit": "mmol/L"},
    },
}


def run(rules):
    book = build_book(fixture_records(), rules)
    return evaluate(parse_case(copy.deepcopy(MET), book.sets), book)


def test_the_seed_rules_give_the_work_up_and_the_a10_a11_answers():
    result = run(fixture_rules())
    (age,) = result["risk_factors_present"]
    assert (
        age["hr"] == "HR 4.07 (95% CI 1.41-11.76)"
        and age["basis"] == "published"
        and age["limit"] == "> 50 years"
    )
    kappa = next(c for c in result["cautions"] if c["code"] == "kappa_light_chain")
    assert "which clone is the POEMS clone is not known" in kappa["detail"]
    # 2.75 mmol/L sits on IMWG's published boundary: not an event.
    assert "myeloma_defining_events" not in {c["code"] for c in result["cautions"]}


def test_the_answer_follows_the_data():
    rules = copy.deepcopy(fixture_rules())
    next(f for f in rules["risk_factors"] if f["code"] == "age_over_50")["hr"] = "HR 9.99 (edited)"
    rules["caution_details"]["kappa_light_chain_biclonal"] = "Edited detail."
    rules["published_unit_thresholds"] = {}  # 2.75 mmol/L is then compared as 11.022 mg/dL > 11
    rules["drug_cautions"] = rules["drug_cautions"][:1]
    result = run(rules)
    assert result["risk_factors_present"][0]["hr"] == "HR 9.99 (edited)"
    assert (
        next(c for c in result["cautions"] if c["code"] == "kappa_light_chain")["detail"] == "Edited detail."
    )
    assert "myeloma_defining_events" in {c["code"] for c in result["cautions"]}
    assert [d["code"] for d in result["drug_cautions"]] == ["neurotoxic_drugs"]


def test_bad_rules_are_refused_naming_each_problem():
    rules = copy.deepcopy(fixture_rules())
    rules["staging"][0]["evidence"] = "strong"
    rules["risk_factors"][0]["threshold"]["lab"] = "no_such_lab"
    rules["drug_cautions"][0]["level"] = "severe"
    with pytest.raises(RuleBookError) as err:
        build_book(fixture_records(), rules)
    text = str(err.value)
    assert "staging item bone_lesion_count: evidence tag 'strong'" in text
    assert "risk factor age_over_50: lab 'no_such_lab'" in text
    assert "drug caution neurotoxic_drugs: level 'severe'" in text
    rules = copy.deepcopy(fixture_rules())
    rules["published_unit_thresholds"]["no_such_threshold"] = [
        {"unit": "mmol/L", "value": 1, "source": "x", "evidence": "read_abstract"}
    ]
    with pytest.raises(RuleBookError) as err:
        build_book(fixture_records(), rules)
    assert "names threshold no_such_threshold, which is not in content" in str(err.value)


def test_what_settles_the_extent_is_content_and_bad_content_is_refused():
    rules = copy.deepcopy(fixture_rules())
    rules["extent_to_settle"]["both"] = "Edited: both."
    result = run(rules)  # MET records neither the lesion count nor the marrow biopsy
    assert result["extent"]["to_settle"] == "Edited: both."
    rules["extent_to_settle"] = "A PET-CT lesion count and an iliac-crest marrow biopsy."  # the old shape
    with pytest.raises(RuleBookError) as err:
        build_book(fixture_records(), rules)
    assert "extent_to_settle: needs {both, lesion_count, marrow: text}" in str(err.value)
    rules["extent_to_settle"] = {"both": "x", "lesion_count": "y"}
    with pytest.raises(RuleBookError) as err:
        build_book(fixture_records(), rules)
    assert "extent_to_settle marrow: needs text" in str(err.value)
