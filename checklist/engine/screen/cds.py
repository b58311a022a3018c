"""When a CIDP treatment order deserves a card (clinical.md §i.7), as a pure decision.

The caller (the CDS Hooks service) turns the draft orders and Conditions into codes
and the chart into a screen input; this decides whether a card is due and why. The
codes come from the rules (content); an empty list matches nothing, so until the
terminology editor fills one in, that order never triggers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .evaluate import NOT_DONE, STALE, UNDATED, age_of_test
from .flags import State, evaluate_flags
from .inputs import ScreenInput
from .rules import CodeList, ScreenRules


@dataclass(frozen=True, slots=True)
class Coding:
    system: str
    code: str


@dataclass(frozen=True, slots=True)
class DraftOrder:
    resource_type: str
    codings: tuple[Coding, ...]
    reason_codings: tuple[Coding, ...] = ()


@dataclass(frozen=True, slots=True)
class CardDecision:
    due: bool
    why: str  # red_flag, tests_missing, or the reason for no card
    indicator: str = ""
    summary: str = ""
    triggers: tuple[str, ...] = ()
    red_flags: tuple[dict[str, str], ...] = ()
    missing_tests: tuple[str, ...] = ()
    evidence_lines: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "why": self.why,
            "indicator": self.indicator,
            "summary": self.summary,
            "triggers": list(self.triggers),
            "red_flags": [dict(f) for f in self.red_flags],
            "missing_tests": list(self.missing_tests),
            "evidence_lines": list(self.evidence_lines),
        }


def _matches(codings: Iterable[Coding], lists: Sequence[CodeList]) -> bool:
    wanted = {(c.system, code) for c in lists for code in c.codes}
    return any((c.system, c.code) in wanted for c in codings)


def card_decision(
    hook: str,
    orders: Sequence[DraftOrder],
    conditions: Sequence[Coding],
    chart: ScreenInput,
    rules: ScreenRules,
) -> CardDecision:
    """Whether the order hook answers with a card, and why (clinical.md §i.7)."""
    cds = rules.cds
    if hook not in cds.hooks:
        return CardDecision(False, "hook_not_served")
    cidp_on_chart = _matches(conditions, cds.cidp_conditions)
    triggers: list[str] = []
    for order in orders:
        for trig in cds.trigger_orders:
            if order.resource_type not in trig.resource_types:
                continue
            if not any(c.system == trig.system and c.code in trig.codes for c in order.codings):
                continue
            if trig.needs_cidp_reason and not (
                cidp_on_chart or _matches(order.reason_codings, cds.cidp_conditions)
            ):
                continue
            if trig.code not in triggers:
                triggers.append(trig.code)
    if not triggers:
        return CardDecision(False, "no_trigger_order")
    if chart.yes("poems_known") or _matches(conditions, cds.poems_conditions):
        return CardDecision(False, "poems_known", triggers=tuple(triggers))

    flags = evaluate_flags(chart, rules)
    found: list[dict[str, str]] = []
    for code, only in cds.chart_red_flags.items():
        f = flags[code]
        if f.state is State.FIRED and (not only or any(c in only for c in f.because)):
            found.append({"code": code, "reason": f.reason})
    months = rules.recency_months
    missing = tuple(
        name
        for name, result, date_code in (
            ("vegf", "vegf_pg_ml", "vegf_date"),
            ("serum_ife", "m_protein_present", "sife_date"),
        )
        # A result from the chart without a date cannot be shown to be recent.
        if age_of_test(chart, result, date_code, months) in (NOT_DONE, STALE, UNDATED)
    )
    if found:
        why = "red_flag"
    elif missing and not chart.yes("neuropathy_acute_onset"):
        why = "tests_missing"
    else:
        return CardDecision(False, "acute_onset" if missing else "tests_on_file", triggers=tuple(triggers))
    return CardDecision(
        True,
        why,
        cds.indicators[why],
        cds.summaries[why],
        tuple(triggers),
        tuple(found),
        missing,
        cds.evidence_lines,
    )
