"""CDS Hooks order hooks, service ``poems-cidp-orders`` (design.md §3.11, clinical.md §i.7).

Through Django's test client with real JWTs, the seed content and the synthetic patients:
discovery, the card (suggestions, overrideReasons, smart link), no card, 401/412/400,
feedback counts, the audit row, clients from the admin, and the order-hook codes as
published content.
"""

import copy
import datetime
import json
import uuid

import pytest
from django.core.cache import cache

from checklist.content import care_rules
from checklist.content import rule_book as content
from checklist.content.publishing import publish
from checklist.ehr import jwt_auth
from checklist.ehr.models import CdsCallAudit, CdsClient, CdsFeedbackCount, TerminologyCode
from tests.ehr_helpers import (
    BASE_URL,
    ISS,
    Signer,
    clients_file,
    prefetch_for,
    searchset,
    synthetic_resources,
)

pytestmark = pytest.mark.django_db

ORDERS_PATH = "/cds-services/poems-cidp-orders"
FEEDBACK_PATH = ORDERS_PATH + "/feedback"
AUD = BASE_URL + ORDERS_PATH
ES = Signer("ES384", "orders-es-1")
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
# A site's own IVIG code, as a terminology editor would add it (none is seeded: clinical.md §i.7).
IVIG_CODE = "999001"


@pytest.fixture
def cds(settings, tmp_path, seeded):
    settings.CDS_HOOKS_CLIENTS = clients_file(tmp_path, [ES], fhir_servers=["https://fhir.example.org/r4"])
    settings.CDS_HOOKS_BASE_URL = BASE_URL
    cache.clear()
    jwt_auth._clients.clear()
    return settings


@pytest.fixture
def ivig(cds):
    """The editor adds the site's IVIG code and publishes (the publishing gate runs)."""
    TerminologyCode.objects.create(
        use="ivig",
        system=RXNORM,
        code=IVIG_CODE,
        display="IVIG (the site's own code, for the test)",
        evidence="unverified",
        source="test",
    )
    outcome = publish("test: the site's IVIG code")
    assert outcome.ok, outcome.problems + outcome.failures
    content.invalidate()
    yield IVIG_CODE


def ivig_order(order_id="draft-ivig", code=IVIG_CODE):
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}], "text": "IVIG"},
        "subject": {"reference": "Patient/x"},
    }


def steroid_order(reason=None):
    order = {
        "resourceType": "MedicationRequest",
        "id": "draft-pred",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "8640"}], "text": "prednisone"},
    }
    if reason:
        order["reasonCode"] = [{"coding": [{"system": ICD10CM, "code": reason}]}]
    return order


def order_prefetch(patient_id, resources=None):
    resources = resources if resources is not None else synthetic_resources()
    base = prefetch_for(patient_id, resources)
    ref = f"Patient/{patient_id}"
    conditions = [
        r for r in resources if r["resourceType"] == "Condition" and r["subject"]["reference"] == ref
    ]
    return {
        "observations": base["observations"],
        "conditions": searchset(conditions),
        "specimens": base["specimens"],
    }


def order_body(patient_id, orders, hook="order-select", prefetch="default", **extra):
    body = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/dr-test",
            "patientId": patient_id,
            "draftOrders": searchset(orders),
        },
    }
    if hook == "order-select":
        body["context"]["selections"] = [f"{o['resourceType']}/{o['id']}" for o in orders]
    if prefetch == "default":
        body["prefetch"] = order_prefetch(patient_id)
    elif prefetch is not None:
        body["prefetch"] = prefetch
    body.update(extra)
    return body


def post(client, body, path=ORDERS_PATH, token="sign"):
    headers = {}
    if token == "sign":
        token = ES.token(BASE_URL + path)
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


# ---------------------------------------------------------------- discovery


