"""Is a threshold value plausible? Checked where it is typed (admin), on import and on publishing.

Pure: the ranges live in the engine's vocabulary (``THRESHOLD_RANGES``), with
the lab's own input range as the fallback for a threshold added later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from checklist.engine.inputs import display_unit
from checklist.engine.vocabulary import LABS, THRESHOLD_RANGES, CutoffRange


@dataclass
class Check:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _fmt(x: float) -> str:
    return f"{x:g}"


def range_for(code: str, lab: str) -> CutoffRange | None:
    if code in THRESHOLD_RANGES:
        return THRESHOLD_RANGES[code]
    found = LABS.get(lab)
    if found is None or found.minimum is None or found.maximum is None:
        return None
    return CutoffRange(found.minimum, found.maximum, found.minimum, found.maximum)


def check_threshold(code: str, lab: str, value: Any) -> Check:
    """Errors (refuse) and warnings (confirm first) for a threshold ``value`` in ``lab``'s unit."""
    out = Check()
    try:
        x = float(value)
    except (TypeError, ValueError):
        out.errors.append(f"the value {value!r} is not a number")
        return out
    if not math.isfinite(x):
        out.errors.append("the value must be a finite number")
        return out
    lab_info = LABS.get(lab)
    if lab_info is None:
        out.errors.append(f"lab {lab!r} is not in the engine vocabulary")
        return out
    unit = display_unit(lab_info.unit).strip() or lab_info.unit
    r = range_for(code, lab)
    if r is None:
        return out
    if not r.low <= x <= r.high:
        out.errors.append(
            f"{_fmt(x)} {unit} is outside the plausible range for this cut-off, "
            f"{_fmt(r.low)} to {_fmt(r.high)} {unit}"
        )
    elif not r.typical_low <= x <= r.typical_high:
        hint = f" {r.hint}" if r.hint else ""
        out.warnings.append(
            f"{_fmt(x)} {unit} is unusual for this cut-off (usually {_fmt(r.typical_low)} to "
            f"{_fmt(r.typical_high)} {unit}).{hint}"
        )
    return out
