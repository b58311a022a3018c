"""CDS Hooks service (design.md §3.8): discovery, JWT checks, cards from the synthetic patients, 412, CORS."""

import copy
import datetime
import json
import logging

import jwt
import pytest
from django.core.cache import cache

from tests.ehr_helpers import (
    BASE_URL,
    ISS,
    SERVICE_PATH,
    Signer,
    clients_file,
    hook_request,
    prefetch_for,
    searchset,
    synthetic_resources,
)

pytestmark = pytest.mark.django_db

AUD = BASE_URL + SERVICE_PATH
ES = Signer("ES384", "es-1")
RS = Signer("RS384", "rs-1")
STRANGER = Signer("ES384", "es-1")  # same kid, key not registered


@pytest.fixture
def cds(settings, tmp_path, seeded):
    settings.CDS_HOOKS_CLIENTS = clients_file(
        tmp_path, [ES, RS], fhir_servers=["https://fhir.example.org/r4"]
    )
    settings.CDS_HOOKS_BASE_URL = BASE_URL
    settings.CDS_HOOKS_ALLOWED_ORIGINS = ["https://ehr.example.org"]
    cache.clear()
    return settings


def call(client, body, token=None, path=SERVICE_PATH, **headers):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def poems_call(client, signer=ES, **claims):
    return call(client, hook_request("poems-1", prefetch_for("poems-1")), signer.token(AUD, **claims))


# ---------------------------------------------------------------- discovery


def test_discovery_lists_the_patient_view_service_first_without_version(client, cds):
    response = client.get("/cds-services")
    assert response.status_code == 200
    service, *orders = response.json()["services"]
    # The order hooks (tests/test_ehr_orders.py) and the follow-up (tests/test_ehr_follow_up_card.py).
    assert {s["id"] for s in orders} == {"poems-cidp-orders", "poems-follow-up"}
    assert all("version" not in s for s in orders)
    assert service["id"] == "poems-criteria"
    assert service["hook"] == "patient-view"
    assert "version" not in service  # CDS Hooks 2.0.1 discovery has no version field
    assert service["title"] and service["description"]
    prefetch = service["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert prefetch["observations"].startswith("Observation?patient={{context.patientId}}&code=")
    assert "http%3A%2F%2Floinc.org%7C75628-8" in prefetch["observations"]
    assert "http%3A%2F%2Floinc.org%7C33358-3" in prefetch["observations"]
    assert prefetch["specimens"] == "Specimen?patient={{context.patientId}}"


# ---------------------------------------------------------------- cards


def test_poems_like_patient_gets_one_warning_card(client, cds):
    response = poems_call(client)
    assert response.status_code == 200, response.content
    (card,) = response.json()["cards"]
    assert card["indicator"] == "warning"  # VEGF (plasma, from Specimen.type) meets a major criterion
    assert len(card["summary"]) < 140
    assert "VEGF elevated" in card["summary"] and "Not a diagnosis" in card["summary"]
    detail = card["detail"]
    today = datetime.date.today()
    vegf_day = (today - datetime.timedelta(days=20)).isoformat()
    assert f"1250 pg/mL (specimen plasma (Specimen.type)), {vegf_day}, LOINC 75628-8" in detail
    assert "LOINC 25700-6" in detail and "detected" in detail
    assert "LOINC 777-3" in detail and "520 10*3/uL" in detail
    assert "300 10*3/uL" not in detail  # the older platelet count is not the newest
    assert "stale: 150 days old" in detail  # the CSF protein
    assert "What labs cannot tell" in detail and "not from the problem list" in detail
    assert card["source"] == {"label": "POEMSaid criteria checklist", "url": BASE_URL + "/criteria"}
    links = {link["type"]: link for link in card["links"]}
    assert links["smart"]["url"] == BASE_URL + "/smart/launch?target=checklist"
    assert links["absolute"]["url"] == BASE_URL + "/criteria"
    for link in card["links"]:
        # No patient data in URLs: at most the page to open.
        assert "poems-1" not in link["url"] and link["url"].split("?")[1:] in ([], ["target=checklist"])
    assert card["uuid"]


def test_card_uses_the_same_evaluation_as_the_api(client, cds):
    from checklist.content.rule_book import snapshot
    from checklist.ehr import fhir_map

    pre = prefetch_for("poems-1")
    extract = fhir_map.extract(
        pre["patient"],
        fhir_map.resources(pre["observations"], "Observation"),
        fhir_map.resources(pre["specimens"], "Specimen"),
        snapshot().loinc,
        datetime.date.today(),
    )
    api = client.post("/api/v1/evaluate", data=json.dumps(extract.case()), content_type="application/json")
    criteria = {c["code"]: c["status"] for c in api.json()["criteria"]}
    assert criteria["vegf_elevated"] == "met"
    assert criteria["monoclonal_plasma_cell_disorder"] == "met"
    assert criteria["thrombocytosis_polycythemia"] == "met"
    assert criteria["polyneuropathy"] == "unknown"  # never read from Conditions
    assert extract.case()["labs"]["creatinine_mg_dl"] == {"value": 88.0, "unit": "umol/L"}


@pytest.mark.parametrize("patient", ["cidp-1", "nolabs-1"])
def test_no_poems_relevant_lab_means_no_card(client, cds, patient):
    response = call(client, hook_request(patient, prefetch_for(patient)), ES.token(AUD))
    assert response.status_code == 200
    assert response.json() == {"cards": []}


def test_conditions_are_not_read(client, cds):
    pre = prefetch_for("nolabs-1")
    pre["conditions"] = searchset(
        [
            {
                "resourceType": "Condition",
                "subject": {"reference": "Patient/nolabs-1"},
                "code": {"text": "POEMS syndrome"},
            }
        ]
    )
    response = call(client, hook_request("nolabs-1", pre), ES.token(AUD))
    assert response.json() == {"cards": []}


def _vegf(value, unit="pg/mL", days=10, **extra):
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": (datetime.date.today() - datetime.timedelta(days=days)).isoformat(),
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }
    obs.update(extra)
    return obs


