"""VEGF domain (clinical.md §h.4, H-V1 to H-V6), with its cautions (H-C1, H-C2, H-C6)."""

from __future__ import annotations

from collections.abc import Sequence

from ..i18n import sentences
from ..message import Message
from .baseline_nadir import Line, baseline, baseline_note, nadir, no_baseline_reason, number
from .cautions import Basis, confounder_cautions, decide, vegf_confounders, vegf_overdue
from .inputs import Measure, Visit
from .result import Caution, DomainResult, Point, pct_text
from .rules import FollowUpRules
from .words import SPECIMEN

_VEGF = number("vegf_pg_ml")


def normal(visit: Visit, value: Measure, rules: FollowUpRules) -> tuple[bool, Message]:
    """Is the value normal (compared exactly, A10), and the limit in words.

    The lab's own upper limit wins; without it, the specimen's default from content
    (plasma up to and including it, serum below it, as published; clinical.md §h.4).
    """
    uln = visit.numbers.get("vegf_uln_pg_ml")
    if uln is not None:
        return value.exact <= uln.exact, Message("the lab's upper limit %(limit)s", limit=uln.show())
    if visit.choices.get("vegf_specimen") == "serum":
        return (
            value.exact < rules.need("fu_vegf_serum_normal_pg_ml"),
            Message("the serum default (<%(limit)s)", limit=_limit_text(rules, "fu_vegf_serum_normal_pg_ml")),
        )
    return (
        value.exact <= rules.need("fu_vegf_plasma_normal_pg_ml"),
        Message("the plasma default (<=%(limit)s)", limit=_limit_text(rules, "fu_vegf_plasma_normal_pg_ml")),
    )


def _limit_text(rules: FollowUpRules, code: str) -> str:
    t = rules.thresholds[code]
    tag = " [unverified]" if t.evidence == "unverified" else ""
    return f"{t.value} {t.unit}{tag}"


