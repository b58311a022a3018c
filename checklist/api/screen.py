"""POST /api/v1/screen: the CIDP clinic screen (design.md §3.10), as JSON in and out.

The same body handling and errors as ``POST /api/v1/evaluate`` (415, 413, 400, 405; no
CSRF, no session, no-store): only the engine call differs. Rules, content version and
disclaimer come from ``content.care_rules``, as for the page and the CLI.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from checklist.api.views import _errors, _method_not_allowed, _no_store
from checklist.content.care_rules import care_context, screen_rules
from checklist.content.evaluation import decode_json
from checklist.engine.inputs import InputError
from checklist.engine.screen import screen_json


def screen_data(data: Any) -> dict[str, Any]:
    """The §3.10 output for decoded JSON, or ``{"errors": [...]}`` (never raises on bad input)."""
    context = care_context()
    return screen_json(
        data,
        screen_rules(),
        today=timezone.localdate(),
        content_version=context.content_version,
        disclaimer=context.disclaimer,
    )


@csrf_exempt
def screen_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed("POST")
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length == "0":
        return _errors(400, "(body)", "empty body: send the screen as a JSON object.")
    if (request.content_type or "") != "application/json":
        return _errors(415, "(content-type)", "send the screen as application/json.")
    limit = settings.API_MAX_BODY_BYTES
    if not length.isdigit() or int(length) > limit:
        return _errors(413, "(body)", f"the body must be at most {limit} bytes.")
    body = request.read(limit + 1)
    if len(body) > limit:
        return _errors(413, "(body)", f"the body must be at most {limit} bytes.")
    try:
        out = screen_data(decode_json(body))
    except InputError as exc:
        return _no_store(400, exc.as_dict())
    return _no_store(400 if "errors" in out else 200, out)
