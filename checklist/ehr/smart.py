"""SMART App Launch 2.x: EHR launch and standalone launch, public client, PKCE S256.

``GET /smart/launch?iss=...&launch=...`` (EHR launch; standalone: no ``launch``)
discovers the EHR's endpoints at ``{iss}/.well-known/smart-configuration``,
keeps the PKCE verifier and the ``state`` in a signed, short-lived cookie (the
launch's session: no server-side row), and sends the browser to authorise.

``GET /smart/launch?target=screen`` (the order hooks' card link; or ``appContext``
"screen" in the token response, as an EHR passes a card link's appContext) opens the
CIDP clinic screen instead, filled from the record the same way (the screen's own view,
found through the URL conf, answers the callback; the target is kept in the signed launch
cookie with the verifier, and nothing read is stored). ``target=follow_up`` (or appContext
"follow_up") opens the follow-up flowsheet instead, one visit per sampling date of every
VEGF, M-protein, immunofixation and FLC result (``follow_up_read``). ``target=checklist``
opens the checklist directly.

With no target and no appContext, the callback reads what both pages need (the checklist's
newest value of each test and every dated follow-up result, in two searches so that years of
blood counts cannot use up the follow-up's pages) and answers with a small page offering
"Checklist" and "Follow-up". Its form carries the two pages' filled fields, signed and
time-limited (``POST /smart/open``, CSRF-protected), in the page itself: choosing needs no
second authorisation and no second read, and nothing read is kept on the server.

``GET /smart/callback?code=...&state=...`` checks the state, swaps the code
(with the verifier) for an access token, uses the token once to read the
Patient and their Observations, and answers with the checklist itself,
pre-filled through the form contract of design.md §3.4 (field code -> value,
``<code>__unit`` -> unit) and evaluated, each pre-filled value listed as from
the record with its date and LOINC code. Nothing read from the EHR is stored
or logged, the token is dropped after the reads, and no patient data goes into
a URL: the page is the response to the callback, not a redirect.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from checklist.content.care_rules import order_hook_rules
from checklist.content.rule_book import snapshot
from checklist.ehr import fhir_map, fhir_read, follow_up_read, orders

COOKIE = "poemsaid_smart_launch"
COOKIE_SALT = "poemsaid.smart.launch"
LAUNCH_MAX_AGE_SECONDS = 600
HTTP_TIMEOUT_SECONDS = 5.0
MAX_PENDING = 4  # launches open at once in one browser (tabs)
# Where a launch may land (no target: the choice of checklist and follow-up). The screen
# reads the problem list too; the follow-up reads the same resources as the checklist (every
# date, not only the newest).
TARGETS = {"checklist": "", "screen": "patient/Condition.rs", "follow_up": ""}
# What the launch-choice page offers (no target given): the pages that read only Observations.
CHOICES = ("checklist", "follow_up")
OPEN_SALT = "poemsaid.smart.open"


class LaunchError(Exception):
    """Shown to the clinician (status 400/502); never includes data from the record."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _error(request: HttpRequest, exc: LaunchError) -> HttpResponse:
    response = render(request, "checklist/smart_error.html", {"message": str(exc)}, status=exc.status)
    response["Cache-Control"] = "no-store"
    return response


def _allowed_issuers() -> set[str]:
    return {i.rstrip("/") for i in settings.SMART_ALLOWED_ISSUERS}


def _redirect_uri(request: HttpRequest) -> str:
    return settings.SMART_REDIRECT_URI or request.build_absolute_uri(reverse("smart_callback"))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def discover(iss: str) -> dict[str, Any]:
    try:
        response = httpx.get(
            f"{iss}/.well-known/smart-configuration",
            timeout=HTTP_TIMEOUT_SECONDS,
            headers={"Accept": "application/json"},
        )
        response.raise_for_status()
        config = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise LaunchError(_("The EHR's SMART configuration could not be read."), 502) from exc
    if not isinstance(config, dict):
        raise LaunchError(_("The EHR's SMART configuration is not a JSON object."), 502)
    for key in ("authorization_endpoint", "token_endpoint"):
        if not isinstance(config.get(key), str) or not config[key].startswith(("https://", "http://")):
            raise LaunchError(_("The EHR's SMART configuration has no %(key)s.") % {"key": key}, 502)
    methods = config.get("code_challenge_methods_supported")
    if not isinstance(methods, list) or "S256" not in methods:
        # SMART 2 requires S256; without it the code could be swapped by whoever intercepts it.
        raise LaunchError(_("The EHR does not support PKCE with S256, which this app requires."), 502)
    return config


