"""clinical.md §f.2 amendments through every entry point: the API, the CLI and the form.

The golden cases (tests/golden/a*.json) pin the engine's answers; these
tests show the same answers reach the clinician whichever way the case is
sent, and that the input rules of A7 (units, thousands separators,
duplicate keys and fields) hold at each door.
"""

import io
import json
import sys

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

# Issue 9's first example: plasma VEGF 450 with the specimen left unset, Castleman
# and sclerotic lesions absent. It used to read "Does not meet the criteria".
VEGF_UNSET = {
    "findings": {
        "polyneuropathy": True,
        "m_protein_present": True,
        "castleman_disease": False,
        "sclerotic_bone_lesions": False,
        "skin_plethora": True,
    },
    "labs": {"vegf_pg_ml": 450},
}
VEGF_UNSET_FORM = {
    "polyneuropathy": "yes",
    "m_protein_present": "yes",
    "castleman_disease": "no",
    "sclerotic_bone_lesions": "no",
    "skin_plethora": "yes",
    "vegf_pg_ml": "450",
}
MET_FORM = {
    "polyneuropathy": "yes",
    "m_protein_present": "yes",
    "sclerotic_bone_lesions": "yes",
    "skin_plethora": "yes",
    "marrow_clone": "no",
    "bone_lesion_count": "2",
}


def api_post(body):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return Client().post("/api/v1/evaluate", data=data, content_type="application/json")


def cli(monkeypatch, stdin):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out = io.StringIO()
    code = 0
    try:
        call_command("evaluate", "-", stdout=out)
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def form_result(client, data):
    """Post the checklist form without JavaScript; return the response and the evaluation it rendered."""
    response = client.post("/", data)
    return response, response.context.get("result")


def criterion(result, code):
    return next(c for c in result["criteria"] if c["code"] == code)


# --- A1: a missing qualifier makes the criterion unknown, not not_met --------------------


def check_vegf_unset(result):
    assert result["status"] == "incomplete"
    assert result["missing"] == ["vegf_elevated"]
    vegf = criterion(result, "vegf_elevated")
    assert vegf["status"] == "unknown"
    assert "plasma cut-off" in vegf["reasons"][0] and "serum one" in vegf["reasons"][0]
    assert "specimen" in vegf["to_settle"]


def test_vegf_450_without_specimen_is_incomplete_through_the_api(seeded):
    response = api_post(VEGF_UNSET)
    assert response.status_code == 200
    check_vegf_unset(response.json())


def test_vegf_450_without_specimen_is_incomplete_through_the_cli(seeded, monkeypatch):
    code, body = cli(monkeypatch, json.dumps(VEGF_UNSET))
    assert code == 0
    check_vegf_unset(body)


def test_vegf_450_without_specimen_is_incomplete_through_the_form(client, seeded):
    response, result = form_result(client, VEGF_UNSET_FORM)
    assert response.status_code == 200
    check_vegf_unset(result)
    assert "Does not meet" not in response.content.decode()


def test_choosing_the_specimen_settles_it_everywhere(client, seeded, monkeypatch):
    plasma = {**VEGF_UNSET, "labs": {"vegf_pg_ml": 450, "vegf_specimen": "plasma"}}
    assert api_post(plasma).json()["status"] == "met"
    assert cli(monkeypatch, json.dumps(plasma))[1]["status"] == "met"
    assert form_result(client, {**VEGF_UNSET_FORM, "vegf_specimen": "plasma"})[1]["status"] == "met"


def test_hb_without_sex_is_unknown_at_every_door(client, seeded, monkeypatch):
    case = {"labs": {"platelets_10e9_l": 300, "hemoglobin_g_dl": 16.2}}
    for result in (
        api_post(case).json(),
        cli(monkeypatch, json.dumps(case))[1],
        form_result(client, {"platelets_10e9_l": "300", "hemoglobin_g_dl": "16.2"})[1],
    ):
        counts = criterion(result, "thrombocytosis_polycythemia")
        assert counts["status"] == "unknown"
        assert "sex" in counts["to_settle"]


# --- A2, A8: levels and treatment in the output -------------------------------------------


def test_cautions_carry_a_level_and_a_met_case_carries_treatment(client, seeded, monkeypatch):
    case = {
        "findings": {
            "polyneuropathy": True,
            "m_protein_present": True,
            "sclerotic_bone_lesions": True,
            "skin_plethora": True,
            "marrow_clone": False,
        },
        "labs": {"bone_lesion_count": 2, "light_chain_type": "kappa"},
    }
    form = {**MET_FORM, "light_chain_type": "kappa"}
    for result in (
        api_post(case).json(),
        cli(monkeypatch, json.dumps(case))[1],
        form_result(client, form)[1],
    ):
        assert result["status"] == "met"
        assert {"code": "kappa_light_chain", "level": "major"}.items() <= result["cautions"][0].items()
        assert result["treatment"]["extent"] == "limited"
        assert result["treatment"]["pages"][0] == "radiation-therapy"


