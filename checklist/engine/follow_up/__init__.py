"""Follow-up after treatment (clinical.md §h, design.md §3.9): pure functions, no Django.

``parse_follow_up`` validates the JSON (raising ``InputError``), ``rules_from_dict`` builds the
content, ``evaluate_follow_up`` answers, and ``to_json`` gives the §3.9 output.
"""

from __future__ import annotations

from .evaluate import evaluate_follow_up
from .inputs import Timeline, parse_follow_up
from .result import FollowUpResult, to_json
from .rules import FollowUpRules, RulesError, rules_from_dict

__all__ = [
    "FollowUpResult",
    "FollowUpRules",
    "RulesError",
    "Timeline",
    "evaluate_follow_up",
    "parse_follow_up",
    "rules_from_dict",
    "to_json",
]
