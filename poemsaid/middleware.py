"""Compression for public pages only, and the client address for login throttling.

The checklist page is large but repetitive HTML and compresses about 15:1.
Public pages carry no secret (no CSRF token, no session), so compressing them
is not exposed to BREACH; the admin, which does carry CSRF tokens, is skipped.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware


def client_ip(request: HttpRequest) -> str | None:
    """The address django-axes counts failed admin logins against.

    Directly exposed (PROXY_COUNT=0) it is REMOTE_ADDR, and X-Forwarded-For is
    ignored: anyone can send that header. Behind PROXY_COUNT trusted proxies,
    each proxy appends the address it received the request from, so the client
    is the PROXY_COUNT-th entry from the right; whatever lies further left came
    from the client and could be forged to dodge the lockout.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.PROXY_COUNT
    if count > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= count:
            candidate = hops[-count]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                return remote
    return remote


class PublicGZipMiddleware(GZipMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path.startswith("/" + settings.ADMIN_URL):
            return response
        return super().process_response(request, response)
