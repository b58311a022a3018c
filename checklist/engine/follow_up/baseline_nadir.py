"""Lines of therapy, baselines and nadirs (clinical.md §h.3, H-B1 to H-B5).

Every function reads only the visits it is given: the evaluation passes visits 1..k for
visit k, which is what keeps an earlier result unchanged when a later visit is added (H-B5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ..message import Message
from .inputs import Treatment, Visit
from .result import Point
from .rules import FollowUpRules


@dataclass(frozen=True, slots=True)
class Line:
    """The line of therapy a visit is measured in, and the window its baseline comes from.

    ``in_window`` are the visits of the baseline window, all on or before the start, so all
    earlier than any visit measured in this line; ``after`` is the index of the first visit
    after the start in the sorted visits (nadirs only look from there).
    """

    treatment: Treatment
    window_start: date
    start: date
    in_window: tuple[Visit, ...] = ()
    after: int = 0


def line_of(
    day: date,
    treatments: Sequence[Treatment],
    rules: FollowUpRules,
    visits: Sequence[Visit] = (),
    cache: dict[Treatment, Line] | None = None,
) -> Line | None:
    """The latest line started strictly before ``day``.

    A visit on the start date is pre-treatment (samples are drawn before the first dose, H-B2),
    so it belongs to the previous line and is the new line's baseline.
    """
    current = None
    for t in treatments:
        if t.start < day:
            current = t
    if current is None:
        return None
    if cache is not None and current in cache:
        return cache[current]
    window = int(rules.need("fu_baseline_window_days"))
    low = current.start - timedelta(days=window)
    in_window = tuple(v for v in visits if low <= v.date <= current.start)
    after = next((i for i, v in enumerate(visits) if v.date > current.start), len(visits))
    line = Line(current, low, current.start, in_window, after)
    if cache is not None:
        cache[current] = line
    return line


def add_months(day: date, months: int) -> date:
    """Calendar months, the day clamped to the month's end (2026-08-31 + 6 = 2027-02-28)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


# A measure is named by its code: a plain dict look-up per visit, no closure call (hot loop).
Getter = str
Keep = Callable[[Visit], bool] | None


def number(code: str) -> Getter:
    return code


def baseline(
    visits: Sequence[Visit], line: Line, get: Getter, keep: Keep = None
) -> tuple[Point | None, tuple[Visit, ...]]:
    """The latest value in the window ending on the line's start (H-B2), and every candidate."""
    # Window visits are all before any visit of the line: no look past the visit evaluated.
    found = tuple(v for v in line.in_window if get in v.numbers and (keep is None or keep(v)))
    if not found:
        return None, ()
    chosen = found[-1]
    return Point(chosen.numbers[get], chosen.date), found


def nadir(
    earlier: Sequence[Visit],
    line: Line | None,
    get: Getter,
    base: Point | None,
    keep: Keep = None,
) -> Point | None:
    """The lowest value after the line's start, before this visit; the baseline until then (H-B3).

    Without a line (H-B4), the lowest of all earlier visits. A tie keeps the earlier date.
    """
    best = base
    lowest = base.measure.exact if base is not None else None
    for v in earlier[line.after :] if line is not None else earlier:
        m = v.numbers.get(get)
        if m is None or (keep is not None and not keep(v)):
            continue
        if lowest is None or m.exact < lowest:
            best, lowest = Point(m, v.date), m.exact
    return best


def baseline_note(chosen: Point, found: tuple[Visit, ...]) -> str:
    """ "Baseline chosen: 2026-01-05 (latest); 2025-12-01 also available" (H-B2)."""
    if len(found) < 2:
        return ""
    others = ", ".join(v.date.isoformat() for v in found[:-1])
    return Message(
        " Baseline chosen: %(date)s (latest); %(others)s also available.",
        date=chosen.date.isoformat(),
        others=others,
    )


def no_baseline_reason(line: Line, what: str) -> Message:
    days = (line.start - line.window_start).days
    start = line.start.isoformat()
    return Message(
        "No pre-treatment %(what)s within %(days)s days of %(start)s (line %(line)s).",
        what=what,
        days=str(days),
        start=start,
        line=str(line.treatment.line),
    )
