"""Clinical domain (clinical.md §h.7, H-K1 to H-K4), with caution H-C5 (neuropathy lag)."""

from __future__ import annotations

from collections.abc import Sequence

from ..i18n import COMMA
from ..message import Message, join
from .baseline_nadir import Line, add_months, baseline, nadir, number
from .cautions import Basis, decide
from .inputs import OTHER_FEATURES, VOLUME_FINDINGS, Visit
from .result import Caution, DomainResult, Point
from .rules import FollowUpRules
from .words import FEATURE, NO_LINE, SEMICOLON

_FEATURES = (*VOLUME_FINDINGS, *OTHER_FEATURES)
_SCALES = (("onls_total", "ONLS"), ("mrs", "mRS"))


def _flag_at_baseline(upto: Sequence[Visit], line: Line, code: str) -> bool | None:
    found = [v.flags[code] for v in line.in_window if code in v.flags]
    return found[-1] if found else None


def evaluate_clinical(
    visit: Visit, earlier: Sequence[Visit], line: Line | None, rules: FollowUpRules
) -> DomainResult:
    if not any(code in visit.numbers for code, _ in _SCALES) and not any(c in visit.flags for c in _FEATURES):
        return decide(
            rules, "not_done", "H-K0", Message("No ONLS, mRS or clinical finding recorded at this visit.")
        )
    if line is None:
        return decide(
            rules,
            "not_evaluable",
            "H-B4",
            NO_LINE,
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
        parts: list[str] = []
        if higher and score is not None and best is not None:
            parts.append(
                Message(
                    "%(scale)s %(score)s, at least %(points)s point above the best of %(best)s in this line",
                    scale=scale,
                    score=score.measure.show(),
                    points=str(points),
                    best=best.measure.show(),
                )
            )
        if new:
            parts.append(
                Message("new since baseline: %(findings)s", findings=join(COMMA, [FEATURE[c] for c in new]))
            )
        reason = join(SEMICOLON, parts)
        if early:
            cautions.append(
                Caution(
                    "fu_neuropathy_lag",
                    "major",
                    Message(
                        "Neurological recovery lags by months to years; worsening this early is not by "
                        "itself progression."
                    ),
                    "H-C5",
                )
            )
            return decide(
                rules,
                "worse",
                "H-K2",
                Message(
                    "%(reason)s (within %(date)s, the early window).",
                    reason=reason,
                    date=early_end.isoformat(),
                ),
                cautions=cautions,
                basis=common,
            )
        if within_lag and scale == "ONLS":
            cautions.append(_lag_minor())
        return decide(
            rules,
            "worse",
            "H-K2",
            Message("%(reason)s, after the early window: consistent with progression.", reason=reason),
            cautions=cautions,
            trigger="true",
            basis=common,
        )
    if score is None or base is None:
        return decide(
            rules,
            "not_evaluable",
            "H-K1",
            Message("No ONLS or mRS both at this visit and at baseline."),
            basis=common,
        )
    if change is not None and change <= -points:
        return decide(
            rules,
            "improved",
            "H-K3",
            Message(
                "%(scale)s %(score)s vs baseline %(baseline)s: improved.",
                scale=scale,
                score=score.measure.show(),
                baseline=base.measure.show(),
            ),
            basis=common,
        )
    if within_lag and scale == "ONLS":
        cautions.append(_lag_minor())
    return decide(
        rules,
        "stable",
        "H-K4",
        Message(
            "%(scale)s %(score)s vs baseline %(baseline)s: stable.",
            scale=scale,
            score=score.measure.show(),
            baseline=base.measure.show(),
        ),
        cautions=cautions,
        basis=common,
    )


def _lag_minor() -> Caution:
    return Caution(
        "fu_neuropathy_lag",
        "minor",
        Message("In the first year, neurological recovery can lag behind the other domains."),
        "H-C5",
    )
