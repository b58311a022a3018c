"""The follow-up (clinical.md §h) and screen (§i) rules as the web, API, CLI and EHR rooms get them.

One entry point per engine so that every output reads the same rules: ``follow_up_rules()``
and ``screen_rules()`` return the engine's plain-data rule objects, and ``care_context()``
the content version and disclaimer that every output carries.

The follow-up rules are content like the criteria: rows of ``FollowUpThreshold`` and
``FollowUpRule`` that editors change in the admin (with history), published in a content
release only if they build (the publishing gate calls ``follow_up_problems``), and read
here from the live release's records, built once per release. fixtures/follow_up_rules.json
is their seed (``seed_follow_up_rules``, run by ``manage.py load_content``) and the engine
tests' source. The screen rules still come from their seed file (fixtures/screen_rules.json).

``order_hook_rules()`` is the screen rules with the order hooks' codes (clinical.md §i.7),
which are content already: the ``TerminologyCode`` rows of the live release.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from checklist.content.models import FollowUpRule, FollowUpThreshold
from checklist.content.rule_book import ContentUnavailable, snapshot
from checklist.engine.follow_up import evaluate_follow_up, parse_follow_up, to_json
from checklist.engine.follow_up.rules import FollowUpRules, RulesError, rules_from_dict
from checklist.engine.screen import ScreenRules, build_rules
from checklist.engine.screen.rules import CodeList

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
FOLLOW_UP_SEED = FIXTURES / "follow_up_rules.json"
THRESHOLD_MODEL = "checklist.followupthreshold"
RULE_MODEL = "checklist.followuprule"
FOLLOW_UP_MODELS = frozenset({THRESHOLD_MODEL, RULE_MODEL})


@dataclass(frozen=True, slots=True)
class CareContext:
    """What every follow-up and screen output carries beside its answer."""

    content_version: str
    disclaimer: str


# -- follow-up rules as content ---------------------------------------------------------


def _value_of(text: Any) -> Any:
    """A threshold row's value as rules_from_dict reads it: true/false, None (off), or the digits."""
    if not isinstance(text, str):
        return text
    word = text.strip().lower()
    if word in ("true", "false"):
        return word == "true"
    return text.strip() or None


def rules_data(records: Iterable[Mapping[str, Any]], version: str, disclaimer: str) -> dict[str, Any]:
    """The follow-up rows of ``records`` (fixture-shaped) in the shape ``rules_from_dict`` reads."""
    thresholds: dict[str, Any] = {}
    rules: dict[str, Any] = {}
    for record in records:
        model, f = record["model"], record["fields"]
        if model == THRESHOLD_MODEL:
            thresholds[f["code"]] = {
                "value": _value_of(f.get("value")),
                "unit": f.get("unit", ""),
                "source": f.get("source", ""),
                "evidence": f.get("evidence", ""),
            }
        elif model == RULE_MODEL:
            rules[f["code"]] = {"source": f.get("source", ""), "evidence": f.get("evidence", "")}
    return {"version": version, "disclaimer": disclaimer, "thresholds": thresholds, "rules": rules}


def follow_up_problems(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Why the follow-up rules of ``records`` do not build (empty: they do). The publishing gate."""
    try:
        rules_from_dict(rules_data(records, "draft", "draft"))
    except RulesError as exc:
        return [f"Follow-up rules: {problem}" for problem in exc.problems]
    return []


_lock = threading.Lock()
_built: dict[str, tuple[object, FollowUpRules]] = {}


def follow_up_rules() -> FollowUpRules:
    """The live release's follow-up rules, built once per release (warm: one identity check).

    Raises ContentUnavailable (503, like the checklist) if no release can be read or the
    live one holds no follow-up rules that build (one published before they were content:
    ``manage.py load_content`` publishes them).
    """
    snap = snapshot()
    cached = _built.get("rules")
    # Releases are immutable and a new one is a new records tuple: identity is the key.
    if cached is not None and cached[0] is snap.records:
        return cached[1]
    with _lock:
        data = rules_data(snap.records, snap.book.content_version, snap.book.disclaimer)
        try:
            rules = rules_from_dict(data)
        except RulesError as exc:
            raise ContentUnavailable(f"the live release's follow-up rules do not build: {exc}") from None
        _built["rules"] = (snap.records, rules)
    return rules


def follow_up_today() -> datetime.date:
    """The latest date that is not in the future anywhere (UTC+14): a visit dated today by a
    clinician east of the server is not refused as a date in the future (design.md §3.9)."""
    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=14)).date()


def follow_up_data(data: Any, today: datetime.date | None = None) -> dict[str, Any]:
    """Validate and evaluate a decoded §3.9 document. Raises InputError naming each bad field.

    The one path from JSON to the §3.9 output, shared by the API and the CLI.
    """
    timeline = parse_follow_up(data, today or follow_up_today())
    return to_json(evaluate_follow_up(timeline, follow_up_rules()))


def seed_follow_up_rules(*, overwrite: bool = False) -> int:
    """Create the follow-up rows from the seed file where none exist yet; how many were made.

    Rows an editor already has are kept unless ``overwrite`` (load_content --force).
    """
    seed = json.loads(FOLLOW_UP_SEED.read_text(encoding="utf-8"))

    def save(manager: Any, code: str, defaults: dict[str, str]) -> bool:
        write = manager.update_or_create if overwrite else manager.get_or_create
        _row, created = write(code=code, defaults=defaults)
        return bool(created)

    made = 0
    for code, raw in seed["thresholds"].items():
        value = raw.get("value")
        text = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
        made += save(
            FollowUpThreshold.objects,
            code=code,
            defaults={
                "value": text,
                "unit": raw.get("unit", ""),
                "evidence": raw["evidence"],
                "source": raw["source"],
            },
        )
    for code, raw in seed["rules"].items():
        made += save(
            FollowUpRule.objects, code=code, defaults={"evidence": raw["evidence"], "source": raw["source"]}
        )
    return made


# -- screen rules and the shared context --------------------------------------------------


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
