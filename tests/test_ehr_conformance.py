"""CDS Hooks conformance (issue 22, design.md §3.11): paging, deadline, OperationOutcome prefetch,
aud arrays, jku allowlist, the replay-cache system check, stale values, and the audit line."""

import datetime
import http.server
import io
import json
import logging
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import checks
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from checklist.ehr import audit, fhir_read, jwt_auth
from tests.ehr_helpers import BASE_URL, ISS, SERVICE_PATH, Signer, hook_request, searchset
from tests.test_ehr_cds import call, serve_jwks

pytestmark = pytest.mark.django_db

AUD = BASE_URL + SERVICE_PATH
ES = Signer("ES384", "conf-es-1")
TODAY = datetime.date.today()


def _obs(oid, code, value, unit, days, patient="p1"):
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": (TODAY - datetime.timedelta(days=days)).isoformat(),
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }


def vegf(value=2400, days=3, patient="p1", oid="vegf"):
    return _obs(oid, "75628-8", value, "pg/mL", days, patient)


def long_history(patient="p1"):
    """249 platelet counts over ten years, then a VEGF three days old: 250 Observations."""
    obs = [_obs(f"plt-{n}", "777-3", 250, "10*3/uL", 10 + 14 * n, patient) for n in range(249)]
    return [*obs, vegf(patient=patient)]  # stored last: a server's natural order puts it last


PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-01-01"}


