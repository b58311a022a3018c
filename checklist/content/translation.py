"""The content fields a clinician reads, translated beside the English (django-modeltranslation).

Registering a field (``translated_fields.TRANSLATED``) gives it a ``<field>_ja`` and a
``<field>_zh_hans`` column (settings ``MODELTRANSLATION_LANGUAGES``).

django-modeltranslation also makes the original attribute follow the active language (``name``
would read ``name_ja`` on a Japanese request), rewrites queries on it and copies constructor
values into the active language's column. Here the original column is the English source of
truth: the engine, the API, the regression cases, and every published release read it, and a
publish from an editor whose admin happened to be in Japanese must not put Japanese into the
English records. So after registering, ``_keep_english`` puts back each model's own accessors,
constructor, managers and ``_meta`` class: the models gain plain columns and nothing else, and
the served language is chosen where content is served (``rule_book.localized``).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models as db_models
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_save
from modeltranslation.translator import TranslationOptions, translator
from simple_history.models import HistoricalRecords

from checklist.content.translated_fields import LANGUAGE_SUFFIXES, TRANSLATED

_PATCHED_METHODS = ("__init__", "clean_fields", "get_deferred_fields", "refresh_from_db")


def _keep_english(
    model: type[db_models.Model], fields: tuple[str, ...], before: dict[str, Any], managers: dict[str, type]
) -> None:
    for name in (*_PATCHED_METHODS, *fields):
        if before.get(name) is not None:
            setattr(model, name, before[name])
        elif name in model.__dict__:
            delattr(model, name)  # inherited before: inherit again
    for name in fields:
        if name not in before:
            setattr(model, name, DeferredAttribute(model._meta.get_field(name)))  # type: ignore[arg-type]
    # Registering made the managers local copies of a multilingual subclass; back to their own class.
    for manager in model._meta.local_managers:
        manager.__class__ = managers[manager.name]
    model._meta.__class__ = before["_meta_class"]
    model._meta._expire_cache()  # type: ignore[attr-defined]


def _history_leaves_out(model: type[db_models.Model], names: list[str]) -> None:
    """simple-history built each historical model before these columns existed: it must not copy them.

    Its HistoricalRecords object is reachable only through the post_save receiver it connected
    (weak=False, so the bound method itself is stored). The translations' own history is each
    published release (checklist.content.publishing), which keeps every text as served.
    """
    for entry in post_save.receivers:
        (_receiver_id, sender_id), receiver = entry[0], entry[1]
        records = getattr(receiver, "__self__", None)
        if sender_id == id(model) and isinstance(records, HistoricalRecords):
            records.excluded_fields = [*records.excluded_fields, *names]


def _register() -> None:
    for label, fields in TRANSLATED.items():
        model = apps.get_model(label)
        before: dict[str, Any] = {n: model.__dict__.get(n) for n in _PATCHED_METHODS}
        before.update({n: model.__dict__[n] for n in fields if n in model.__dict__})
        before["_meta_class"] = model._meta.__class__
        managers = {m.name: type(m) for m in model._meta.managers}
        options = type(f"{model.__name__}Translation", (TranslationOptions,), {"fields": fields})
        translator.register(model, options)
        _keep_english(model, fields, before, managers)
    # Every model's history leaves out every translated column, not only its own: a reverse
    # many-to-many change (criteria_set.findings_not_counted.add) has Finding's HistoricalRecords
    # write the criteria set's history row, filtered by Finding's exclusions.
    columns = [
        f + suffix for fields in TRANSLATED.values() for f in fields for suffix in LANGUAGE_SUFFIXES.values()
    ]
    for label in TRANSLATED:
        _history_leaves_out(apps.get_model(label), sorted(set(columns)))


_register()
