"""When no published content can be read, every page says so plainly: 503, never a 500.

The admin keeps working (it reads the draft, not the release), so editors can
publish and bring the site back.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from .content import ContentUnavailable

NOTICE = (
    "POEMSaid is unavailable: its clinical content cannot be read at the moment. "
    "No result is shown rather than a possibly wrong one. Please try again later."
)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "content_unavailable", "message": NOTICE}, status=503)
    # Plain HTML on purpose: the site templates need the content that is missing.
    html = (
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>Unavailable</title></head>'
        f"<body><h1>Temporarily unavailable</h1><p>{NOTICE}</p></body></html>"
    )
    response = HttpResponse(html, status=503)
    response["Retry-After"] = "60"
    return response


class ContentUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ContentUnavailable):
            return unavailable_response(request)
        return None
