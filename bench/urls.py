"""The benchmark's URLs: the production ones plus the baselines, which exist only here
(bench_settings.ROOT_URLCONF), never in production URLs.

- /trivial: a near-empty JSON GET, what a request costs in Django and gunicorn alone.
- /floor/json, /floor/follow-up and /floor/form (design.md §5, re-anchored 2026-12-06): the floors of the two
  hot paths. Each decodes the same body as the real view and answers the real view's own
  answer, captured once from it (bench/run.py writes it to BENCH_FLOOR_DIR before the
  runs), so size and compressibility match; what is left between a path and its floor is
  the cost of validating, evaluating and presenting the case.
"""

import functools
import os
from pathlib import Path

import orjson
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from poemsaid.urls import urlpatterns as production


@require_GET
def trivial(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


@functools.cache
def _captured(name: str) -> bytes:
    return (Path(os.environ["BENCH_FLOOR_DIR"]) / name).read_bytes()


@csrf_exempt
@require_POST
def floor_json(request: HttpRequest) -> HttpResponse:
    orjson.loads(request.body)
    return HttpResponse(_captured("api.json"), content_type="application/json")


@csrf_exempt
@require_POST
def floor_follow_up(request: HttpRequest) -> HttpResponse:
    """The follow-up API's floor: the same body decoded, its own answer to it (no-store, as it)."""
    orjson.loads(request.body)
    response = HttpResponse(_captured("follow_up.json"), content_type="application/json")
    response["Cache-Control"] = "max-age=0, no-cache, no-store, must-revalidate, private"
    return response


@csrf_exempt
@require_POST
def floor_form(request: HttpRequest) -> HttpResponse:
    request.POST  # noqa: B018  (parses the urlencoded body, as the form view does)
    response = HttpResponse(_captured("result.html"), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


# The screen's floors (issue 22): the same shapes for POST /api/v1/screen and the live
# screen fragment POST /screen/result, answering their captured answers.
@csrf_exempt
@require_POST
def floor_screen_json(request: HttpRequest) -> HttpResponse:
    orjson.loads(request.body)
    return HttpResponse(_captured("screen.json"), content_type="application/json")


@csrf_exempt
@require_POST
def floor_screen_form(request: HttpRequest) -> HttpResponse:
    request.POST  # noqa: B018  (parses the urlencoded body, as the screen view does)
    response = HttpResponse(_captured("screen.html"), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("trivial", trivial),
    path("floor/json", floor_json),
    path("floor/form", floor_form),
    path("floor/follow-up", floor_follow_up),
    path("floor/screen-json", floor_screen_json),
    path("floor/screen-form", floor_screen_form),
    *production,
]
