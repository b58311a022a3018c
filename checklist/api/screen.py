"""POST /api/v1/screen: the CIDP clinic screen (design.md §3.10), as JSON in and out.

The same body handling and errors as ``POST /api/v1/evaluate`` (415, 413, 400, 405; no
CSRF, no session, no-store): only the engine call differs. Rules, content version and
disclaimer come from ``content.care_rules``, as for the page and the CLI.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from checklist.api.views import in_the_asked_language, no_store, read_json_body
from checklist.content.care_rules import care_context, screen_rules
from checklist.content.evaluation import decode_json
from checklist.content.say import translate_screen
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
    body = read_json_body(request, "the screen")
    if isinstance(body, HttpResponse):
        return body
    try:
        out = screen_data(decode_json(body))
    except InputError as exc:
        return no_store(400, exc.as_dict())
    if "errors" in out:
        return no_store(400, out)
    return in_the_asked_language(request, out, translate_screen)
