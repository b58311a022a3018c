"""Content from the database, as the engine's RuleBook plus what the pages show.

The snapshot is built once per process and kept until an editor saves
content. Invalidation goes through Django's cache (a "stamp" that changes on
every save), so with a shared cache (CACHE_URL, e.g. Redis) every app server
drops its copy on the next request. Once warm, a request issues no content
queries.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any

from django.core import serializers
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

from . import models
from .engine import RuleBook, from_records

STAMP_KEY = "poemsaid:content-stamp"

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
    cautions: dict[str, dict[str, Any]]
    texts: dict[str, dict[str, Any]]
    references: dict[str, dict[str, Any]]
    release: dict[str, Any] | None


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
        cautions={f["code"]: f for f in _fields(records, "caution")},
        texts={f["key"]: f for f in _fields(records, "sitetext")},
        references={f["key"]: f for f in _fields(records, "reference")},
        release=releases[0] if releases else None,
    )


_lock = threading.Lock()
_local: dict[str, Snapshot] = {}


def snapshot() -> Snapshot:
    """The current content. Costs one cache read when warm, and no SQL."""
    stamp = cache.get(STAMP_KEY)
    if stamp is None:
        stamp = uuid.uuid4().hex
        cache.add(STAMP_KEY, stamp, timeout=None)
        stamp = cache.get(STAMP_KEY, stamp)
    current = _local.get("snapshot")
    if current is not None and current.stamp == stamp:
        return current
    with _lock:
        current = build_snapshot(stamp)
        _local["snapshot"] = current
    return current


def rulebook() -> RuleBook:
    return snapshot().book


def invalidate(**_: Any) -> None:
    """Called on every content save or delete: all processes rebuild on next use."""
    cache.set(STAMP_KEY, uuid.uuid4().hex, timeout=None)
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