class FakeFhir:
    """A FHIR server on loopback, outside our code: pages its searches with next links.

    It honours _sort=-date (else keeps stored order) and _count (capped at page_cap, as real
    servers cap it), and logs each request's path and parameters.
    """

    def __init__(self, observations, page_cap=100, delay=0.0, endless=False):
        self.observations = observations
        self.page_cap, self.delay, self.endless = page_cap, delay, endless
        self.log = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                fake.log.append(self.path)
                time.sleep(fake.delay)
                body = fake.answer(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/fhir+json")
                self.end_headers()
                self.wfile.write(json.dumps(body or {}).encode())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/fhir"

    def answer(self, path):
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/fhir/Patient/p1":
            return PATIENT
        if parts.path == "/fhir/Specimen":
            return searchset([])
        if parts.path != "/fhir/Observation":
            return None
        found = list(self.observations)
        if query.get("_sort") == "-date":
            found.sort(key=lambda o: o["effectiveDateTime"], reverse=True)
        count = min(int(query.get("_count", "50")), self.page_cap)
        offset = int(query.get("_offset", "0"))
        page = searchset(found[offset : offset + count])
        if self.endless or offset + count < len(found):
            nxt = dict(query, _offset=str(offset + count))
            link = f"{self.url}/Observation?" + "&".join(f"{k}={v}" for k, v in nxt.items())
            page["link"] = [{"relation": "next", "url": link}]
        return page

    def observation_requests(self):
        return [p for p in self.log if p.startswith("/fhir/Observation")]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def conf(settings, tmp_path, seeded):
    """A registered client; its entry is rewritten by ``register``."""
    settings.CDS_HOOKS_BASE_URL = BASE_URL
    path = tmp_path / "cds-clients.json"

    def register(**entry):
        entry.setdefault("jwks", {"keys": [ES.jwk]})
        path.write_text(json.dumps({ISS: entry}))
        # A new mtime each write: the clients file is re-read when it changes.
        settings.CDS_HOOKS_CLIENTS = str(path)
        jwt_auth._clients.clear()

    register()
    cache.clear()
    jwt_auth._jwk_clients.clear()
    jwt_auth._last_refresh.clear()
    yield register
    jwt_auth._jwk_clients.clear()
    jwt_auth._last_refresh.clear()


@pytest.fixture
def fhir():
    servers = []

    def start(observations, **kwargs):
        server = FakeFhir(observations, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def fetch_body(server, prefetch=None, patient="p1"):
    extra = {
        "fhirServer": server.url,
        "fhirAuthorization": {
            "access_token": "t",
            "token_type": "Bearer",
            "expires_in": 60,
            "scope": "patient/*.rs",
            "subject": "poemsaid",
        },
    }
    return hook_request(patient, prefetch, **extra)


# ---------------------------------------------------------------- newest first, paging, deadline


def test_the_observation_template_asks_for_the_newest_first(client, conf):
    for service in client.get("/cds-services").json()["services"]:  # both services
        assert "&_sort=-date&" in service["prefetch"]["observations"]


def test_a_250_observation_history_still_finds_a_3_day_old_vegf_by_fetching(client, conf, fhir):
    server = fhir(long_history())
    conf(fhir_servers=[server.url])
    response = call(client, fetch_body(server), ES.token(AUD))
    assert response.status_code == 200, response.content
    (card,) = response.json()["cards"]
    assert "VEGF elevated" in card["summary"]
    first, *more = server.observation_requests()
    assert "_sort=-date" in first
    assert len(more) == 2  # 250 results in pages of 100: the next links were followed


def test_without_newest_first_the_same_record_loses_the_vegf(client, conf, fhir):
    """The control: the stored order, one page (what a client that sends one page does)."""
    prefetch = {"patient": PATIENT, "observations": searchset(long_history()[:200])}
    response = call(client, hook_request("p1", prefetch), ES.token(AUD))
    assert response.json() == {"cards": []}


def test_a_prefetch_with_a_next_link_is_completed_from_the_fhir_server(client, conf, fhir):
    server = fhir(long_history())
    conf(fhir_servers=[server.url])
    first_page = server.answer("/fhir/Observation?patient=p1&_count=100")  # stored order: no VEGF
    assert "vegf" not in json.dumps(first_page)
    response = call(
        client, fetch_body(server, {"patient": PATIENT, "observations": first_page}), ES.token(AUD)
    )
    (card,) = response.json()["cards"]
    assert "VEGF elevated" in card["summary"]
    assert len(server.observation_requests()) == 2


def test_a_prefetch_with_a_next_link_and_no_fhir_access_says_so_on_the_card(client, conf, fhir):
    server = fhir([vegf(oid=f"v{n}", days=3 + n) for n in range(150)])
    page = server.answer("/fhir/Observation?patient=p1&_sort=-date&_count=100")
    response = call(client, hook_request("p1", {"patient": PATIENT, "observations": page}), ES.token(AUD))
    (card,) = response.json()["cards"]
    assert "more pages, which could not be read" in card["detail"]


def test_paging_stops_at_the_bound_and_the_card_says_so(client, conf, fhir):
    server = fhir([vegf()], endless=True)
    conf(fhir_servers=[server.url])
    response = call(client, fetch_body(server), ES.token(AUD))
    assert response.status_code == 200
    assert len(server.observation_requests()) == fhir_read.MAX_PAGES
    assert f"a limit of {fhir_read.MAX_PAGES} pages" in response.json()["cards"][0]["detail"]


def test_the_reads_of_one_call_share_a_deadline(client, conf, fhir, monkeypatch):
    server = fhir([vegf()], delay=0.4)
    conf(fhir_servers=[server.url])
    monkeypatch.setattr(fhir_read, "DEADLINE_SECONDS", 0.6)
    started = time.monotonic()
    response = call(client, fetch_body(server), ES.token(AUD))
    elapsed = time.monotonic() - started
    # Patient (0.4 s) fits; the Observation read gets the 0.2 s left and times out: 412, in time.
    assert response.status_code == 412, response.content
    assert "observations" in response.json()["issue"][0]["diagnostics"]
    assert elapsed < 1.5


def test_a_slow_server_within_the_deadline_is_fine(client, conf, fhir):
    server = fhir([vegf()], delay=0.2)
    conf(fhir_servers=[server.url])
    assert call(client, fetch_body(server), ES.token(AUD)).status_code == 200


# ---------------------------------------------------------------- OperationOutcome prefetch

OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "timeout", "diagnostics": "prefetch timed out"}],
}


def _bundle_with_outcome(severity):
    bundle = searchset([vegf()])
    issue = {"severity": severity, "code": "processing"}
    bundle["entry"].append(
        {"resource": {"resourceType": "OperationOutcome", "issue": [issue]}, "search": {"mode": "outcome"}}
    )
    return bundle


