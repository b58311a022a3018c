"""Cautions of clinical.md §h.8 (H-C1 to H-C6) and the one way a domain result is built."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from ..i18n import COMMA, gettext_noop
from ..message import Message, join
from .baseline_nadir import Line, add_months, baseline, number
from .inputs import Visit
from .result import Caution, DomainResult, Point
from .rules import FollowUpRules
from .words import Cased

# H-C1: the confounders that turn a VEGF progression into progression_confounded, by code.
_ACUTE = ("recent_acute_illness", "acute_infection")
# The acute ones recorded, as the sentence starts (by recent illness, infection).
_ACUTE_WORDS = {
    (True, False): Message("Recent acute illness"),
    (False, True): Message("Acute infection"),
    (True, True): Message("Recent acute illness and acute infection"),
}
_CHRONIC = {
    "iron_deficiency_anemia": Message("iron-deficiency anaemia"),
    "copd": Message("COPD"),
    "obstructive_sleep_apnea": Message("obstructive sleep apnoea"),
    "active_malignancy": Message("active cancer"),
    "vasculitis": Message("vasculitis"),
}


@dataclass(slots=True)
class Basis:
    """What a domain's result was measured against, shared by the rules that may decide it."""

    baseline: Point | None = None
    nadir: Point | None = None
    change_pct: Decimal | None = None
    value: Point | None = None
    cautions: list[Caution] = field(default_factory=list)


def decide(
    rules: FollowUpRules,
    domain_category: str,
    rule: str,
    reason: str,
    basis: Basis | None = None,
    *,
    baseline: Point | None = None,
    nadir: Point | None = None,
    change_pct: Decimal | None = None,
    cautions: Sequence[Caution] = (),
    trigger: str = "",
    value: Point | None = None,
) -> DomainResult:
    """A domain's result, carrying the source and evidence tag of the rule that decided it."""
    source = rules.rules[rule]
    if basis is not None:
        baseline = baseline or basis.baseline
        nadir = nadir or basis.nadir
        change_pct = change_pct if change_pct is not None else basis.change_pct
        value = value or basis.value
        cautions = [*basis.cautions, *cautions]
    return DomainResult(
        domain_category,
        rule,
        source.source,
        source.evidence,
        reason,
        baseline,
        nadir,
        change_pct,
        tuple(cautions),
        trigger,
        value,
    )


def vegf_confounders(
    visit: Visit, upto: Sequence[Visit], line: Line | None, rules: FollowUpRules
) -> list[tuple[str, str]]:
    """(what, message) for each H-C1 confounder recorded at this visit that can confound a rise."""
    found: list[tuple[str, str]] = []
    flags = visit.flags
    acute = (bool(flags.get(_ACUTE[0])), bool(flags.get(_ACUTE[1])))
    if any(acute):
        found.append(("acute", Message("%(what)s: repeat VEGF after recovery.", what=_ACUTE_WORDS[acute])))
    chronic = [label for code, label in _CHRONIC.items() if flags.get(code)]
    if chronic:
        # The first word takes a capital and an acronym keeps its own (str.capitalize() and
        # lower() turned COPD into "Copd" and "copd"); each word is still translated by its msgid.
        cased = [Cased(w[:1].upper() + w[1:] if i == 0 else w, w.msgid) for i, w in enumerate(chronic)]
        found.append(("chronic", Message("%(what)s can raise VEGF by itself.", what=join(COMMA, cased))))
    windows: tuple[tuple[str, str, str], ...] = (
        (
            "gcsf_last_date",
            "fu_gcsf_window_days",
            gettext_noop("G-CSF %(days)s days before this visit (within %(window)s days) can raise VEGF."),
        ),
        (
            "transfusion_last_date",
            "fu_transfusion_window_days",
            gettext_noop(
                "transfusion %(days)s days before this visit (within %(window)s days) can raise VEGF."
            ),
        ),
    )
    for code, window_code, text in windows:
        given = visit.dates.get(code)
        window = int(rules.need(window_code))
        if given is not None and visit.date - timedelta(days=window) <= given <= visit.date:
            days = (visit.date - given).days
            found.append((code, Message(text, days=str(days), window=str(window))))
    if visit.choices.get("vegf_specimen") == "serum" and line is not None:
        now = visit.numbers.get("platelets_10e9_l")
        base, _ = baseline(upto, line, number("platelets_10e9_l"))
        if now is not None and base is not None and base.measure.exact > 0:
            change = abs(now.exact - base.measure.exact) * 100 / base.measure.exact
            if change >= rules.need("fu_platelet_change_pct"):
                found.append(
                    (
                        "platelets",
                        Message(
                            "Platelets %(baseline)s at baseline, %(now)s now: "
                            "serum VEGF includes VEGF released by platelets.",
                            baseline=base.measure.show(),
                            now=now.show(),
                        ),
                    )
                )
    return found


def confounder_cautions(found: list[tuple[str, str]], visit: Visit, confounded: bool) -> list[Caution]:
    # Major only when the confounder changes how the visit reads (a rise it may explain).
    level = "major" if confounded else "minor"
    out = [Caution("fu_vegf_confounder", level, message, "H-C1") for _, message in found]
    if visit.flags.get("bevacizumab_exposure"):
        out.append(
            Caution(
                "fu_vegf_bevacizumab",
                "minor",
                Message("Bevacizumab exposure: the VEGF assay may be affected."),
                "H-C1",
            )
        )
    return out


def vegf_overdue(visit: Visit, earlier: Sequence[Visit], rules: FollowUpRules) -> list[Caution]:
    """H-C6: more than the interval since the last VEGF, at a visit without one."""
    if "vegf_pg_ml" in visit.numbers:
        return []
    last = next((v for v in reversed(earlier) if "vegf_pg_ml" in v.numbers), None)
    months = int(rules.need("fu_vegf_interval_months"))
    if last is None or visit.date <= add_months(last.date, months):
        return []
    return [
        Caution(
            "fu_test_overdue",
            "minor",
            Message(
                "Last VEGF on %(date)s, more than %(months)s months ago: consider repeating it.",
                date=last.date.isoformat(),
                months=str(months),
            ),
            "H-C6",
        )
    ]
