"""The order hooks leave no patient data behind (design.md §3.11): the sentinel test.

A chart full of one sentinel string (patient id, names, report text, Condition text, the
order's text, the user, a feedback comment) and sentinel values goes through the order
service and its feedback. The answer quotes them back to the EHR (so they really flowed);
neither the database (every table, the audit rows and feedback counts included) nor any
log line (caplog and the production JSON console) holds one.
"""

import json

import pytest
from django.apps import apps

from tests.ehr_helpers import searchset
from tests.test_ehr_orders import BASE_URL, ES, FEEDBACK_PATH, cds, ivig, ivig_order, order_body, post  # noqa: F401
from tests.test_privacy import log_capture, logged_text  # noqa: F401

pytestmark = pytest.mark.django_db

SENTINEL = "QZXSENTINEL"
PATIENT = f"{SENTINEL.lower()}-patient"
VALUES = ("4321.5", "777")
UCUM = "http://unitsofmeasure.org"  # a VEGF and a platelet count no fixture holds


def chart():
    ref = {"reference": f"Patient/{PATIENT}"}
    lab = {"status": "final", "subject": ref, "effectiveDateTime": "2026-11-30"}
    return [
        {
            **lab,
            "resourceType": "Observation",
            "id": f"{SENTINEL}-ife",
            "code": {"coding": [{"system": "http://loinc.org", "code": "25700-6"}], "text": SENTINEL},
            "valueCodeableConcept": {
                "coding": [{"system": "http://snomed.info/sct", "code": "260373001"}],
                "text": f"IgA lambda band {SENTINEL}",
            },
            "note": [{"text": SENTINEL}],
        },
        {
            **lab,
            "resourceType": "Observation",
            "id": f"{SENTINEL}-vegf",
            "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
            "valueQuantity": {
                "value": 4321.5,
                "unit": "pg/mL",
                "system": "http://unitsofmeasure.org",
                "code": "pg/mL",
            },
        },
        {
            **lab,
            "resourceType": "Observation",
            "id": f"{SENTINEL}-plt",
            "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
            "valueQuantity": {
                "value": 777,
                "unit": "10*3/uL",
                "system": "http://unitsofmeasure.org",
                "code": "10*3/uL",
            },
        },
    ], [
        {
            "resourceType": "Condition",
            "id": f"{SENTINEL}-cond",
            "subject": ref,
            "code": {
                "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G61.81"}],
                "text": f"CIDP {SENTINEL}",
            },
            "note": [{"text": SENTINEL}],
        }
    ]


def test_a_sentinel_chart_leaves_no_trace_in_rows_or_logs(client, ivig, log_capture):  # noqa: F811
    caplog, capsys = log_capture
    observations, conditions = chart()
    prefetch = {"observations": searchset(observations), "conditions": searchset(conditions)}
    order = ivig_order(order_id=f"{SENTINEL}-order")
    order["note"] = [{"text": SENTINEL}]
    body = order_body(PATIENT, [order], prefetch=prefetch)
    body["context"]["userId"] = f"Practitioner/{SENTINEL}"
    body["context"]["encounterId"] = SENTINEL
    tables = list(apps.get_models(include_auto_created=True))
    before = {m._meta.label: m._default_manager.count() for m in tables}

    response = post(client, body)
    answer = response.content.decode()
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert "4321.5" in answer and "777" in answer  # the chart really flowed through, to the EHR only
    comment = {"reason": {"code": "poems_excluded"}, "userComment": f"{SENTINEL} 4321.5"}
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": comment,
                "outcomeTimestamp": "2026-12-07T10:00:00Z",
            }
        ]
    }
    assert post(client, feedback, FEEDBACK_PATH).status_code == 200
    # A hookInstance that is not a UUID, and a hook name of the caller's, are not copied either.
    odd = {**body, "hookInstance": SENTINEL, "hook": SENTINEL}
    assert post(client, odd).status_code == 400

    after = {m._meta.label: m._default_manager.count() for m in tables}
    changed = {label for label in after if after[label] != before[label]}
    assert changed == {"checklist.CdsCallAudit", "checklist.CdsFeedbackCount"}
    # Every other table kept its row count; the two that grew, and every table, hold no sentinel
    # string; the values are looked for in the two that grew (content has its own "777"s).
    for model in tables:
        rows = json.dumps(list(model._default_manager.values()), default=str)
        grew = model._meta.label in changed
        for needle in (SENTINEL, SENTINEL.lower(), *(VALUES if grew else ())):
            assert needle not in rows, (model._meta.label, needle)
    audit = [json.dumps(r.cds_audit) for r in caplog.records if r.name == "poemsaid.cds.audit"]
    assert len(audit) == 3  # the audit lines were captured, with their fields
    records, lines = logged_text(caplog, capsys)
    records += audit
    for text in records + lines:
        for needle in (SENTINEL, SENTINEL.lower(), "4321.5"):
            assert needle not in text, (needle, text[:300])