@pytest.mark.parametrize("key", ["patient", "observations"])
def test_an_operation_outcome_prefetch_without_fhir_access_is_412(client, conf, key):
    prefetch = {"patient": PATIENT, "observations": searchset([vegf()]), key: OUTCOME}
    response = call(client, hook_request("p1", prefetch), ES.token(AUD))
    assert response.status_code == 412
    assert f"{key} (an OperationOutcome)" in response.json()["issue"][0]["diagnostics"]


def test_an_operation_outcome_prefetch_is_fetched_when_the_client_allows(client, conf, fhir):
    server = fhir([vegf()])
    conf(fhir_servers=[server.url])
    response = call(client, fetch_body(server, {"patient": PATIENT, "observations": OUTCOME}), ES.token(AUD))
    assert response.status_code == 200
    assert "VEGF elevated" in response.json()["cards"][0]["summary"]
    assert len(server.observation_requests()) == 1


def test_a_bundle_carrying_an_error_outcome_is_missing_and_a_warning_one_is_kept(client, conf):
    error = {"patient": PATIENT, "observations": _bundle_with_outcome("error")}
    assert call(client, hook_request("p1", error), ES.token(AUD)).status_code == 412
    warning = {"patient": PATIENT, "observations": _bundle_with_outcome("warning")}
    response = call(client, hook_request("p1", warning), ES.token(AUD))
    assert response.status_code == 200 and "VEGF elevated" in response.json()["cards"][0]["summary"]


def test_an_operation_outcome_for_the_optional_specimens_is_no_error(client, conf):
    prefetch = {"patient": PATIENT, "observations": searchset([vegf()]), "specimens": OUTCOME}
    response = call(client, hook_request("p1", prefetch), ES.token(AUD))
    assert response.status_code == 200
    assert "specimen unknown" in response.json()["cards"][0]["detail"]


# ---------------------------------------------------------------- aud


def nolabs():
    return hook_request("p1", {"patient": PATIENT, "observations": None})


@pytest.mark.parametrize(
    "aud, status",
    [
        ([AUD], 200),
        (["https://other.example.org/cds-services/x", AUD], 200),
        (["https://other.example.org/cds-services/x"], 401),
        ([], 401),
        ([AUD, 7], 401),
        (AUD + "/feedback", 401),
        ({"aud": AUD}, 401),
    ],
)
def test_aud_may_be_a_string_or_an_array_naming_the_url_called(client, conf, aud, status):
    assert call(client, nolabs(), ES.token(aud)).status_code == status


# ---------------------------------------------------------------- jku


def test_a_jku_is_refused_without_an_allowlist_and_nothing_is_fetched(client, conf):
    server, url, fetches = serve_jwks([ES.jwk])
    try:
        response = call(client, nolabs(), ES.token(AUD, header_jku=url))
        assert response.status_code == 401
        assert "jku" in response.json()["issue"][0]["diagnostics"]
        conf(jku_allowlist=["https://keys.example.org/jwks.json"])
        assert call(client, nolabs(), ES.token(AUD, header_jku=url)).status_code == 401
        assert fetches == []  # an unlisted URL is never fetched
    finally:
        server.shutdown()
        server.server_close()


def test_a_jku_on_the_allowlist_gives_the_keys(client, conf):
    other = Signer("ES384", "rotated-1")  # not in the client's jwks: only the jku set has it
    server, url, fetches = serve_jwks([other.jwk])
    try:
        conf(jku_allowlist=[url])
        assert call(client, nolabs(), other.token(AUD, header_jku=url)).status_code == 200
        assert fetches == ["/jwks.json"]
        assert call(client, nolabs(), other.token(AUD)).status_code == 401  # without jku: client's own set
        assert call(client, nolabs(), ES.token(AUD)).status_code == 200
    finally:
        server.shutdown()
        server.server_close()


def test_a_jku_allowlist_entry_must_be_https_unless_loopback(conf):
    from django.core.exceptions import ImproperlyConfigured

    conf(jku_allowlist=["http://keys.example.org/jwks.json"])
    with pytest.raises(ImproperlyConfigured, match="jku_allowlist"):
        jwt_auth.trusted_clients()


