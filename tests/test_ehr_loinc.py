"""The LOINC mapping is content: every seed row is valid, sourced, and reaches the served snapshot."""

import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from checklist.content import rule_book as content
from checklist.ehr.models import LoincMapping, loinc_check_digit, validate_loinc
from checklist.engine.vocabulary import LABS

ROOT = Path(__file__).resolve().parent.parent
SEED = json.loads((ROOT / "fixtures" / "loinc_mappings.json").read_text(encoding="utf-8"))

# The analytes the issue asks for, by the engine code each fills.
REQUIRED_TARGETS = {
    "vegf_pg_ml",
    "platelets_10e9_l",
    "hemoglobin_g_dl",
    "hematocrit_pct",
    "calcium_mg_dl",
    "creatinine_mg_dl",
    "m_protein_g_dl",
    "flc_kappa_mg_l",
    "flc_lambda_mg_l",
    "flc_ratio",
    "albumin_g_dl",
    "vitamin_b12_pg_ml",
    "csf_protein_mg_dl",
    "bm_plasma_cells_pct",
    "m_protein_present",  # immunofixation
}


@pytest.mark.parametrize(
    ("code", "digit"), [("718-7", 7), ("777-3", 3), ("75628-8", 8), ("33944-0", 0), ("2160-0", 0)]
)
def test_check_digit_of_known_codes(code, digit):
    assert loinc_check_digit(code.split("-")[0]) == digit
    validate_loinc(code)


@pytest.mark.parametrize("bad", ["75628-7", "7562-8", "33944-8", "718", "abc-1", "718-77"])
def test_mistyped_codes_are_refused(bad):
    with pytest.raises(ValidationError):
        validate_loinc(bad)


def test_seed_covers_every_required_analyte_with_a_source():
    assert {r["fields"]["target"] for r in SEED} >= REQUIRED_TARGETS
    for row in SEED:
        fields = row["fields"]
        assert fields["source"].strip(), fields["loinc_code"]
        if fields["confidence"] != "confirmed":
            assert fields["confidence_note"].strip(), f"{fields['loinc_code']} needs a confidence note"


def test_vegf_code_leaves_the_specimen_to_the_record():
    vegf = next(r["fields"] for r in SEED if r["fields"]["loinc_code"] == "75628-8")
    assert vegf["target"] == "vegf_pg_ml"
    assert vegf["specimen"] == ""  # "Serum or Plasma": the code does not say which
    assert "Specimen.type" in vegf["confidence_note"]


@pytest.mark.django_db
def test_seed_rows_pass_validation_and_units_are_engine_units(seeded):
    rows = list(LoincMapping.objects.all())
    assert len(rows) == len(SEED)
    for row in rows:
        row.full_clean()
        if row.target in LABS:
            assert set(row.ucum_units.values()) <= set(LABS[row.target].allowed_units)


@pytest.mark.django_db
def test_clean_refuses_unknown_target_and_units(seeded):
    row = LoincMapping.objects.get(loinc_code="718-7")
    row.target = "haemoglobin"
    with pytest.raises(ValidationError) as err:
        row.full_clean()
    assert "target" in err.value.message_dict
    row.target = "hemoglobin_g_dl"
    row.ucum_units = {"g/dL": "stone"}
    with pytest.raises(ValidationError) as err:
        row.full_clean()
    assert "ucum_units" in err.value.message_dict


@pytest.mark.django_db
def test_snapshot_serves_published_mappings_and_an_edit_reaches_it_once_published(seeded, publish_draft):
    assert content.snapshot().loinc["75628-8"]["target"] == "vegf_pg_ml"
    row = LoincMapping.objects.get(loinc_code="26515-7")
    row.active = False
    row.save()  # an edit goes to the draft, as in the admin
    assert "26515-7" in content.snapshot().loinc  # the live release is unchanged
    publish_draft("Stop reading 26515-7.")
    assert "26515-7" not in content.snapshot().loinc


@pytest.mark.django_db
def test_editor_can_list_and_change_but_not_delete(client, seeded, editor):
    client.force_login(editor)
    assert client.get("/admin/checklist/loincmapping/").status_code == 200
    row = LoincMapping.objects.get(loinc_code="75628-8")
    page = client.get(f"/admin/checklist/loincmapping/{row.pk}/change/")
    assert page.status_code == 200
    assert b"check digit" in page.content
    assert client.get(f"/admin/checklist/loincmapping/{row.pk}/delete/").status_code == 403
