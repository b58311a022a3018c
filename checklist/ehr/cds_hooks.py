"""CDS Hooks 2.0 service ``poems-criteria`` on ``patient-view`` (design.md §3.8).

The service reads the labs in the record (never Conditions), runs them through
the same evaluation as the API and the page, and answers with at most one
card, only when a POEMS-relevant lab exists: patient-view fires on every chart
opening, and a card on every chart would be noise. Nothing from the request is
stored or logged:
the audit line of each call (``audit.py``) holds no patient id or value.
"""

from __future__ import annotations

import copy
import datetime
import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.csrf import csrf_exempt

from checklist.content.care_rules import follow_up_rules, follow_up_today, order_hook_rules
from checklist.content.evaluation import decode_json, evaluate_data
from checklist.content.rule_book import snapshot
from checklist.content.say import accept_language, translate_result
from checklist.ehr import fhir_map, fhir_read, follow_up_card, orders
from checklist.ehr.audit import CallAudit
from checklist.ehr.audit_rows import count_feedback, remember_card, store
from checklist.ehr.jwt_auth import (
    Client,
    JWTRejected,
    KeysUnavailable,
    ReplayCacheUnavailable,
    trusted_clients,
    verify,
)
from checklist.engine.inputs import InputError

SERVICE_ID = "poems-criteria"
HOOK = "patient-view"
SERVICES = (SERVICE_ID, orders.SERVICE_ID, follow_up_card.SERVICE_ID)
SUMMARY_LIMIT = 140

# What a criterion derived from labs is called in the card's summary.
_LAB_CRITERIA: dict[str, dict[str, str]] = {
    # "stale": the status rests on values older than the stale limit, so it is not claimed.
    "vegf_elevated": {
        "met": gettext_noop("VEGF elevated"),
        "not_met": gettext_noop("VEGF not elevated"),
        "unknown": gettext_noop("VEGF undecided"),
        "stale": gettext_noop("VEGF result stale"),
    },
    "monoclonal_plasma_cell_disorder": {
        "met": gettext_noop("clone detected"),
        "not_met": gettext_noop("no clone shown"),
        "unknown": gettext_noop("clone not shown"),
        "stale": gettext_noop("clone result stale"),
    },
    "thrombocytosis_polycythemia": {
        "met": gettext_noop("thrombocytosis/polycythaemia"),
        "not_met": gettext_noop("no thrombocytosis/polycythaemia"),
        "unknown": gettext_noop("blood count undecided"),
        "stale": gettext_noop("blood count stale"),
    },
}
# The summary (at most SUMMARY_LIMIT characters), longest first; English unless the call's
# Accept-Language asks for a language the site has (then said through the catalogue).
_SUMMARY_REVIEW = gettext_noop("Labs alone: %(parts)s. Not a diagnosis: clinical criteria need review.")
_SUMMARY_NONE = gettext_noop(
    "POEMS-relevant labs in the record; labs alone meet no criterion. Not a diagnosis."
)
_SUMMARY_SHORT = gettext_noop("Labs alone: %(parts)s. Not a diagnosis.")
_SUMMARY_DETAIL = gettext_noop("Record labs bear on POEMS criteria (see detail). Not a diagnosis.")


def _summary(parts: list[str], say: Callable[[str], str]) -> str:
    """The card's one line from the criteria's words, each said by ``say`` (as it is in English)."""
    joined = "; ".join(say(p) for p in parts)
    summary = say(_SUMMARY_REVIEW) % {"parts": joined} if parts else say(_SUMMARY_NONE)
    if len(summary) >= SUMMARY_LIMIT:
        summary = say(_SUMMARY_SHORT) % {"parts": joined}
    if len(summary) >= SUMMARY_LIMIT:
        summary = say(_SUMMARY_DETAIL)
    return summary


def _english(text: str) -> str:
    return text


