"""Radiological domain (clinical.md §h.6, H-P1 to H-P7), with caution H-C4."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ..message import Message
from .baseline_nadir import Line, baseline, nadir, number
from .cautions import Basis, decide
from .inputs import Treatment, Visit
from .result import Caution, DomainResult, Point, pct_text
from .rules import FollowUpRules
from .words import NO_LINE

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
        return decide(
            rules, "not_done", "H-P1", Message("No PET at this visit (PET is not repeated at every visit).")
        )
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
                Message(
                    "PET %(weeks)s weeks %(days)s days after the end of radiation (%(end)s): "
                    "less than %(minimum)s weeks; post-radiation uptake can persist; repeat later.",
                    weeks=str(days // 7),
                    days=str(days % 7),
                    end=end.isoformat(),
                    minimum=str(weeks),
                ),
                cautions=[
                    Caution(
                        "fu_pet_too_soon_after_rt",
                        "major",
                        Message(
                            "PET less than %(weeks)s weeks after radiation: "
                            "uptake can persist; repeat later.",
                            weeks=str(weeks),
                        ),
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
            Message("A new FDG-avid lesion: consistent with progression."),
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
            Message(
                "SUVmax %(value)s at least %(rise)s%% above the nadir of %(nadir)s: "
                "consistent with progression.",
                value=suv.show(),
                rise=str(rise),
                nadir=low.measure.show(),
            ),
            trigger="true",
            basis=common,
        )
    if line is None:
        return decide(
            rules,
            "not_evaluable",
            "H-B4",
            NO_LINE,
            basis=common,
        )
    if base_count is None or base_count.measure.exact == 0:
        return decide(
            rules, "not_evaluable", "H-P4", Message("No FDG-avid lesion at baseline to follow."), basis=common
        )
    change = None
    if suv is not None and base_suv is not None and base_suv.measure.exact > 0:
        change = (suv.exact - base_suv.measure.exact) * 100 / base_suv.measure.exact
    common.change_pct = change
    if count is not None and count.exact == 0:
        return decide(
            rules, "cr", "H-P5", Message("No FDG-avid lesion left (loss of FDG avidity)."), basis=common
        )
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
            Message(
                "SUVmax %(value)s vs baseline %(baseline)s (%(change)s): a fall of at least "
                "%(fall)s%% [app convention], lesion count not higher.",
                value=suv.show(),
                baseline=base_suv.measure.show(),
                change=pct_text(change or Decimal(0)),
                fall=str(fall),
            ),
            basis=common,
        )
    return decide(
        rules,
        "stable",
        "H-P7",
        Message("Neither complete nor partial response, and no new avid lesion."),
        basis=common,
    )
