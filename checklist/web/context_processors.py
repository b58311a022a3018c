"""Puts the notice and content version on every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.translation import get_language

from checklist.content.rule_book import ContentUnavailable, snapshot


def site(request: HttpRequest) -> dict[str, Any]:
    if request.path.startswith("/api/"):
        return {}
    try:
        # The page's language: the notice is content, translated beside the English (cached
        # per release and language, so a warm page still reads no content).
        snap = snapshot(get_language())
    except ContentUnavailable:
        # The admin must keep working so an editor can publish and restore the site.
        return {"notice": None, "content_version": "unavailable"}
    return {
        "notice": snap.texts.get("notice"),
        "content_version": snap.book.content_version,
        "language_links": language_links(request),
        "ehr_reopen": getattr(request, "ehr_reopen", None),
        "html_lang": HTML_LANG.get(get_language(), "en-GB"),
        "translation_review": translation_review(snap.translation_reviews),
    }


def translation_review(reviews: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """This page's translation status; None on an English page (the source, nothing to review)."""
    language = get_language()
    if language == settings.LANGUAGE_CODE:
        return None
    row = reviews.get(language) or {}
    reviewed = bool(row.get("reviewed_by") and row.get("reviewed_on"))
    return {"reviewed": reviewed, "by": row.get("reviewed_by", ""), "on": row.get("reviewed_on")}


# The language switch's words, each in its own language (a reader who cannot read the page can
# still find theirs), and the BCP 47 tag each page declares in <html lang>.
HTML_LANG = {"en-gb": "en-GB", "ja": "ja", "zh-hans": "zh-Hans"}


def language_links(request: HttpRequest) -> list[dict[str, Any]]:
    """This page in each language: plain links, so the switch needs no form, script or cookie.

    A page opened from a SMART launch (under /smart/) has no address of its own to link to:
    the record travels in the request. Where the launch left the signed record to re-open
    (``request.ehr_reopen``), the switch submits it (base.html), as the choice page's own form
    does (``request.language_switch_in_form``); elsewhere there is no switch,
    rather than links that could only lead to an error page.
    """
    current = get_language()
    in_a_form = getattr(request, "ehr_reopen", None) or getattr(request, "language_switch_in_form", False)
    if request.path.startswith("/smart/") and not in_a_form:
        return []
    return [
        {
            "code": code,
            "name": name,
            "lang": HTML_LANG.get(code, code),
            "url": translate_url(request.path, code),
            "current": code == current,
        }
        for code, name in settings.LANGUAGES
    ]
