"""The CIDP clinic screen, "Could this neuropathy be POEMS?" (clinical.md §i, design.md §3.10).

Pure functions over plain data: ``build_rules`` makes the rules from the seed's dict,
``parse_screen`` reads an input, ``run_screen`` answers, ``screen_output`` gives the
§3.10 dict, and ``screen_json`` does all three without ever raising on bad input.
``card_decision`` is the §i.7 CDS Hooks trigger.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..inputs import InputError
from .cds import CardDecision, Coding, DraftOrder, card_decision
from .evaluate import RedFlag, ScreenResult, TestToOrder, run_screen, screen_output
from .inputs import ScreenInput, parse_screen
from .rules import RulesError, ScreenRules, build_rules


def screen_json(
    data: Any, rules: ScreenRules, *, today: dt.date, content_version: str, disclaimer: str
) -> dict[str, Any]:
    """The §3.10 output for a decoded input, or ``{"errors": [...]}``."""
    try:
        inp = parse_screen(data, rules, today=today)
    except InputError as exc:
        return exc.as_dict()
    return screen_output(run_screen(inp, rules), content_version=content_version, disclaimer=disclaimer)


__all__ = [
    "CardDecision",
    "Coding",
    "DraftOrder",
    "RedFlag",
    "RulesError",
    "ScreenInput",
    "ScreenResult",
    "ScreenRules",
    "TestToOrder",
    "build_rules",
    "card_decision",
    "parse_screen",
    "run_screen",
    "screen_json",
    "screen_output",
]
