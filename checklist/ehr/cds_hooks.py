"""CDS Hooks 2.0 service ``poems-criteria`` on ``patient-view`` (design.md §3.8).

The service reads the labs in the record (never Conditions), runs them through
the same evaluation as the API and the page, and answers with at most one
card, only when a POEMS-relevant lab exists: patient-view fires on every chart
opening, and a card on every chart would be noise. Nothing from the request is
stored or logged.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from checklist.content.evaluation import decode_json, evaluate_data
from checklist.content.rule_book import snapshot
from checklist.ehr import fhir_map
from checklist.ehr.jwt_auth import Client, JWTRejected, KeysUnavailable, verify
from checklist.engine.inputs import InputError

SERVICE_ID = "poems-criteria"
HOOK = "patient-view"
FETCH_TIMEOUT_SECONDS = 5.0
MAX_PAGES = 5
SUMMARY_LIMIT = 140

# What a criterion derived from labs is called in the card's summary.
_LAB_CRITERIA: dict[str, dict[str, str]] = {
    "vegf_elevated": {"met": "VEGF elevated", "not_met": "VEGF not elevated", "unknown": "VEGF undecided"},
    "monoclonal_plasma_cell_disorder": {
        "met": "clone detected",
        "not_met": "no clone shown",
        "unknown": "clone not shown",
    },
    "thrombocytosis_polycythemia": {
        "met": "thrombocytosis/polycythaemia",
        "not_met": "no thrombocytosis/polycythaemia",
        "unknown": "blood count undecided",
    },
}
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


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin")
    if origin and origin in settings.CDS_HOOKS_ALLOWED_ORIGINS:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def _preflight(request: HttpRequest, methods: str) -> HttpResponse:
    origin = request.headers.get("Origin")
    if not origin or origin not in settings.CDS_HOOKS_ALLOWED_ORIGINS:
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
        "observations": "Observation?patient={{context.patientId}}&code=" + code_param + "&_count=200",
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
    return _cors(request, _json(200, {"services": [service_description()]}))


# ---------------------------------------------------------------------------- invocation


class PrefetchMissing(Exception):
    pass


def _fetch(client: httpx.Client, url: str, server: str) -> list[dict[str, Any]] | dict[str, Any]:
    """GET one FHIR URL (following a search's next links on the same server)."""
    response = client.get(url)
    if response.status_code == 404:
        return []
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        return data if isinstance(data, dict) else []
    entries: list[dict[str, Any]] = []
    pages = 0
    while True:
        entries.extend(e for e in data.get("entry") or [] if isinstance(e, dict))
        pages += 1
        next_url = next(
            (link.get("url") for link in data.get("link") or [] if link.get("relation") == "next"), None
        )
        # Never follow a link off the FHIR server we were allowed to call.
        if not next_url or pages >= MAX_PAGES or not str(next_url).startswith(server + "/"):
            break
        response = client.get(str(next_url))
        response.raise_for_status()
        data = response.json()
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


def gather(body: dict[str, Any], client: Client, patient_id: str) -> dict[str, Any]:
    """Prefetch, completed from the client's FHIR server when it allows us to fetch."""
    prefetch = body.get("prefetch") or {}
    if not isinstance(prefetch, dict):
        raise PrefetchMissing("prefetch must be an object")
    templates = prefetch_templates()
    missing = [key for key in ("patient", "observations") if key not in prefetch]
    wanted = [key for key in (*missing, "specimens") if key not in prefetch]
    if not wanted:
        return prefetch
    server = body.get("fhirServer")
    auth = body.get("fhirAuthorization")
    token = auth.get("access_token") if isinstance(auth, dict) else None
    if not isinstance(server, str) or not isinstance(token, str):
        if missing:
            raise PrefetchMissing(
                f"prefetch {', '.join(missing)} missing, and no fhirServer with fhirAuthorization to fetch it"
            )
        return prefetch  # specimens are optional: the VEGF specimen stays unknown
    server = server.rstrip("/")
    if server not in client.fhir_servers:
        if missing:
            raise PrefetchMissing(
                "prefetch missing, and this client's fhirServer is not registered for fetching"
            )
        return prefetch
    filled = dict(prefetch)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    try:
        with httpx.Client(timeout=FETCH_TIMEOUT_SECONDS, headers=headers, follow_redirects=False) as http:
            for key in wanted:
                query = templates[key].replace("{{context.patientId}}", quote(patient_id, safe=""))
                filled[key] = _fetch(http, f"{server}/{query}", server)
    except (httpx.HTTPError, ValueError) as exc:
        if any(key in missing for key in wanted):
            raise PrefetchMissing(
                f"could not fetch the missing prefetch from fhirServer ({type(exc).__name__})"
            ) from exc
    return filled


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


def build_card(extract: fhir_map.RecordExtract, result: dict[str, Any]) -> dict[str, Any]:
    used_targets = {v.target for v in extract.values if v.used}
    touched = [
        c
        for c in result["criteria"]
        if c["code"] in _CRITERION_INPUTS and _CRITERION_INPUTS[c["code"]] & used_targets
    ]
    parts = [_LAB_CRITERIA[c["code"]][c["status"]] for c in touched]
    strong = [c for c in touched if c["status"] == "met" and c["group"] in ("mandatory", "major")]
    if parts:
        summary = f"Labs alone: {'; '.join(parts)}. Not a diagnosis: clinical criteria need review."
    else:
        summary = "POEMS-relevant labs in the record; labs alone meet no criterion. Not a diagnosis."
    if len(summary) >= SUMMARY_LIMIT:
        summary = "Record labs bear on POEMS criteria (see detail). Not a diagnosis."

    lines = [
        f"**What the labs in the record show** ({result['criteria_set']['name']}, "
        f"content {result['content_version']}):",
    ]
    for c in touched:
        reasons = "; ".join(c.get("reasons") or [])
        name = c.get("name") or c["code"].replace("_", " ")
        lines.append(
            f"- {name} ({c['group']}): **{c['status'].replace('_', ' ')}**"
            + (f". {reasons}" if reasons else "")
        )
    if not touched:
        lines.append("- No criterion is decided by these labs alone.")
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
                "url": base + reverse("smart_launch"),
                "type": "smart",
            },
            {
                "label": "POEMS criteria, cut-offs and sources",
                "url": base + reverse("checklist:criteria"),
                "type": "absolute",
            },
        ],
    }