# Which record inputs bear on which criterion (so the card speaks only of what the labs touched).
_CRITERION_INPUTS: dict[str, frozenset[str]] = {
    "vegf_elevated": frozenset({"vegf_pg_ml"}),
    "monoclonal_plasma_cell_disorder": frozenset({"m_protein_present"}),
    "thrombocytosis_polycythemia": frozenset({"platelets_10e9_l", "hemoglobin_g_dl", "hematocrit_pct"}),
}


# ---------------------------------------------------------------------------- responses


def _json(status: int, data: Any, **headers: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False), status=status, content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    for key, value in headers.items():
        response[key.replace("_", "-")] = value
    return response


def operation_outcome(status: int, code: str, message: str, **headers: str) -> HttpResponse:
    """A non-2xx answer carries a FHIR OperationOutcome (CDS Hooks 2.0, error handling)."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    return _json(status, body, **headers)


def base_url() -> str:
    return str(settings.CDS_HOOKS_BASE_URL).rstrip("/")


def allowed_origins() -> set[str]:
    """The settings' origins and those of every active client registered in the admin or file."""
    found = set(settings.CDS_HOOKS_ALLOWED_ORIGINS)
    try:
        for client in trusted_clients().values():
            found.update(client.allowed_origins)
    except Exception:  # an unreadable clients file must not turn CORS into a 500
        pass
    return found


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin")
    if origin and origin in allowed_origins():
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def _preflight(request: HttpRequest, methods: str) -> HttpResponse:
    origin = request.headers.get("Origin")
    if not origin or origin not in allowed_origins():
        return operation_outcome(403, "forbidden", "origin not allowed")
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = methods
    response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


# ---------------------------------------------------------------------------- discovery


def prefetch_templates() -> dict[str, str]:
    """The FHIR queries the client should run before calling us, from the LOINC mapping (content)."""
    loinc = snapshot().loinc
    codes = sorted(loinc, key=lambda c: (loinc[c].get("order", 0), c))
    # Values are percent-encoded (':', '/', '|'); the commas between codes stay literal: they are FHIR's OR.
    code_param = ",".join(quote(f"{fhir_map.LOINC}|{code}", safe="") for code in codes)
    return {
        "patient": "Patient/{{context.patientId}}",
        # Newest first: a client that sends only the first page (most do) then still sends the
        # newest result of every test, however many years of blood counts come before it.
        "observations": "Observation?patient={{context.patientId}}&code="
        + code_param
        + "&_sort=-date&_count=200",
        "specimens": "Specimen?patient={{context.patientId}}",
    }


def service_description() -> dict[str, Any]:
    # CDS Hooks 2.0.1 discovery has no "version" field, so none is sent.
    return {
        "hook": HOOK,
        "id": SERVICE_ID,
        "title": "POEMS syndrome: what the labs in the record show",
        "description": (
            "Reads the POEMS-relevant laboratory results in the record (VEGF, M-protein, free light "
            "chains, immunofixation, blood counts and chemistry, by LOINC code) and shows which POEMS "
            "criteria they bear on, with a link to open the checklist pre-filled. Labs alone cannot "
            "meet the criteria; this is not a diagnosis. Answers with no card when no POEMS-relevant "
            "lab is in the record."
        ),
        "prefetch": prefetch_templates(),
        "usageRequirements": (
            "Send a JWT signed with ES384 or RS384 by an issuer registered with this service. "
            "Specimen prefetch is optional; without it a VEGF specimen is treated as unknown."
        ),
    }


