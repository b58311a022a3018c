"""Compression for public pages only, the client address for login throttling, and 503s.

The checklist page is large but repetitive HTML and compresses about 15:1.
BREACH needs a secret in the response next to text the attacker controls. A
request without a session cookie has no CSRF token or session secret in its
page; a page that does carry patient data without a session (the SMART
launch's pre-filled checklist) reflects nothing an attacker sends. So these
are compressed plainly; the admin, which carries CSRF tokens, is skipped.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.gzip import GZipMiddleware
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from isal import igzip

from checklist.content.rule_book import ContentUnavailable

logger = logging.getLogger(__name__)


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
    """Django's gzip, made cheaper where the page can hold no secret.

    The live result is compressed on every click. For a request without a
    session (no login, so no CSRF token or other secret in the page) there is
    nothing for a BREACH-style attack to recover, so Django's countermeasure
    (a random-length file name, ~50 us of ``secrets`` calls per response) is
    left out, and ISA-L's gzip at level 1 (python-isal) is used: 24 us for the
    11 KB live result, against 93 us for zlib at level 1 and more at Django's 6.
    Signed-in staff keep Django's behaviour unchanged.
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path_info.startswith("/" + settings.ADMIN_URL):
            return response
        if settings.SESSION_COOKIE_NAME in request.COOKIES or response.streaming:
            return super().process_response(request, response)
        return _gzip_public(request, response)


def _gzip_public(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    if not isinstance(response, HttpResponse):  # a file or stream: left alone
        return response
    content = response.content
    if len(content) < 200 or response.has_header("Content-Encoding"):
        return response
    patch_vary_headers(response, ("Accept-Encoding",))
    if "gzip" not in request.META.get("HTTP_ACCEPT_ENCODING", ""):
        return response
    compressed = igzip.compress(content, compresslevel=1, mtime=0)
    if len(compressed) >= len(content):
        return response
    response.content = compressed
    response.headers["Content-Length"] = str(len(compressed))
    etag = response.get("ETag")
    if etag and etag.startswith('"'):
        response.headers["ETag"] = "W/" + etag
    response.headers["Content-Encoding"] = "gzip"
    return response


# Failures of what every page depends on, rather than of the request: the database
# connection, or the published content and its change signal. They are answered with
# 503 and Retry-After (a load balancer tries another server, a person reloads later),
# as /healthz reports them; never with a 500.
UNAVAILABLE: tuple[type[Exception], ...] = (ContentUnavailable, OperationalError, InterfaceError)


class ServiceUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, UNAVAILABLE):
            return None
        # The class only: a database error's message can quote the query's parameters.
        logger.error("Service unavailable: %s", type(exception).__name__)
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {
                    "errors": [
                        {"field": "(service)", "message": "temporarily unavailable; try again shortly."}
                    ]
                },
                status=503,
            )
        else:
            # Rendered without the request: the context processors read the content too.
            response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response


class PermissionsPolicyMiddleware:
    """Permissions-Policy on every response (settings.PERMISSIONS_POLICY); Django sets none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.policy = settings.PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.policy)
        return response


# The site-wide policies as django-csp writes them, built once (and again if a test changes
# the settings): (enforced, report-only).
_POLICIES: list[tuple[str, str]] = []
_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)


def _policies() -> tuple[str, str]:
    if not _POLICIES:
        _POLICIES.append((build_policy(), build_policy(report_only=True)))
    return _POLICIES[0]


def _settings_changed(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _POLICIES.clear()


setting_changed.connect(_settings_changed)


class CachedCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with the site-wide policy built once rather than per response.

    ``build_policy`` assembles the same header from the settings on every response, twice
    (enforced and report-only): about 40 us of the per-click live result (bench/README.md,
    "Profile"). When the response asks for nothing of its own (no nonce was drawn, no
    ``csp_update``/``csp_replace``/``csp_exempt`` decorator) the header is that one string,
    so it is written from the cache, under the same conditions django-csp writes it;
    anything else goes through django-csp unchanged.
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or settings.DEBUG:
            return super().process_response(request, response)
        for name in _PER_RESPONSE:
            if getattr(response, name, None) is not None:
                return super().process_response(request, response)
        csp, csp_ro = _policies()
        path = request.path_info
        for header, value, exempt, setting in (
            (HEADER, csp, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (HEADER_REPORT_ONLY, csp_ro, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            if not value or getattr(response, exempt, False) is not False or header in response:
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if not path.startswith(tuple(prefixes)):
                response[header] = value
        # As django-csp: a nonce asked for after the header is written is an error, not a
        # silently unlisted script.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
