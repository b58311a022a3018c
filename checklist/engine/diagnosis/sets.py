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
from checklist.engine.diagnosis.result import Status, Verdict
from checklist.engine.diagnosis.rulebook import Category, CriteriaSetRule, RuleBook
from checklist.engine.i18n import COMMA
from checklist.engine.message import Message, join

# Module-level aliases: attribute access on an Enum class is slow in Python 3.11.
V_MET, V_NOT_MET, V_INCOMPLETE = Verdict.MET, Verdict.NOT_MET, Verdict.INCOMPLETE


# The gaps' group words and fixed phrases, made once (a blocker is worded per reading).
_GROUP_WORDS = {"other major": Message("other major"), "minor": Message("minor")}
_NONE_MET = Message("none met")
_NONE_LEFT = Message("none left to assess")

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
    # A graded set (MHLW, §j.5 J-M5): definite | probable | possible | not_met | unknown.
    category: str | None = None

    @property
    def met(self) -> bool:
        return self.status is V_MET

    @property
    def blockers(self) -> list[str]:
        """Plain-words reasons the set is not (yet) met."""
        out: list[str] = []
        for kind, what, minimum, met, unsettled in self.gaps:
            if kind == "required":
                name = self.names.get(what, what)
                if unsettled:
                    out.append(Message("%(name)s is required and is not settled.", name=name))
                else:
                    out.append(Message("%(name)s is required and is not met.", name=name))
                continue
            group = _GROUP_WORDS.get(what, what)
            if minimum == 1:
                noun = Message("%(n)s %(group)s criterion", n=str(minimum), group=group)
            else:
                noun = Message("%(n)s %(group)s criteria", n=str(minimum), group=group)
            met_words = Message("%(n)s met", n=str(met)) if met else _NONE_MET
            if kind == "impossible":
                if unsettled:
                    left = Message("only %(n)s not yet settled", n=str(len(unsettled)))
                else:
                    left = _NONE_LEFT
                out.append(
                    Message(
                        "Needs at least %(noun)s; %(met)s, %(left)s.", noun=noun, met=met_words, left=left
                    )
                )
            else:
                listed = join(COMMA, [self.names.get(c, c) for c in unsettled])
                out.append(
                    Message(
                        "Needs at least %(noun)s; %(met)s. Not settled: %(listed)s.",
                        noun=noun,
                        met=met_words,
                        listed=listed,
                    )
                )
        return out


def _grade(
    category: Category, rule: CriteriaSetRule, results: dict[str, CriterionResult]
) -> tuple[Status, list[str], list[Gap]]:
    """One category, three-valued: its status, the unknown criteria that could meet it, its gaps."""
    gaps: list[Gap] = []
    unknown: list[str] = []
    impossible = False
    for code in category.requires:
        s = results[code].status
        if s is S_NOT_MET:
            impossible = True
            gaps.append(("required", code, 1, 0, ()))
        elif s is S_UNKNOWN:
            unknown.append(code)
            gaps.append(("required", code, 1, 0, (code,)))
    met = sum(1 for c in rule.minor if results[c].status is S_MET)
    open_minor = [c for c in rule.minor if results[c].status is S_UNKNOWN]
    if met < category.minor_min:
        if met + len(open_minor) < category.minor_min:
            impossible = True
            gaps.append(("impossible", "minor", category.minor_min, met, tuple(open_minor)))
        else:
            unknown.extend(open_minor)
            gaps.append(("short", "minor", category.minor_min, met, tuple(open_minor)))
    if impossible:
        return S_NOT_MET, [], gaps
    if unknown:
        return S_UNKNOWN, unknown, gaps
    return S_MET, [], []


def _apply_categories(
    rule: CriteriaSetRule, results: dict[str, CriterionResult], conflicts: dict[str, str], book: RuleBook
) -> SetOutcome:
    """A graded set: the best category met; met (covered) only by a covered category.

    A category not yet settled above the one met leaves the grade at the one met; when no
    category is met and one could still be, the grade is ``unknown``, never ``not_met``.
    """
    graded = [(c, *_grade(c, rule, results)) for c in rule.categories]
    best = next((c for c, s, _u, _g in graded if s is S_MET), None)
    if best is not None:
        grade = best.code
    elif any(s is S_UNKNOWN for _c, s, _u, _g in graded):
        grade = "unknown"
    else:
        grade = "not_met"
    names = book.criterion_names
    if best is not None and best.covered:
        return SetOutcome(rule, V_MET, results, conflicts, [], [], names, grade)
    covered = [(c, s, u, g) for c, s, u, g in graded if c.covered]
    missing: list[str] = []
    for _c, s, unknown, _g in covered:
        if s is S_UNKNOWN:
            missing.extend(u for u in unknown if u not in missing)
    # The least demanding covered category explains what stands between the case and cover.
    gaps = covered[-1][3]
    status = V_INCOMPLETE if missing else V_NOT_MET
    return SetOutcome(rule, status, results, conflicts, missing, gaps, names, grade)


def apply_rule(rule: CriteriaSetRule, derived: Derived, book: RuleBook) -> SetOutcome:
    if rule.categories:
        return _apply_categories(rule, *criteria_for(rule, derived, book), book)
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