@csrf_exempt
def discovery(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight(request, "GET, OPTIONS")
    if request.method not in ("GET", "HEAD"):
        return _cors(request, operation_outcome(405, "not-supported", "use GET", Allow="GET"))
    loinc = snapshot().loinc
    poems = follow_up_card.poems_codes(order_hook_rules().codes)
    services = [
        service_description(),
        *orders.service_descriptions(loinc),
        follow_up_card.service_description(loinc, poems),
    ]
    return _cors(request, _json(200, {"services": services}))


# ---------------------------------------------------------------------------- invocation


class PrefetchMissing(Exception):
    pass


REQUIRED_PREFETCH = ("patient", "observations")


def gather(
    body: dict[str, Any],
    client: Client,
    patient_id: str,
    templates: dict[str, str] | None = None,
    required: tuple[str, ...] = REQUIRED_PREFETCH,
    optional: tuple[str, ...] = ("specimens",),
    timing: dict[str, float] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Prefetch, completed from the client's FHIR server when it allows us to fetch.

    Returns the data and notes for the card about what could not be read (paging cut short).
    """
    prefetch = body.get("prefetch") or {}
    if not isinstance(prefetch, dict):
        raise PrefetchMissing("prefetch must be an object")
    templates = templates if templates is not None else prefetch_templates()
    # An OperationOutcome is the client saying it could not prefetch that key (CDS Hooks 2.0).
    outcomes = {key for key, value in prefetch.items() if fhir_read.is_outcome(value)}
    filled = {key: value for key, value in prefetch.items() if key not in outcomes}
    missing = [key for key in required if key not in filled]
    wanted = [key for key in (*missing, *optional) if key not in filled]
    more_pages = fhir_read.next_link(filled.get("observations")) is not None
    if not wanted and not more_pages:
        return filled, []

    def what(keys: list[str]) -> str:
        return ", ".join(f"{k} (an OperationOutcome)" if k in outcomes else k for k in keys)

    server = body.get("fhirServer")
    auth = body.get("fhirAuthorization")
    token = auth.get("access_token") if isinstance(auth, dict) else None
    notes = ["The prefetched results had more pages, which could not be read."] if more_pages else []
    if not isinstance(server, str) or not isinstance(token, str):
        if missing:
            raise PrefetchMissing(
                f"prefetch {what(missing)} missing, and no fhirServer with fhirAuthorization to fetch it"
            )
        return filled, notes  # specimens are optional: the VEGF specimen stays unknown
    server = server.rstrip("/")
    if server not in client.fhir_servers:
        if missing:
            raise PrefetchMissing(
                f"prefetch {what(missing)} missing, and this client's fhirServer is not registered "
                "for fetching"
            )
        return filled, notes
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    reader = fhir_read.Reader(fhir_read.shared_client(), server, headers)
    for key in wanted:
        query = templates[key].replace("{{context.patientId}}", quote(patient_id, safe=""))
        try:
            filled[key] = reader.read(f"{server}/{query}")
        except fhir_read.FetchFailed as exc:
            if key in missing:
                raise PrefetchMissing(
                    f"could not fetch the missing prefetch {key} from fhirServer: {exc}"
                ) from exc
    if more_pages and "observations" not in wanted:
        try:
            filled["observations"] = reader.rest_of(filled["observations"])
        except fhir_read.FetchFailed:
            reader.notes.append("The prefetched results had more pages, which could not be read.")
    if timing is not None:
        timing["fhir"] = timing.get("fhir", 0.0) + reader.waited
    return filled, reader.notes


def _evaluate(extract: fhir_map.RecordExtract) -> dict[str, Any]:
    """Evaluate the record's case; a value the engine refuses is dropped and shown with the reason."""
    for _attempt in range(4):
        try:
            return evaluate_data(extract.case())
        except InputError as exc:
            dropped = False
            for error in exc.errors:
                parts = error.field.split(".")
                if len(parts) >= 2 and parts[0] in ("labs", "findings"):
                    target = "vegf_pg_ml" if parts[1] in ("vegf_specimen", "vegf_uln_pg_ml") else parts[1]
                    extract.drop(target, f"not used: {error.message}")
                    dropped = True
            if not dropped:
                raise
    return evaluate_data(extract.case())


def _value_line(v: fhir_map.RecordValue) -> str:
    when = v.date.isoformat() if v.date else "date not recorded"
    extra = []
    if "specimen" in v.extra:
        extra.append(f"specimen {v.extra['specimen']} ({v.extra['specimen_source']})")
    if "uln" in v.extra:
        extra.append(f"lab upper limit {v.extra['uln']}")
    detail = f" ({'; '.join(extra)})" if extra else ""
    stale = ""
    days = v.extra.get("days_old")
    if v.stale:
        stale = f" **stale: {days} days old**" if days is not None else " **stale: undated**"
    note = f" - {v.note}" if v.note and not v.used else ""
    return f"- {v.label}: {v.shown}{detail}, {when}, LOINC {v.loinc}{stale}{note}"


def _age(v: fhir_map.RecordValue) -> str:
    days = v.extra.get("days_old")
    return f"{days} days old" if days is not None else "undated"


def build_card(
    extract: fhir_map.RecordExtract,
    result: dict[str, Any],
    fresh: dict[str, Any] | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """The card. ``fresh`` is the evaluation without stale values: a criterion whose status
    differs there rests on stale values, and the summary does not count it as met. ``language``
    (from Accept-Language, None for English) says the summary in that language; the indicator
    and every code are the English card's."""
    used_targets = {v.target for v in extract.values if v.used}
    touched = [
        c
        for c in result["criteria"]
        if c["code"] in _CRITERION_INPUTS and _CRITERION_INPUTS[c["code"]] & used_targets
    ]
    fresh_status = {c["code"]: c["status"] for c in (fresh or result)["criteria"]}
    stale_codes = {c["code"] for c in touched if fresh_status.get(c["code"]) != c["status"]}
    parts = [
        _LAB_CRITERIA[c["code"]]["stale"]
        if c["code"] in stale_codes
        else _LAB_CRITERIA[c["code"]][c["status"]]
        for c in touched
    ]
    strong = [
        c
        for c in touched
        if c["status"] == "met" and c["group"] in ("mandatory", "major") and c["code"] not in stale_codes
    ]
    if language:
        with translation.override(language):
            summary = _summary(parts, gettext)
    else:
        summary = _summary(parts, _english)  # the English card, byte for byte as it always was

    lines = [
        f"**What the labs in the record show** ({result['criteria_set']['name']}, "
        f"content {result['content_version']}):",
    ]
    for c in touched:
        reasons = "; ".join(c.get("reasons") or [])
        name = c.get("name") or c["code"].replace("_", " ")
        status = c["status"].replace("_", " ")
        if c["code"] in stale_codes:
            status += f" only with values older than {fhir_map.STALE_AFTER_DAYS} days: not counted"
        lines.append(f"- {name} ({c['group']}): **{status}**" + (f". {reasons}" if reasons else ""))
    if not touched:
        lines.append("- No criterion is decided by these labs alone.")
    stale_used = [v for v in extract.values if v.used and v.stale]
    if stale_used:
        lines += [
            "",
            f"**Stale** (older than {fhir_map.STALE_AFTER_DAYS} days or undated; repeat before relying "
            "on them): " + "; ".join(f"{v.label} ({_age(v)})" for v in stale_used) + ".",
        ]
    used = [v for v in extract.values if v.used]
    unused = [v for v in extract.values if not v.used]
    lines += [
        "",
        f"**Values used** (newest per test; older than {fhir_map.STALE_AFTER_DAYS} days marked stale):",
    ]
    lines += [_value_line(v) for v in used] or ["- none"]
    if unused:
        lines += ["", "**Read but not used:**", *[_value_line(v) for v in unused]]
    if extract.patient_notes:
        lines += ["", *[f"- {n}" for n in extract.patient_notes]]
    major_cautions = [c for c in result.get("cautions", []) if c.get("level") == "major"]
    if major_cautions:
        lines += ["", "**Caveats:**", *[f"- {c['message']}" for c in major_cautions]]
    lines += [
        "",
        "**What labs cannot tell:** polyneuropathy (mandatory), organomegaly, oedema or effusions, "
        "endocrine and skin changes, papilloedema, Castleman disease and sclerotic bone lesions are "
        "clinical, imaging or biopsy findings. They are not read from the record (not from the problem "
        "list either): open the checklist to add them.",
        "",
        str(result.get("disclaimer", "Not a diagnosis.")),
    ]
    base = base_url()
    return {
        "uuid": str(uuid.uuid4()),
        "summary": summary,
        "indicator": "warning" if strong else "info",
        "detail": "\n".join(lines),
        "source": {
            "label": "POEMSaid criteria checklist",
            "url": base + reverse("checklist:criteria"),
        },
        "links": [
            {
                "label": "Open the POEMS checklist, pre-filled from the record",
                "url": base + reverse("smart_launch") + "?target=checklist",
                "type": "smart",
            },
            {
                "label": "POEMS criteria, cut-offs and sources",
                "url": base + reverse("checklist:criteria"),
                "type": "absolute",
            },
        ],
    }


def cards_for(
    prefetch: dict[str, Any],
    patient_id: str,
    today: datetime.date,
    notes: list[str] | None = None,
    language: str | None = None,
) -> list[dict[str, Any]]:
    patients = fhir_map.resources(prefetch.get("patient"), "Patient")
    patient = next((p for p in patients if p.get("id") == patient_id), None)
    observations = [
        o
        for o in fhir_map.resources(prefetch.get("observations"), "Observation")
        if _subject_is(o, patient_id)
    ]
    specimens = fhir_map.resources(prefetch.get("specimens"), "Specimen")
    extract = fhir_map.extract(patient, observations, specimens, snapshot().loinc, today)
    extract.patient_notes.extend(notes or [])
    if not extract.relevant:
        return []
    result = _evaluate(extract)
    fresh = None
    stale_targets = {v.target for v in extract.values if v.used and v.stale}
    if stale_targets:
        without_stale = copy.deepcopy(extract)
        for target in stale_targets:
            without_stale.drop(target, "stale")
        fresh = _evaluate(without_stale)
    # The engine's reasons and cautions in the language asked for, and the summary with them
    # (codes and statuses unchanged, so the indicator is the English card's).
    return [build_card(extract, translate_result(result, language), fresh, language)]


def _subject_is(resource: dict[str, Any], patient_id: str) -> bool:
    """A prefetched result about another patient is ignored, never mixed in."""
    ref = (resource.get("subject") or {}).get("reference")
    return isinstance(ref, str) and ref.split("/_history")[0].rstrip("/").endswith(f"Patient/{patient_id}")


def _authenticate(
    request: HttpRequest, path: str, audit: CallAudit
) -> tuple[Client | None, HttpResponse | None]:
    if not settings.CDS_HOOKS_BASE_URL or not trusted_clients():
        audit.error = "not_configured"
        return None, operation_outcome(503, "exception", "CDS Hooks is not configured on this server")
    try:
        client, _claims = verify(request.headers.get("Authorization"), base_url() + path)
    except JWTRejected as exc:
        audit.error = "jwt_rejected"
        return None, operation_outcome(401, "security", f"JWT rejected: {exc}", WWW_Authenticate="Bearer")
    except KeysUnavailable as exc:
        audit.error = (
            "replay_cache_unavailable" if isinstance(exc, ReplayCacheUnavailable) else "keys_unavailable"
        )
        return None, operation_outcome(503, "transient", f"{exc}; try again shortly", Retry_After="30")
    audit.client = client.iss
    return client, None


class BodyTooLarge(Exception):
    pass


def _read_body(request: HttpRequest) -> Any:
    limit = settings.CDS_HOOKS_MAX_BODY_BYTES
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > limit:
        raise BodyTooLarge
    body = request.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge
    return decode_json(body)


def _audited(
    endpoint: str,
    service_id: str,
    handler: Callable[[HttpRequest, CallAudit], HttpResponse],
    request: HttpRequest,
) -> HttpResponse:
    """Run one call and write its audit line, whatever the outcome (an exception included)."""
    audit = CallAudit(endpoint, service_id if service_id in SERVICES else None)
    response: HttpResponse | None = None
    try:
        response = handler(request, audit)
        return response
    finally:
        store(audit.log(response))


@csrf_exempt
def service(request: HttpRequest, service_id: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight(request, "POST, OPTIONS")
    if service_id not in SERVICES:
        return _cors(request, operation_outcome(404, "not-found", "no such CDS service"))
    if request.method != "POST":
        return _cors(request, operation_outcome(405, "not-supported", "use POST", Allow="POST"))
    handlers = {
        SERVICE_ID: _service,
        orders.SERVICE_ID: _orders_service,
        follow_up_card.SERVICE_ID: _follow_up_service,
    }
    handler = handlers[service_id]
    return _audited("service", service_id, handler, request)


def _call_body(
    request: HttpRequest, audit: CallAudit, service_id: str, hooks: tuple[str, ...]
) -> tuple[Client, dict[str, Any], str] | HttpResponse:
    """The checks every service call starts with: JWT, body size, JSON, hook, patient."""
    client, refused = _authenticate(request, reverse("cds_service", args=[service_id]), audit)
    if refused:
        return _cors(request, refused)
    assert client is not None
    try:
        body = _read_body(request)
    except BodyTooLarge:
        audit.error = "body_too_large"
        limit = settings.CDS_HOOKS_MAX_BODY_BYTES
        return _cors(request, operation_outcome(413, "too-costly", f"the body must be at most {limit} bytes"))
    except InputError as exc:
        audit.error = "bad_request"
        message = exc.errors[0].message if exc.errors else "send the request as a JSON object"
        return _cors(request, operation_outcome(400, "invalid", message))
    audit.read_body(body)
    if not isinstance(body, dict) or body.get("hook") not in hooks:
        audit.error = "bad_request"
        allowed = hooks[0] if len(hooks) == 1 else f"one of {', '.join(hooks)}"
        return _cors(request, operation_outcome(400, "invalid", f"hook must be {allowed}"))
    context = body.get("context")
    patient_id = context.get("patientId") if isinstance(context, dict) else None
    if not isinstance(body.get("hookInstance"), str) or not isinstance(patient_id, str) or not patient_id:
        audit.error = "bad_request"
        return _cors(
            request, operation_outcome(400, "invalid", "hookInstance and context.patientId are required")
        )
    return client, body, patient_id


def _service(request: HttpRequest, audit: CallAudit) -> HttpResponse:
    checked = _call_body(request, audit, SERVICE_ID, (HOOK,))
    if isinstance(checked, HttpResponse):
        return checked
    client, body, patient_id = checked
    try:
        prefetch, notes = gather(body, client, patient_id)
    except PrefetchMissing as exc:
        audit.error = "prefetch_missing"
        return _cors(request, operation_outcome(412, "required", str(exc)))
    language = accept_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
    cards = cards_for(prefetch, patient_id, datetime.date.today(), notes, language)
    audit.cards = len(cards)
    if cards:
        audit.card_kind = "labs"
        remember_card(cards[0]["uuid"], SERVICE_ID, "labs")
    response = _json(200, {"cards": cards})
    if language:
        response["Content-Language"] = language
    # Server-Timing lets a client (and our end-to-end test) see the service's own time.
    response["Server-Timing"] = f"app;dur={(time.perf_counter() - audit.started) * 1000:.1f}"
    return _cors(request, response)


@csrf_exempt
def feedback(request: HttpRequest, service_id: str) -> HttpResponse:
    """Accepted and dropped: storing feedback would store something about a patient's care."""
    if request.method == "OPTIONS":
        return _preflight(request, "POST, OPTIONS")
    if service_id not in SERVICES:
        return _cors(request, operation_outcome(404, "not-found", "no such CDS service"))
    if request.method != "POST":
        return _cors(request, operation_outcome(405, "not-supported", "use POST", Allow="POST"))
    return _audited("feedback", service_id, _feedback, request)


def _feedback(request: HttpRequest, audit: CallAudit) -> HttpResponse:
    """CDS Hooks 2.0 feedback, counted per service, card kind, outcome and reason: no patient
    data, no card text, no comment (a userComment is free text, so it is never read)."""
    service_id = audit.service or SERVICE_ID
    _client, refused = _authenticate(request, reverse("cds_feedback", args=[service_id]), audit)
    if refused:
        return _cors(request, refused)
    try:
        body = _read_body(request)
    except (BodyTooLarge, InputError):
        audit.error = "bad_request"
        return _cors(request, operation_outcome(400, "invalid", "send the feedback as a JSON object"))
    if not isinstance(body, dict) or not isinstance(body.get("feedback"), list):
        audit.error = "bad_request"
        return _cors(request, operation_outcome(400, "invalid", "feedback must be a list"))
    reasons = {r["code"] for r in order_hook_rules().rules.cds.override_reasons}
    problems = feedback_problems(body["feedback"])
    if problems:
        audit.error = "bad_request"
        return _cors(request, operation_outcome(400, "invalid", "; ".join(problems)))
    counted = count_feedback(service_id, body["feedback"], reasons)
    audit.cards = counted
    return _cors(request, _json(200, {}))


def feedback_problems(items: list[Any]) -> list[str]:
    """What is wrong with a feedback list, each naming the field (nothing is counted then)."""
    problems = []
    for i, item in enumerate(items):
        where = f"feedback[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be an object")
            continue
        if not isinstance(item.get("card"), str) or not item["card"]:
            problems.append(f"{where}.card must be the card's uuid")
        if item.get("outcome") not in ("accepted", "overridden"):
            problems.append(f"{where}.outcome must be accepted or overridden")
        if not isinstance(item.get("outcomeTimestamp"), str):
            problems.append(f"{where}.outcomeTimestamp is required (an ISO 8601 instant)")
        reason = item.get("overrideReason")
        if reason is not None and not isinstance(reason, dict):
            problems.append(f"{where}.overrideReason must be an object")
        accepted = item.get("acceptedSuggestions")
        if accepted is not None and not isinstance(accepted, list):
            problems.append(f"{where}.acceptedSuggestions must be a list")
    return problems


# ---------------------------------------------------------------------------- order hooks (§i.7)


def _orders_service(request: HttpRequest, audit: CallAudit) -> HttpResponse:
    checked = _call_body(request, audit, orders.SERVICE_ID, orders.HOOKS)
    if isinstance(checked, HttpResponse):
        return checked
    client, body, patient_id = checked
    context = body["context"]
    draft = context.get("draftOrders")
    if not isinstance(draft, dict) or draft.get("resourceType") != "Bundle":
        audit.error = "bad_request"
        return _cors(request, operation_outcome(400, "invalid", "context.draftOrders must be a FHIR Bundle"))
    rules = order_hook_rules()
    loinc = snapshot().loinc
    today = datetime.date.today()
    timing: dict[str, float] = {}
    # The draft orders decide first: most orders trigger nothing, and then nothing is read.
    if not _could_trigger(context, str(body["hook"]), rules):
        audit.cards = 0
        return _timed(request, audit, [], timing)
    try:
        prefetch, notes = gather(
            body,
            client,
            patient_id,
            orders.prefetch_templates(loinc),
            orders.REQUIRED_PREFETCH,
            orders.OPTIONAL_PREFETCH,
            timing,
        )
    except PrefetchMissing as exc:
        audit.error = "prefetch_missing"
        return _cors(request, operation_outcome(412, "required", str(exc)))
    observations = [
        o
        for o in fhir_map.resources(prefetch.get("observations"), "Observation")
        if _subject_is(o, patient_id)
    ]
    conditions = orders.active_conditions(
        fhir_map.resources(prefetch.get("conditions"), "Condition"), patient_id
    )
    specimens = fhir_map.resources(prefetch.get("specimens"), "Specimen")
    chart = orders.read_chart(observations, specimens, conditions, rules, loinc, today)
    decision = orders.decide(str(body["hook"]), context, chart, rules, today)
    cards = []
    if decision.due:
        base = base_url()
        card = orders.build_card(
            decision,
            chart,
            rules,
            loinc,
            patient_id,
            base,
            base + reverse("smart_launch") + "?target=screen",
            notes,
        )
        cards.append(card)
        audit.card_kind = decision.why
        remember_card(card["uuid"], orders.SERVICE_ID, decision.why)
    audit.cards = len(cards)
    return _timed(request, audit, cards, timing)


def _could_trigger(context: dict[str, Any], hook: str, rules: Any) -> bool:
    """Whether any draft order's code is a trigger code at all (before reading the chart)."""
    wanted = {(t.system, code) for t in rules.rules.cds.trigger_orders for code in t.codes}
    return any(
        (c.system, c.code) in wanted for order in orders.draft_orders(context, hook) for c in order.codings
    )


def _timed(
    request: HttpRequest, audit: CallAudit, cards: list[dict[str, Any]], timing: dict[str, float]
) -> HttpResponse:
    response = _json(200, {"cards": cards})
    # "fhir" is the part of "app" spent waiting for the client's FHIR server.
    response["Server-Timing"] = f"app;dur={(time.perf_counter() - audit.started) * 1000:.1f}" + (
        f", fhir;dur={timing['fhir'] * 1000:.1f}" if "fhir" in timing else ""
    )
    return _cors(request, response)


# ---------------------------------------------------------------------------- follow-up (§h.4)


def _follow_up_service(request: HttpRequest, audit: CallAudit) -> HttpResponse:
    """A card when a POEMS patient's VEGF has risen past the follow-up's progression rule."""
    checked = _call_body(request, audit, follow_up_card.SERVICE_ID, (follow_up_card.HOOK,))
    if isinstance(checked, HttpResponse):
        return checked
    client, body, patient_id = checked
    loinc = snapshot().loinc
    code_rows = order_hook_rules().codes
    poems = follow_up_card.poems_codes(code_rows)
    templates = follow_up_card.prefetch_templates(loinc, poems)
    timing: dict[str, float] = {}
    cards: list[dict[str, Any]] = []
    if not poems:
        # No POEMS code in the content: no patient can have the history, so nothing is read.
        audit.cards = 0
        return _timed(request, audit, cards, timing)
    raw = body.get("prefetch") or {}
    if not isinstance(raw, dict):
        audit.error = "prefetch_missing"
        return _cors(request, operation_outcome(412, "required", "prefetch must be an object"))
    # The problem list decides first: most charts have no POEMS on it, and then no VEGF is read.
    first = {**body, "prefetch": {k: v for k, v in raw.items() if k == "conditions"}}
    try:
        found, notes = gather(first, client, patient_id, templates, ("conditions",), (), timing)
        history = follow_up_card.poems_history(
            fhir_map.resources(found.get("conditions"), "Condition"), patient_id, poems
        )
        if history:
            rest, more = gather(
                body,
                client,
                patient_id,
                templates,
                ("observations",),
                follow_up_card.OPTIONAL_PREFETCH,
                timing,
            )
            notes += more
    except PrefetchMissing as exc:
        audit.error = "prefetch_missing"
        return _cors(request, operation_outcome(412, "required", str(exc)))
    if history:
        observations = [
            o
            for o in fhir_map.resources(rest.get("observations"), "Observation")
            if _subject_is(o, patient_id)
        ]
        series = follow_up_card.vegf_series(
            observations, fhir_map.resources(rest.get("specimens"), "Specimen"), loinc
        )
        rules = follow_up_rules()
        result = follow_up_card.latest_vegf(series, rules, follow_up_today())
        if result is not None and result.category in ("progression", "progression_confounded"):
            base = base_url()
            card = follow_up_card.build_card(
                result,
                series,
                rules,
                history,
                code_rows,
                base + reverse("smart_launch") + "?target=follow_up",
                base + reverse("checklist:follow_up"),
                notes,
            )
            cards.append(card)
            audit.card_kind = follow_up_card.CARD_KIND
            remember_card(card["uuid"], follow_up_card.SERVICE_ID, follow_up_card.CARD_KIND)
    audit.cards = len(cards)
    return _timed(request, audit, cards, timing)
