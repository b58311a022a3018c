"""Clinical domain (clinical.md §h.7, H-K1 to H-K4), with caution H-C5 (neuropathy lag)."""

from __future__ import annotations

from collections.abc import Sequence

from .baseline_nadir import Line, add_months, baseline, nadir, number
from .cautions import Basis, decide
from .inputs import OTHER_FEATURES, VOLUME_FINDINGS, Visit
from .result import Caution, DomainResult, Point
from .rules import FollowUpRules

_FEATURES = (*VOLUME_FINDINGS, *OTHER_FEATURES)
_SCALES = (("onls_total", "ONLS"), ("mrs", "mRS"))


def _flag_at_baseline(upto: Sequence[Visit], line: Line, code: str) -> bool | None:
    found = [v.flags[code] for v in line.in_window if code in v.flags]
    return found[-1] if found else None


def evaluate_clinical(
    visit: Visit, earlier: Sequence[Visit], line: Line | None, rules: FollowUpRules
) -> DomainResult:
    if not any(code in visit.numbers for code, _ in _SCALES) and not any(c in visit.flags for c in _FEATURES):
        return decide(rules, "not_done", "H-K0", "No ONLS, mRS or clinical finding recorded at this visit.")
    if line is None:
        return decide(
            rules,
            "not_evaluable",
            "H-B4",
            "No treatment started before this visit; response needs a baseline before treatment.",
        )
    upto = (*earlier, visit)
    score = base = best = None
    scale = ""
    for code, name in _SCALES:
        now = visit.numbers.get(code)
        start, _ = baseline(upto, line, number(code))
        if now is not None and start is not None:
            score, base, scale = Point(now, visit.date), start, name
            best = nadir(earlier, line, number(code), start)
            break
    # A feature counts as new only when it was recorded absent at baseline: "not assessed" is not "absent".
    new = [c for c in _FEATURES if visit.flags.get(c) and _flag_at_baseline(upto, line, c) is False]
    points = rules.need("fu_onls_change_points")
    early_end = add_months(line.start, int(rules.need("fu_clinical_early_window_months")))
    lag_end = add_months(line.start, int(rules.need("fu_neuropathy_lag_months")))
    early, within_lag = visit.date <= early_end, visit.date <= lag_end
    common = Basis(base, best, None, score)
    change = None
    if score is not None and base is not None:
        change = score.measure.exact - base.measure.exact
    higher = score is not None and best is not None and score.measure.exact >= best.measure.exact + points
    cautions: list[Caution] = []
    if higher or new:
        parts = []
        if higher and score is not None and best is not None:
            parts.append(
                f"{scale} {score.measure.show()}, at least {points} point above the best of "
                f"{best.measure.show()} in this line"
            )
        if new:
            parts.append("new since baseline: " + ", ".join(c.replace("_", " ") for c in new))
        reason = "; ".join(parts)
        if early:
            cautions.append(
                Caution(
                    "fu_neuropathy_lag",
                    "major",
                    "Neurological recovery lags by months to years; worsening this early is not by "
                    "itself progression.",
                    "H-C5",
                )
            )
            return decide(
                rules,
                "worse",
                "H-K2",
                f"{reason} (within {early_end.isoformat()}, the early window).",
                cautions=cautions,
                basis=common,
            )
        if within_lag and scale == "ONLS":
            cautions.append(_lag_minor())
        return decide(
            rules,
            "worse",
            "H-K2",
            f"{reason}, after the early window: consistent with progression.",
            cautions=cautions,
            trigger="true",
            basis=common,
        )
    if score is None or base is None:
        return decide(
            rules, "not_evaluable", "H-K1", "No ONLS or mRS both at this visit and at baseline.", basis=common
        )
    if change is not None and change <= -points:
        return decide(
            rules,
            "improved",
            "H-K3",
            f"{scale} {score.measure.show()} vs baseline {base.measure.show()}: improved.",
            basis=common,
        )
    if within_lag and scale == "ONLS":
        cautions.append(_lag_minor())
    return decide(
        rules,
        "stable",
        "H-K4",
        f"{scale} {score.measure.show()} vs baseline {base.measure.show()}: stable.",
        cautions=cautions,
        basis=common,
    )


def _lag_minor() -> Caution:
    return Caution(
        "fu_neuropathy_lag",
        "minor",
        "In the first year, neurological recovery can lag behind the other domains.",
        "H-C5",
    )