def _read_pending(request: HttpRequest) -> dict[str, Any]:
    try:
        value = request.get_signed_cookie(COOKIE, salt=COOKIE_SALT, max_age=LAUNCH_MAX_AGE_SECONDS)
        if value is None:
            return {}
        data = signing.loads(value, salt=COOKIE_SALT + ".payload")
    except (KeyError, signing.BadSignature, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_pending(response: HttpResponse, pending: dict[str, Any]) -> None:
    if not pending:
        response.delete_cookie(COOKIE, path=reverse("smart_callback").rsplit("/", 1)[0] + "/")
        return
    # The cookie is signed (it cannot be forged) and holds no data from the record, only
    # which EHR is being launched and the PKCE verifier the token request needs.
    response.set_signed_cookie(
        COOKIE,
        signing.dumps(pending, salt=COOKIE_SALT + ".payload", compress=True),
        salt=COOKIE_SALT,
        max_age=LAUNCH_MAX_AGE_SECONDS,
        path=reverse("smart_callback").rsplit("/", 1)[0] + "/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",  # sent on the top-level redirect back from the authorisation server
    )


@never_cache
@require_GET
def launch(request: HttpRequest) -> HttpResponse:
    iss = (request.GET.get("iss") or settings.SMART_DEFAULT_ISSUER or "").rstrip("/")
    launch_token = request.GET.get("launch")
    target = request.GET.get("target") or ""
    try:
        if target and target not in TARGETS:
            raise LaunchError(
                _("Unknown launch target; use one of: %(names)s.") % {"names": ", ".join(TARGETS)}
            )
        if not iss:
            raise LaunchError(
                _("Launch from your EHR, or configure a default FHIR server for standalone launch.")
            )
        if iss not in _allowed_issuers():
            # Only registered EHRs: otherwise anyone could make this server fetch any URL.
            raise LaunchError(_("This EHR (iss) is not registered with this app."))
        config = discover(iss)
    except LaunchError as exc:
        return _error(request, exc)
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43-128
    challenge = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    scopes = settings.SMART_SCOPES_EHR if launch_token else settings.SMART_SCOPES_STANDALONE
    if target and TARGETS[target]:
        scopes = f"{scopes} {TARGETS[target]}"
    params = {
        "response_type": "code",
        "client_id": settings.SMART_CLIENT_ID,
        "redirect_uri": _redirect_uri(request),
        "scope": scopes,
        "state": state,
        "aud": iss,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if launch_token:
        params["launch"] = launch_token
    pending = _read_pending(request)
    pending = dict(sorted(pending.items(), key=lambda kv: kv[1].get("t", 0))[-(MAX_PENDING - 1) :])
    pending[state] = {"iss": iss, "token": config["token_endpoint"], "v": verifier, "t": int(time.time())}
    if target:
        pending[state]["target"] = target
    separator = "&" if "?" in config["authorization_endpoint"] else "?"
    response = HttpResponseRedirect(
        config["authorization_endpoint"] + separator + urlencode(params, quote_via=quote)
    )
    _write_pending(response, pending)
    return response


def read_record(
    iss: str,
    token: str,
    patient_id: str,
    conditions: bool = False,
    loinc_codes: list[str] | None = None,
    serial_codes: list[str] | None = None,
) -> tuple[Any, list[Any], list[Any], list[Any]]:
    """Patient, Observations (the mapped LOINC codes, or those given; newest first, paged),
    Specimens and, when asked, Conditions.

    ``serial_codes`` are searched on their own (their every page), the other codes in a
    second search: the page bound of one search then cannot fall on the follow-up's results.
    """
    wanted = list(snapshot().loinc) if loinc_codes is None else loinc_codes
    searches = [wanted]
    if serial_codes:
        searches = [c for c in (serial_codes, [c for c in wanted if c not in serial_codes]) if c]
    pid = quote(patient_id, safe="")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    try:
        with httpx.Client(headers=headers, follow_redirects=False) as http:
            reader = fhir_read.Reader(http, iss.rstrip("/"))
            patient = reader.read(f"{iss}/Patient/{pid}")
            observations: list[Any] = []
            for search in searches:
                codes = ",".join(quote(f"{fhir_map.LOINC}|{c}", safe="") for c in search)
                found = reader.read(f"{iss}/Observation?patient={pid}&code={codes}&_sort=-date&_count=200")
                observations += fhir_map.resources(found, "Observation")
            specimens = reader.read(f"{iss}/Specimen?patient={pid}&_count=200")
            problems = reader.read(f"{iss}/Condition?patient={pid}&_count=200") if conditions else None
    except fhir_read.FetchFailed as exc:
        if exc.status in (401, 403):
            raise LaunchError(_("The EHR refused to share the record with this app."), 502) from exc
        raise LaunchError(_("The record could not be read from the EHR."), 502) from exc
    return (
        patient,
        observations,
        fhir_map.resources(specimens, "Specimen"),
        fhir_map.resources(problems, "Condition"),
    )


def _number(value: float) -> str:
    """A number as a person types it: no exponent, no thousands separator."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def form_data(extract: fhir_map.RecordExtract) -> QueryDict:
    """The case as the checklist form posts it (design.md §3.4): field code -> value, code__unit -> unit."""
    data = QueryDict(mutable=True)
    for code, value in extract.labs.items():
        if isinstance(value, dict):
            data[code] = _number(value["value"])
            data[f"{code}__unit"] = value["unit"]
        elif isinstance(value, int | float):
            data[code] = _number(value)
        else:
            data[code] = str(value)
    for code, present in extract.findings.items():
        data[code] = "yes" if present else "no"
    return data


def record_annotations(extract: fhir_map.RecordExtract, today: datetime.date) -> list[dict[str, Any]]:
    """What the page says about each pre-filled value: where it came from, how old it is."""
    rows = []
    demographics = {
        # Marked only: the record is read before the page's language is chosen (the launch
        # choice), so the page says these in its language (_from_record.html).
        "age_years": gettext_noop("Age (from the birth date)"),
        "sex": gettext_noop("Sex (from the administrative gender)"),
    }
    for code, label in demographics.items():
        if code in extract.labs:
            rows.append(
                {
                    "code": code,
                    "label": label,
                    "shown": str(extract.labs[code]),
                    "date": "",
                    "loinc": "",
                    "stale": False,
                    "days_old": None,
                    "used": True,
                    "note": "",
                    "specimen": "",
                }
            )
    for v in extract.values:
        rows.append(
            {
                "code": v.target,
                "label": v.label,
                "shown": v.shown,
                "date": v.date.isoformat() if v.date else "",
                "loinc": v.loinc,
                "stale": v.stale,
                "days_old": v.extra.get("days_old"),
                "used": v.used,
                "note": v.note,
                "specimen": v.extra.get("specimen", ""),
            }
        )
    return rows


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    pending = _read_pending(request)
    state = request.GET.get("state", "")
    entry = next((v for k, v in pending.items() if hmac.compare_digest(k, state)), None) if state else None
    try:
        if entry is None:
            raise LaunchError(
                _("This launch has expired or was not started here. Launch the app again from the EHR.")
            )
        if request.GET.get("error"):
            raise LaunchError(_("The EHR did not authorise the app."))
        code = request.GET.get("code")
        if not code:
            raise LaunchError(_("The EHR sent no authorisation code."))
        token = _exchange(request, entry, code)
        patient_id = token.get("patient")
        if not isinstance(patient_id, str) or not patient_id:
            raise LaunchError(_("The EHR gave no patient in context."), 502)
        context = token.get("appContext")
        target = entry.get("target") or (context if context in TARGETS else "")
        serial_codes = follow_up_read.loinc_codes(snapshot().loinc)
        patient, observations, specimens, conditions = read_record(
            entry["iss"],
            token["access_token"],
            patient_id,
            conditions=target == "screen",
            loinc_codes=serial_codes if target == "follow_up" else None,
            serial_codes=serial_codes if not target else None,
        )
    except LaunchError as exc:
        response = _error(request, exc)
        if entry is not None:
            pending.pop(state, None)
            _write_pending(response, pending)
        return response
    # The access token was used for the reads above and is not kept anywhere.
    del token
    today = datetime.date.today()
    observations = [o for o in observations if _about(o, patient_id)]
    if target in CHOICES:
        # The page's language switch re-opens this record through /smart/open (the callback's
        # address is one-time): the same signed payload as the choice page's.
        payload = _choice_payload(patient, observations, specimens, today)
        request.ehr_reopen = {  # type: ignore[attr-defined]
            "record": signing.dumps(payload, salt=OPEN_SALT, compress=True),
            "open": target,
        }
    if target == "follow_up":
        response = _follow_up_page(request, observations, specimens)
        pending.pop(state, None)
        _write_pending(response, pending)
        return response
    if not target:
        response = _choice_page(request, _choice_payload(patient, observations, specimens, today))
        pending.pop(state, None)
        _write_pending(response, pending)
        return response
    if target == "screen":
        response = _screen_page(request, observations, specimens, conditions, patient_id, today)
        pending.pop(state, None)
        _write_pending(response, pending)
        return response
    extract = fhir_map.extract(patient, observations, specimens, snapshot().loinc, today)
    response = _checklist_page(request, form_data(extract), record_annotations(extract, today))
    pending.pop(state, None)
    _write_pending(response, pending)  # the state is used once
    return response


def _checklist_page(request: HttpRequest, post: QueryDict, annotations: list[dict[str, Any]]) -> HttpResponse:
    """The checklist view renders the page from the posted form, exactly as when a clinician posts it."""
    _as_posted(request, post)
    request.ehr_record = annotations  # type: ignore[attr-defined]
    request.ehr_stale_days = fhir_map.STALE_AFTER_DAYS  # type: ignore[attr-defined]
    # The page is the web room's; it is found through the URL conf, the contract between
    # rooms, so the EHR room does not import the web room.
    checklist_page: Callable[[HttpRequest], HttpResponse] = resolve(reverse("checklist:checklist")).func
    return checklist_page(request)


def _choice_payload(
    patient: Any, observations: list[Any], specimens: list[Any], today: datetime.date
) -> dict[str, Any]:
    """Both pages' fields, as plain JSON: what the choice page's form carries (signed)."""
    loinc = snapshot().loinc
    extract = fhir_map.extract(patient, observations, specimens, loinc, today)
    serial = follow_up_read.serial(observations, specimens, loinc)
    return {
        "checklist": {
            "post": {k: extract_list[-1] for k, extract_list in form_data(extract).lists()},
            "record": record_annotations(extract, today),
        },
        "follow_up": {
            "fields": serial.fields,
            "dates": [d.isoformat() for d in serial.dates],
            "shown": [{**row, "date": row["date"].isoformat()} for row in serial.shown],
            "notes": serial.notes,
        },
    }


def _choice_page(request: HttpRequest, payload: dict[str, Any]) -> HttpResponse:
    serial = payload["follow_up"]
    # Its language switch submits the choice form (smart_choice.html), which carries the record.
    request.language_switch_in_form = True  # type: ignore[attr-defined]
    context = {
        # Signed (it cannot be altered into "from the record") and time-limited; it is the
        # record the page already shows, sent back by the browser, never kept here.
        "record": signing.dumps(payload, salt=OPEN_SALT, compress=True),
        "checklist_values": len(payload["checklist"]["record"]),
        "follow_up_visits": len(serial["dates"]),
    }
    response = render(request, "checklist/smart_choice.html", context)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
def open_page(request: HttpRequest) -> HttpResponse:
    """The page chosen on the launch-choice page, filled from the record read at the callback."""
    if request.method != "POST":
        # A reload or a copied link: the record travels only in the choice page's form.
        response = _error(
            request, LaunchError(_("Choose on the launch page, or launch the app again from the EHR."), 405)
        )
        response["Allow"] = "POST"
        return response
    try:
        payload = signing.loads(
            request.POST.get("record", ""), salt=OPEN_SALT, max_age=LAUNCH_MAX_AGE_SECONDS
        )
    except signing.SignatureExpired:
        return _error(request, LaunchError(_("This launch has expired. Launch the app again from the EHR.")))
    except (signing.BadSignature, ValueError):
        return _error(
            request, LaunchError(_("This launch was not started here. Launch the app again from the EHR."))
        )
    switch = request.POST.get("switch_lang") or ""
    language = switch or request.POST.get("lang") or ""
    choice = request.POST.get("open") or ""
    languages = [code for code, _name in settings.LANGUAGES]
    if language and language not in languages:
        return _error(
            request,
            LaunchError(_("Unknown language; use one of: %(names)s.") % {"names": ", ".join(languages)}),
        )
    if not switch and choice not in CHOICES:
        return _error(
            request,
            LaunchError(_("Unknown choice (open); use one of: %(names)s.") % {"names": ", ".join(CHOICES)}),
        )
    with translation.override(language or translation.get_language()):
        request.LANGUAGE_CODE = translation.get_language()
        if switch:  # the choice page's language switch: the same choice, in that language
            return _choice_page(request, payload)
        # The opened page's own language switch re-opens this record in another language: a
        # link to /smart/open would be a GET, which has no record to open.
        request.ehr_reopen = {"record": request.POST.get("record", ""), "open": choice}  # type: ignore[attr-defined]
        if choice == "follow_up":
            serial = payload["follow_up"]
            record = follow_up_read.SerialRecord(
                fields=dict(serial["fields"]),
                dates=[datetime.date.fromisoformat(d) for d in serial["dates"]],
                shown=[{**row, "date": datetime.date.fromisoformat(row["date"])} for row in serial["shown"]],
                notes=list(serial["notes"]),
            )
            return _serial_page(request, record)
        post = QueryDict(mutable=True)
        post.update(payload["checklist"]["post"])
        return _checklist_page(request, post, payload["checklist"]["record"])


def _screen_page(
    request: HttpRequest,
    observations: list[Any],
    specimens: list[Any],
    conditions: list[Any],
    patient_id: str,
    today: datetime.date,
) -> HttpResponse:
    """The screen, filled from the record as the order hooks read it (``orders.read_chart``).

    The screen's view answers, as when a clinician posts its form: a finding yes/no, a lab
    value with ``<code>__unit``, a date YYYY-MM-DD; ``request.ehr_record`` lists what was read.
    Until the screen page exists (it is another room's), the checklist opens instead.
    """
    rules = order_hook_rules()
    active = orders.active_conditions(conditions, patient_id)
    chart = orders.read_chart(observations, specimens, active, rules, snapshot().loinc, today)
    try:
        screen_page: Callable[[HttpRequest], HttpResponse] = resolve(orders.SCREEN_PATH).func
    except Resolver404:
        screen_page = resolve(reverse("checklist:checklist")).func
    request.method = "POST"
    post = QueryDict(mutable=True)
    post.update(orders.screen_form_values(chart, orders.cidp_on(chart, rules)))
    request.POST = post  # type: ignore[assignment]
    request.ehr_record = [  # type: ignore[attr-defined]
        {"code": code, "shown": text} for code, text in chart.shown.items()
    ]
    return screen_page(request)


def _follow_up_page(request: HttpRequest, observations: list[Any], specimens: list[Any]) -> HttpResponse:
    """The follow-up flowsheet, filled with every dated result of its measures (oldest visit
    first), answered by the follow-up page's own view as when a clinician posts it."""
    return _serial_page(request, follow_up_read.serial(observations, specimens, snapshot().loinc))


def _serial_page(request: HttpRequest, record: follow_up_read.SerialRecord) -> HttpResponse:
    post = QueryDict(mutable=True)
    post.update(record.fields)
    _as_posted(request, post)
    request.ehr_serial = record  # type: ignore[attr-defined]
    follow_up_view: Callable[[HttpRequest], HttpResponse] = resolve(reverse("checklist:follow_up")).func
    return follow_up_view(request)


def _as_posted(request: HttpRequest, post: QueryDict) -> None:
    """Make ``post`` the form the page's view reads, as if the clinician had posted it."""
    request.method = "POST"
    # Django types request.POST as immutable; the view only reads it.
    request.POST = post  # type: ignore[assignment]
    # The pages split an urlencoded body themselves (web/forms.read_posted); the body here is
    # the choice page's own form (POST /smart/open), so they must read ``post`` instead.
    request.content_type = ""


def _about(resource: dict[str, Any], patient_id: str) -> bool:
    ref = (resource.get("subject") or {}).get("reference")
    return isinstance(ref, str) and ref.split("/_history")[0].rstrip("/").endswith(f"Patient/{patient_id}")


def _exchange(request: HttpRequest, entry: dict[str, Any], code: str) -> dict[str, Any]:
    """Swap the code for a token (public client: the PKCE verifier is the proof)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": _redirect_uri(request),
        "client_id": settings.SMART_CLIENT_ID,
        "code_verifier": entry["v"],
    }
    try:
        response = httpx.post(
            entry["token"], data=form, timeout=HTTP_TIMEOUT_SECONDS, headers={"Accept": "application/json"}
        )
    except httpx.HTTPError as exc:
        raise LaunchError(_("The EHR's token endpoint could not be reached."), 502) from exc
    if response.status_code != 200:
        raise LaunchError(
            _("The EHR refused the authorisation code (for example a PKCE verifier mismatch)."), 403
        )
    try:
        token = response.json()
    except ValueError as exc:
        raise LaunchError(_("The EHR's token response is not JSON."), 502) from exc
    if not isinstance(token, dict) or not isinstance(token.get("access_token"), str):
        raise LaunchError(_("The EHR's token response has no access token."), 502)
    if str(token.get("token_type", "")).lower() != "bearer":
        raise LaunchError(_("The EHR's token is not a bearer token."), 502)
    return token
