"""Read a screen's input (design.md §3.10) into plain values, or every problem found.

A code absent from ``values`` (or given as null) is not assessed, and stays out of
the parsed input: nothing downstream can read it as "no". Labs keep the number
and unit as entered, so thresholds are compared in that unit (clinical.md §f.3 A10).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..exact import unit_factor
from ..inputs import FieldError, InputError, parse_lab
from ..message import Message
from ..vocabulary import LABS
from .rules import POLICIES, ScreenRules

TOP_LEVEL_KEYS = ("values", "screen_policy")
EARLIEST_DATE = dt.date(1950, 1, 1)


@dataclass(frozen=True, slots=True)
class LabValue:
    """A number as entered (never rounded) with its unit and the exact factor to the canonical unit."""

    value: float
    unit: str  # as the vocabulary names it
    factor: Fraction


@dataclass(frozen=True, slots=True)
class ScreenInput:
    today: dt.date  # the day the screen is read for: test ages and "in the future" count from it
    findings: Mapping[str, bool] = field(default_factory=dict)
    labs: Mapping[str, LabValue] = field(default_factory=dict)
    choices: Mapping[str, str] = field(default_factory=dict)
    dates: Mapping[str, dt.date] = field(default_factory=dict)
    policy: str = "test_all"

    def given(self, code: str) -> bool:
        return code in self.findings or code in self.labs or code in self.choices or code in self.dates

    def yes(self, code: str) -> bool:
        return self.findings.get(code) is True

    def no(self, code: str) -> bool:
        return self.findings.get(code) is False


def parse_screen(
    data: Any, rules: ScreenRules, *, today: dt.date, require_context: bool = True
) -> ScreenInput:
    """Validate a decoded screen input. Raises ``InputError`` listing every problem.

    ``require_context`` is off for the CDS Hooks path, where the chart, not a
    clinician, supplies the values and the order itself is the context.
    """
    errors: list[FieldError] = []
    if not isinstance(data, Mapping):
        raise InputError([FieldError("(body)", "must be a JSON object.")])
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            errors.append(FieldError(str(key), f"unknown key; allowed: {', '.join(TOP_LEVEL_KEYS)}."))
    policy = data.get("screen_policy")
    if policy is None:
        policy = rules.default_policy
    elif policy not in POLICIES:
        errors.append(
            FieldError("screen_policy", f"{policy!r} is not allowed; use one of: {', '.join(POLICIES)}.")
        )
        policy = rules.default_policy
    raw = data.get("values", {})
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        errors.append(FieldError("values", "must be an object of screen codes to values."))
        raw = {}

    allowed = (*rules.input_codes, *rules.context_codes)
    findings: dict[str, bool] = {}
    labs: dict[str, LabValue] = {}
    choices: dict[str, str] = {}
    dates: dict[str, dt.date] = {}
    for code, value in raw.items():
        name = f"values.{code}"
        spec = rules.inputs.get(code) if code in allowed else None
        if spec is None:
            errors.append(FieldError(name, f"unknown screen code; allowed: {', '.join(allowed)}.", str(code)))
            continue
        if value is None:
            continue
        if spec.kind == "finding":
            if isinstance(value, bool):
                findings[code] = value
            else:
                errors.append(
                    FieldError(name, f"{value!r}: use true (yes), false (no) or null (not assessed).", code)
                )
        elif spec.kind == "choice":
            choice = LABS[spec.lab].choices
            if isinstance(value, str) and value in choice:
                choices[code] = value
            else:
                errors.append(
                    FieldError(name, f"{value!r} is not allowed; use one of: {', '.join(choice)}.", code)
                )
        elif spec.kind == "date":
            read = _read_date(name, code, value, today)
            if isinstance(read, FieldError):
                errors.append(read)
            else:
                dates[code] = read
        else:
            lab = _read_lab(name, spec.lab, value, errors)
            if lab is not None:
                labs[code] = lab

    for code in rules.input_codes:
        spec = rules.inputs[code]
        name = f"values.{code}"
        if spec.required and require_context and findings.get(code) is not True:
            said = "not given" if code not in findings else "false"
            errors.append(
                FieldError(
                    name,
                    f"{said}: this screen is for an acquired demyelinating neuropathy or suspected CIDP; "
                    "give true, or use the full checklist.",
                    code,
                )
            )
        parent = spec.parent
        if parent and (code in choices or code in labs or code in dates):
            if parent not in findings and parent not in labs:
                errors.append(
                    FieldError(
                        name, Message("given without %(parent)s: give %(parent)s too.", parent=parent), code
                    )
                )
            elif findings.get(parent) is False and choices.get(code) not in (None, "none", "unknown"):
                errors.append(
                    FieldError(
                        name,
                        Message(
                            "%(value)s contradicts %(parent)s false: give one or the other.",
                            value=repr(choices[code]),
                            parent=parent,
                        ),
                        code,
                    )
                )
    if errors:
        raise InputError(errors)
    return ScreenInput(today, findings, labs, choices, dates, str(policy))


def _read_lab(name: str, lab_code: str, value: Any, errors: list[FieldError]) -> LabValue | None:
    # The vocabulary's reading (plausible range, units), then the number as entered kept for A10.
    found: list[FieldError] = []
    reading = parse_lab(lab_code, value, found, [])
    for e in found:
        field_name = name + e.field[len(f"labs.{lab_code}") :]
        errors.append(FieldError(field_name, e.message, e.code, e.part))
    if reading is None:
        return None
    if reading.entered is None:
        return LabValue(float(reading.value), LABS[lab_code].unit, Fraction(1))
    unit = reading.entered.unit  # already as the vocabulary names it
    return LabValue(reading.entered.value, unit, unit_factor(lab_code, unit))


def _read_date(name: str, code: str, value: Any, today: dt.date) -> dt.date | FieldError:
    if not isinstance(value, str):
        return FieldError(name, f"{value!r}: give a date as YYYY-MM-DD.", code)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return FieldError(name, f"{value!r} is not a date; give YYYY-MM-DD.", code)
    if len(value) != 10:
        return FieldError(name, f"{value!r}: give a date as YYYY-MM-DD.", code)
    if day > today:
        return FieldError(
            name,
            Message("%(value)s is in the future (today is %(today)s).", value=value, today=today.isoformat()),
            code,
        )
    if day < EARLIEST_DATE:
        return FieldError(
            name,
            Message(
                "%(value)s is before %(earliest)s; check the year.",
                value=value,
                earliest=EARLIEST_DATE.isoformat(),
            ),
            code,
        )
    return day
