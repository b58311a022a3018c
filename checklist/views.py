"""Pages. Thin: bind the form, ask the engine, render. Nothing a clinician enters is stored.

The checklist and report forms are exempt from CSRF on purpose: posting a
case changes nothing on the server (no session, no database write), exactly
like the JSON API, and keeping the page free of per-user tokens is what lets
it be served from cache.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from . import models
from .content import ContentUnavailable, Snapshot, snapshot
from .engine import evaluate
from .forms import CaseForm, layout
from .report import plain_text_report


def _evaluate_form(request: HttpRequest, snap: Snapshot) -> tuple[CaseForm, dict[str, Any] | None]:
    form = CaseForm(request.POST or None, snapshot=snap)
    result = None
    if request.method == "POST" and form.is_valid() and form.case is not None:
        result = evaluate(form.case, snap.book)
    return form, result


def _result_context(form: CaseForm, result: dict[str, Any] | None, snap: Snapshot) -> dict[str, Any]:
    report = plain_text_report(form, result, snap, timezone.localdate()) if result else ""
    letters = _letters(result, snap)
    labels = {f["code"]: f["label"] for f in snap.labs}
    # Warnings name fields by code ("labs.vegf_pg_ml"); show the clinician's label instead.
    warnings = [
        {"label": labels.get(w["field"].split(".")[-1], w["field"]), "message": w["message"]}
        for w in (result or {}).get("warnings", [])
    ]
    return {
        "warnings": warnings,
        "no_differentials": snap.texts.get("no_differentials"),
        "form": form,
        "result": result,
        "report": report,
        "letters": letters,
        "treatments": snap.treatments,
        "differential_pages": {d["code"]: d for d in snap.differentials},
    }


def _letters(result: dict[str, Any] | None, snap: Snapshot) -> list[dict[str, str]]:
    """P, O, E, M, S at a glance: each marked met, not met or not assessed."""
    status = {c["code"]: c["status"] for c in result["criteria"]} if result else {}
    out = []
    for criterion in snap.criteria:
        if criterion.get("letter"):
            code = criterion["code"]
            out.append(
                {
                    "letter": criterion["letter"],
                    "name": criterion["name"],
                    "status": status.get(code, "unknown"),
                }
            )
    return sorted(out, key=lambda x: "POEMS".index(x["letter"]))


# The empty checklist is the same for everyone (no CSRF token, no session), so
# it is rendered once per content version. Rendering ~120 crispy fields costs
# tens of milliseconds; serving the cached bytes costs almost nothing.
_EMPTY_PAGE: dict[str, tuple[bytes, bytes]] = {}


def _empty_checklist(request: HttpRequest, snap: Snapshot) -> HttpResponse:
    """The empty page, plain and gzipped, both rendered once per content version."""
    pages = _EMPTY_PAGE.get(snap.stamp)
    if pages is None:
        form = CaseForm(None, snapshot=snap)
        context = _result_context(form, None, snap) | {
            "parts": layout(form),
            "criteria_sets": snap.criteria_sets,
        }
        html = render(request, "checklist/checklist.html", context).content
        # mtime=0 keeps the compressed bytes identical between processes.
        pages = (html, gzip.compress(html, compresslevel=6, mtime=0))
        _EMPTY_PAGE.clear()
        _EMPTY_PAGE[snap.stamp] = pages
    html, compressed = pages
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(compressed)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(html)
    patch_vary_headers(response, ("Accept-Encoding",))
    return response


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def checklist(request: HttpRequest) -> HttpResponse:
    snap = snapshot()
    if request.method != "POST":
        return _empty_checklist(request, snap)
    form, result = _evaluate_form(request, snap)
    context = _result_context(form, result, snap) | {
        "parts": layout(form),
        "criteria_sets": snap.criteria_sets,
    }
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    return render(request, "checklist/checklist.html", context, status=status)


@csrf_exempt
@never_cache
@require_http_methods(["POST"])
def result_fragment(request: HttpRequest) -> HttpResponse:
    """The result panel alone, for the live update (progressive enhancement)."""
    snap = snapshot()
    form, result = _evaluate_form(request, snap)
    response = render(request, "checklist/_result.html", _result_context(form, result, snap))
    # The client shows field errors next to the fields from this header.
    if form.errors or form.warnings:
        response["X-Field-Messages"] = json.dumps(
            {"errors": {k: [str(m) for m in v] for k, v in form.errors.items()}, "warnings": form.warnings}
        )
    return response


@csrf_exempt
@never_cache
@require_http_methods(["POST"])
def report(request: HttpRequest) -> HttpResponse:
    """Print view of the current case (posted, so nothing lands in a URL or an access log)."""
    snap = snapshot()
    form, result = _evaluate_form(request, snap)
    context = _result_context(form, result, snap)
    return render(request, "checklist/report.html", context, status=200 if result else 400)


@require_GET
def criteria(request: HttpRequest) -> HttpResponse:
    snap = snapshot()
    sets = []
    for s in snap.criteria_sets:
        rule = snap.book.sets[s["slug"]]
        sets.append(
            {
                **s,
                "rule": rule,
                "groups": [
                    ("Mandatory (all required)", [_crit_label(snap, rule, c) for c in rule.mandatory], None),
                    ("Other major", [_crit_label(snap, rule, c) for c in rule.major], rule.major_min),
                    ("Minor", [_crit_label(snap, rule, c) for c in rule.minor], rule.minor_min),
                ],
                "refs": _refs(snap, s),
                "overdue": models.is_overdue(s.get("next_review_due")),
            }
        )
    return render(request, "checklist/criteria.html", {"sets": sets, "thresholds": _thresholds(snap)})


_SYMBOLS = dict(models.Threshold.Comparator.choices)
_SEXES = dict(models.Threshold.Sex.choices)


def _thresholds(snap: Snapshot) -> list[dict[str, Any]]:
    """The live release's thresholds, never the draft's. Keys mirror the model's display methods."""
    out = []
    for t in snap.thresholds:
        ref = t.get("reference")
        out.append(
            {
                **t,
                "get_comparator_display": _SYMBOLS.get(t["comparator"], t["comparator"]),
                "get_sex_display": _SEXES.get(t.get("sex", ""), ""),
                "reference": snap.references.get(ref[0]) if ref else None,
            }
        )
    return out