# ---------------------------------------------------------------- shared replay cache

REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}}


def _ids():
    return {m.id for m in checks.run_checks(include_deployment_checks=True)}


def test_check_deploy_fails_when_cds_hooks_is_on_without_a_shared_cache(conf, settings):
    assert "poemsaid.E101" in _ids()
    with pytest.raises(SystemCheckError, match="poemsaid.E101"):
        call_command("check", deploy=True)
    assert "poemsaid.E101" not in {m.id for m in checks.run_checks()}  # only with --deploy


@pytest.mark.parametrize(
    "backend",
    ["django.core.cache.backends.dummy.DummyCache", "django.core.cache.backends.filebased.FileBasedCache"],
)
def test_dummy_and_file_caches_are_not_shared_either(conf, settings, backend):
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": "/tmp/unused"}}
    assert "poemsaid.E101" in _ids()


def test_check_deploy_passes_this_check_with_redis_or_with_cds_hooks_off(conf, settings):
    settings.CACHES = REDIS
    assert "poemsaid.E101" not in _ids()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CDS_HOOKS_CLIENTS = ""
    assert "poemsaid.E101" not in _ids()


def test_an_unreachable_replay_cache_refuses_with_503_never_accepts(client, conf, settings):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    response = call(client, nolabs(), ES.token(AUD))
    assert response.status_code == 503
    assert "replay cache" in response.json()["issue"][0]["diagnostics"]


# ---------------------------------------------------------------- stale values


@pytest.mark.parametrize("days, fresh", [(90, True), (91, False), (400, False)])
def test_a_stale_value_is_not_counted_as_met_in_the_summary(client, conf, days, fresh):
    prefetch = {"patient": PATIENT, "observations": searchset([vegf(2400, days=days)])}
    (card,) = call(client, hook_request("p1", prefetch), ES.token(AUD)).json()["cards"]
    if fresh:
        assert "VEGF elevated" in card["summary"] and card["indicator"] == "warning"
        assert "**Stale**" not in card["detail"]
    else:
        assert "VEGF elevated" not in card["summary"] and "VEGF result stale" in card["summary"]
        assert card["indicator"] == "info"
        assert f"{days} days old" in card["detail"] and "**Stale**" in card["detail"]
        assert "only with values older than 90 days: not counted" in card["detail"]
    assert len(card["summary"]) < 140


def test_a_fresh_value_still_counts_beside_a_stale_one(client, conf):
    ifx = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "25700-6"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": (TODAY - datetime.timedelta(days=5)).isoformat(),
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "260373001"}]},
    }
    prefetch = {"patient": PATIENT, "observations": searchset([vegf(2400, days=300), ifx])}
    (card,) = call(client, hook_request("p1", prefetch), ES.token(AUD)).json()["cards"]
    assert "clone detected" in card["summary"] and "VEGF result stale" in card["summary"]
    assert card["indicator"] == "warning"  # the clone (mandatory) is met on a fresh result


# ---------------------------------------------------------------- audit line

SENTINEL_PATIENT = "zq7-sentinel-patient-4471"
SENTINEL_VALUE = 8765.4
SENTINEL_NAME = "Quillfeatherby"


