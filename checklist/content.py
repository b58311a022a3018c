"""Content from the database, as the engine's RuleBook plus what the pages show.

The snapshot is built once per process and kept until an editor saves
content. Invalidation goes through Django's cache (a "stamp" that changes on
every save), so with a shared cache (CACHE_URL, e.g. Redis) every app server
drops its copy on the next request. Once warm, a request issues no content
queries.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import serializers
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

from . import models
from .engine import RuleBook, from_records

STAMP_KEY = "poemsaid:content-stamp"


class ContentUnavailable(RuntimeError):
    """No published release can be read: empty database, unreadable records, database down.

    Pages answer 503 with a plain notice and ``/healthz`` reports it (the
    middleware and health check map this exception); never a 500.
    """


# The content models, in an order that loads cleanly (referenced rows first).
CONTENT_MODELS: tuple[type[Any], ...] = (
    models.Reference,
    models.Criterion,
    models.CriteriaSet,
    models.Membership,
    models.Finding,
    models.LabField,
    models.Threshold,
    models.Differential,
    models.Treatment,
    models.Caution,
    models.SiteText,
    models.LoincMapping,
    models.ContentRelease,
)

_RELATED: dict[type[Any], tuple[str, ...]] = {
    models.Criterion: ("reference",),
    models.Membership: ("criteria_set", "criterion"),
    models.Finding: ("criterion",),
    models.Threshold: ("reference",),
    models.Caution: ("reference",),
}
_M2M: dict[type[Any], tuple[str, ...]] = {
    models.CriteriaSet: ("references",),
    models.Differential: ("references",),
    models.Treatment: ("references",),
}


def content_records() -> list[dict[str, Any]]:
    """Serialise all content in the fixture's shape (natural keys, no pks)."""
    records: list[dict[str, Any]] = []
    for model in CONTENT_MODELS:
        qs = model.objects.select_related(*_RELATED.get(model, ())).prefetch_related(*_M2M.get(model, ()))
        records.extend(
            serializers.serialize("python", qs, use_natural_foreign_keys=True, use_natural_primary_keys=True)
        )
    return records


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a page or API call needs from content, as plain values."""

    stamp: str
    book: RuleBook
    findings: tuple[dict[str, Any], ...]
    labs: tuple[dict[str, Any], ...]
    criteria: tuple[dict[str, Any], ...]
    criteria_sets: tuple[dict[str, Any], ...]
    differentials: tuple[dict[str, Any], ...]
    treatments: tuple[dict[str, Any], ...]
    texts: dict[str, dict[str, Any]]
    references: dict[str, dict[str, Any]]
    release: dict[str, Any] | None
    # LOINC code -> mapping fields, active rows only (the EHR integration reads these).
    loinc: dict[str, dict[str, Any]]


def _fields(records: list[dict[str, Any]], model: str) -> tuple[dict[str, Any], ...]:
    return tuple(r["fields"] for r in records if r["model"] == f"checklist.{model}")


def build_snapshot(stamp: str = "") -> Snapshot:
    records = content_records()
    book = from_records(records)
    releases = _fields(records, "contentrelease")
    return Snapshot(
        stamp=stamp,
        book=book,
        findings=_fields(records, "finding"),
        labs=_fields(records, "labfield"),
        criteria=_fields(records, "criterion"),
        criteria_sets=_fields(records, "criteriaset"),
        differentials=_fields(records, "differential"),
        treatments=_fields(records, "treatment"),
        texts={f["key"]: f for f in _fields(records, "sitetext")},
        references={f["key"]: f for f in _fields(records, "reference")},
        release=releases[0] if releases else None,
        loinc={f["loinc_code"]: f for f in _fields(records, "loincmapping") if f["active"]},
    )


_lock = threading.Lock()
_local: dict[str, Snapshot] = {}


def _shared_cache() -> bool:
    """True when the cache is shared between processes (CACHE_URL, e.g. Redis)."""
    return "LocMemCache" not in settings.CACHES["default"]["BACKEND"]


def _stamp_file() -> Path:
    return Path(settings.CONTENT_STAMP_FILE)


def _file_stamp() -> str:
    # os.stat on the plain string: the hot path of every request when warm.
    return str(os.stat(settings.CONTENT_STAMP_FILE).st_mtime_ns)


def current_stamp() -> str:
    """Which content version this process should be serving.

    With a shared cache the stamp lives there, so one save reaches every app
    server. Without one, several worker processes on one machine share a
    stamp file: each request reads its modification time (one stat call),
    because an in-process cache would only tell the worker that saved.
    Raises ContentUnavailable when the signal cannot be read (Redis down, the
    stamp file missing on a read-only or full disk): serving on without it
    could show stale content after an edit.
    """
    try:
        if _shared_cache():
            stamp = cache.get(STAMP_KEY)
            if stamp is None:
                cache.add(STAMP_KEY, uuid.uuid4().hex, timeout=None)
                stamp = cache.get(STAMP_KEY)
            return str(stamp)
        try:
            return _file_stamp()
        except FileNotFoundError:
            _bump_file(_stamp_file())
            return _file_stamp()
    except Exception as exc:  # redis errors are not OSErrors; any failure means the same
        raise ContentUnavailable(f"content-change signal unreadable: {type(exc).__name__}") from None


def _bump_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(uuid.uuid4().hex)
    # Make sure the modification time moves even on filesystems with coarse timestamps.
    now = time.time_ns()
    previous = getattr(_bump_file, "last", 0)
    stamp = max(now, previous + 1_000_000)
    _bump_file.last = stamp  # type: ignore[attr-defined]
    os.utime(path, ns=(stamp, stamp))


def snapshot() -> Snapshot:
    """The current content. Costs one stat call (or one cache read) when warm, and no SQL."""
    stamp = current_stamp()
    current = _local.get("snapshot")
    if current is not None and current.stamp == stamp:
        return current
    with _lock:
        current = build_snapshot(stamp)
        _local["snapshot"] = current
    return current


def invalidate(**_: Any) -> None:
    """Called on every content save or delete: all processes rebuild on next use."""
    if _shared_cache():
        cache.set(STAMP_KEY, uuid.uuid4().hex, timeout=None)
    else:
        _bump_file(_stamp_file())
    _local.pop("snapshot", None)


for _model in CONTENT_MODELS:
    post_save.connect(invalidate, sender=_model, dispatch_uid=f"content-save-{_model.__name__}")
    post_delete.connect(invalidate, sender=_model, dispatch_uid=f"content-delete-{_model.__name__}")
for _model, _names in _M2M.items():
    for _name in _names:
        m2m_changed.connect(
            invalidate,
            sender=getattr(_model, _name).through,
            dispatch_uid=f"content-m2m-{_model.__name__}-{_name}",
        )
