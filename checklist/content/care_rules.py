"""The follow-up (clinical.md §h) and screen (§i) rules as the web, API, CLI and EHR rooms get them.

One entry point per engine so that every output reads the same rules: ``follow_up_rules()``
and ``screen_rules()`` return the engine's plain-data rule objects, and ``care_context()``
the content version and disclaimer that every output carries.

``order_hook_rules()`` is the screen rules with the order hooks' codes (clinical.md §i.7),
which are content already: the ``TerminologyCode`` rows of the live release.

Today the other rules come from the reviewed seed files (fixtures/follow_up_rules.json and
fixtures/screen_rules.json), read and validated once per process. Moving them into the
published content release (so that editors change them in the admin, with history and the
publishing gate) changes only this module: callers keep calling these functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from checklist.content.rule_book import snapshot
from checklist.engine.follow_up.rules import FollowUpRules, rules_from_dict
from checklist.engine.screen import ScreenRules, build_rules
from checklist.engine.screen.rules import CodeList

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


@dataclass(frozen=True, slots=True)
class CareContext:
    """What every follow-up and screen output carries beside its answer."""

    content_version: str
    disclaimer: str


@cache
def follow_up_rules() -> FollowUpRules:
    """The follow-up rules; raises RulesError at first use if the seed is inconsistent."""
    data = json.loads((FIXTURES / "follow_up_rules.json").read_text(encoding="utf-8"))
    return rules_from_dict(data)


@cache
def screen_rules() -> ScreenRules:
    """The screen rules; raises RulesError at first use if the seed is inconsistent."""
    data = json.loads((FIXTURES / "screen_rules.json").read_text(encoding="utf-8"))
    return build_rules(data)


def care_context() -> CareContext:
    """The live release's version and disclaimer (raises ContentUnavailable like the checklist)."""
    book = snapshot().book
    return CareContext(content_version=book.content_version, disclaimer=book.disclaimer)


# ---------------------------------------------------------------------------- order hooks (§i.7)

# What a Condition coded for each use means on the screen's input (the order service reads
# the problem list; a code absent from the chart leaves the finding not assessed, never "no").
CONDITION_FINDINGS = {"fluid": "extravascular_volume_overload", "skin": "skin_changes"}
_WEAKEST_FIRST = ("unverified", "secondary", "read_table")


@dataclass(frozen=True, slots=True)
class OrderHookRules:
    """The screen rules with the order-hook codes of the live release, and the codes as rows."""

    rules: ScreenRules
    # (system, code) -> screen finding code, for red-flag Conditions (oedema, skin).
    condition_findings: dict[tuple[str, str], str]
    # Every active code row (plain dicts: use, system, code, display, evidence, source).
    codes: tuple[dict[str, Any], ...]


_order_cache: dict[tuple[Any, str], OrderHookRules] = {}


def _seed_codes() -> list[dict[str, Any]]:
    data = json.loads((FIXTURES / "terminology_codes.json").read_text(encoding="utf-8"))
    return [r["fields"] for r in data]


def order_hook_rules() -> OrderHookRules:
    """The rules the order hooks use: codes from the live release (content, edited in the admin).

    A release published before the codes were content holds none: it is served with the
    seed's codes (fixtures/terminology_codes.json) until an editor publishes.
    """
    snap = snapshot()
    key = (snap.release_number, snap.stamp)
    found = _order_cache.get(key)
    if found is not None:
        return found
    rows = [r["fields"] for r in snap.records if r.get("model") == "checklist.terminologycode"]
    if not rows:
        rows = _seed_codes()
    active = tuple(dict(r) for r in rows if r.get("active", True))
    built = OrderHookRules(
        rules=_with_codes(screen_rules(), active),
        condition_findings={
            (str(r["system"]), str(r["code"])): CONDITION_FINDINGS[str(r["use"])]
            for r in active
            if r["use"] in CONDITION_FINDINGS
        },
        codes=active,
    )
    _order_cache.clear()  # one release is live at a time
    _order_cache[key] = built
    return built


def _code_lists(
    rows: tuple[dict[str, Any], ...], use: str, seed: tuple[CodeList, ...]
) -> tuple[CodeList, ...]:
    by_system: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["use"] == use:
            by_system.setdefault(str(r["system"]), []).append(r)
    notes = {c.system: c.note for c in seed}
    return tuple(
        CodeList(
            system=system,
            codes=tuple(str(r["code"]) for r in found),
            needs_terminology_editor=False,
            evidence=min((str(r["evidence"]) for r in found), key=_WEAKEST_FIRST.index),
            note=notes.get(system, "order-hook codes (content)"),
        )
        for system, found in by_system.items()
    )


def _with_codes(rules: ScreenRules, rows: tuple[dict[str, Any], ...]) -> ScreenRules:
    cds = rules.cds
    orders = tuple(
        replace(
            t,
            codes=tuple(str(r["code"]) for r in rows if r["use"] == t.code and r["system"] == t.system),
        )
        for t in cds.trigger_orders
    )
    return replace(
        rules,
        cds=replace(
            cds,
            trigger_orders=tuple(replace(t, needs_terminology_editor=not t.codes) for t in orders),
            cidp_conditions=_code_lists(rows, "cidp", cds.cidp_conditions),
            poems_conditions=_code_lists(rows, "poems", cds.poems_conditions),
        ),
    )
