"""The follow-up (clinical.md §h) and screen (§i) rules as the web, API, CLI and EHR rooms get them.

One entry point per engine so that every output reads the same rules: ``follow_up_rules()``
and ``screen_rules()`` return the engine's plain-data rule objects, and ``care_context()``
the content version and disclaimer that every output carries.

Today the rules come from the reviewed seed files (fixtures/follow_up_rules.json and
fixtures/screen_rules.json), read and validated once per process. Moving them into the
published content release (so that editors change them in the admin, with history and the
publishing gate) changes only this module: callers keep calling these functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

from checklist.content.rule_book import snapshot
from checklist.engine.follow_up.rules import FollowUpRules, rules_from_dict
from checklist.engine.screen import ScreenRules, build_rules

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