def _crit_label(snap: Snapshot, rule: Any, code: str) -> str:
    return rule.labels.get(code) or snap.book.criterion_names[code]


def _page(pages: tuple[dict[str, Any], ...], key: str, value: str) -> dict[str, Any]:
    page = next((p for p in pages if p[key] == value), None)
    if page is None:
        raise Http404("No such page")
    return page


def _refs(snap: Snapshot, item: dict[str, Any]) -> list[dict[str, Any]]:
    return [snap.references[r[0]] for r in item.get("references", []) if r[0] in snap.references]


@require_GET
def differential(request: HttpRequest, code: str) -> HttpResponse:
    snap = snapshot()
    page = _page(snap.differentials, "code", code)
    refs = _refs(snap, page)
    return render(
        request,
        "checklist/differential.html",
        {"page": page, "refs": refs, "differentials": snap.differentials},
    )


@require_GET
def treatments(request: HttpRequest) -> HttpResponse:
    return render(request, "checklist/treatments.html", {"treatments": snapshot().treatments})


@require_GET
def treatment(request: HttpRequest, slug: str) -> HttpResponse:
    snap = snapshot()
    page = _page(snap.treatments, "slug", slug)
    refs = _refs(snap, page)
    return render(
        request, "checklist/treatment.html", {"page": page, "refs": refs, "treatments": snap.treatments}
    )


@require_GET
def references(request: HttpRequest) -> HttpResponse:
    refs = sorted(snapshot().references.values(), key=lambda r: r["short"])
    return render(request, "checklist/references.html", {"refs": refs})


REVIEWED_MODELS = (
    models.CriteriaSet,
    models.Membership,
    models.Criterion,
    models.Finding,
    models.LabField,
    models.Threshold,
    models.Caution,
    models.Differential,
    models.Treatment,
    models.Reference,
    models.SiteText,
)


@require_GET
def about(request: HttpRequest) -> HttpResponse:
    snap = snapshot()
    overdue = []
    # From the live release: the public page describes what is served, not the draft.
    for kind, items, name in (
        ("criteria set", snap.criteria_sets, "name"),
        ("criterion", snap.criteria, "name"),
        ("threshold", snap.thresholds, "label"),
        ("differential", snap.differentials, "name"),
        ("treatment", snap.treatments, "name"),
    ):
        for item in items:
            if models.is_overdue(item.get("next_review_due")):
                overdue.append({"kind": kind, "name": item[name], "due": item["next_review_due"]})
    return render(
        request,
        "checklist/about.html",
        {
            "intended_use": snap.texts.get("intended_use"),
            "about": snap.texts.get("about"),
            "release": snap.release,
            "sets": snap.criteria_sets,
            "overdue": overdue,
        },
    )


@require_GET
def changelog(request: HttpRequest) -> HttpResponse:
    releases = models.ContentRelease.objects.published()
    return render(request, "checklist/changelog.html", {"releases": releases})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness, database and published-content check for the load balancer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "unhealthy"; the detail goes to logs
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    try:
        snapshot()
    except ContentUnavailable:
        return JsonResponse({"status": "error", "database": "ok", "content": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
def trivial(request: HttpRequest) -> JsonResponse:
    """A near-empty JSON view: the baseline the benchmark compares the real pages with."""
    return JsonResponse({"ok": True})


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)
