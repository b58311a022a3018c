"""Apply a criteria set's rule to the derived criteria, and build the output of design.md §3.3.

The rule is generic: every mandatory criterion met, at least ``major_min``
of the other major criteria and at least ``minor_min`` of the minor ones. A
new criteria set is therefore content alone: which criteria sit in which
group, and the two minimums.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .derive import S_MET, S_NOT_MET, S_UNKNOWN, CriterionResult, Derived, Status, derive
from .differentials import differentials
from .inputs import Case
from .rulebook import CriteriaSetRule, RuleBook
from .vocabulary import Group

MET, NOT_MET, INCOMPLETE = "met", "not_met", "incomplete"
# Plain strings for the output, looked up rather than read through Enum.value,
# which is a slow descriptor in Python 3.11 and sits in the per-criterion loop.
_MANDATORY, _MAJOR, _MINOR = Group.MANDATORY.value, Group.MAJOR.value, Group.MINOR.value
_STATUS_TEXT = {status: status.value for status in Status}


@dataclass(slots=True)
class SetOutcome:
    rule: CriteriaSetRule
    status: str
    results: dict[str, CriterionResult]
    missing: list[str]
    blockers: list[str]  # plain-words reasons the set is not (yet) met


def _results_for(rule: CriteriaSetRule, derived: Derived) -> dict[str, CriterionResult]:
    if rule.apply_endocrine_caveat:
        return derived.criteria
    return {**derived.criteria, "endocrinopathy": derived.endocrinopathy_no_caveat}


def apply_rule(rule: CriteriaSetRule, derived: Derived, book: RuleBook) -> SetOutcome:
    results = _results_for(rule, derived)
    name = book.criterion_names.get

    def status_of(code: str) -> Status:
        return results[code].status

    missing: list[str] = []
    blockers: list[str] = []
    impossible = False
    short = False
    for code in rule.mandatory:
        s = status_of(code)
        if s is S_NOT_MET:
            impossible = True
            blockers.append(f"{name(code, code)} is required and is not met.")
        elif s is S_UNKNOWN:
            short = True
            missing.append(code)
            blockers.append(f"{name(code, code)} is required and is not assessed.")
    for group, codes, minimum in (
        (_MAJOR, rule.major, rule.major_min),
        (_MINOR, rule.minor, rule.minor_min),
    ):
        met = [c for c in codes if status_of(c) is S_MET]
        unknown = [c for c in codes if status_of(c) is S_UNKNOWN]
        if len(met) >= minimum:
            continue
        word = "other major" if group == _MAJOR else "minor"
        noun = f"{minimum} {word} criterion" if minimum == 1 else f"{minimum} {word} criteria"
        met_words = "none met" if not met else f"{len(met)} met"
        if len(met) + len(unknown) < minimum:
            impossible = True
            left = f"only {len(unknown)} not yet assessed" if unknown else "none left to assess"
            blockers.append(f"Needs at least {noun}; {met_words}, {left}.")
        else:
            short = True
            missing.extend(unknown)
            listed = ", ".join(name(c, c) for c in unknown)
            blockers.append(f"Needs at least {noun}; {met_words}. Not assessed: {listed}.")
    if impossible:
        return SetOutcome(rule, NOT_MET, results, [], blockers)
    if short:
        return SetOutcome(rule, INCOMPLETE, results, missing, blockers)
    return SetOutcome(rule, MET, results, [], [])


def _cautions(
    case: Case, book: RuleBook, derived: Derived, outcome: SetOutcome, outcomes: dict[str, SetOutcome]
) -> list[dict[str, str]]:
    found: list[tuple[str, str]] = list(derived.cautions)
    if case.labs.get("light_chain_type") == "kappa":
        found.append(("kappa_light_chain", ""))
    if case.labs.get("heavy_chain_type") == "IgM":
        found.append(("igm_heavy_chain", ""))
    results = outcome.results
    rule = outcome.rule

    # A Castleman node may also be the "lymphadenopathy" that makes organomegaly.
    organ = results.get("organomegaly")
    if (
        results["castleman_disease"].status is S_MET
        and organ is not None
        and organ.status is S_MET
        and case.findings.get("organomegaly") is None
        and case.findings.get("lymphadenopathy") is True
        and case.findings.get("hepatomegaly") is not True
        and case.findings.get("splenomegaly") is not True
        and [c for c in rule.minor if results[c].status is S_MET] == ["organomegaly"]
    ):
        found.append(("castleman_node_double_counted", ""))

    if (
        not rule.apply_endocrine_caveat
        and "endocrinopathy" in rule.codes
        and derived.endocrinopathy_no_caveat.status is S_MET
        and derived.criteria["endocrinopathy"].status is not S_MET
    ):
        found.append(("endocrine_caveat_not_applied", ""))

    if outcome.status != MET and not rule.is_historical:
        older = [o.rule.name for o in outcomes.values() if o.rule.is_historical and o.status == MET]
        if older:
            found.append(("met_only_under_older_rules", "Met under: " + ", ".join(older) + "."))

    # Endocrine caveat caution is about the default reading; drop it where the set ignores the caveat.
    if not rule.apply_endocrine_caveat:
        found = [c for c in found if c[0] != "endocrinopathy_diabetes_thyroid_only"]

    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for code, detail in found:
        if code in seen:
            continue
        seen.add(code)
        item = {"code": code, "message": book.caution_messages[code]}
        if detail:
            item["detail"] = detail
        out.append(item)
    return out


def _comparison(outcomes: dict[str, SetOutcome], book: RuleBook) -> list[dict[str, Any]]:
    met = [o.rule.name for o in outcomes.values() if o.status == MET]
    rows = []
    for o in outcomes.values():
        if o.status == MET:
            explanation = "Met." if len(met) > 1 or len(outcomes) == 1 else f"Met under {o.rule.name} only."
        else:
            explanation = " ".join(o.blockers)
        rows.append(
            {
                "criteria_set": o.rule.slug,
                "name": o.rule.name,
                "status": o.status,
                "meets_criteria": o.status == MET,
                "missing": o.missing,
                "explanation": explanation,
            }
        )
    return rows


def evaluate(case: Case, book: RuleBook) -> dict[str, Any]:
    """Evaluate a validated case under its criteria set (or the default). Pure; no I/O."""
    derived = derive(case, book)
    slug = case.criteria_set or book.default_set
    outcome = apply_rule(book.sets[slug], derived, book)
    # Other sets are needed only for the comparison, or for the "met only under
    # older rules" caution when the chosen set is not met.
    outcomes = {slug: outcome}
    for other, rule in book.sets.items():
        if other != slug and (case.compare or (rule.is_historical and outcome.status != MET)):
            outcomes[other] = apply_rule(rule, derived, book)
    outcomes = {s: outcomes[s] for s in book.sets if s in outcomes}
    rule = outcome.rule
    results = outcome.results

    criteria = []
    for group, codes in (
        (_MANDATORY, rule.mandatory),
        (_MAJOR, rule.major),
        (_MINOR, rule.minor),
    ):
        for code in codes:
            r = results[code]
            item: dict[str, Any] = {
                "code": code,
                "name": rule.labels.get(code) or book.criterion_names[code],
                "group": group,
                "status": _STATUS_TEXT[r.status],
                "reasons": list(r.reasons),
            }
            if r.status is S_UNKNOWN and book.investigations.get(code):
                item["to_settle"] = book.investigations[code]
            criteria.append(item)

    def met_in(codes: tuple[str, ...]) -> list[str]:
        return [c for c in codes if results[c].status is S_MET]

    output: dict[str, Any] = {
        "criteria_set": {"slug": rule.slug, "name": rule.name, "version": rule.version},
        "content_version": book.content_version,
        "status": outcome.status,
        "meets_criteria": outcome.status == MET,
        "mandatory_met": met_in(rule.mandatory),
        "major_met": met_in(rule.major),
        "minor_met": met_in(rule.minor),
        "criteria": criteria,
        "missing": outcome.missing,
        "differentials": differentials(case, book, derived, outcome.status),
        "cautions": _cautions(case, book, derived, outcome, outcomes),
        "warnings": [w.as_dict() for w in case.warnings],
        "disclaimer": book.disclaimer,
    }
    if case.compare:
        output["comparison"] = _comparison(outcomes, book)
    return output
