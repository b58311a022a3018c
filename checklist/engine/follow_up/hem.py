"""Haematological domain (clinical.md §h.5, H-H1 to H-H7), with caution H-C3."""

from __future__ import annotations

from collections.abc import Sequence

from ..message import Message
from .baseline_nadir import Line, baseline, nadir, no_baseline_reason, number
from .cautions import Basis, decide
from .inputs import Measure, Visit
from .result import Caution, DomainResult, Point, pct_text
from .rules import FollowUpRules
from .words import NO_LINE, SEMICOLON

_M = number("m_protein_g_dl")
_HEM = ("m_protein_g_dl", "flc_ratio", "flc_kappa_mg_l", "flc_lambda_mg_l")


# Which immunofixation is positive again (H-H2), by (serum, urine).
_WHICH = {
    (True, False): Message("Serum"),
    (False, True): Message("Urine"),
    (True, True): Message("Serum and urine"),
    (False, False): Message(""),
}


def _choice(code: str) -> object:
    return lambda v: v.choices.get(code)


def _flc_range(upto: Sequence[Visit]) -> tuple[Measure, Measure] | None:
    # The lab's range is entered once and holds until another is entered (clinical.md §h.2).
    for v in reversed(upto):
        low, high = v.numbers.get("flc_ratio_ref_low"), v.numbers.get("flc_ratio_ref_high")
        if low is not None and high is not None:
            return low, high
    return None


def _latest_choice(upto: Sequence[Visit], line: Line, code: str) -> str | None:
    found = [v.choices[code] for v in line.in_window if code in v.choices]
    return found[-1] if found else None


