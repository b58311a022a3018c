"""Compression for public pages only.

The checklist page is large but repetitive HTML and compresses about 15:1.
Public pages carry no secret (no CSRF token, no session), so compressing them
is not exposed to BREACH; the admin, which does carry CSRF tokens, is skipped.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware


class PublicGZipMiddleware(GZipMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path.startswith("/" + settings.ADMIN_URL):
            return response
        return super().process_response(request, response)