@pytest.fixture
def logs():
    """Every log line, formatted as deployed: the audit logger's and everything else's."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(audit.AuditJsonFormatter())
    audit_logger = logging.getLogger(audit.LOGGER_NAME)
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    audit_logger.addHandler(handler)
    yield stream
    audit_logger.removeHandler(handler)
    root.removeHandler(handler)
    root.setLevel(old)


def _audit_lines(stream):
    return [json.loads(line)["cds"] for line in stream.getvalue().splitlines() if '"cds"' in line]


def test_every_call_leaves_an_audit_line_with_no_patient_data(client, conf, logs):
    patient = {**PATIENT, "id": SENTINEL_PATIENT, "name": [{"family": SENTINEL_NAME}]}
    prefetch = {
        "patient": patient,
        "observations": searchset([vegf(SENTINEL_VALUE, patient=SENTINEL_PATIENT)]),
    }
    ok = hook_request(SENTINEL_PATIENT, prefetch)
    assert call(client, ok, ES.token(AUD)).status_code == 200
    missing = hook_request(SENTINEL_PATIENT, {"patient": patient})
    assert call(client, missing, ES.token(AUD)).status_code == 412
    assert call(client, ok, ES.token("https://x.example.org")).status_code == 401
    odd = hook_request(SENTINEL_PATIENT, prefetch)
    odd["hookInstance"] = SENTINEL_PATIENT  # not a UUID: not copied
    odd["hook"] = SENTINEL_NAME
    assert call(client, odd, ES.token(AUD)).status_code == 400
    feedback = {
        "feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-12-07T01:00:00Z"}]
    }
    assert (
        call(client, feedback, ES.token(AUD + "/feedback"), path=SERVICE_PATH + "/feedback").status_code
        == 200
    )

    text = logs.getvalue()
    for sentinel in (SENTINEL_PATIENT, SENTINEL_NAME, "8765.4", "8765"):
        assert sentinel not in text, sentinel
    lines = _audit_lines(logs)
    assert [(a["status"], a["outcome"]) for a in lines] == [
        (200, "ok"),
        (412, "prefetch_missing"),
        (401, "jwt_rejected"),
        (400, "bad_request"),
        (200, "ok"),
    ]
    first = lines[0]
    assert set(first) == {
        "event",
        "endpoint",
        "service",
        "client",
        "hook",
        "hook_instance",
        "cards",
        "card_kind",
        "latency_ms",
        "status",
        "outcome",
    }
    assert first["client"] == ISS and first["hook"] == "patient-view" and first["service"] == "poems-criteria"
    assert first["hook_instance"] == ok["hookInstance"] and first["cards"] == 1
    assert isinstance(first["latency_ms"], float) and first["latency_ms"] > 0
    assert lines[2]["client"] is None  # a refused token's iss is the caller's word, not logged
    assert lines[3]["hook_instance"] == "(not a UUID)" and lines[3]["hook"] == "other"
    assert lines[4]["endpoint"] == "feedback"
    assert str(uuid.UUID(first["hook_instance"])) == first["hook_instance"]


def test_the_audit_logger_is_configured_to_write_whatever_the_log_level(settings):
    config = settings.LOGGING["loggers"][audit.LOGGER_NAME]
    assert config["level"] == "INFO" and config["propagate"] is False
    handler = settings.LOGGING["handlers"][config["handlers"][0]]
    assert settings.LOGGING["formatters"][handler["formatter"]]["()"].endswith("AuditJsonFormatter")


# ---------------------------------------------------------------- the newcomer's client (docs/ehr.md)


def test_the_sample_client_makes_keys_and_a_signed_call_that_gets_a_card(
    live_server, transactional_db, settings, tmp_path, capsys
):
    from deploy import cds_client

    call_command("load_content", verbosity=0)
    from checklist.content import rule_book as content

    content.invalidate()
    assert cds_client.main(["keygen", "--dir", str(tmp_path)]) == 0
    settings.CDS_HOOKS_CLIENTS = str(tmp_path / "clients.json")
    settings.CDS_HOOKS_BASE_URL = live_server.url
    url = live_server.url + SERVICE_PATH
    for extra in ([], ["--aud-array"]):
        capsys.readouterr()
        assert cds_client.main(["call", "--dir", str(tmp_path), "--url", url, *extra]) == 0
        out = capsys.readouterr().out
        assert out.startswith("200") and "VEGF elevated" in out
    # The order hook, with the seeded prednisone code [unverified] for CIDP: a warning card.
    for hook in ("order-select", "order-sign"):
        capsys.readouterr()
        orders_url = live_server.url + "/cds-services/poems-cidp-orders"
        assert cds_client.main(["call", "--dir", str(tmp_path), "--url", orders_url, "--hook", hook]) == 0
        out = capsys.readouterr().out
        assert out.startswith("200") and "POEMS red flag with CIDP treatment" in out
