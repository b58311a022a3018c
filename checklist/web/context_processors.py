"""Puts the notice and content version on every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from checklist.content.rule_book import ContentUnavailable, snapshot


def site(request: HttpRequest) -> dict[str, Any]:
    if request.path.startswith("/api/"):
        return {}
    try:
        snap = snapshot()
    except ContentUnavailable:
        # The admin must keep working so an editor can publish and restore the site.
        return {"notice": None, "content_version": "unavailable"}
    return {
        "notice": snap.texts.get("notice"),
        "content_version": snap.book.content_version,
    }
