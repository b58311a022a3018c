"""/healthz: 200 only when this server can serve a page (design.md §3.6).

A page needs three things, and the check exercises each the way a page does:
the database (a query), the published content (the same snapshot pages use,
built from the database when cold), and the content-change signal, without
which an editor's change would never reach this server (the shared cache when
CACHE_URL is set: a write and a read-back; otherwise the stamp file: readable,
and its directory writable, probed with a scratch file so the real stamp, and
so every worker's content, is left alone).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from checklist.content.rule_book import _shared_cache, snapshot


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "cannot serve"; the page would fail the same way
        return False
    return True


def _content() -> str | None:
    """The content version a page would show, or None if content cannot be read."""
    try:
        return snapshot().book.content_version
    except Exception:  # ContentUnavailable, a database error, a broken release: no page either way
        return None


def _signal() -> bool:
    try:
        if _shared_cache():
            key = f"poemsaid:healthz:{uuid.uuid4().hex}"
            cache.set(key, "1", timeout=10)
            ok: bool = cache.get(key) == "1"
            cache.delete(key)
            return ok
        stamp = Path(settings.CONTENT_STAMP_FILE)
        os.stat(stamp)
        probe = stamp.with_name(f".{stamp.name}.healthz-{os.getpid()}")
        probe.write_bytes(b"1")
        probe.unlink()
    except Exception:  # OSError (read-only, full, missing) or the cache client's own errors
        return False
    return True


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = _database()
    version = _content() if database else None
    signal = _signal()
    ok = database and version is not None and signal
    body: dict[str, object] = {
        "status": "ok" if ok else "error",
        "database": "ok" if database else "unreachable",
        "content": "ok" if version is not None else "unavailable",
        "content_signal": "ok" if signal else "unavailable",
    }
    if version is not None:
        body["content_version"] = version
    return JsonResponse(body, status=200 if ok else 503)