def _one_card(client, observations, patient=None):
    pre = {
        "patient": patient
        or {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-01-01"},
        "observations": searchset(observations),
    }
    response = call(client, hook_request("p1", pre), ES.token(AUD))
    assert response.status_code == 200, response.content
    cards = response.json()["cards"]
    assert len(cards) == 1
    return cards[0]


def test_vegf_without_specimen_is_left_to_the_engine_as_unknown(client, cds):
    card = _one_card(client, [_vegf(450)])
    assert "specimen unknown" in card["detail"]
    # The card says what the engine says for the same case (clinical.md A1 decides an unknown specimen).
    case = {
        "labs": {
            "vegf_pg_ml": {"value": 450, "unit": "pg/mL"},
            "vegf_specimen": "unknown",
            "sex": "F",
            "age_years": 50,
        }
    }
    api = client.post("/api/v1/evaluate", data=json.dumps(case), content_type="application/json").json()
    status = next(c["status"] for c in api["criteria"] if c["code"] == "vegf_elevated")
    phrase = {"met": "VEGF elevated", "not_met": "VEGF not elevated", "unknown": "VEGF undecided"}[status]
    assert phrase in card["summary"]
    assert card["indicator"] == ("warning" if status == "met" else "info")


def test_reference_range_high_is_the_vegf_upper_limit(client, cds):
    card = _one_card(
        client,
        [
            _vegf(
                150,
                referenceRange=[
                    {
                        "high": {
                            "value": 96,
                            "unit": "pg/mL",
                            "system": "http://unitsofmeasure.org",
                            "code": "pg/mL",
                        }
                    }
                ],
            )
        ],
    )
    assert "lab upper limit 96 pg/mL" in card["detail"]
    assert card["indicator"] == "warning"  # 150 > the lab's own limit settles it without a specimen


def test_stale_and_unusable_values_are_shown_not_hidden(client, cds):
    card = _one_card(client, [_vegf(2400, days=200), _vegf(3, unit="ng/dL", days=5)])
    assert "stale: 200 days old" in card["detail"]
    assert "3 ng/dL" in card["detail"] and "not one listed" in card["detail"]


def test_comparator_and_implausible_values_are_not_used(client, cds):
    obs = _vegf(5, days=3)
    obs["valueQuantity"]["comparator"] = "<"
    card = _one_card(client, [obs, _vegf(90000, days=4)])
    assert "comparator" in card["detail"]
    assert "outside the plausible range" in card["detail"]
    assert "VEGF" not in card["summary"]  # nothing usable: no VEGF statement


def test_prefetched_results_of_another_patient_are_ignored(client, cds):
    other = _vegf(2400)
    other["subject"] = {"reference": "Patient/someone-else"}
    pre = {"patient": {"resourceType": "Patient", "id": "p1"}, "observations": searchset([other])}
    response = call(client, hook_request("p1", pre), ES.token(AUD))
    assert response.json() == {"cards": []}


def test_rs384_is_accepted_too(client, cds):
    assert poems_call(client, signer=RS).status_code == 200


# ---------------------------------------------------------------- JWT refusals (401)


def _hs256_with_public_key():
    # The classic confusion attack: sign with HMAC using the published public key as the secret.
    from cryptography.hazmat.primitives import serialization

    pem = RS.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(__import__("time").time())
    claims = {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 60, "jti": "hs"}
    header = {"kid": "rs-1", "typ": "JWT", "alg": "HS256"}
    import base64
    import hashlib
    import hmac

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    return signing_input + "." + b64(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())


def _alg_none():
    now = int(__import__("time").time())
    return jwt.encode(
        {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 60, "jti": "none"},
        key=None,
        algorithm="none",
        headers={"kid": "es-1", "typ": "JWT"},
    )


REFUSALS = {
    "missing": lambda: None,
    "wrong aud": lambda: ES.token(BASE_URL + "/cds-services/other"),
    "aud from the request host": lambda: ES.token("http://testserver" + SERVICE_PATH),
    "expired": lambda: ES.token(
        AUD, iat=int(__import__("time").time()) - 600, exp=int(__import__("time").time()) - 120
    ),
    "no exp": lambda: ES.token(AUD, exp=None),
    "lives too long": lambda: ES.token(AUD, exp=int(__import__("time").time()) + 3600),
    "iat in the future": lambda: ES.token(AUD, iat=int(__import__("time").time()) + 600),
    "no jti": lambda: ES.token(AUD, jti=None),
    "untrusted iss": lambda: ES.token(AUD, iss="https://evil.example.org"),
    "unknown kid": lambda: ES.token(AUD, header_kid="es-9"),
    "key not registered": lambda: STRANGER.token(AUD),
    "typ not JWT": lambda: ES.token(AUD, header_typ="at+jwt"),
    "no typ": lambda: ES.token(AUD, header_typ=None),
    "HS256 with the public key": _hs256_with_public_key,
    "alg none": _alg_none,
    "garbage": lambda: "not.a.jwt",
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_invalid_jwt_is_refused_with_401(client, cds, case):
    response = call(client, hook_request("poems-1", prefetch_for("poems-1")), REFUSALS[case]())
    assert response.status_code == 401, case
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert response["WWW-Authenticate"] == "Bearer"


def test_replayed_jti_is_refused(client, cds):
    token = ES.token(AUD)
    body = hook_request("poems-1", prefetch_for("poems-1"))
    assert call(client, body, token).status_code == 200
    again = call(client, body, token)
    assert again.status_code == 401
    assert "jti" in again.json()["issue"][0]["diagnostics"]


def test_unconfigured_service_refuses_rather_than_trusting(client, seeded, settings):
    settings.CDS_HOOKS_CLIENTS = ""
    settings.CDS_HOOKS_BASE_URL = ""
    response = call(client, hook_request("poems-1", prefetch_for("poems-1")), ES.token(AUD))
    assert response.status_code == 503


# ---------------------------------------------------------------- 412 and bad requests


def test_missing_prefetch_without_fhir_access_is_412(client, cds):
    pre = prefetch_for("poems-1")
    del pre["observations"]
    response = call(client, hook_request("poems-1", pre), ES.token(AUD))
    assert response.status_code == 412
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "observations" in outcome["issue"][0]["diagnostics"]


def test_missing_prefetch_with_an_unregistered_fhir_server_is_412(client, cds):
    body = hook_request(
        "poems-1",
        {},
        fhirServer="https://elsewhere.example.org/fhir",
        fhirAuthorization={
            "access_token": "x",
            "token_type": "Bearer",
            "expires_in": 60,
            "scope": "patient/*.rs",
            "subject": "c",
        },
    )
    assert call(client, body, ES.token(AUD)).status_code == 412


def test_missing_specimen_prefetch_is_not_an_error(client, cds):
    pre = prefetch_for("poems-1")
    del pre["specimens"]
    response = call(client, hook_request("poems-1", pre), ES.token(AUD))
    assert response.status_code == 200
    assert "specimen unknown" in response.json()["cards"][0]["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"hook": "order-sign", "hookInstance": "x", "context": {"patientId": "p"}},
        {"hook": "patient-view", "context": {"patientId": "p"}},
        {"hook": "patient-view", "hookInstance": "x", "context": {}},
        ["not", "an", "object"],
    ],
)
def test_malformed_requests_are_400_not_500(client, cds, body):
    assert call(client, body, ES.token(AUD)).status_code == 400


def test_null_prefetch_values_mean_no_data(client, cds):
    response = call(client, hook_request("p1", {"patient": None, "observations": None}), ES.token(AUD))
    assert response.status_code == 200
    assert response.json() == {"cards": []}


# ---------------------------------------------------------------- feedback, CORS, privacy


def test_feedback_answers_200_and_stores_only_a_count(client, cds):
    from checklist.ehr.models import CdsFeedbackCount

    body = {
        "feedback": [{"card": "abc", "outcome": "overridden", "outcomeTimestamp": "2026-11-25T10:00:00Z"}]
    }
    token = ES.token(BASE_URL + SERVICE_PATH + "/feedback")
    response = call(client, body, token, path=SERVICE_PATH + "/feedback")
    assert response.status_code == 200
    (row,) = CdsFeedbackCount.objects.values("service", "card_kind", "outcome", "reason", "count")
    assert row == {
        "service": "poems-criteria",
        "card_kind": "unknown",  # "abc" is no card of ours
        "outcome": "overridden",
        "reason": "",
        "count": 1,
    }
    assert call(client, body, ES.token(AUD), path=SERVICE_PATH + "/feedback").status_code == 401


def test_cors_preflight_and_response_for_allowed_origin_only(client, cds):
    ok = client.options(
        SERVICE_PATH, HTTP_ORIGIN="https://ehr.example.org", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert ok.status_code == 204
    assert ok["Access-Control-Allow-Origin"] == "https://ehr.example.org"
    assert "Authorization" in ok["Access-Control-Allow-Headers"]
    assert "POST" in ok["Access-Control-Allow-Methods"]
    refused = client.options(SERVICE_PATH, HTTP_ORIGIN="https://evil.example.org")
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused
    body = hook_request("poems-1", prefetch_for("poems-1"))
    answer = call(client, body, ES.token(AUD), HTTP_ORIGIN="https://ehr.example.org")
    assert answer["Access-Control-Allow-Origin"] == "https://ehr.example.org"
    discovery = client.get("/cds-services", HTTP_ORIGIN="https://evil.example.org")
    assert "Access-Control-Allow-Origin" not in discovery


def test_nothing_from_the_record_is_logged_or_stored(client, cds, caplog):
    from django.apps import apps

    resources = copy.deepcopy(synthetic_resources())
    for r in resources:
        if r["id"] == "poems-1-vegf":
            r["valueQuantity"]["value"] = 4321.5  # a sentinel
    counts = {m: m.objects.count() for m in apps.get_app_config("checklist").get_models()}
    with caplog.at_level(logging.DEBUG):
        response = call(client, hook_request("poems-1", prefetch_for("poems-1", resources)), ES.token(AUD))
    assert "4321.5" in response.content.decode()
    assert "4321.5" not in caplog.text and "poems-1" not in caplog.text and "Pemberton" not in caplog.text
    from checklist.ehr.models import CdsCallAudit

    # One row is written, the call's audit row, and it holds nothing from the record.
    after = {m: m.objects.count() for m in apps.get_app_config("checklist").get_models()}
    assert after == {**counts, CdsCallAudit: counts[CdsCallAudit] + 1}
    row = json.dumps(list(CdsCallAudit.objects.values()), default=str)
    assert "4321.5" not in row and "poems-1" not in row and "Pemberton" not in row


def serve_jwks(keys):
    """A key server on loopback: returns (server, url, paths fetched). Shut it down after use."""
    import http.server
    import threading

    keyset = json.dumps({"keys": keys}).encode()
    fetches = []

    class JWKS(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            fetches.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(keyset)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), JWKS)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/jwks.json", fetches


def test_jwks_by_url_is_fetched_and_its_keys_trusted(client, settings, tmp_path, seeded):
    from checklist.ehr import jwt_auth

    server, url, _fetches = serve_jwks([ES.jwk])
    try:
        settings.CDS_HOOKS_CLIENTS = clients_file(tmp_path, [], jwks_url=url)
        settings.CDS_HOOKS_BASE_URL = BASE_URL
        jwt_auth._jwk_clients.clear()
        ok = call(client, hook_request("nolabs-1", prefetch_for("nolabs-1")), ES.token(AUD))
        assert ok.status_code == 200
        refused = call(client, hook_request("nolabs-1", prefetch_for("nolabs-1")), RS.token(AUD))
        assert refused.status_code == 401  # rs-1 is not in the published set
    finally:
        server.shutdown()
        jwt_auth._jwk_clients.clear()


def test_unknown_kids_refetch_the_key_set_at_most_once_a_minute_and_a_dead_key_server_is_503(
    client, settings, tmp_path, seeded
):
    """The issuer and kid are read before the signature is checked: random kids must not make
    this server fetch the issuer's keys on every request. A key server that cannot be reached
    is our problem or the issuer's, not a bad token: 503, not 401."""
    from checklist.ehr import jwt_auth

    server, url, fetches = serve_jwks([ES.jwk])
    settings.CDS_HOOKS_CLIENTS = clients_file(tmp_path, [], jwks_url=url)
    settings.CDS_HOOKS_BASE_URL = BASE_URL
    jwt_auth._jwk_clients.clear()
    jwt_auth._last_refresh.clear()
    try:
        for n in range(6):
            token = ES.token(AUD, header_kid=f"random-{n}")
            response = call(client, hook_request("nolabs-1", prefetch_for("nolabs-1")), token)
            assert response.status_code == 401, response.content
        assert len(fetches) == 2, fetches  # the first fill, then one refresh for an unknown kid
        ok = call(client, hook_request("nolabs-1", prefetch_for("nolabs-1")), ES.token(AUD))
        assert ok.status_code == 200 and len(fetches) == 2  # the known kid comes from the cache
    finally:
        server.shutdown()
        server.server_close()
    jwt_auth._jwk_clients.clear()
    jwt_auth._last_refresh.clear()
    try:
        down = call(client, hook_request("nolabs-1", prefetch_for("nolabs-1")), ES.token(AUD))
        assert down.status_code == 503, down.content
        assert down.json()["resourceType"] == "OperationOutcome" and down["Retry-After"] == "30"
    finally:
        jwt_auth._jwk_clients.clear()
        jwt_auth._last_refresh.clear()


def test_oversized_body_is_413_before_it_is_read(client, cds, settings):
    settings.CDS_HOOKS_MAX_BODY_BYTES = 1000
    response = call(client, hook_request("poems-1", prefetch_for("poems-1")), ES.token(AUD))
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"


def test_detail_names_criteria_as_the_page_does(client, cds):
    (card,) = poems_call(client).json()["cards"]
    assert "VEGF" in card["detail"] and "vegf_elevated" not in card["detail"]


@pytest.mark.parametrize(
    "url, accepted",
    [
        ("https://ehr.example.org/.well-known/jwks.json", True),
        ("http://127.0.0.1:9000/jwks.json", True),
        ("http://localhost/jwks.json", True),
        ("http://ehr.example.org/jwks.json", False),  # keys over plain http can be swapped in transit
        ("ftp://ehr.example.org/jwks.json", False),
        ("https:///jwks.json", False),
    ],
)
def test_a_jwks_url_must_be_https_unless_on_loopback(tmp_path, settings, url, accepted):
    from django.core.exceptions import ImproperlyConfigured

    from checklist.ehr import jwt_auth

    settings.CDS_HOOKS_CLIENTS = clients_file(tmp_path, [], jwks_url=url)
    if accepted:
        assert jwt_auth.trusted_clients()
    else:
        with pytest.raises(ImproperlyConfigured, match="https"):
            jwt_auth.trusted_clients()


def test_the_card_speaks_japanese_when_asked_with_the_same_codes(client, cds):
    # issue 23: Accept-Language ja puts the engine's reasons and the summary in Japanese; the
    # indicator, the LOINC codes and every value are the English card's.
    body = hook_request("poems-1", prefetch_for("poems-1"))
    english = call(client, body, ES.token(AUD)).json()["cards"][0]
    japanese = call(client, body, ES.token(AUD), HTTP_ACCEPT_LANGUAGE="ja")
    assert japanese["Content-Language"] == "ja"
    card = japanese.json()["cards"][0]
    assert card["indicator"] == english["indicator"]
    assert card["summary"].startswith("検査値のみ：") and "VEGF 高値" in card["summary"]
    assert "診断ではありません" in card["summary"] and len(card["summary"]) < 140
    assert "血漿VEGF 1250 pg/mL" in card["detail"] and "Plasma VEGF 1250 pg/mL" in english["detail"]
    for fact in ("LOINC 75628-8", "LOINC 777-3", "520 10*3/uL", "stale: 150 days old"):
        assert fact in card["detail"] and fact in english["detail"]


@pytest.mark.parametrize(
    ("language", "words"),
    [("ja", ("検査値のみ", "診断ではありません")), ("zh-hans", ("仅凭检验", "并非诊断"))],
)
def test_the_card_summary_follows_accept_language_and_the_english_stays_as_it_was(
    client, cds, language, words
):
    body = hook_request("poems-1", prefetch_for("poems-1"))
    english = call(client, body, ES.token(AUD)).json()["cards"][0]
    # The English summary, byte for byte as before the summary could be translated.
    assert english["summary"] == (
        "Labs alone: clone detected; VEGF elevated; thrombocytosis/polycythaemia. "
        "Not a diagnosis: clinical criteria need review."
    )
    assert (
        call(client, body, ES.token(AUD), HTTP_ACCEPT_LANGUAGE="en, ja").json()["cards"][0]["summary"]
        == (english["summary"])
    )
    card = call(client, body, ES.token(AUD), HTTP_ACCEPT_LANGUAGE=language).json()["cards"][0]
    assert all(w in card["summary"] for w in words) and len(card["summary"]) < 140
    assert card["indicator"] == english["indicator"]
