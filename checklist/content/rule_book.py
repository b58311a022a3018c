"""Content as served: the live published release, as the engine's RuleBook plus what pages show.

Editors change the content tables (the *draft*). Nothing reads the draft to
answer a patient question: pages, the API and the CLI serve the newest
published ``ContentRelease``, whose records were validated and regression
checked when it was published (``checklist.content.publishing``).

Each process keeps the live release's snapshot in memory, keyed by the release
number. A change signal (the stamp) tells every process to look again: a file
whose modification time moves (one ``stat`` per request) on a single machine,
or a key in the shared cache (``CACHE_URL``, Redis) across machines. The stamp
moves only in ``transaction.on_commit``: bumped inside the transaction, another
worker could see the new stamp, read the old rows and keep them under it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from django.db import models as db_models
from django.utils.dateparse import parse_date, parse_datetime

from checklist.content import models
from checklist.content.diagnosis_rules import diagnosis_rules
from checklist.content.legacy import shown_under_before_the_field
from checklist.content.translated_fields import LANGUAGE_SUFFIXES, TRANSLATED
from checklist.engine.diagnosis.book import from_records
from checklist.engine.diagnosis.rulebook import RuleBook, RuleBookError

logger = logging.getLogger(__name__)

STAMP_KEY = "poemsaid:content-stamp"


class ContentUnavailable(RuntimeError):
    """No published release can be read: empty database, unreadable records, database down.

    Pages answer 503 with a plain notice and ``/healthz`` reports it (the
    middleware and health check map this exception); never a 500.
    """


# The content models in an order that loads cleanly (referenced rows first).
# Any other model of the app is content too (see ``content_models``), so a
# model added later (a mapping table, say) is published without touching this.
_CORE_ORDER: tuple[type[Any], ...] = (
    models.Reference,
    models.Criterion,
    models.CriteriaSet,
    # Before the memberships: a set may read a criterion from its own threshold (mhlw-jp).
    models.Threshold,
    models.Membership,
    models.Finding,
    models.LabField,
    models.Differential,
    models.Treatment,
    models.TreatmentByExtent,
    models.Caution,
    models.SiteText,
)
# Not content: the releases themselves and the cases that guard them; the EHR's trusted
# clients (deployment, with keys), its call audit and its feedback counts (records, not rules).
NOT_CONTENT = frozenset({"contentrelease", "regressioncase", "cdsclient", "cdscallaudit", "cdsfeedbackcount"})


def content_models() -> tuple[type[Any], ...]:
    """Every content model: the core ones in load order, then any other model of the app."""
    ordered = list(_CORE_ORDER)
    for model in apps.get_app_config("checklist").get_models():
        name = model._meta.model_name or ""
        if model in ordered or name in NOT_CONTENT or name.startswith("historical"):
            continue
        ordered.append(model)
    return tuple(ordered)


CONTENT_MODELS: tuple[type[Any], ...] = content_models()
CONTENT_LABELS = frozenset(m._meta.label_lower for m in CONTENT_MODELS)


def _related(model: type[Any]) -> tuple[list[str], list[str]]:
    fks = [f.name for f in model._meta.concrete_fields if isinstance(f, db_models.ForeignKey)]
    m2m = [f.name for f in model._meta.many_to_many]
    return fks, m2m


def content_records() -> list[dict[str, Any]]:
    """Serialise the draft (the content tables) in the fixture's shape, as JSON values.

    Natural keys, no primary keys; dates as ISO strings, so the same list can
    be stored in a release, exported to a file and compared with another.
    """
    records: list[dict[str, Any]] = []
    for model in content_models():
        fks, m2m = _related(model)
        qs = model.objects.select_related(*fks).prefetch_related(*m2m)
        records.extend(
            serializers.serialize("python", qs, use_natural_foreign_keys=True, use_natural_primary_keys=True)
        )
    return _as_json_values(records)


def _as_json_values(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import json

    values: list[dict[str, Any]] = json.loads(json.dumps(records, cls=DjangoJSONEncoder))
    return values


_PLACED = frozenset({"checklist.finding", "checklist.labfield"})


def with_placement(label: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A finding or lab written before ``shown_under`` existed (an old release or export),
    given the placement it was served with (``checklist.content.legacy``); others unchanged."""
    if label not in _PLACED or "shown_under" in fields:
        return fields
    home = shown_under_before_the_field(
        str(fields.get("code")), str(fields.get("section")), fields.get("criterion")
    )
    return {**fields, "shown_under": [home] if home else None}