def cards_for(prefetch: dict[str, Any], patient_id: str, today: datetime.date) -> list[dict[str, Any]]:
    patients = fhir_map.resources(prefetch.get("patient"), "Patient")
    patient = next((p for p in patients if p.get("id") == patient_id), None)
    observations = [
        o
        for o in fhir_map.resources(prefetch.get("observations"), "Observation")
        if _subject_is(o, patient_id)
    ]
    specimens = fhir_map.resources(prefetch.get("specimens"), "Specimen")
    extract = fhir_map.extract(patient, observations, specimens, snapshot().loinc, today)
    if not extract.relevant:
        return []
    return [build_card(extract, _evaluate(extract))]


def _subject_is(resource: dict[str, Any], patient_id: str) -> bool:
    """A prefetched result about another patient is ignored, never mixed in."""
    ref = (resource.get("subject") or {}).get("reference")
    return isinstance(ref, str) and ref.split("/_history")[0].rstrip("/").endswith(f"Patient/{patient_id}")


def _authenticate(request: HttpRequest, path: str) -> tuple[Client | None, HttpResponse | None]:
    if not settings.CDS_HOOKS_BASE_URL or not settings.CDS_HOOKS_CLIENTS:
        return None, operation_outcome(503, "exception", "CDS Hooks is not configured on this server")
    try:
        client, _claims = verify(request.headers.get("Authorization"), base_url() + path)
    except JWTRejected as exc:
        return None, operation_outcome(401, "security", f"JWT rejected: {exc}", WWW_Authenticate="Bearer")
    except KeysUnavailable as exc:
        return None, operation_outcome(503, "transient", f"{exc}; try again shortly", Retry_After="30")
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


@csrf_exempt
def service(request: HttpRequest, service_id: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight(request, "POST, OPTIONS")
    if service_id != SERVICE_ID:
        return _cors(request, operation_outcome(404, "not-found", "no such CDS service"))
    if request.method != "POST":
        return _cors(request, operation_outcome(405, "not-supported", "use POST", Allow="POST"))
    started = time.perf_counter()
    client, refused = _authenticate(request, reverse("cds_service", args=[SERVICE_ID]))
    if refused:
        return _cors(request, refused)
    assert client is not None
    try:
        body = _read_body(request)
    except BodyTooLarge:
        limit = settings.CDS_HOOKS_MAX_BODY_BYTES
        return _cors(request, operation_outcome(413, "too-costly", f"the body must be at most {limit} bytes"))
    except InputError as exc:
        message = exc.errors[0].message if exc.errors else "send the request as a JSON object"
        return _cors(request, operation_outcome(400, "invalid", message))
    if not isinstance(body, dict) or body.get("hook") != HOOK:
        return _cors(request, operation_outcome(400, "invalid", f"hook must be {HOOK}"))
    context = body.get("context")
    patient_id = context.get("patientId") if isinstance(context, dict) else None
    if not isinstance(body.get("hookInstance"), str) or not isinstance(patient_id, str) or not patient_id:
        return _cors(
            request, operation_outcome(400, "invalid", "hookInstance and context.patientId are required")
        )
    try:
        prefetch = gather(body, client, patient_id)
    except PrefetchMissing as exc:
        return _cors(request, operation_outcome(412, "required", str(exc)))
    cards = cards_for(prefetch, patient_id, datetime.date.today())
    response = _json(200, {"cards": cards})
    # Server-Timing lets a client (and our end-to-end test) see the service's own time.
    response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return _cors(request, response)


@csrf_exempt
def feedback(request: HttpRequest, service_id: str) -> HttpResponse:
    """Accepted and dropped: storing feedback would store something about a patient's care."""
    if request.method == "OPTIONS":
        return _preflight(request, "POST, OPTIONS")
    if service_id != SERVICE_ID:
        return _cors(request, operation_outcome(404, "not-found", "no such CDS service"))
    if request.method != "POST":
        return _cors(request, operation_outcome(405, "not-supported", "use POST", Allow="POST"))
    _client, refused = _authenticate(request, reverse("cds_feedback", args=[SERVICE_ID]))
    if refused:
        return _cors(request, refused)
    try:
        body = _read_body(request)
    except (BodyTooLarge, InputError):
        return _cors(request, operation_outcome(400, "invalid", "send the feedback as a JSON object"))
    if not isinstance(body, dict) or not isinstance(body.get("feedback"), list):
        return _cors(request, operation_outcome(400, "invalid", "feedback must be a list"))
    return _cors(request, _json(200, {}))
