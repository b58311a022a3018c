"""The follow-up (clinical.md §h) and screen (§i) rules as the web, API, CLI and EHR rooms get them.

One entry point per engine so that every output reads the same rules: ``follow_up_rules()``
and ``screen_rules()`` return the engine's plain-data rule objects, and ``care_context()``
the content version and disclaimer that every output carries.

The follow-up rules are content like the criteria: rows of ``FollowUpThreshold`` and
``FollowUpRule`` that editors change in the admin (with history), published in a content
release only if they build (the publishing gate calls ``follow_up_problems``), and read
here from the live release's records, built once per release. fixtures/follow_up_rules.json
is their seed (``seed_follow_up_rules``, run by ``manage.py load_content``) and the engine
tests' source. The screen rules still come from their seed file.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from checklist.content.models import FollowUpRule, FollowUpThreshold
from checklist.content.rule_book import ContentUnavailable, snapshot
from checklist.engine.follow_up import evaluate_follow_up, parse_follow_up, to_json
from checklist.engine.follow_up.rules import FollowUpRules, RulesError, rules_from_dict
from checklist.engine.screen import ScreenRules, build_rules

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
