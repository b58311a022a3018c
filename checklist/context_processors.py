"""Puts the notice and content version on every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .content import snapshot


def site(request: HttpRequest) -> dict[str, Any]:
    if request.path.startswith("/api/"):
        return {}
    snap = snapshot()
    return {
        "notice": snap.texts.get("notice"),
        "content_version": snap.book.content_version,
    }