def test_treatment_is_null_unless_met(seeded):
    assert api_post(VEGF_UNSET).json()["treatment"] is None


def test_treatment_pages_follow_the_content_mapping(seeded, publish_draft):
    """An editor's change to the extent mapping, once published, changes the pages shown first."""
    from checklist.content.models import TreatmentByExtent

    TreatmentByExtent.objects.filter(extent="limited", treatment__slug="radiation-therapy").update(order=9)
    publish_draft()
    case = {
        "findings": dict.fromkeys(("polyneuropathy", "m_protein_present", "sclerotic_bone_lesions"), True)
    }
    case["findings"].update(skin_plethora=True, marrow_clone=False)
    case["labs"] = {"bone_lesion_count": 1}
    assert api_post(case).json()["treatment"]["pages"][:2] == ["treatment-principles", "radiation-therapy"]


# --- A7: units, separators, duplicates -----------------------------------------------------


def test_value_is_shown_as_entered_with_the_canonical_value(client, seeded, monkeypatch):
    case = {"labs": {"platelets_10e9_l": 300, "sex": "M", "hemoglobin_g_dl": {"value": 90, "unit": "g/L"}}}
    form = {"platelets_10e9_l": "300", "sex": "M", "hemoglobin_g_dl": "90", "hemoglobin_g_dl__unit": "g/L"}
    for result in (
        api_post(case).json(),
        cli(monkeypatch, json.dumps(case))[1],
        form_result(client, form)[1],
    ):
        reasons = " ".join(criterion(result, "thrombocytosis_polycythemia")["reasons"])
        assert "Haemoglobin 90 g/L (9.0 g/dL)" in reasons


def test_unit_slip_is_warned_naming_the_likely_unit(client, seeded):
    body = api_post({"labs": {"hemoglobin_g_dl": {"value": 15.3, "unit": "mmol/L"}}}).json()
    assert body["warnings"][0]["field"] == "labs.hemoglobin_g_dl"
    assert "24.6 g/dL" in body["warnings"][0]["message"] and "was it g/dL?" in body["warnings"][0]["message"]
    response = client.post("/result", {"hemoglobin_g_dl": "15.3", "hemoglobin_g_dl__unit": "mmol/L"})
    assert "15.3 mmol/L is 24.6 g/dL: was it g/dL?" in response.content.decode()


def test_common_unit_spellings_are_accepted_by_the_api(seeded):
    for lab, value, unit in [
        ("vegf_pg_ml", 450, "ng/L"),
        ("platelets_10e9_l", 480, "x10^9/L"),
        ("platelets_10e9_l", 480, "×10⁹/L"),
        ("platelets_10e9_l", 480000, "/mm3"),
        ("creatinine_mg_dl", 180, "µmol/L"),
    ]:
        response = api_post({"labs": {lab: {"value": value, "unit": unit}}})
        assert response.status_code == 200, (unit, response.json())


def test_thousands_separator_in_the_form_is_an_error_saying_how_to_write_it(client, seeded):
    response, _ = form_result(
        client, {**MET_FORM, "platelets_10e9_l": "1,200", "platelets_10e9_l__unit": "/uL"}
    )
    assert response.status_code == 400
    message = response.context["form"].errors["platelets_10e9_l"][0]
    assert "thousands separator" in message and "1200" in message


def test_decimal_comma_in_the_form_is_still_a_decimal(client, seeded):
    _, result = form_result(
        client, {"vegf_pg_ml": "0,45", "vegf_pg_ml__unit": "ng/mL", "vegf_specimen": "plasma"}
    )
    assert criterion(result, "vegf_elevated")["status"] == "met"


def test_duplicate_json_key_is_an_error_in_the_api(seeded):
    body = '{"labs": {"vegf_pg_ml": 100, "vegf_specimen": "plasma", "vegf_pg_ml": 2000}}'
    response = api_post(body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0]["field"] == "labs.vegf_pg_ml"
    assert "more than once" in errors[0]["message"]


def test_duplicate_json_key_is_an_error_in_the_cli(seeded, monkeypatch):
    code, body = cli(monkeypatch, '{"findings": {"polyneuropathy": true, "polyneuropathy": false}}')
    assert code == 2
    assert body["errors"][0]["field"] == "findings.polyneuropathy"


def test_form_field_given_twice_is_an_error(client, seeded):
    response = client.post("/", {**MET_FORM, "vegf_pg_ml": ["100", "2000"]})
    assert response.status_code == 400
    assert "twice" in response.context["form"].errors["vegf_pg_ml"][0]
