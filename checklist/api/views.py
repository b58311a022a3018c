"""JSON API (design.md §3.4): stateless, no session, no CSRF, JSON in and out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from checklist.api.openapi import openapi_document
from checklist.content.evaluation import decode_json, evaluate_data
from checklist.content.rule_book import snapshot
from checklist.content.say import accept_language, translate_result
from checklist.engine.diagnosis.cautions import CAUTIONS
from checklist.engine.diagnosis.cautions import LEVELS as CAUTION_LEVELS
from checklist.engine.diagnosis.differentials import DIFFERENTIALS
from checklist.engine.inputs import InputError
from checklist.engine.vocabulary import CRITERIA, LABS


def _errors(status: int, field: str, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"errors": [{"field": field, "message": message}]}, status=status)
    for key, value in headers.items():
        response[key] = value
    return response


def _method_not_allowed(allowed: str) -> JsonResponse:
    return _errors(405, "(method)", f"use {allowed}.", Allow=allowed)


def no_store(status: int, data: dict[str, Any]) -> HttpResponse:
    """JSON that no proxy or browser may cache.

    Built by hand rather than with JsonResponse and never_cache: the result is
    plain data, and the two shortcuts together cost about a tenth of an API
    request (bench/). orjson encodes a typical 3.6 KB result in ~2 us where the
    standard library's C encoder takes ~60 us, a third of what the API cost
    beyond a trivial view (bench/README.md, "Profile").
    """
    try:
        body = orjson.dumps(data)
    except (orjson.JSONEncodeError, TypeError):  # e.g. a value orjson does not know; never a 500
        body = json.dumps(data).encode()
    response = HttpResponse(body, status=status, content_type="application/json")
    response["Cache-Control"] = "max-age=0, no-cache, no-store, must-revalidate, private"
    return response


def in_the_asked_language(
    request: HttpRequest,
    answer: dict[str, Any],
    translate: Callable[[dict[str, Any], str | None], dict[str, Any]],
) -> HttpResponse:
    """The 200 answer, in English unless Accept-Language asks for ja or zh-hans: then
    ``translate`` changes only the texts, never a code or a number. Caches are told the
    answer varies with the header."""
    language = accept_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
    response = no_store(200, translate(answer, language))
    if language:
        response["Content-Language"] = language
    patch_vary_headers(response, ("Accept-Language",))
    return response


def read_json_body(request: HttpRequest, what: str = "the case") -> bytes | HttpResponse:
    """The raw JSON body of a POST, or the error response (405, 400, 415, 413) refusing it.

    Shared by every JSON POST of the API, so that each refuses the same way.
    """
    if request.method != "POST":
        return _method_not_allowed("POST")
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length == "0":
        return _errors(400, "(body)", f"empty body: send {what} as a JSON object.")
    content_type = request.content_type or ""
    if content_type != "application/json":
        return _errors(415, "(content-type)", f"send {what} as application/json.")
    limit = settings.API_MAX_BODY_BYTES
    if not length.isdigit() or int(length) > limit:
        return _errors(413, "(body)", f"the body must be at most {limit} bytes.")
    body = request.read(limit + 1)
    if len(body) > limit:
        return _errors(413, "(body)", f"the body must be at most {limit} bytes.")
    return body


@csrf_exempt
def evaluate_view(request: HttpRequest) -> HttpResponse:
    body = read_json_body(request)
    if isinstance(body, HttpResponse):
        return body
    try:
        result = evaluate_data(decode_json(body))
    except InputError as exc:
        return no_store(400, exc.as_dict())
    return in_the_asked_language(request, result, translate_result)


def _set_payload(s: dict[str, Any], book: Any) -> dict[str, Any]:
    rule = book.sets[s["slug"]]
    return {
        "slug": rule.slug,
        "name": rule.name,
        "year": rule.year,
        "version": rule.version,
        "default": rule.is_default,
        "historical": rule.is_historical,
        "rule": s["rule_text"],
        "notes": s["notes"],
        "mandatory": list(rule.mandatory),
        "major": list(rule.major),
        "major_min": rule.major_min,
        "minor": list(rule.minor),
        "minor_min": rule.minor_min,
        "applies_endocrine_caveat": rule.apply_endocrine_caveat,
        "references": [r[0] for r in s.get("references", [])],
        "review": {
            "status": s["review_status"],
            "reviewed_by": s["reviewed_by"],
            "reviewed_on": s["reviewed_on"],
            "next_review_due": s["next_review_due"],
        },
    }


@csrf_exempt
@never_cache
def criteria_sets_view(request: HttpRequest) -> JsonResponse:
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed("GET")
    snap = snapshot()
    return JsonResponse(
        {
            "content_version": snap.book.content_version,
            "default": snap.book.default_set,
            "criteria_sets": [_set_payload(s, snap.book) for s in snap.criteria_sets],
        }
    )


@csrf_exempt
@never_cache
def vocabulary_view(request: HttpRequest) -> JsonResponse:
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed("GET")
    snap = snapshot()
    book = snap.book
    findings = [
        {
            "code": f["code"],
            "label": f["label"],
            "section": f["section"],
            "counts_towards": f["criterion"][0] if f["criterion"] else None,
            "qualifies": f["qualifies"],
        }
        for f in snap.findings
    ]
    labs = []
    for code, lab in LABS.items():
        item: dict[str, Any] = {"code": code, "type": lab.kind.value}
        if lab.choices:
            item["allowed"] = list(lab.choices)
        else:
            item.update(
                unit=lab.unit,
                other_units=list(lab.units),
                minimum=lab.minimum,
                maximum=lab.maximum,
            )
        labs.append(item)
    return JsonResponse(
        {
            "content_version": book.content_version,
            "criteria": [
                {"code": c, "name": book.criterion_names[c], "default_group": g.value}
                for c, g in CRITERIA.items()
            ],
            "findings": findings,
            "labs": labs,
            "differentials": [{"code": c, "name": book.differential_names[c]} for c in DIFFERENTIALS],
            # The level a caution usually has; borderline_vegf is major only when the case
            # is met on VEGF alone (clinical.md §f.2 A2), which the evaluation reports.
            "cautions": [
                {"code": c, "level": CAUTION_LEVELS[c].value, "message": book.caution_messages[c]}
                for c in CAUTIONS
            ],
        }
    )


@csrf_exempt
def openapi_view(request: HttpRequest) -> JsonResponse:
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed("GET")
    return JsonResponse(openapi_document(request.build_absolute_uri("/")))
