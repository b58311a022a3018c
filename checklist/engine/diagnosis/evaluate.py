"""Evaluate a case: derive the criteria, apply the chosen set, and gather flags, cautions and treatment.

The pipeline, in reading order:
1. ``derive`` (derive.py): findings and labs -> each criterion met / not met / unknown, with reasons;
2. ``apply_rule`` (sets.py): a criteria set's rule -> met / not met / incomplete;
3. the registries: ``differentials.py`` and ``cautions.py``, one entry per code;
4. ``treatment`` (treatment.py) when the chosen set is met;
5. an ``Evaluation`` (result.py), whose ``to_dict`` is the JSON of design.md §3.3.
"""

from __future__ import annotations

from typing import Any

from checklist.engine.diagnosis.cautions import cautions
from checklist.engine.diagnosis.context import Context
from checklist.engine.diagnosis.derive import S_MET, S_UNKNOWN, CriterionResult, derive
from checklist.engine.diagnosis.differentials import differentials
from checklist.engine.diagnosis.result import (
    Comparison,
    CriterionOutcome,
    Evaluation,
    Evidence,
    ExtentOut,
    Issue,
    ReasonEvidence,
    Treatment,
)
from checklist.engine.diagnosis.rulebook import CriteriaSetRule, RuleBook, Threshold
from checklist.engine.diagnosis.sets import SetOutcome, apply_rule
from checklist.engine.diagnosis.tagging import reason_evidence
from checklist.engine.diagnosis.treatment import treatment
from checklist.engine.diagnosis.workup import extent_to_settle, risk_factors_present, staging_missing
from checklist.engine.i18n import sentences
from checklist.engine.inputs import Case
from checklist.engine.message import Message

_MET = Message("Met.")


def _comparison(outcomes: dict[str, SetOutcome]) -> tuple[Comparison, ...]:
    met = [o.rule.name for o in outcomes.values() if o.met]
    rows = []
    for o in outcomes.values():
        explanation: str
        if o.met:
            if len(met) > 1 or len(outcomes) == 1:
                explanation = _MET
            else:
                explanation = Message("Met under %(set)s only.", set=o.rule.name)
        else:
            explanation = sentences(o.blockers)
        rows.append(Comparison(o.rule.slug, o.rule.name, o.status, o.met, tuple(o.missing), explanation))
    return tuple(rows)


def _notes(notes: list[tuple[str, str]]) -> dict[str, str]:
    by_code: dict[str, list[str]] = {}
    for code, detail in notes:
        by_code.setdefault(code, [])
        if detail:
            by_code[code].append(detail)
    return {code: sentences(details) for code, details in by_code.items()}


def _may_be_met(rule: CriteriaSetRule, criteria: dict[str, CriterionResult], book: RuleBook) -> bool:
    own = {subs.criterion for subs in book.set_lists(rule.slug)}
    return all(criteria[c].status is S_MET or c in own for c in rule.mandatory)


def evaluate_case(case: Case, book: RuleBook) -> Evaluation:
    """Evaluate a validated case under its criteria set (or the default). Pure; no I/O."""
    derived = derive(case, book)
    slug = case.criteria_set or book.default_set
    chosen = apply_rule(book.sets[slug], derived, book)
    # Cautions and flags are scoped across sets (clinical.md §f.2 A5): they need
    # the default set's outcome, and the superseded sets' when the default is
    # not met. Other sets only for the comparison.
    outcomes = {slug: chosen}
    default = chosen
    if slug != book.default_set:
        default = outcomes[book.default_set] = apply_rule(book.sets[book.default_set], derived, book)
    criteria = derived.criteria
    for other, rule in book.sets.items():
        if other in outcomes:
            continue
        if case.compare or (
            rule.is_historical
            and not default.met
            # A set whose mandatory criteria are not all met cannot be met, and only a met
            # superseded set matters to the caution: most cases stop here. A criterion the
            # set derives from its own lists is not judged by the shared result.
            and _may_be_met(rule, criteria, book)
        ):
            outcomes[other] = apply_rule(rule, derived, book)
    ordered = {s: outcomes[s] for s in book.sets if s in outcomes}
    rule, results = chosen.rule, chosen.results
    ctx = Context(
        case=case,
        book=book,
        derived=derived,
        chosen=chosen,
        default=default,
        historical=tuple([o for o in ordered.values() if o.rule.is_historical]),
        clone=criteria["monoclonal_plasma_cell_disorder"].status is S_MET,
        neuropathy=criteria["polyneuropathy"].status is S_MET,
        notes=_notes(derived.notes) if derived.notes else {},
    )

    rows = []
    investigations = book.investigations
    for group, code, name in book.rows(rule.slug):
        r = results[code]
        to_settle = None
        if r.status is S_UNKNOWN:
            to_settle = r.to_settle or investigations.get(code) or None
        tag = book.criterion_evidence.get(code, Evidence.UNVERIFIED)
        rows.append(
            CriterionOutcome(
                code,
                name,
                group,
                r.status,
                tuple(r.reasons),
                to_settle,
                reason_evidence(len(r.reasons), r.applied, tag),
            )
        )

    def met_in(codes: tuple[str, ...]) -> tuple[str, ...]:
        return tuple([c for c in codes if results[c].status is S_MET])

    cure = treatment(case, book, derived) if chosen.met else None
    raised = cautions(ctx)
    covered: bool | None = None
    exclusion: str | None = None
    if rule.categories:
        # J-M4: a myeloma-defining event sits beside the category and takes away the cover.
        excluded = any(c.code in rule.excluded_by for c in raised)
        covered = chosen.met and not excluded
        exclusion = rule.exclusion_note if excluded else None
    return Evaluation(
        criteria_set=book.set_ref(rule.slug),
        content_version=book.content_version,
        status=chosen.status,
        meets_criteria=chosen.met,
        mandatory_met=met_in(rule.mandatory),
        major_met=met_in(rule.major),
        minor_met=met_in(rule.minor),
        criteria=tuple(rows),
        missing=tuple(chosen.missing),
        differentials=differentials(ctx),
        cautions=raised,
        treatment=cure,
        warnings=tuple([Issue(w.field, w.message) for w in case.warnings]) if case.warnings else (),
        disclaimer=book.disclaimer,
        comparison=_comparison(ordered) if case.compare else None,
        staging_missing=staging_missing(case, book.workup) if chosen.met else (),
        extent=None
        if cure is None
        else ExtentOut(
            cure.extent, cure.reasons, extent_to_settle(cure, case, book.workup), _extent_evidence(cure, book)
        ),
        risk_factors_present=risk_factors_present(case, book.workup) if chosen.met else (),
        drug_cautions=book.workup.drug_cautions if chosen.met else (),
        mhlw_category=chosen.category,
        mhlw_covered=covered,
        mhlw_exclusion=exclusion,
    )


def _extent_evidence(cure: Treatment, book: RuleBook) -> tuple[ReasonEvidence, ...]:
    """The extent reasons all apply A8's rule; those that quote its lesion limit name it."""
    limit = book.thresholds["extent_limited_max_lesions"]
    applied: dict[int, tuple[Threshold, ...]] = {
        i: (limit,) for i, text in enumerate(cure.reasons) if limit.limit in text
    }
    return reason_evidence(len(cure.reasons), applied, limit.evidence)


def evaluate(case: Case, book: RuleBook) -> dict[str, Any]:
    """The evaluation as the JSON of design.md §3.3 (what the API, CLI and pages use)."""
    return evaluate_case(case, book).to_dict()