def test_discovery_lists_the_order_service_for_both_hooks(client, cds):
    services = client.get("/cds-services").json()["services"]
    assert [s["id"] for s in services] == [
        "poems-criteria",
        "poems-cidp-orders",
        "poems-cidp-orders",
        "poems-follow-up",  # tests/test_ehr_follow_up_card.py
    ]
    orders = [s for s in services if s["id"] == "poems-cidp-orders"]
    assert [s["hook"] for s in orders] == ["order-select", "order-sign"]
    for service in orders:
        prefetch = service["prefetch"]
        assert set(prefetch) == {"observations", "conditions", "specimens"}
        assert "_sort=-date" in prefetch["observations"]
        assert "http%3A%2F%2Floinc.org%7C75628-8" in prefetch["observations"]
        assert prefetch["conditions"].startswith("Condition?patient={{context.patientId}}")


# ---------------------------------------------------------------- cards


def test_ivig_for_a_lambda_m_protein_gives_a_warning_card_with_suggestions(client, ivig):
    response = post(client, order_body("cidp-lambda-1", [ivig_order()]))
    assert response.status_code == 200, response.content
    (card,) = response.json()["cards"]
    assert card["indicator"] == "warning"
    assert card["summary"] == "POEMS red flag with CIDP treatment: check VEGF and immunofixation"
    assert len(card["summary"]) < 140
    assert "lambda" in card["detail"].lower()
    (suggestion,) = card["suggestions"]
    # The IFE is 40 days old: only VEGF is missing, by the LOINC mapping's VEGF code.
    (action,) = suggestion["actions"]
    assert action["type"] == "create"
    request = action["resource"]
    assert request["resourceType"] == "ServiceRequest" and request["status"] == "draft"
    assert request["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "75628-8",
        "display": "Vascular endothelial growth factor A [Mass/volume] in Serum or Plasma",
    }
    assert request["subject"] == {"reference": "Patient/cidp-lambda-1"}
    assert "119361006" in request["note"][0]["text"]  # the specimen to state
    reasons = {r["code"]: r["display"] for r in card["overrideReasons"]}
    assert reasons == {
        "already_tested_elsewhere": "Already tested elsewhere",
        "poems_excluded": "POEMS excluded",
    }
    assert all(r["system"].startswith(BASE_URL) for r in card["overrideReasons"])
    (link,) = card["links"]
    assert link["type"] == "smart" and link["appContext"] == "screen"
    assert link["url"] == BASE_URL + "/smart/launch?target=screen"
    assert card["source"]["url"] == BASE_URL + "/screen"


def test_no_tests_on_file_gives_an_info_card_that_orders_all_of_them(client, ivig):
    response = post(client, order_body("nolabs-1", [ivig_order()]))
    (card,) = response.json()["cards"]
    assert card["indicator"] == "info"
    assert card["summary"] == "No VEGF or immunofixation on file for this demyelinating neuropathy"
    codes = [a["resource"]["code"]["coding"][0]["code"] for a in card["suggestions"][0]["actions"]]
    assert codes == ["75628-8", "25700-6", "36916-5", "33944-0", "48378-4"]
    assert card["suggestions"][0]["label"] == "Order VEGF and serum immunofixation with free light chains"


def test_normal_vegf_and_negative_ife_give_no_card(client, ivig):
    response = post(client, order_body("cidp-clear-1", [ivig_order()], hook="order-sign"))
    assert response.status_code == 200
    assert response.json() == {"cards": []}


def test_tests_older_than_twelve_months_count_as_not_done(client, ivig):
    resources = copy.deepcopy(synthetic_resources(today=datetime.date.today() - datetime.timedelta(days=366)))
    response = post(
        client, order_body("cidp-clear-1", [ivig_order()], prefetch=order_prefetch("cidp-clear-1", resources))
    )
    (card,) = response.json()["cards"]
    assert card["indicator"] == "info"
    assert "Not on file within 12 months" in card["detail"]


def test_an_order_that_is_no_trigger_reads_nothing_and_gives_no_card(client, ivig):
    other = ivig_order(code="12345")
    response = post(client, order_body("nolabs-1", [other], prefetch=None))  # no prefetch needed: no 412
    assert response.status_code == 200 and response.json() == {"cards": []}