def evaluate_vegf(
    visit: Visit, earlier: Sequence[Visit], line: Line | None, rules: FollowUpRules
) -> DomainResult:
    upto = (*earlier, visit)
    found = vegf_confounders(visit, upto, line, rules)
    cautions: list[Caution] = vegf_overdue(visit, earlier, rules)
    value = visit.numbers.get("vegf_pg_ml")
    if value is None:
        return decide(
            rules,
            "not_done",
            "H-V0",
            Message("No VEGF at this visit."),
            cautions=cautions + confounder_cautions(found, visit, False),
        )
    here = Point(value, visit.date)
    specimen = visit.choices["vegf_specimen"]
    if specimen == "unknown":
        return decide(
            rules,
            "not_evaluable",
            "H-V1",
            Message(
                "VEGF %(value)s, specimen not stated: state the specimen (serum or plasma).",
                value=value.show(),
            ),
            cautions=cautions + confounder_cautions(found, visit, False),
            value=here,
        )
    base, candidates = (None, ()) if line is None else baseline(upto, line, _VEGF)
    base_visit = candidates[-1] if candidates else None
    base_specimen = base_visit.choices.get("vegf_specimen") if base_visit else None
    if base_specimen is not None and base_specimen != "unknown" and base_specimen != specimen:
        cautions.append(
            Caution(
                "fu_vegf_specimen_changed",
                "major",
                Message(
                    "Specimen changed (%(before)s at baseline, %(now)s now): "
                    "serum and plasma VEGF are not comparable.",
                    before=SPECIMEN.get(base_specimen, base_specimen),
                    now=SPECIMEN.get(specimen, specimen),
                ),
                "H-C2",
            )
        )
    lab, base_lab = visit.texts.get("vegf_lab"), base_visit.texts.get("vegf_lab") if base_visit else None
    if lab and base_lab and lab.casefold() != base_lab.casefold():
        cautions.append(
            Caution(
                "fu_vegf_assay_changed",
                "minor",
                Message(
                    "Laboratory changed (%(before)s at baseline, %(now)s now): "
                    "assays differ; read the change with care.",
                    before=base_lab,
                    now=lab,
                ),
                "H-V1",
            )
        )
    same = lambda v: v.choices.get("vegf_specimen") == specimen  # noqa: E731
    low = nadir(earlier, line, _VEGF, base if base_specimen == specimen else None, same)
    is_normal, limit_words = normal(visit, value, rules)
    change = None
    if base is not None and base_specimen == specimen and base.measure.exact > 0:
        change = (value.exact - base.measure.exact) * 100 / base.measure.exact

    # H-V3 first: progression overrides every response rule, and still runs when response cannot.
    if low is not None:
        rise = rules.need("fu_vegf_prog_rise_pct")
        above = not is_normal or not rules.flag("fu_vegf_prog_requires_above_normal")
        if value.exact > low.measure.exact * (1 + rise / 100) and above:
            confounded = bool(found)
            pct = (value.exact - low.measure.exact) * 100 / low.measure.exact if low.measure.exact else None
            rise_text = f" ({pct_text(pct)})" if pct is not None else ""
            reason: str = Message(
                "VEGF %(value)s is more than %(rise)s%% above the nadir of %(nadir)s on "
                "%(date)s%(change)s, and above %(limit)s: consistent with progression.",
                value=value.show(),
                rise=str(rise),
                nadir=low.measure.show(),
                date=low.date.isoformat(),
                change=rise_text,
                limit=limit_words,
            )
            if confounded:
                reason = sentences(
                    [
                        reason,
                        Message(
                            "A confounder is recorded at this visit: "
                            "repeat VEGF before reading it as progression."
                        ),
                    ]
                )
            return decide(
                rules,
                "progression_confounded" if confounded else "progression",
                "H-V3",
                reason,
                baseline=base,
                nadir=low,
                change_pct=change,
                cautions=cautions + confounder_cautions(found, visit, confounded),
                trigger="confounded" if confounded else "true",
                value=here,
            )
    cautions += confounder_cautions(found, visit, False)
    common = Basis(base, low, None, here, cautions)
    if line is None:
        return decide(rules, "not_evaluable", "H-B4", _no_line(visit, value), basis=common)
    if base is None or base_visit is None:
        return decide(
            rules,
            "not_evaluable",
            "H-B2",
            Message(
                "VEGF %(value)s. %(reason)s", value=value.show(), reason=no_baseline_reason(line, "VEGF")
            ),
            basis=common,
        )
    if base_specimen == "unknown":
        return decide(
            rules,
            "not_evaluable",
            "H-V1",
            Message("Baseline VEGF specimen not stated: state the specimen."),
            basis=common,
        )
    if base_specimen != specimen:
        return decide(
            rules,
            "not_evaluable",
            "H-V1",
            Message(
                "VEGF %(value)s (%(specimen)s); baseline %(baseline)s (%(baseline_specimen)s). "
                "Specimen changed (serum ↔ plasma): serum and plasma values are not comparable; "
                "response waits for a new baseline.",
                value=value.show(),
                specimen=SPECIMEN.get(specimen, specimen),
                baseline=base.measure.show(),
                baseline_specimen=SPECIMEN.get(str(base_specimen), str(base_specimen)),
            ),
            basis=common,
        )
    note = baseline_note(base, candidates)
    base_normal, base_limit = normal(base_visit, base.measure, rules)
    if base_normal:
        return decide(
            rules,
            "not_evaluable",
            "H-V2",
            Message(
                "VEGF was not raised before treatment (%(baseline)s, within %(limit)s); "
                "no response can be measured.%(note)s",
                baseline=base.measure.show(),
                limit=base_limit,
                note=note,
            ),
            change_pct=change,
            basis=common,
        )
    shown = Message(
        "VEGF %(value)s vs baseline %(baseline)s on %(date)s%(change)s",
        value=value.show(),
        baseline=base.measure.show(),
        date=base.date.isoformat(),
        change=f" ({pct_text(change)})" if change is not None else "",
    )
    if is_normal:
        return decide(
            rules,
            "cr",
            "H-V4",
            Message(
                "%(shown)s: now normal, within %(limit)s.%(note)s", shown=shown, limit=limit_words, note=note
            ),
            change_pct=change,
            basis=common,
        )
    fall = rules.need("fu_vegf_pr_fall_pct")
    tag = " [unverified]" if rules.thresholds["fu_vegf_pr_fall_pct"].evidence == "unverified" else ""
    if value.exact <= base.measure.exact * (1 - fall / 100):
        return decide(
            rules,
            "pr",
            "H-V5",
            Message(
                "%(shown)s: a fall of at least %(fall)s%%%(tag)s.%(note)s",
                shown=shown,
                fall=str(fall),
                tag=tag,
                note=note,
            ),
            change_pct=change,
            basis=common,
        )
    return decide(
        rules,
        "stable",
        "H-V6",
        Message(
            "%(shown)s: less than a %(fall)s%% fall%(tag)s, no progression.%(note)s",
            shown=shown,
            fall=str(fall),
            tag=tag,
            note=note,
        ),
        change_pct=change,
        basis=common,
    )


def _no_line(visit: Visit, value: Measure) -> Message:
    return Message(
        "VEGF %(value)s. No treatment started before this visit; response needs a baseline before "
        "treatment (a pre-treatment visit is a baseline).",
        value=value.show(),
    )