def evaluate_hem(
    visit: Visit,
    earlier: Sequence[Visit],
    line: Line | None,
    rules: FollowUpRules,
    best_in_line: set[str],
) -> DomainResult:
    """``best_in_line``: the categories this domain already had in this line (for H-H2)."""
    upto = (*earlier, visit)
    m = visit.numbers.get("m_protein_g_dl")
    sife, uife = visit.choices.get("sife_result"), visit.choices.get("uife_result")
    if m is None and sife is None and uife is None and not any(c in visit.numbers for c in _HEM):
        return decide(
            rules, "not_done", "H-H0", Message("No M-protein, immunofixation or FLC at this visit.")
        )
    here = Point(m, visit.date) if m is not None else None
    if line is None:
        return decide(
            rules,
            "not_evaluable",
            "H-B4",
            NO_LINE,
            value=here,
        )
    base_m, _ = baseline(upto, line, _M)
    base_s, base_u = _latest_choice(upto, line, "sife_result"), _latest_choice(upto, line, "uife_result")
    if base_m is None and base_s is None and base_u is None:
        return decide(
            rules,
            "not_evaluable",
            "H-B2",
            no_baseline_reason(line, Message("M-protein or immunofixation")),
            value=here,
        )
    if (
        base_s in (None, "negative", "not_done")
        and base_u in (None, "negative", "not_done")
        and (base_m is None or base_m.measure.exact == 0)
    ):
        return decide(
            rules,
            "not_evaluable",
            "H-H1",
            Message(
                "No serum or urine marker at baseline (clone known only from biopsy); "
                "FLC-based response is not computed."
            ),
            baseline=base_m,
            value=here,
        )
    low = nadir(earlier, line, _M, base_m)
    change = None
    if m is not None and base_m is not None and base_m.measure.exact > 0:
        change = (m.exact - base_m.measure.exact) * 100 / base_m.measure.exact
    common = Basis(base_m, low, change, here)
    if "cr" in best_in_line and "positive" in (sife, uife):
        which = _WHICH[(sife == "positive", uife == "positive")]
        return decide(
            rules,
            "progression",
            "H-H2",
            Message(
                "%(which)s immunofixation positive again after complete response: "
                "consistent with progression.",
                which=which,
            ),
            trigger="true",
            basis=common,
        )
    minimum = rules.need("fu_hem_measurable_min_g_dl")
    measurable = base_m is not None and base_m.measure.exact >= minimum
    if measurable and m is not None and low is not None:
        rise, absolute = rules.need("fu_hem_prog_rise_pct"), rules.need("fu_hem_prog_abs_g_dl")
        up = m.exact - low.measure.exact
        if m.exact > low.measure.exact * (1 + rise / 100) and up >= absolute:
            return decide(
                rules,
                "progression",
                "H-H3",
                Message(
                    "M-protein %(value)s is more than %(rise)s%% and at least %(absolute)s g/dL "
                    "above the nadir of %(nadir)s on %(date)s: consistent with progression.",
                    value=m.show(),
                    rise=str(rise),
                    absolute=str(absolute),
                    nadir=low.measure.show(),
                    date=low.date.isoformat(),
                ),
                trigger="true",
                basis=common,
            )
    cr_blocked: str = ""
    if sife == "negative":
        if uife == "negative":
            ratio = visit.numbers.get("flc_ratio")
            ref = _flc_range(upto)
            if ratio is None:
                return decide(
                    rules,
                    "cr",
                    "H-H4",
                    Message("Serum and urine immunofixation negative; FLC ratio not measured."),
                    basis=common,
                )
            if ref is None:
                cr_blocked = Message(
                    "FLC ratio measured without the lab's reference range, normality unknown"
                )
            elif ref[0].exact <= ratio.exact <= ref[1].exact:
                return decide(
                    rules,
                    "cr",
                    "H-H4",
                    Message(
                        "Serum and urine immunofixation negative; FLC ratio %(ratio)s inside the lab range "
                        "%(low)s-%(high)s.",
                        ratio=ratio.show(),
                        low=ref[0].show(),
                        high=ref[1].show(),
                    ),
                    basis=common,
                )
        elif uife in (None, "not_done"):
            cr_blocked = Message("urine immunofixation needed to call CR")
    if measurable and m is not None and base_m is not None:
        shown = Message(
            "M-protein %(value)s vs baseline %(baseline)s%(change)s",
            value=m.show(),
            baseline=base_m.measure.show(),
            change=f" ({pct_text(change)})" if change is not None else "",
        )
        extra = Message("%(sep)s%(why)s", sep=SEMICOLON, why=cr_blocked) if cr_blocked else ""
        if rules.flag("fu_hem_vgpr_enabled") and m.exact <= base_m.measure.exact * (
            1 - rules.need("fu_hem_vgpr_fall_pct") / 100
        ):
            return decide(
                rules,
                "vgpr",
                "H-H5",
                Message(
                    "%(shown)s: a fall of at least %(fall)s%% [unverified]%(extra)s.",
                    shown=shown,
                    fall=str(rules.need("fu_hem_vgpr_fall_pct")),
                    extra=extra,
                ),
                basis=common,
            )
        if m.exact <= base_m.measure.exact * (1 - rules.need("fu_hem_pr_fall_pct") / 100):
            return decide(
                rules,
                "pr",
                "H-H5",
                Message(
                    "%(shown)s: a fall of at least %(fall)s%%%(extra)s.",
                    shown=shown,
                    fall=str(rules.need("fu_hem_pr_fall_pct")),
                    extra=extra,
                ),
                basis=common,
            )
    if cr_blocked:
        return decide(
            rules,
            "not_evaluable",
            "H-H4",
            Message("Serum immunofixation negative; %(why)s.", why=cr_blocked),
            basis=common,
        )
    if not measurable and "positive" in (base_s, base_u):
        spike = base_m.measure.show() if base_m is not None else Message("not measured")
        return decide(
            rules,
            "not_cr_unmeasurable",
            "H-H6",
            Message(
                "Baseline spike %(spike)s, below %(minimum)s g/dL [unverified]: too small to measure "
                "a partial response; only complete response (negative immunofixation) can be called.",
                spike=spike,
                minimum=str(minimum),
            ),
            cautions=[
                Caution(
                    "fu_mprotein_too_small",
                    "minor",
                    Message("M-protein too small at baseline to follow a partial response."),
                    "H-C3",
                )
            ],
            basis=common,
        )
    return decide(
        rules,
        "stable",
        "H-H7",
        Message("Neither complete nor partial response, and no progression."),
        basis=common,
    )