def _revive(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dates back to date objects (the pages compare review dates), per the model's fields.

    A release published before ``shown_under`` existed is read with the placement
    it was served with (releases are never rewritten; ``checklist.content.legacy``).
    """
    kinds: dict[str, dict[str, str]] = {}
    out = []
    for record in records:
        label = str(record["model"]).lower()
        if label not in kinds:
            try:
                model = apps.get_model(label)
            except LookupError:
                kinds[label] = {}
            else:
                kinds[label] = {
                    f.name: type(f).__name__
                    for f in model._meta.concrete_fields
                    if isinstance(f, db_models.DateField)
                }
        fields = dict(record["fields"])
        for name, kind in kinds[label].items():
            value = fields.get(name)
            if isinstance(value, str):
                fields[name] = parse_datetime(value) if kind == "DateTimeField" else parse_date(value)
        out.append({**record, "fields": with_placement(label, fields)})
    return out


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a page or API call needs from content, as plain values."""

    stamp: str
    book: RuleBook
    findings: tuple[dict[str, Any], ...]
    labs: tuple[dict[str, Any], ...]
    criteria: tuple[dict[str, Any], ...]
    # Enabled sets only: a set switched off by its content flag is in ``draft_sets``.
    criteria_sets: tuple[dict[str, Any], ...]
    differentials: tuple[dict[str, Any], ...]
    treatments: tuple[dict[str, Any], ...]
    texts: dict[str, dict[str, Any]]
    references: dict[str, dict[str, Any]]
    release: dict[str, Any] | None
    thresholds: tuple[dict[str, Any], ...] = ()
    records: tuple[dict[str, Any], ...] = ()
    release_number: int | None = None
    # LOINC code -> mapping fields, active rows only (the EHR integration reads these).
    loinc: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Sets off by their content flag (CriteriaSet.enabled): the criteria page shows them as drafts.
    draft_sets: tuple[dict[str, Any], ...] = ()
    # language -> its TranslationReview fields (absent: not reviewed).
    translation_reviews: dict[str, dict[str, Any]] = field(default_factory=dict)


def _fields(records: list[dict[str, Any]], model: str) -> tuple[dict[str, Any], ...]:
    return tuple(r["fields"] for r in records if r["model"] == f"checklist.{model}")


def snapshot_of(
    records: list[dict[str, Any]], release: models.ContentRelease | None = None, stamp: str = ""
) -> Snapshot:
    """Build the snapshot of fixture-shaped ``records``. Raises RuleBookError if inconsistent."""
    records = _revive(records)
    book = from_records(records, diagnosis_rules())
    info = None
    if release is not None:
        book = replace(book, content_version=release.stamp)
        info = {
            "number": release.number,
            "version": release.version,
            "released_on": release.released_on,
            "summary": release.summary,
        }
    return Snapshot(
        stamp=stamp,
        book=book,
        findings=_fields(records, "finding"),
        labs=_fields(records, "labfield"),
        criteria=_fields(records, "criterion"),
        criteria_sets=tuple(f for f in _fields(records, "criteriaset") if f.get("enabled", True)),
        draft_sets=tuple(f for f in _fields(records, "criteriaset") if not f.get("enabled", True)),
        translation_reviews={f["language"]: f for f in _fields(records, "translationreview")},
        differentials=_fields(records, "differential"),
        treatments=_fields(records, "treatment"),
        texts={f["key"]: f for f in _fields(records, "sitetext")},
        references={f["key"]: f for f in _fields(records, "reference")},
        release=info,
        thresholds=tuple(sorted(_fields(records, "threshold"), key=lambda f: (f["lab"], f["code"]))),
        records=tuple(records),
        release_number=release.number if release is not None else None,
        loinc={f["loinc_code"]: f for f in _fields(records, "loincmapping") if f["active"]},
    )


# The key a localised record lists its fields served in English under (no translation yet).
IN_ENGLISH = "in_english"
# ... and the fields whose translation is the English text itself (a translator kept a
# citation's short name, "Rajkumar 2014", as published): served as is, declared English.
KEPT_ENGLISH = "kept_english"


def served_language(language: str | None) -> str | None:
    """The translated language content is served in; None for English (and anything else)."""
    return language if language in LANGUAGE_SUFFIXES else None


def localize_records(records: Iterable[dict[str, Any]], language: str) -> list[dict[str, Any]]:
    """The records with each translated field's text in ``language``, English where it has none.

    A field falls back when its translation is empty or absent (a release published before
    translations existed) and the English is not; the record then lists it under
    ``in_english`` so the page marks it (badge, lang="en"). Codes, numbers and every
    untranslated field are the English record's own.
    """
    suffix = LANGUAGE_SUFFIXES[language]
    out = []
    for record in records:
        names = TRANSLATED.get(str(record["model"]).lower())
        if not names:
            out.append(record)
            continue
        fields = record["fields"]
        localized = dict(fields)
        english: list[str] = []
        kept: list[str] = []
        for base in names:
            value = fields.get(base + suffix)
            if isinstance(value, str) and value.strip():
                localized[base] = value
                if value == fields.get(base):
                    kept.append(base)
            elif isinstance(fields.get(base), str) and fields[base].strip():
                english.append(base)
        localized[IN_ENGLISH] = tuple(english)
        localized[KEPT_ENGLISH] = tuple(kept)
        out.append({**record, "fields": localized})
    return out


def build_snapshot(stamp: str = "") -> Snapshot:
    """The live release's snapshot, read from the database. Raises ContentUnavailable."""
    try:
        releases = models.ContentRelease.objects.published()
        number = releases.values_list("number", flat=True).first()
        if number is None:
            raise ContentUnavailable("no content release has been published")
        # The newest release that builds; an unreadable one is skipped loudly,
        # because an older validated release beats no answer at all.
        for release in releases.iterator(chunk_size=1):
            try:
                return snapshot_of(release.records or [], release, stamp)
            except (RuleBookError, KeyError, TypeError, ValueError, LookupError) as exc:
                logger.error("content release %s cannot be read: %s", release.number, exc)
    except DatabaseError as exc:
        raise ContentUnavailable(f"content database unreadable: {type(exc).__name__}") from None
    raise ContentUnavailable("no published content release can be read")


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
    """The change signal this process compares its snapshot with.

    With a shared cache the stamp lives there, so one publish reaches every
    app server. Without one, worker processes on one machine share a stamp
    file and read its modification time (one stat call per request).
    Raises ContentUnavailable when the signal cannot be read (Redis down, the
    stamp file missing on a read-only or full disk): serving on without it
    could show stale content after a publish.
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


def snapshot(language: str | None = None) -> Snapshot:
    """The live release. Costs one stat call (or one cache read) when warm, and no SQL.

    When the stamp moved, one query asks for the live release number; the
    records are read and parsed only if that number changed. Raises
    ContentUnavailable when no published release can be read.

    ``language`` (a page's, e.g. "ja") gives the same release with its translated texts
    (``localize_records``), built once per release and language and cached beside the
    English one. Its stamp carries the language, so caches keyed by the stamp (the form's
    layout, the empty page) keep one entry per language. None, and any language without
    translations, is English: the API, the CLI and the EHR ask for that.
    """
    served = served_language(language)
    if served is None:
        return _english_snapshot()
    english = _english_snapshot()
    key = f"snapshot:{served}"
    wanted = f"{english.stamp}|{served}"
    current = _local.get(key)
    if current is not None and current.stamp == wanted:
        return current
    with _lock:
        current = _local.get(key)
        if current is None or current.release_number != english.release_number:
            built = snapshot_of(localize_records(english.records, served), None, wanted)
            current = replace(
                built,
                book=replace(built.book, content_version=english.book.content_version),
                release=english.release,
                release_number=english.release_number,
            )
        else:
            current = replace(current, stamp=wanted)
        _local[key] = current
    return current


def _english_snapshot() -> Snapshot:
    stamp = current_stamp()
    current = _local.get("snapshot")
    if current is not None and current.stamp == stamp:
        return current
    with _lock:
        current = _local.get("snapshot")
        if current is not None and current.stamp == stamp:
            return current
        try:
            number = models.ContentRelease.objects.published().values_list("number", flat=True).first()
        except DatabaseError as exc:
            raise ContentUnavailable(f"content database unreadable: {type(exc).__name__}") from None
        if current is not None and number is not None and current.release_number == number:
            current = replace(current, stamp=stamp)
        else:
            current = build_snapshot(stamp)
        _local["snapshot"] = current
    return current


def invalidate(**_: Any) -> None:
    """Tell every process to look for a new live release, once the transaction commits."""
    _after_commit(_signal)


# Indirection so tests, which run inside a transaction that never commits, can signal at once.
_after_commit = transaction.on_commit


def _signal() -> None:
    if _shared_cache():
        cache.set(STAMP_KEY, uuid.uuid4().hex, timeout=None)
    else:
        _bump_file(_stamp_file())
    _local.clear()  # the English snapshot and each language's
