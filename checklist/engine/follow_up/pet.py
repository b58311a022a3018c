"""Radiological domain (clinical.md §h.6, H-P1 to H-P7), with caution H-C4."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from .baseline_nadir import Line, baseline, nadir, number
from .cautions import Basis, decide
from .inputs import Treatment, Visit
from .result import Caution, DomainResult, Point, pct_text
from .rules import FollowUpRules

_COUNT = number("pet_avid_lesion_count")
_SUV = number("pet_suv_max")


def pet_done(v: Visit) -> bool:
    given = v.flags.get("pet_done")
    if given is not None:
        return given
    return (
        "pet_avid_lesion_count" in v.numbers or "pet_suv_max" in v.numbers or "pet_new_avid_lesion" in v.flags
    )


def evaluate_pet(
    visit: Visit,
    earlier: Sequence[Visit],
    line: Line | None,
    treatments: Sequence[Treatment],
    rules: FollowUpRules,
) -> DomainResult:
    if not pet_done(visit):
        return decide(rules, "not_done", "H-P1", "No PET at this visit (PET is not repeated at every visit).")
    weeks = int(rules.need("fu_pet_post_rt_min_weeks"))
    for t in treatments:
        if t.type != "radiation" or t.start > visit.date:
            continue
        end = t.end or visit.date  # still under radiation
        days = (visit.date - end).days
        if 0 <= days < weeks * 7:
            return decide(
                rules,
                "not_evaluable",
                "H-P2",
                f"PET {days // 7} weeks {days % 7} days after the end of radiation ({end.isoformat()}): "
                f"less than {weeks} weeks; post-radiation uptake can persist; repeat later.",
                cautions=[
                    Caution(
                        "fu_pet_too_soon_after_rt",
                        "major",
                        f"PET less than {weeks} weeks after radiation: uptake can persist; repeat later.",
                        "H-C4",
                    )
                ],
            )
    upto = (*earlier, visit)
    count, suv = visit.numbers.get("pet_avid_lesion_count"), visit.numbers.get("pet_suv_max")
    here = Point(suv, visit.date) if suv is not None else None
    base_count, _ = (None, ()) if line is None else baseline(upto, line, _COUNT, pet_done)
    base_suv, _ = (None, ()) if line is None else baseline(upto, line, _SUV, pet_done)
    low = nadir(earlier, line, _SUV, base_suv, pet_done)
    common = Basis(base_suv, low, None, here)
    if visit.flags.get("pet_new_avid_lesion"):
        return decide(
            rules,
            "progression",
            "H-P3",
            "A new FDG-avid lesion: consistent with progression.",
            trigger="true",
            basis=common,
        )
    rise = rules.number("fu_pet_prog_suv_rise_pct")
    if (
        rise is not None
        and suv is not None
        and low is not None
        and suv.exact >= low.measure.exact * (1 + rise / 100)
    ):
        return decide(
            rules,
            "progression",
            "H-P3",
            f"SUVmax {suv.show()} at least {rise}% above the nadir of {low.measure.show()}: "
            "consistent with progression.",
            trigger="true",
            basis=common,
        )
    if line is None:
        return decide(
            rules,
            "not_evaluable",
            "H-B4",
            "No treatment started before this visit; response needs a baseline before treatment.",
            basis=common,
        )
    if base_count is None or base_count.measure.exact == 0:
        return decide(
            rules, "not_evaluable", "H-P4", "No FDG-avid lesion at baseline to follow.", basis=common
        )
    change = None
    if suv is not None and base_suv is not None and base_suv.measure.exact > 0:
        change = (suv.exact - base_suv.measure.exact) * 100 / base_suv.measure.exact
    common.change_pct = change
    if count is not None and count.exact == 0:
        return decide(rules, "cr", "H-P5", "No FDG-avid lesion left (loss of FDG avidity).", basis=common)
    fall = rules.need("fu_pet_pr_suv_fall_pct")
    if (
        suv is not None
        and base_suv is not None
        and count is not None
        and suv.exact <= base_suv.measure.exact * (1 - fall / 100)
        and count.exact <= base_count.measure.exact
    ):
        return decide(
            rules,
            "pr",
            "H-P6",
            f"SUVmax {suv.show()} vs baseline {base_suv.measure.show()} ({pct_text(change or Decimal(0))}): "
            "a fall of at least "
            f"{fall}% [app convention], lesion count not higher.",
            basis=common,
        )
    return decide(
        rules,
        "stable",
        "H-P7",
        "Neither complete nor partial response, and no new avid lesion.",
        basis=common,
    )
