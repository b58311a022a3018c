"""CDS service ``poems-follow-up`` (patient-view): a card when a POEMS patient's VEGF has risen
past the follow-up's progression rule (clinical.md §h.4 H-V3), and only then.

No POEMS condition code is seeded (none was checked against a terminology release), so these
tests add the site's code as an editor would (admin model, then publish). The rule is the
engine's with the published content; the FHIR fallback is faked at the HTTP boundary
(httpx.MockTransport behind fhir_read's shared client); our code runs as deployed.
"""

import datetime
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.apps import apps
from django.core.cache import cache

from checklist.content import rule_book as content
from checklist.content.publishing import publish
from checklist.ehr import fhir_read, jwt_auth
from checklist.ehr.models import TerminologyCode
from tests.ehr_helpers import BASE_URL, ISS, Signer, clients_file, hook_request, searchset
from tests.test_privacy import log_capture, logged_text  # noqa: F401

pytestmark = pytest.mark.django_db

PATH = "/cds-services/poems-follow-up"
ES = Signer("ES384", "fu-es-1")
FHIR = "https://fhir.example.org/r4"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
POEMS_CODE = "D47.Z9"  # the site's code for the test; the editor checks theirs against the release
SNOMED = "http://snomed.info/sct"
SPECIMEN = {"plasma": "119361006", "serum": "119364003"}
TODAY = datetime.date.today()


@pytest.fixture
def cds(settings, tmp_path, seeded):
    settings.CDS_HOOKS_CLIENTS = clients_file(tmp_path, [ES], fhir_servers=[FHIR])
    settings.CDS_HOOKS_BASE_URL = BASE_URL
    cache.clear()
    jwt_auth._clients.clear()
    return settings


@pytest.fixture
def poems(cds):
    """The editor adds the site's POEMS problem-list code and publishes (the publishing gate runs)."""
    TerminologyCode.objects.create(
        use="poems",
        system=ICD10CM,
        code=POEMS_CODE,
        display="POEMS syndrome (the site's code, for the test)",
        evidence="unverified",
        source="test",
    )
    outcome = publish("test: the site's POEMS code")
    assert outcome.ok, outcome.problems + outcome.failures
    content.invalidate()
    return POEMS_CODE


