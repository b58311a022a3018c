"""POST /api/v1/follow-up (design.md §3.9): dated visits in, each visit's result per domain out.

Stateless like /api/v1/evaluate: no session, no CSRF, nothing stored or logged; the same
body handling and errors shape (api/views.py ``read_json_body``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt

from checklist.api.views import no_store, read_json_body
from checklist.content.care_rules import follow_up_data
from checklist.content.evaluation import decode_json
from checklist.content.say import accept_language, translate_follow_up
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
    # English unless Accept-Language asks for ja or zh-hans: then the texts are translated and
    # every code and number is the English answer's (as /api/v1/evaluate does).
    language = accept_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
    response = no_store(200, translate_follow_up(result, language))
    if language:
        response["Content-Language"] = language
    patch_vary_headers(response, ("Accept-Language",))
    return response