def test_order_select_counts_only_the_selected_orders(client, ivig):
    body = order_body("nolabs-1", [ivig_order(), ivig_order("other", code="12345")])
    body["context"]["selections"] = ["MedicationRequest/other"]
    assert post(client, body).json() == {"cards": []}
    body["context"]["selections"] = ["MedicationRequest/draft-ivig"]
    assert len(post(client, body).json()["cards"]) == 1


def test_a_steroid_triggers_only_for_cidp(client, cds):
    # The seeded prednisone code [unverified] with CIDP on the problem list (G61.81) of cidp-lambda-1.
    (card,) = post(client, order_body("cidp-lambda-1", [steroid_order()])).json()["cards"]
    assert "[unverified]" in card["detail"] and "prednisone" in card["detail"]
    # nolabs-1 has no CIDP Condition: a steroid without a CIDP reason triggers nothing...
    assert post(client, order_body("nolabs-1", [steroid_order()])).json() == {"cards": []}
    # ...and with CIDP as the order's reason it does.
    assert len(post(client, order_body("nolabs-1", [steroid_order(reason="G61.81")])).json()["cards"]) == 1


def test_a_known_poems_condition_gives_no_card(client, ivig):
    TerminologyCode.objects.create(
        use="poems", system=ICD10CM, code="TEST.POEMS", display="POEMS", source="test"
    )
    assert publish("test: a POEMS code").ok
    content.invalidate()
    resources = synthetic_resources()
    resources.append(
        {
            "resourceType": "Condition",
            "id": "lambda-poems",
            "subject": {"reference": "Patient/cidp-lambda-1"},
            "code": {"coding": [{"system": ICD10CM, "code": "TEST.POEMS"}]},
        }
    )
    body = order_body("cidp-lambda-1", [ivig_order()], prefetch=order_prefetch("cidp-lambda-1", resources))
    assert post(client, body).json() == {"cards": []}


def test_an_oedema_condition_is_a_red_flag_and_a_resolved_one_is_not(client, ivig):
    resources = synthetic_resources()
    oedema = {
        "resourceType": "Condition",
        "id": "clear-oedema",
        "subject": {"reference": "Patient/cidp-clear-1"},
        "code": {"coding": [{"system": ICD10CM, "code": "R60.0"}]},
    }
    resources.append(oedema)
    body = order_body("cidp-clear-1", [ivig_order()], prefetch=order_prefetch("cidp-clear-1", resources))
    (card,) = post(client, body).json()["cards"]
    assert card["indicator"] == "warning" and "suggestions" not in card  # both tests on file
    oedema["clinicalStatus"] = {"coding": [{"code": "resolved"}]}
    body = order_body("cidp-clear-1", [ivig_order()], prefetch=order_prefetch("cidp-clear-1", resources))
    assert post(client, body).json() == {"cards": []}


