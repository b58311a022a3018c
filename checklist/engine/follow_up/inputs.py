"""Parse and validate a follow-up (design.md §3.9, clinical.md §h.2) into dated, exact values.

Every problem is an error naming its field ("visits[2].values.vegf_pg_ml"); nothing is
guessed. Numbers are kept as exact decimals of the digits entered, with the unit entered,
so that a value on a boundary is compared exactly (clinical.md §f.3 A10).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..exact import decimal_factor, exact_decimal
from ..inputs import FieldError, InputError, display_unit, format_value, parse_lab
from ..message import Message
from ..vocabulary import LABS

TREATMENT_TYPES = ("radiation", "asct", "systemic", "steroid_only", "other")
IFE_CHOICES = ("positive", "negative", "not_done")
EARLIEST = date(1950, 1, 1)
Day = date  # a visit has a field named "date"

# §h.2 codes that reuse a §e.3 lab: its units, plausibility and precision.
LAB_CODES = (
    "vegf_pg_ml",
    "vegf_uln_pg_ml",
    "m_protein_g_dl",
    "flc_kappa_mg_l",
    "flc_lambda_mg_l",
    "flc_ratio",
    "platelets_10e9_l",
)
# New numeric codes: (minimum, maximum, integer, unit).
NUMBER_CODES: dict[str, tuple[float, float, bool, str]] = {
    "flc_ratio_ref_low": (0.01, 10, False, "ratio"),
    "flc_ratio_ref_high": (0.01, 10, False, "ratio"),
    "pet_avid_lesion_count": (0, 200, True, "count"),
    "pet_suv_max": (0, 50, False, "SUV"),
    "onls_total": (0, 12, True, "points"),
    "mrs": (0, 6, True, "points"),
}
# The unit words of those numbers, said in a refusal ("13 is outside the plausible range 0-12 (points).").
UNIT_WORDS = {"ratio": Message("ratio"), "count": Message("count"), "points": Message("points")}
CHOICE_CODES: dict[str, tuple[str, ...]] = {
    "vegf_specimen": ("serum", "plasma", "unknown"),
    "sife_result": IFE_CHOICES,
    "uife_result": IFE_CHOICES,
}
VOLUME_FINDINGS = ("peripheral_edema", "pleural_effusion", "ascites", "pericardial_effusion")
OTHER_FEATURES = ("skin_changes", "endocrinopathy", "papilledema")
CONFOUNDER_FLAGS = (
    "recent_acute_illness",
    "acute_infection",
    "iron_deficiency_anemia",
    "copd",
    "obstructive_sleep_apnea",
    "active_malignancy",
    "vasculitis",
    "bevacizumab_exposure",
)
BOOL_CODES = ("pet_done", "pet_new_avid_lesion", *VOLUME_FINDINGS, *OTHER_FEATURES, *CONFOUNDER_FLAGS)
DATE_CODES = ("gcsf_last_date", "transfusion_last_date")
TEXT_CODES = {"vegf_lab": 80}
_LAB_SET, _BOOL_SET = frozenset(LAB_CODES), frozenset(BOOL_CODES)
VALUE_CODES: frozenset[str] = frozenset(
    (*LAB_CODES, *NUMBER_CODES, *CHOICE_CODES, *BOOL_CODES, *DATE_CODES, *TEXT_CODES)
)


@dataclass(slots=True)  # not frozen: ``show`` keeps its text, read many times per evaluation
class Measure:
    """A number as entered (``shown`` in ``unit``) and exactly in the canonical unit.

    ``exact`` is the digits entered times the exact factor, so comparing it with a
    canonical threshold is the comparison in the entered unit (A10; engine/exact.py).
    """

    exact: Decimal  # canonical unit, exact
    entered: Decimal  # the digits entered, in ``unit``
    unit: str
    factor: Decimal  # canonical = entered * factor
    canonical_unit: str
    precision: int = 2
    shown: str = ""

    def show(self) -> str:
        """As entered, with the canonical value in brackets when converted (clinical.md §f.2 A7)."""
        if self.shown:
            return self.shown
        shown = f"{format_value(float(self.entered), self.precision + 3)}{display_unit(self.unit)}"
        if self.factor != 1 and self.unit != self.canonical_unit:
            canonical = format_value(float(self.exact), 3)
            shown = f"{shown} ({canonical}{display_unit(self.canonical_unit)})"
        self.shown = shown
        return shown


@dataclass(frozen=True, slots=True)
class Visit:
    date: date
    index: int  # position in the input, for field names
    numbers: Mapping[str, Measure] = field(default_factory=dict)
    choices: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, bool] = field(default_factory=dict)
    dates: Mapping[str, Day] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Treatment:
    line: int
    type: str
    start: date
    end: date | None


@dataclass(frozen=True, slots=True)
class Timeline:
    """Visits sorted by date (the input order is ignored, clinical.md §h.2); lines by start."""

    visits: tuple[Visit, ...]
    treatments: tuple[Treatment, ...]


_ONE = Decimal(1)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _read_date(raw: Any, name: str, today: date, errors: list[FieldError]) -> date | None:
    if not isinstance(raw, str):
        errors.append(FieldError(name, f"must be an ISO date (YYYY-MM-DD); got {type(raw).__name__}."))
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        errors.append(
            FieldError(name, Message("%(value)s is not an ISO date (YYYY-MM-DD).", value=repr(raw)))
        )
        return None
    # fromisoformat also takes other ISO 8601 forms ("20260105", the week date "2026-W02-1").
    if len(raw) != 10 or raw[4] != "-" or raw[7] != "-":
        errors.append(FieldError(name, Message("%(value)s: write the date as YYYY-MM-DD.", value=repr(raw))))
        return None
    if value < EARLIEST or value > today:
        errors.append(
            FieldError(
                name,
                Message(
                    "%(value)s is outside %(earliest)s to today (%(today)s).",
                    value=raw,
                    earliest=EARLIEST.isoformat(),
                    today=today.isoformat(),
                ),
            )
        )
        return None
    return value


def _read_lab(code: str, raw: Any, name: str, errors: list[FieldError]) -> Measure | None:
    lab = LABS[code]
    kind = type(raw)
    # The common case, a plain number in the canonical unit inside the plausible range:
    # what read_lab would answer, without building a reading.
    if (
        (kind is int or kind is float)
        and (lab.minimum or 0) <= raw <= (lab.maximum or math.inf)
        and math.isfinite(raw)
    ):
        exact = exact_decimal(raw)
        return Measure(exact, exact, lab.unit, _ONE, lab.unit, lab.precision)
    found: list[FieldError] = []
    reading = parse_lab(code, raw, found, [])
    for e in found:
        # parse_lab names a case's field ("labs.<code>[.unit]"); ours sits inside a visit.
        errors.append(FieldError(name + e.field[len(f"labs.{code}") :], e.message))
    if reading is None:
        return None
    if reading.entered is None:
        exact = exact_decimal(float(reading.value))
        return Measure(exact, exact, lab.unit, _ONE, lab.unit, lab.precision)
    unit = reading.entered.unit  # as the vocabulary names it
    factor = decimal_factor(code, unit)
    entered = exact_decimal(reading.entered.value)
    return Measure(entered * factor, entered, unit, factor, lab.unit, lab.precision_of(unit))


def _read_number(code: str, raw: Any, name: str, errors: list[FieldError]) -> Measure | None:
    low, high, integer, unit = NUMBER_CODES[code]
    if not _is_number(raw) or not math.isfinite(float(raw)):
        errors.append(FieldError(name, f"must be a number ({unit}); got {type(raw).__name__}."))
        return None
    if integer and float(raw) != int(raw):
        errors.append(
            FieldError(
                name,
                Message(
                    "must be a whole number from %(low)s to %(high)s; got %(value)s.",
                    low=str(low),
                    high=str(high),
                    value=str(raw),
                ),
            )
        )
        return None
    if not low <= raw <= high:
        errors.append(
            FieldError(
                name,
                Message(
                    "%(value)s is outside the plausible range %(low)s-%(high)s (%(unit)s).",
                    value=str(raw),
                    low=str(low),
                    high=str(high),
                    unit=UNIT_WORDS.get(unit, unit),
                ),
            )
        )
        return None
    exact = exact_decimal(int(raw) if integer else raw)
    return Measure(exact, exact, unit, _ONE, unit, 0 if integer else 2)


def _read_visit(i: int, raw: Any, today: date, errors: list[FieldError]) -> Visit | None:
    where = f"visits[{i}]"
    if not isinstance(raw, Mapping):
        errors.append(FieldError(where, 'must be an object {"date": ..., "values": {...}}.'))
        return None
    for key in raw:
        if key not in ("date", "values"):
            errors.append(FieldError(f"{where}.{key}", "unknown key; allowed: date, values."))
    when = _read_date(raw.get("date"), f"{where}.date", today, errors)
    values = raw.get("values", {})
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        errors.append(FieldError(f"{where}.values", "must be an object of §h.2 codes to values."))
        values = {}
    numbers: dict[str, Measure] = {}
    choices: dict[str, str] = {}
    flags: dict[str, bool] = {}
    dates: dict[str, date] = {}
    texts: dict[str, str] = {}
    for code, value in values.items():
        name = f"{where}.values.{code}"
        if code not in VALUE_CODES:
            errors.append(FieldError(name, "unknown code; see clinical.md §h.2 for the follow-up codes."))
            continue
        if value is None:
            continue  # not measured at this visit
        if code in _BOOL_SET and type(value) is bool:
            flags[code] = value
        elif code in _LAB_SET:
            measure = _read_lab(code, value, name, errors)
            if measure is not None:
                numbers[code] = measure
        elif code in NUMBER_CODES:
            measure = _read_number(code, value, name, errors)
            if measure is not None:
                numbers[code] = measure
        elif code in CHOICE_CODES:
            if isinstance(value, str) and value in CHOICE_CODES[code]:
                choices[code] = value
            else:
                errors.append(
                    FieldError(
                        name, f"{value!r} is not allowed; use one of: {', '.join(CHOICE_CODES[code])}."
                    )
                )
        elif code in DATE_CODES:
            day = _read_date(value, name, today, errors)
            if day is not None:
                dates[code] = day
        elif code in TEXT_CODES:
            if not isinstance(value, str) or len(value) > TEXT_CODES[code]:
                errors.append(FieldError(name, f"must be text of at most {TEXT_CODES[code]} characters."))
            else:
                texts[code] = value.strip()
        elif isinstance(value, bool):
            flags[code] = value
        else:
            errors.append(FieldError(name, "must be true, false or null (not recorded)."))
    if "vegf_pg_ml" in numbers and "vegf_specimen" not in choices:
        errors.append(
            FieldError(
                f"{where}.values.vegf_specimen",
                Message("required with a VEGF value: serum, plasma or unknown."),
            )
        )
    for code in ("flc_ratio_ref_low", "flc_ratio_ref_high"):
        if (code in numbers) != ("flc_ratio_ref_low" in numbers and "flc_ratio_ref_high" in numbers):
            errors.append(
                FieldError(f"{where}.values.{code}", Message("give both ends of the lab's FLC ratio range."))
            )
    low, high = numbers.get("flc_ratio_ref_low"), numbers.get("flc_ratio_ref_high")
    if low is not None and high is not None and low.exact >= high.exact:
        errors.append(
            FieldError(f"{where}.values.flc_ratio_ref_high", Message("must be above flc_ratio_ref_low."))
        )
    pet_values: list[str] = [c for c in ("pet_avid_lesion_count", "pet_suv_max") if c in numbers]
    pet_values += [c for c in ("pet_new_avid_lesion",) if c in flags]
    if flags.get("pet_done") is False and pet_values:
        errors.append(
            FieldError(
                f"{where}.values.pet_done",
                Message("false, but PET values are given (%(codes)s).", codes=", ".join(pet_values)),
            )
        )
    if when is None:
        return None
    return Visit(when, i, numbers, choices, flags, dates, texts)


def _read_treatment(i: int, raw: Any, today: date, errors: list[FieldError]) -> Treatment | None:
    where = f"treatments[{i}]"
    if not isinstance(raw, Mapping):
        errors.append(FieldError(where, 'must be an object {"line", "type", "start", "end"}.'))
        return None
    for key in raw:
        if key not in ("line", "type", "start", "end"):
            errors.append(FieldError(f"{where}.{key}", "unknown key; allowed: line, type, start, end."))
    line = raw.get("line")
    ok = True
    if not isinstance(line, int) or isinstance(line, bool) or line < 1:
        errors.append(FieldError(f"{where}.line", f"must be a whole number from 1; got {line!r}."))
        ok = False
    kind = raw.get("type")
    if kind not in TREATMENT_TYPES:
        errors.append(
            FieldError(f"{where}.type", f"{kind!r} is not allowed; use one of: {', '.join(TREATMENT_TYPES)}.")
        )
        ok = False
    start = _read_date(raw.get("start"), f"{where}.start", today, errors)
    end = None
    if raw.get("end") is not None:
        end = _read_date(raw.get("end"), f"{where}.end", today, errors)
        if end is None:
            ok = False
        elif start is not None and end < start:
            errors.append(
                FieldError(
                    f"{where}.end",
                    Message(
                        "%(end)s is before the start (%(start)s).",
                        end=end.isoformat(),
                        start=start.isoformat(),
                    ),
                )
            )
            ok = False
    if not ok or start is None:
        return None
    assert isinstance(line, int)  # checked above
    return Treatment(line, str(kind), start, end)


def parse_follow_up(data: Any, today: date) -> Timeline:
    """Validate a decoded design.md §3.9 document. Raises ``InputError`` listing every problem.

    ``today`` bounds the dates (a date in the future is an error); it is a parameter so
    that the answer does not depend on the clock.
    """
    errors: list[FieldError] = []
    if not isinstance(data, Mapping):
        raise InputError([FieldError("(body)", "must be a JSON object.")])
    for key in data:
        if key not in ("visits", "treatments"):
            errors.append(FieldError(str(key), "unknown key; allowed: visits, treatments."))
    raw_visits = data.get("visits")
    if not isinstance(raw_visits, list) or not raw_visits:
        errors.append(FieldError("visits", "must be a list of at least one visit."))
        raw_visits = []
    raw_treatments = data.get("treatments", [])
    if raw_treatments is None:
        raw_treatments = []
    if not isinstance(raw_treatments, list):
        errors.append(FieldError("treatments", "must be a list (possibly empty)."))
        raw_treatments = []
    visits = [v for i, raw in enumerate(raw_visits) if (v := _read_visit(i, raw, today, errors))]
    seen: dict[date, int] = {}
    for visit in visits:
        if visit.date in seen:
            errors.append(
                FieldError(
                    f"visits[{visit.index}].date",
                    Message(
                        "%(date)s is also the date of visits[%(other)s]; give one visit per date.",
                        date=visit.date.isoformat(),
                        other=str(seen[visit.date]),
                    ),
                )
            )
        else:
            seen[visit.date] = visit.index
    read = [(i, t) for i, raw in enumerate(raw_treatments) if (t := _read_treatment(i, raw, today, errors))]
    lines: dict[int, int] = {}
    for i, t in read:
        if t.line in lines:
            errors.append(
                FieldError(f"treatments[{i}].line", f"line {t.line} is also treatments[{lines[t.line]}].")
            )
        else:
            lines[t.line] = i
    treatments = [t for _, t in read]
    if errors:
        raise InputError(errors)
    return Timeline(
        tuple(sorted(visits, key=lambda v: v.date)),
        tuple(sorted(treatments, key=lambda t: (t.start, t.line))),
    )