def vegf(patient, days_ago, value, specimen="plasma", oid=None, uln=None):
    obs = {
        "resourceType": "Observation",
        "id": oid or f"{patient}-vegf-{days_ago}",
        "status": "final",
        "subject": {"reference": f"Patient/{patient}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
        "effectiveDateTime": (TODAY - datetime.timedelta(days=days_ago)).isoformat(),
        "valueQuantity": {
            "value": value,
            "unit": "pg/mL",
            "system": "http://unitsofmeasure.org",
            "code": "pg/mL",
        },
        "specimen": {"reference": f"Specimen/{patient}-{specimen}"},
    }
    if uln is not None:
        obs["referenceRange"] = [
            {"high": {"value": uln, "system": "http://unitsofmeasure.org", "code": "pg/mL"}}
        ]
    return obs


def specimens(patient):
    return [
        {
            "resourceType": "Specimen",
            "id": f"{patient}-{kind}",
            "subject": {"reference": f"Patient/{patient}"},
            "type": {"coding": [{"system": SNOMED, "code": code}]},
        }
        for kind, code in SPECIMEN.items()
    ]


def condition(patient, code=POEMS_CODE, system=ICD10CM, **status):
    return {
        "resourceType": "Condition",
        "id": f"{patient}-{code}",
        "subject": {"reference": f"Patient/{patient}"},
        "code": {"coding": [{"system": system, "code": code}], "text": "POEMS syndrome"},
        **status,
    }


def series(patient, values, specimen="plasma"):
    """(days ago, value[, specimen]) newest first, as the template asks (_sort=-date)."""
    out = [vegf(patient, d, v, *(rest or (specimen,))) for d, v, *rest in values]
    return sorted(out, key=lambda o: o["effectiveDateTime"], reverse=True)


def prefetch(patient, values, conditions=None):
    return {
        "conditions": searchset([condition(patient)] if conditions is None else conditions),
        "observations": searchset(series(patient, values)),
        "specimens": searchset(specimens(patient)),
    }


def call(client, body, path=PATH):
    token = ES.token(BASE_URL + path)
    return client.post(
        path, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def cards(client, patient, values, conditions=None, **extra):
    response = call(client, hook_request(patient, prefetch(patient, values, conditions), **extra))
    assert response.status_code == 200, response.content
    return response.json()["cards"]


RISING = [(400, 1400), (300, 300), (200, 250), (10, 900)]  # nadir 250, then +260% and above 96.2
FALLING = [(400, 1400), (300, 600), (200, 300), (10, 250)]


# ---------------------------------------------------------------- discovery


def test_discovery_lists_the_follow_up_service_with_bounded_newest_first_templates(client, poems):
    services = client.get("/cds-services").json()["services"]
    (service,) = [s for s in services if s["id"] == "poems-follow-up"]
    assert service["hook"] == "patient-view" and "Not a diagnosis" in service["description"]
    observations = urlsplit(service["prefetch"]["observations"])
    query = parse_qs(observations.query)
    assert observations.path == "Observation" and query["_sort"] == ["-date"] and query["_count"] == ["50"]
    assert query["code"] == ["http://loinc.org|75628-8"]  # the VEGF codes of the LOINC mapping, only
    assert parse_qs(urlsplit(service["prefetch"]["conditions"]).query)["code"] == [f"{ICD10CM}|{POEMS_CODE}"]
    assert "%7C" in service["prefetch"]["observations"]  # values percent-encoded, as the others


# ---------------------------------------------------------------- when it fires


def test_a_poems_patient_with_a_rising_vegf_gets_one_card_with_values_dates_rule_and_link(client, poems):
    (card,) = cards(client, "fu-1", RISING)
    assert len(card["summary"]) < 140
    assert "possible progression, review" in card["summary"] and "Not a diagnosis" in card["summary"]
    assert "900 pg/mL" in card["summary"] and "250 pg/mL" in card["summary"]
    assert card["indicator"] == "warning"
    detail = card["detail"]
    day = lambda n: (TODAY - datetime.timedelta(days=n)).isoformat()  # noqa: E731
    for n, value in RISING:
        assert f"- {day(n)}: {value} pg/mL, plasma" in detail
    assert (
        f"{day(200)}: 250 pg/mL, plasma (nadir)" in detail
        and f"{day(10)}: 900 pg/mL, plasma (newest)" in detail
    )
    # The engine's reason, the rule with its source and evidence tag, and the numbers' own tags.
    assert "more than 50% above the nadir of 250 pg/mL" in detail and "consistent with progression" in detail
    assert (
        "**Rule H-V3:** clinical.md §h.4 H-V3: rise of more than 50%" in detail
        and "ProQuest docview 3093415450" in detail
        and "[secondary]" in detail
    )
    assert "above normal: yes" in detail and "[app convention]" in detail
    assert "serum and plasma values are never compared" in detail
    assert f"({ICD10CM} {POEMS_CODE})" in detail
    assert "Not a diagnosis" in detail and "relapse" not in card["summary"]
    (link,) = card["links"]
    assert link == {
        "label": "Open the POEMS follow-up, filled from the record",
        "url": BASE_URL + "/smart/launch?target=follow_up",
        "type": "smart",
        "appContext": "follow_up",
    }
    assert card["source"]["url"] == BASE_URL + "/follow-up"


def test_a_falling_vegf_gives_no_card(client, poems):
    assert cards(client, "fu-2", FALLING) == []


def test_a_rising_vegf_without_poems_history_gives_no_card(client, poems):
    cidp = condition("fu-3", code="G61.81")
    assert cards(client, "fu-3", RISING, conditions=[cidp]) == []
    assert cards(client, "fu-3", RISING, conditions=[]) == []
    # POEMS on another patient's list is not this patient's history.
    assert cards(client, "fu-3", RISING, conditions=[condition("someone-else")]) == []


def test_without_a_poems_code_in_the_content_nothing_fires(client, cds):
    assert cards(client, "fu-4", RISING) == []


def test_remission_still_counts_as_history_and_a_refuted_entry_does_not(client, poems):
    remission = condition("fu-5", clinicalStatus={"coding": [{"code": "remission"}]})
    assert len(cards(client, "fu-5", RISING, conditions=[remission])) == 1
    refuted = condition("fu-5", verificationStatus={"coding": [{"code": "refuted"}]})
    assert cards(client, "fu-5", RISING, conditions=[refuted]) == []


@pytest.mark.parametrize(
    ("newest", "fires"),
    [
        (375, False),  # exactly +50% over the nadir of 250: does not fire (H-V3)
        (377.5, True),  # +51%
    ],
)
def test_both_sides_of_the_rise_threshold(client, poems, newest, fires):
    values = [(300, 800), (200, 250), (10, newest)]
    assert len(cards(client, "fu-6", values)) == (1 if fires else 0)


def test_a_rise_within_the_normal_range_does_not_fire(client, poems):
    # 40 -> 90 pg/mL plasma is +125% but within the plasma default (<=96.2): the app convention.
    assert cards(client, "fu-7", [(300, 400), (200, 40), (10, 90)]) == []


def test_no_vegf_or_a_single_one_gives_no_card(client, poems):
    assert cards(client, "fu-8", []) == []
    assert cards(client, "fu-8", [(10, 5000)]) == []


def test_serum_and_plasma_are_never_compared(client, poems):
    # A plasma nadir of 100, then serum 3000: not a rise, a different specimen (H-V1).
    assert cards(client, "fu-9", [(300, 800, "plasma"), (200, 100, "plasma"), (10, 3000, "serum")]) == []
    # Inside the serum series it is: serum 1200 then 2500 (above the serum default of 1000).
    values = [(400, 100, "plasma"), (200, 1200, "serum"), (10, 2500, "serum")]
    (card,) = cards(client, "fu-9", values)
    assert "nadir of 1200 pg/mL" in card["detail"]
    assert "100 pg/mL, plasma - other specimen, not compared" in card["detail"]


def test_an_unknown_specimen_is_not_compared(client, poems):
    observations = [vegf("fu-10", 200, 250), vegf("fu-10", 10, 900)]
    for o in observations:
        del o["specimen"]
    body = hook_request(
        "fu-10", {"conditions": searchset([condition("fu-10")]), "observations": searchset(observations)}
    )
    assert call(client, body).json()["cards"] == []


def test_the_labs_card_of_poems_criteria_is_unchanged_by_the_new_service(client, poems):
    # A different service: poems-criteria never reads Conditions and still answers on its own path.
    response = call(client, hook_request("fu-1", prefetch("fu-1", RISING)), "/cds-services/poems-criteria")
    assert response.status_code == 412  # it needs the Patient, which this body does not carry


# ---------------------------------------------------------------- prefetch and the FHIR fallback


class FakeFhir:
    """The client's FHIR server: Condition and VEGF searches, paged, newest first when asked."""

    def __init__(self, patient, values, conditions=None, page=2):
        self.observations = series(patient, values)
        self.conditions = [condition(patient)] if conditions is None else conditions
        self.specimens = specimens(patient)
        self.page, self.log = page, []

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer t"
        self.log.append(str(request.url))
        query = parse_qs(request.url.query.decode())
        name = request.url.path.rsplit("/", 1)[-1]
        items = {"Condition": self.conditions, "Observation": self.observations, "Specimen": self.specimens}[
            name
        ]
        if name == "Observation" and query.get("_sort") != ["-date"]:
            items = list(reversed(items))
        offset = int(query.get("_offset", ["0"])[0])
        bundle = searchset(items[offset : offset + self.page])
        if offset + self.page < len(items):
            bundle["link"] = [
                {
                    "relation": "next",
                    "url": f"{str(request.url).split('&_offset')[0]}&_offset={offset + self.page}",
                }
            ]
        return httpx.Response(200, json=bundle)

    def reads(self, name):
        return [u for u in self.log if urlsplit(u).path.endswith("/" + name)]


@pytest.fixture
def fake_fhir(monkeypatch):
    made = []

    def start(*args, **kwargs):
        fake = FakeFhir(*args, **kwargs)
        monkeypatch.setattr(fhir_read, "_shared", [httpx.Client(transport=httpx.MockTransport(fake.handle))])
        made.append(fake)
        return fake

    yield start
    for _ in made:
        fhir_read._shared.clear()


AUTH = {
    "fhirServer": FHIR,
    "fhirAuthorization": {
        "access_token": "t",
        "token_type": "Bearer",
        "expires_in": 60,
        "scope": "patient/*.rs",
        "subject": "poemsaid",
    },
}


def test_without_prefetch_everything_is_read_from_the_fhir_server_paged(client, poems, fake_fhir):
    fake = fake_fhir("fu-11", RISING)
    response = call(client, hook_request("fu-11", None, **AUTH))
    assert response.status_code == 200
    assert len(response.json()["cards"]) == 1
    assert len(fake.reads("Observation")) == 2  # 4 VEGF at 2 a page: the next link was followed
    first = parse_qs(urlsplit(fake.reads("Observation")[0]).query)
    assert first["_sort"] == ["-date"] and first["_count"] == ["50"]
    assert parse_qs(urlsplit(fake.reads("Condition")[0]).query)["code"] == [f"{ICD10CM}|{POEMS_CODE}"]


def test_without_poems_history_no_vegf_is_read(client, poems, fake_fhir):
    fake = fake_fhir("fu-12", RISING, conditions=[])
    response = call(client, hook_request("fu-12", None, **AUTH))
    assert response.status_code == 200 and response.json()["cards"] == []
    assert fake.reads("Condition") and not fake.reads("Observation")


def test_an_operation_outcome_prefetch_is_missing(client, poems, fake_fhir):
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}
    body = hook_request("fu-13", {**prefetch("fu-13", RISING), "observations": outcome})
    response = call(client, body)
    assert (
        response.status_code == 412
        and "observations (an OperationOutcome)" in response.json()["issue"][0]["diagnostics"]
    )
    body = hook_request("fu-13", {**prefetch("fu-13", RISING), "conditions": outcome})
    assert call(client, body).status_code == 412
    fake = fake_fhir("fu-13", RISING)
    body = hook_request("fu-13", {**prefetch("fu-13", FALLING), "observations": outcome}, **AUTH)
    response = call(client, body)
    assert response.status_code == 200 and len(response.json()["cards"]) == 1  # read from the server
    assert fake.reads("Observation")


def test_a_prefetch_with_a_next_link_is_completed_from_the_fhir_server(client, poems, fake_fhir):
    fake = fake_fhir("fu-14", RISING, page=2)
    first_page = searchset(fake.observations[:2])
    first_page["link"] = [
        {"relation": "next", "url": f"{FHIR}/Observation?patient=fu-14&_sort=-date&_offset=2"}
    ]
    body = hook_request("fu-14", {**prefetch("fu-14", RISING), "observations": first_page}, **AUTH)
    response = call(client, body)
    assert response.status_code == 200 and len(response.json()["cards"]) == 1
    assert "nadir of 250 pg/mL" in response.json()["cards"][0]["detail"]


def test_bad_requests_are_refused_with_a_message_not_a_500(client, poems):
    assert call(client, {"hook": "order-sign"}).status_code == 400
    body = hook_request("fu-15", None)
    del body["context"]["patientId"]
    response = call(client, body)
    assert response.status_code == 400 and "context.patientId" in response.json()["issue"][0]["diagnostics"]
    response = call(client, hook_request("fu-15", ["not", "an", "object"]))
    assert response.status_code == 412 and "prefetch must be an object" in response.content.decode()
    assert call(client, hook_request("fu-15", None)).status_code == 412  # nothing to read from
    assert client.post(PATH, data="{}", content_type="application/json").status_code == 401


# ---------------------------------------------------------------- no patient data kept


SENTINEL = "QZXFOLLOWSENT"


def test_the_card_leaves_no_patient_data_in_rows_or_logs(client, poems, log_capture):  # noqa: F811
    caplog, capsys = log_capture
    patient = f"{SENTINEL.lower()}-patient"
    values = [(300, 4321.5), (200, 1234.5), (10, 8765.5)]
    pre = prefetch(patient, values)
    pre["conditions"]["entry"][0]["resource"]["note"] = [{"text": SENTINEL}]
    body = hook_request(patient, pre)
    body["context"]["userId"] = f"Practitioner/{SENTINEL}"
    tables = list(apps.get_models(include_auto_created=True))
    before = {m._meta.label: m._default_manager.count() for m in tables}
    response = call(client, body)
    (card,) = response.json()["cards"]
    assert "8765.5" in card["detail"]  # the values really flowed, to the EHR only
    feedback = {
        "feedback": [
            {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-12-07T10:00:00Z"}
        ]
    }
    assert call(client, feedback, PATH + "/feedback").status_code == 200
    after = {m._meta.label: m._default_manager.count() for m in tables}
    changed = {label for label in after if after[label] != before[label]}
    assert changed == {"checklist.CdsCallAudit", "checklist.CdsFeedbackCount"}
    for model in tables:
        rows = json.dumps(list(model._default_manager.values()), default=str)
        grew = model._meta.label in changed
        for needle in (SENTINEL, SENTINEL.lower(), *(("4321.5", "1234.5", "8765.5") if grew else ())):
            assert needle not in rows, (model._meta.label, needle)
    audit = [r.cds_audit for r in caplog.records if r.name == "poemsaid.cds.audit"]
    assert [a["service"] for a in audit] == ["poems-follow-up", "poems-follow-up"]
    assert audit[0]["card_kind"] == "vegf_rise" and audit[0]["cards"] == 1
    records, lines = logged_text(caplog, capsys)
    records += [json.dumps(a) for a in audit]
    for text in records + lines:
        for needle in (SENTINEL, SENTINEL.lower(), "8765.5", "4321.5"):
            assert needle not in text, (needle, text[:300])
    assert ISS in json.dumps(audit[0])  # the audit names the calling client, nothing about the patient