def test_an_operation_outcome_prefetch_without_fhir_access_is_412(client, ivig):
    prefetch = order_prefetch("cidp-lambda-1")
    prefetch["conditions"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "x"}],
    }
    response = post(client, order_body("cidp-lambda-1", [ivig_order()], prefetch=prefetch))
    assert response.status_code == 412
    assert "conditions (an OperationOutcome)" in response.json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.update(hook="patient-view"), "hook must be one of order-select, order-sign"),
        (lambda b: b["context"].pop("draftOrders"), "context.draftOrders must be a FHIR Bundle"),
        (lambda b: b["context"].pop("patientId"), "hookInstance and context.patientId are required"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(client, ivig, change, message):
    body = order_body("nolabs-1", [ivig_order()])
    change(body)
    response = post(client, body)
    assert response.status_code == 400
    assert response.json()["issue"][0]["diagnostics"] == message


def test_a_missing_or_foreign_jwt_is_401(client, ivig):
    body = order_body("nolabs-1", [ivig_order()])
    assert post(client, body, token=None).status_code == 401
    # A token for the other service's URL is not one for this one.
    assert post(client, body, token=ES.token(BASE_URL + "/cds-services/poems-criteria")).status_code == 401


# ---------------------------------------------------------------- audit


def test_every_call_leaves_an_audit_row(client, ivig):
    body = order_body("cidp-lambda-1", [ivig_order()])
    post(client, body)
    post(client, body, token=None)
    ok, refused = CdsCallAudit.objects.order_by("at")
    assert (ok.service, ok.hook, ok.hook_instance, ok.cards, ok.card_kind) == (
        "poems-cidp-orders",
        "order-select",
        body["hookInstance"],
        1,
        "red_flag",
    )
    assert (ok.client, ok.status, ok.outcome) == (ISS, 200, "ok") and ok.latency_ms > 0
    assert (refused.client, refused.status, refused.outcome, refused.cards) == ("", 401, "jwt_rejected", None)


# ---------------------------------------------------------------- feedback


def feedback(card_id, outcome, reason=None, **extra):
    item = {"card": card_id, "outcome": outcome, "outcomeTimestamp": "2026-12-07T10:00:00Z", **extra}
    if reason:
        item["overrideReason"] = {"reason": {"code": reason, "system": "x"}, "userComment": "Pemberton 1250"}
    return {"feedback": [item]}


def test_feedback_counts_outcomes_per_kind_and_reason_without_patient_data(client, ivig):
    lambda_card = post(client, order_body("cidp-lambda-1", [ivig_order()])).json()["cards"][0]
    info_card = post(client, order_body("nolabs-1", [ivig_order()])).json()["cards"][0]
    accepted = feedback(
        lambda_card["uuid"], "accepted", acceptedSuggestions=[{"id": lambda_card["suggestions"][0]["uuid"]}]
    )
    assert post(client, accepted, FEEDBACK_PATH).status_code == 200
    assert (
        post(
            client, feedback(info_card["uuid"], "overridden", "already_tested_elsewhere"), FEEDBACK_PATH
        ).status_code
        == 200
    )
    # The same card again is not counted twice; an unknown card and a reason of the client's own count apart.
    post(client, feedback(info_card["uuid"], "overridden", "already_tested_elsewhere"), FEEDBACK_PATH)
    post(client, feedback(str(uuid.uuid4()), "overridden", "their-own-code"), FEEDBACK_PATH)
    counts = {
        (r.card_kind, r.outcome, r.reason): r.count
        for r in CdsFeedbackCount.objects.filter(service="poems-cidp-orders")
    }
    assert counts == {
        ("red_flag", "accepted", ""): 1,
        ("tests_missing", "overridden", "already_tested_elsewhere"): 1,
        ("unknown", "overridden", "other"): 1,
    }
    stored = json.dumps(list(CdsFeedbackCount.objects.values()), default=str)
    assert "Pemberton" not in stored and "1250" not in stored  # the userComment is never read


def test_feedback_that_is_not_cds_hooks_feedback_is_400(client, ivig):
    response = post(client, {"feedback": [{"card": "x", "outcome": "maybe"}]}, FEEDBACK_PATH)
    assert response.status_code == 400
    text = response.json()["issue"][0]["diagnostics"]
    assert "feedback[0].outcome must be accepted or overridden" in text
    assert "feedback[0].outcomeTimestamp is required" in text
    assert not CdsFeedbackCount.objects.exists()


def test_ignored_cards_are_derived_from_the_audit(client, ivig, admin_client):
    for _ in range(3):
        post(client, order_body("nolabs-1", [ivig_order()]))
    card = post(client, order_body("nolabs-1", [ivig_order()])).json()["cards"][0]
    post(client, feedback(card["uuid"], "overridden", "poems_excluded"), FEEDBACK_PATH)
    page = admin_client.get("/admin/checklist/cdsfeedbackcount/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cards of poems-cidp-orders (tests_missing): 4 returned, 1 with feedback, 3 ignored" in html
    assert admin_client.get("/admin/checklist/cdscallaudit/").status_code == 200
    assert admin_client.get("/admin/checklist/cdscallaudit/add/").status_code == 403


# ---------------------------------------------------------------- clients from the admin


def test_a_client_registered_in_the_admin_is_trusted_and_deactivating_it_refuses_it(client, ivig, settings):
    settings.CDS_HOOKS_CLIENTS = ""
    other = Signer("ES384", "db-es-1")
    iss = "https://db-ehr.example.org"
    body = order_body("nolabs-1", [ivig_order()])
    token = lambda: other.token(AUD, iss=iss)  # noqa: E731
    assert post(client, body, token=token()).status_code == 503  # no client anywhere: not configured
    row = CdsClient.objects.create(issuer=iss, jwks={"keys": [other.jwk]})
    assert post(client, body, token=token()).status_code == 200
    row.active = False
    row.save()  # the cached clients are cleared on save
    assert post(client, body, token=token()).status_code == 503
    assert row.history.count() == 2


def test_a_row_decides_for_its_issuer_over_the_file(client, ivig):
    body = order_body("nolabs-1", [ivig_order()])
    CdsClient.objects.create(issuer=ISS, jwks={"keys": [Signer("ES384", "another").jwk]}, active=True)
    # The file's key for this issuer no longer counts: the admin's row has another key.
    assert post(client, body).status_code == 401


def test_the_admin_refuses_a_client_over_plain_http(admin_client, cds):
    page = admin_client.post(
        "/admin/checklist/cdsclient/add/",
        {
            "issuer": "https://x.example.org",
            "jwks": "",
            "jwks_url": "http://keys.example.org/jwks.json",
            "jku_allowlist": "[]",
            "fhir_servers": "[]",
            "allowed_origins": "[]",
            "active": "on",
        },
    )
    assert page.status_code == 200 and "must be an https:// URL" in page.content.decode()
    assert not CdsClient.objects.exists()


def test_load_cds_clients_seeds_rows_from_the_file_once(cds):
    from django.core.management import call_command

    call_command("load_cds_clients", verbosity=0)
    (row,) = CdsClient.objects.all()
    assert row.issuer == ISS and row.jwks["keys"][0]["kid"] == ES.kid
    assert row.fhir_servers == ["https://fhir.example.org/r4"]
    row.active = False
    row.save()
    call_command("load_cds_clients", verbosity=0)  # an existing row is never overwritten
    assert CdsClient.objects.get().active is False


# ---------------------------------------------------------------- codes as content


def test_codes_are_content_published_with_the_release(cds):
    rules = care_rules.order_hook_rules()
    cidp = {(c.system, code) for c in rules.rules.cds.cidp_conditions for code in c.codes}
    assert (ICD10CM, "G61.81") in cidp and ("http://snomed.info/sct", "128209004") in cidp
    ivig = next(t for t in rules.rules.cds.trigger_orders if t.code == "ivig")
    assert ivig.codes == ()  # none seeded
    TerminologyCode.objects.create(use="ivig", system=RXNORM, code="777", display="x", source="test")
    content.invalidate()
    assert (
        next(t for t in care_rules.order_hook_rules().rules.cds.trigger_orders if t.code == "ivig").codes
        == ()
    )
    assert publish("test: ivig").ok  # a draft edit reaches the service only once published
    content.invalidate()
    ivig = next(t for t in care_rules.order_hook_rules().rules.cds.trigger_orders if t.code == "ivig")
    assert ivig.codes == ("777",)


def test_the_admin_refuses_a_medication_trigger_outside_rxnorm(cds):
    from django.core.exceptions import ValidationError

    row = TerminologyCode(use="ivig", system="http://snomed.info/sct", code="1", display="x", source="x")
    with pytest.raises(ValidationError, match="RxNorm"):
        row.full_clean()


def test_the_seed_codes_are_tagged_and_the_unverified_ones_say_so():
    from pathlib import Path

    rows = json.loads(
        (Path(__file__).resolve().parent.parent / "fixtures" / "terminology_codes.json").read_text()
    )
    for row in rows:
        fields = row["fields"]
        assert fields["evidence"] in ("read_table", "secondary", "unverified")
        if fields["evidence"] == "unverified":
            assert "[unverified]" in fields["source"]
    assert not [r for r in rows if r["fields"]["use"] in ("ivig", "plasma_exchange")]  # none asserted


def test_an_unknown_launch_target_is_refused(client, cds):
    response = client.get("/smart/launch", {"iss": "https://fhir.example.org/r4", "target": "elsewhere"})
    assert response.status_code == 400
    assert "Unknown launch target" in response.content.decode()
