"""Apply a criteria set's rule to the derived criteria.

The rule is generic: every mandatory criterion met, at least ``major_min``
of the other major criteria and at least ``minor_min`` of the minor ones. A
new criteria set is therefore content alone: which criteria sit in which
group, and the two minimums.
"""

from __future__ import annotations

from dataclasses import dataclass

from .derive import S_MET, S_NOT_MET, S_UNKNOWN, CriterionResult, Derived
from .result import Verdict
from .rulebook import CriteriaSetRule, RuleBook

# Module-level aliases: attribute access on an Enum class is slow in Python 3.11.
V_MET, V_NOT_MET, V_INCOMPLETE = Verdict.MET, Verdict.NOT_MET, Verdict.INCOMPLETE


@dataclass(slots=True)
class SetOutcome:
    rule: CriteriaSetRule
    status: Verdict
    results: dict[str, CriterionResult]
    missing: list[str]
    blockers: list[str]  # plain-words reasons the set is not (yet) met

    @property
    def met(self) -> bool:
        return self.status is V_MET


def _results_for(rule: CriteriaSetRule, derived: Derived) -> dict[str, CriterionResult]:
    if rule.apply_endocrine_caveat:
        return derived.criteria
    return {**derived.criteria, "endocrinopathy": derived.endocrinopathy_no_caveat}


def apply_rule(rule: CriteriaSetRule, derived: Derived, book: RuleBook) -> SetOutcome:
    results = _results_for(rule, derived)
    name = book.criterion_names.get

    missing: list[str] = []
    blockers: list[str] = []
    impossible = False
    short = False
    for code in rule.mandatory:
        s = results[code].status
        if s is S_NOT_MET:
            impossible = True
            blockers.append(f"{name(code, code)} is required and is not met.")
        elif s is S_UNKNOWN:
            short = True
            missing.append(code)
            blockers.append(f"{name(code, code)} is required and is not settled.")
    for word, codes, minimum in (
        ("other major", rule.major, rule.major_min),
        ("minor", rule.minor, rule.minor_min),
    ):
        met = [c for c in codes if results[c].status is S_MET]
        unknown = [c for c in codes if results[c].status is S_UNKNOWN]
        if len(met) >= minimum:
            continue
        noun = f"{minimum} {word} criterion" if minimum == 1 else f"{minimum} {word} criteria"
        met_words = "none met" if not met else f"{len(met)} met"
        if len(met) + len(unknown) < minimum:
            impossible = True
            left = f"only {len(unknown)} not yet settled" if unknown else "none left to assess"
            blockers.append(f"Needs at least {noun}; {met_words}, {left}.")
        else:
            short = True
            missing.extend(unknown)
            listed = ", ".join(name(c, c) for c in unknown)
            blockers.append(f"Needs at least {noun}; {met_words}. Not settled: {listed}.")
    if impossible:
        return SetOutcome(rule, V_NOT_MET, results, [], blockers)
    if short:
        return SetOutcome(rule, V_INCOMPLETE, results, missing, blockers)
    return SetOutcome(rule, V_MET, results, [], [])
