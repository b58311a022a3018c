"""SMART launch pieces that need no EHR: the form contract of the pre-fill, and refusals."""

import datetime

import pytest

from checklist.content.rule_book import snapshot
from checklist.ehr import fhir_map, smart
from tests.ehr_helpers import prefetch_for

pytestmark = pytest.mark.django_db


def _extract(patient_id):
    pre = prefetch_for(patient_id)
    return fhir_map.extract(
        pre["patient"],
        fhir_map.resources(pre["observations"], "Observation"),
        fhir_map.resources(pre["specimens"], "Specimen"),
        snapshot().loinc,
        datetime.date.today(),
    )


def test_form_data_follows_the_field_contract(seeded):
    data = smart.form_data(_extract("poems-1"))
    assert data["vegf_pg_ml"] == "1250" and data["vegf_pg_ml__unit"] == "pg/mL"
    assert data["vegf_specimen"] == "plasma"
    assert data["creatinine_mg_dl"] == "88" and data["creatinine_mg_dl__unit"] == "umol/L"
    assert data["flc_lambda_mg_l"] == "4.1" and data["flc_lambda_mg_l__unit"] == "mg/dL"
    assert data["m_protein_present"] == "yes"
    assert data["sex"] == "M"
    assert "polyneuropathy" not in data  # findings other than lab-coded ones are never pre-filled


def test_numbers_are_written_as_a_person_types_them():
    assert smart._number(1250.0) == "1250"
    assert smart._number(0.0001) == "0.0001"
    assert smart._number(1e6) == "1000000"
    assert smart._number(0.46) == "0.46"


def test_the_plain_checklist_has_no_record_section(client, seeded):
    assert "Pre-filled from the record" not in client.get("/").content.decode()
    page = client.post("/", {"vegf_pg_ml": "100", "vegf_pg_ml__unit": "pg/mL"})
    assert "Pre-filled from the record" not in page.content.decode()


def test_launch_refuses_an_unregistered_ehr_without_calling_it(client, seeded, settings):
    settings.SMART_ALLOWED_ISSUERS = ["https://ehr.example.org/fhir"]
    response = client.get("/smart/launch", {"iss": "http://169.254.169.254/latest"})
    assert response.status_code == 400
    assert "not registered" in response.content.decode()


def test_callback_without_a_launch_is_refused(client, seeded):
    response = client.get("/smart/callback", {"code": "abc", "state": "forged"})
    assert response.status_code == 400
    assert "Launch the app again" in response.content.decode()
