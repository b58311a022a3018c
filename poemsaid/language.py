"""The language of a page: the URL carries it, the first visit follows Accept-Language.

Django's LocaleMiddleware reads the language from the URL prefix (``/ja/``, ``/zh-hans/``)
and serves English at the unprefixed paths (``prefix_default_language=False``). It never
redirects an unprefixed page, so a Japanese browser would always land on English. This
middleware, after it, sends the first visit to an unprefixed page (no language cookie yet)
to the prefixed page its Accept-Language asks for, and then remembers the language the
visitor last read in Django's language cookie: the switch is plain links, so choosing
English on a Japanese page is a link to the unprefixed page, which sets the cookie to
English and is never redirected again. The cookie holds a language code and nothing else.

Only page paths (those resolved by ``checklist.web.urls`` under ``i18n_patterns``) are
touched; the API, CDS Hooks, SMART, healthz and the admin keep their paths and never
redirect.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

_PREFIXES = tuple(f"/{code}/" for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE)


def page_language(request: HttpRequest) -> str | None:
    """The language of a page path (None for the API, admin and the rest)."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if match.namespace != "checklist":
        return None
    return translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE


class LanguageRedirectMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        language = page_language(request)
        if language is None:
            return self.get_response(request)
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language == settings.LANGUAGE_CODE and request.method in ("GET", "HEAD") and not cookie:
            wanted = _from_accept_language(request)
            if wanted and wanted != settings.LANGUAGE_CODE:
                query = request.META.get("QUERY_STRING", "")
                response: HttpResponseBase = HttpResponseRedirect(
                    f"/{wanted}{request.path_info}" + (f"?{query}" if query else "")
                )
                patch_vary_headers(response, ("Accept-Language", "Cookie"))
                return response
        response = self.get_response(request)
        if language == settings.LANGUAGE_CODE:
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
        # Remembered only once the visitor has read another language than English: an English
        # reader never gets the cookie, and a return to English after Japanese is kept.
        moved = cookie != language and (cookie or language != settings.LANGUAGE_CODE)
        if moved and request.method in ("GET", "HEAD") and response.status_code == 200:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite="Lax",
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=True,
            )
        return response


def _from_accept_language(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _q in parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(_chinese(code))
        except LookupError:
            continue
    return None


def _chinese(code: str) -> str:
    # Browsers send zh-CN / zh-SG for Simplified; Django would take zh-cn only as an alias.
    lowered = code.lower()
    if lowered in ("zh", "zh-cn", "zh-sg", "zh-hans-cn"):
        return "zh-hans"
    return lowered
