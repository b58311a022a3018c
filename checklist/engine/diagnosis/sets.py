"""Apply a criteria set's rule to the derived criteria.

The rule is generic: every mandatory criterion met, at least ``major_min``
of the other major criteria and at least ``minor_min`` of the minor ones. A
new criteria set is therefore content alone: which criteria sit in which
group, and the two minimums.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from checklist.engine.diagnosis.derive import (
    S_MET,
    S_NOT_MET,
    S_UNKNOWN,
    CriterionResult,
    Derived,
    criteria_for,
)
from checklist.engine.diagnosis.result import Verdict
from checklist.engine.diagnosis.rulebook import CriteriaSetRule, RuleBook

# Module-level aliases: attribute access on an Enum class is slow in Python 3.11.
V_MET, V_NOT_MET, V_INCOMPLETE = Verdict.MET, Verdict.NOT_MET, Verdict.INCOMPLETE


# Why a set is not (yet) met, as data; worded only when someone reads it
# (the comparison, a caution's detail): most evaluations never do.
Gap = tuple[str, str, int, int, tuple[str, ...]]  # (kind, group word or code, minimum, met, unsettled)


@dataclass(slots=True)
class SetOutcome:
    rule: CriteriaSetRule
    status: Verdict
    results: dict[str, CriterionResult]
    # Explicit flags this set's reading of the findings contradicts: code -> detail.
    conflicts: dict[str, str]
    missing: list[str]
    gaps: list[Gap]
    names: Mapping[str, str]

    @property
    def met(self) -> bool:
        return self.status is V_MET

    @property
    def blockers(self) -> list[str]:
        """Plain-words reasons the set is not (yet) met."""
        out = []
        for kind, what, minimum, met, unsettled in self.gaps:
            if kind == "required":
                word = "not met" if not unsettled else "not settled"
                out.append(f"{self.names.get(what, what)} is required and is {word}.")
                continue
            noun = f"{minimum} {what} criterion" if minimum == 1 else f"{minimum} {what} criteria"
            met_words = "none met" if not met else f"{met} met"
            if kind == "impossible":
                left = f"only {len(unsettled)} not yet settled" if unsettled else "none left to assess"
                out.append(f"Needs at least {noun}; {met_words}, {left}.")
            else:
                listed = ", ".join(self.names.get(c, c) for c in unsettled)
                out.append(f"Needs at least {noun}; {met_words}. Not settled: {listed}.")
        return out


def apply_rule(rule: CriteriaSetRule, derived: Derived, book: RuleBook) -> SetOutcome:
    # The set's own sub-finding lists where they differ (no 2007 caveat, narrower 2003 lists).
    results, conflicts = criteria_for(rule, derived, book)
    missing: list[str] = []
    gaps: list[Gap] = []
    impossible = False
    short = False
    for code in rule.mandatory:
        s = results[code].status
        if s is S_NOT_MET:
            impossible = True
            gaps.append(("required", code, 1, 0, ()))
        elif s is S_UNKNOWN:
            short = True
            missing.append(code)
            gaps.append(("required", code, 1, 0, (code,)))
    for word, codes, minimum in (
        ("other major", rule.major, rule.major_min),
        ("minor", rule.minor, rule.minor_min),
    ):
        met = 0
        unknown: list[str] = []
        for c in codes:
            s = results[c].status
            if s is S_MET:
                met += 1
            elif s is S_UNKNOWN:
                unknown.append(c)
        if met >= minimum:
            continue
        if met + len(unknown) < minimum:
            impossible = True
            gaps.append(("impossible", word, minimum, met, tuple(unknown)))
        else:
            short = True
            missing.extend(unknown)
            gaps.append(("short", word, minimum, met, tuple(unknown)))
    names = book.criterion_names
    if impossible:
        return SetOutcome(rule, V_NOT_MET, results, conflicts, [], gaps, names)
    if short:
        return SetOutcome(rule, V_INCOMPLETE, results, conflicts, missing, gaps, names)
    return SetOutcome(rule, V_MET, results, conflicts, [], [], names)
