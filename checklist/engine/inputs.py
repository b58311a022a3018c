"""Parse and validate a case (design.md §3.2) into plain, canonical values.

Every problem is reported with the field it concerns and what is allowed;
nothing is coerced silently. A finding that is not given, or given as null,
is "not assessed" and is simply left out of ``Case.findings``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .units import UnitError, to_canonical
from .vocabulary import FINDINGS, LABS, LabKind

TOP_LEVEL_KEYS = ("criteria_set", "findings", "labs", "compare")


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class InputError(ValueError):
    """Raised with every problem found, so a client can fix them all at once."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        return {"errors": [e.as_dict() for e in self.errors]}


@dataclass(frozen=True, slots=True)
class Case:
    """A validated case. Labs are in canonical units; absent keys are not assessed."""

    findings: Mapping[str, bool] = field(default_factory=dict)
    labs: Mapping[str, float | str] = field(default_factory=dict)
    criteria_set: str | None = None
    compare: bool = False
    warnings: tuple[FieldError, ...] = ()


def _fmt(value: float) -> str:
    return f"{value:g}"


def _is_number(value: object) -> bool:
    # bool is an int in Python; true/false is never a lab value.
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_lab(
    code: str, raw: Any, errors: list[FieldError], warnings: list[FieldError]
) -> float | str | None:
    """Validate one lab value; append problems to ``errors``. Returns the canonical value."""
    lab = LABS[code]
    name = f"labs.{code}"
    if raw is None:
        return None
    if lab.kind is LabKind.CATEGORY:
        if isinstance(raw, str) and raw in lab.choices:
            return raw
        errors.append(FieldError(name, f"{raw!r} is not allowed; use one of: {', '.join(lab.choices)}."))
        return None

    unit = lab.unit
    value: Any = raw
    if isinstance(raw, Mapping):
        extra = set(raw) - {"value", "unit"}
        if extra or "value" not in raw or "unit" not in raw:
            errors.append(FieldError(name, 'give a number, or an object {"value": number, "unit": string}.'))
            return None
        value, unit = raw["value"], raw["unit"]
        if not isinstance(unit, str):
            errors.append(FieldError(f"{name}.unit", "must be a string."))
            return None
    if not _is_number(value):
        errors.append(FieldError(name, f"must be a number in {lab.unit}; got {type(value).__name__}."))
        return None
    if not math.isfinite(value):
        errors.append(FieldError(name, "must be a finite number."))
        return None
    try:
        canonical = to_canonical(code, float(value), unit)
    except UnitError as exc:
        errors.append(
            FieldError(f"{name}.unit", f"unknown unit {unit!r}; allowed: {', '.join(exc.allowed)}.")
        )
        return None
    low, high = lab.minimum, lab.maximum
    if (low is not None and canonical < low) or (high is not None and canonical > high):
        shown = _fmt(canonical) + (f" {lab.unit}" if unit != lab.unit else "")
        errors.append(
            FieldError(
                name,
                f"{shown} is outside the plausible range {_fmt(low or 0)}-{_fmt(high or 0)} "
                f"{lab.unit}; check the value and its unit.",
            )
        )
        return None
    if lab.kind is LabKind.INTEGER and canonical != int(canonical):
        errors.append(FieldError(name, "must be a whole number."))
        return None
    if (lab.soft_low is not None and canonical < lab.soft_low) or (
        lab.soft_high is not None and canonical > lab.soft_high
    ):
        warnings.append(FieldError(name, lab.soft_hint or "unusual value; check the unit."))
    return int(canonical) if lab.kind is LabKind.INTEGER else canonical


def parse_case(data: Any, criteria_sets: Iterable[str]) -> Case:
    """Validate a decoded JSON case. Raises ``InputError`` listing every problem."""
    errors: list[FieldError] = []
    warnings: list[FieldError] = []
    if not isinstance(data, Mapping):
        raise InputError([FieldError("(body)", "must be a JSON object.")])
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            errors.append(FieldError(str(key), f"unknown key; allowed: {', '.join(TOP_LEVEL_KEYS)}."))

    slugs = tuple(criteria_sets)
    criteria_set = data.get("criteria_set")
    if criteria_set is not None and criteria_set not in slugs:
        errors.append(
            FieldError("criteria_set", f"{criteria_set!r} is not known; use one of: {', '.join(slugs)}.")
        )
        criteria_set = None

    compare = data.get("compare", False)
    if not isinstance(compare, bool):
        errors.append(FieldError("compare", "must be true or false."))
        compare = False

    findings: dict[str, bool] = {}
    raw_findings = data.get("findings", {})
    if raw_findings is None:
        raw_findings = {}
    if not isinstance(raw_findings, Mapping):
        errors.append(FieldError("findings", "must be an object of finding codes to true/false."))
        raw_findings = {}
    for code, value in raw_findings.items():
        if code not in FINDINGS:
            errors.append(FieldError(f"findings.{code}", "unknown finding code; see GET /api/v1/vocabulary."))
        elif value is None:
            continue  # explicitly not assessed
        elif not isinstance(value, bool):
            errors.append(
                FieldError(
                    f"findings.{code}", "must be true (present), false (absent) or null (not assessed)."
                )
            )
        else:
            findings[code] = value

    labs: dict[str, float | str] = {}
    raw_labs = data.get("labs", {})
    if raw_labs is None:
        raw_labs = {}
    if not isinstance(raw_labs, Mapping):
        errors.append(FieldError("labs", "must be an object of lab codes to values."))
        raw_labs = {}
    for code, raw in raw_labs.items():
        if code not in LABS:
            errors.append(FieldError(f"labs.{code}", "unknown lab code; see GET /api/v1/vocabulary."))
            continue
        value = parse_lab(code, raw, errors, warnings)
        if value is not None:
            labs[code] = value

    if errors:
        raise InputError(errors)
    return Case(
        findings=findings,
        labs=labs,
        criteria_set=criteria_set,
        compare=compare,
        warnings=tuple(warnings),
    )
