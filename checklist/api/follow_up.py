"""POST /api/v1/follow-up (design.md §3.9): dated visits in, each visit's result per domain out.

Stateless like /api/v1/evaluate: no session, no CSRF, nothing stored or logged; the same
body handling and errors shape (api/views.py ``read_json_body``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from checklist.api.views import in_the_asked_language, no_store, read_json_body
from checklist.content.care_rules import follow_up_data
from checklist.content.evaluation import decode_json
from checklist.content.say import translate_follow_up
from checklist.engine.inputs import InputError


@csrf_exempt
def follow_up_view(request: HttpRequest) -> HttpResponse:
    body = read_json_body(request, "the visits")
    if isinstance(body, HttpResponse):
        return body
    try:
        result = follow_up_data(decode_json(body))
    except InputError as exc:
        return no_store(400, exc.as_dict())
    return in_the_asked_language(request, result, translate_follow_up)
