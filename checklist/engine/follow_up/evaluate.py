"""Evaluate a follow-up timeline: each visit k from visits 1..k only (clinical.md §h.3 H-B5)."""

from __future__ import annotations

from .baseline_nadir import Line, line_of
from .clinical import evaluate_clinical
from .hem import evaluate_hem
from .inputs import Timeline, Treatment
from .pet import evaluate_pet
from .progression import progression_flag
from .result import FollowUpResult, VisitResult
from .rules import FollowUpRules
from .vegf import evaluate_vegf


def evaluate_follow_up(timeline: Timeline, rules: FollowUpRules) -> FollowUpResult:
    visits = timeline.visits
    out: list[VisitResult] = []
    hem_seen: dict[object, set[str]] = {}
    lines: dict[Treatment, Line] = {}
    for k, visit in enumerate(visits):
        earlier = visits[:k]
        line = line_of(visit.date, timeline.treatments, rules, visits, lines)
        key = line.start if line else None
        seen = hem_seen.setdefault(key, set())
        domains = {
            "vegf": evaluate_vegf(visit, earlier, line, rules),
            "hem": evaluate_hem(visit, earlier, line, rules, seen),
            "pet": evaluate_pet(visit, earlier, line, timeline.treatments, rules),
            "clinical": evaluate_clinical(visit, earlier, line, rules),
        }
        seen.add(domains["hem"].category)
        flag, triggers = progression_flag(domains)
        out.append(VisitResult(visit.date, domains, flag, triggers))
    return FollowUpResult(rules.version, rules.disclaimer, tuple(out))
