"""Parse and validate a case (design.md §3.2) into plain, canonical values.

Every problem is reported with the field it concerns and what is allowed;
nothing is coerced silently. A finding that is not given, or given as null,
is "not assessed" and is simply left out of ``Case.findings``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from checklist.engine.slots import slot_init
from checklist.engine.units import UnitError, resolve_unit
from checklist.engine.vocabulary import FINDINGS, LABS, Lab, LabKind

TOP_LEVEL_KEYS = ("criteria_set", "findings", "labs", "compare")


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one field. ``field`` is its path in the JSON case ("labs.x.unit").

    ``code`` and ``part`` say the same for a form, which names fields by code:
    the finding or lab code, and "unit" when the unit (not the value) is wrong.
    """

    field: str
    message: str
    code: str = ""
    part: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class InputError(ValueError):
    """Raised with every problem found, so a client can fix them all at once."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        return {"errors": [e.as_dict() for e in self.errors]}


@slot_init
@dataclass(frozen=True, slots=True)
class Entered:
    """A lab value as the clinician gave it, when it was not in the canonical unit."""

    value: float
    unit: str  # as the vocabulary names it (e.g. "umol/L" for "µmol/l")


@dataclass(slots=True)  # made per lab value on the hot path, used once: not frozen, for speed
class LabReading:
    """One validated lab value: canonical for the rules, as entered for the reasons."""

    code: str
    value: float | int | str
    entered: Entered | None = None
    warning: str | None = None


@slot_init
@dataclass(frozen=True, slots=True)
class Case:
    """A validated case. Labs are in canonical units; absent keys are not assessed."""

    findings: Mapping[str, bool] = field(default_factory=dict)
    labs: Mapping[str, float | str] = field(default_factory=dict)
    criteria_set: str | None = None
    compare: bool = False
    warnings: tuple[FieldError, ...] = ()
    # Labs given in another unit than the canonical one (clinical.md §f.2 A7).
    entered: Mapping[str, Entered] = field(default_factory=dict)

    def show(self, code: str) -> str:
        """A lab value for a reason: as entered, with the canonical value in brackets if converted.

        e.g. "90 g/L (9.0 g/dL)", "450 pg/mL", "480 x10^9/L".
        """
        lab = LABS[code]
        value = self.labs[code]
        if isinstance(value, str):
            return value
        given = self.entered.get(code)
        if given is None:
            return f"{format_value(value, lab.precision + 2)}{display_unit(lab.unit)}"
        shown = format_value(given.value, lab.precision_of(given.unit) + 2)
        canonical = f"{format_fixed(value, lab.precision)}{display_unit(lab.unit)}"
        return f"{shown}{display_unit(given.unit)} ({canonical})"


def format_value(value: float, decimals: int) -> str:
    """At most ``decimals`` decimals, without trailing zeros: the digits as entered."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_fixed(value: float, decimals: int) -> str:
    """Rounded to the lab's precision, as a lab prints it ("9.0", "2.49")."""
    return f"{value:.{decimals}f}"


def display_unit(unit: str) -> str:
    """' pg/mL', ' x10^9/L' for powers of ten, '%', and '' for ratios and counts."""
    if not unit or unit in ("ratio", "count"):
        return ""
    if unit == "%":
        return "%"
    if unit.startswith("10^"):
        return f" x{unit}"
    # The vocabulary spells micro as "u" so that it can be typed; show it as µ.
    return " " + unit.replace("umol", "µmol").replace("/uL", "/µL")


# A number as people type it: digits with at most one decimal point or comma.
_DECIMAL = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")
# Thousands grouped with a comma, space or apostrophe ("1,200", "12 500.5"),
# or with points before a decimal comma ("1.200,5"). "0,450" is a decimal.
_SEPARATORS = ",'\u00a0\u202f "
_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}([,'\u00a0\u202f ]\d{3})+(\.\d+)?|[+-]?[1-9]\d{0,2}(\.\d{3})+,\d+")


def read_number_text(text: str) -> float | str:
    """Read a number typed into a form field. Returns the number, or the error message.

    A decimal comma is accepted ("0,45"). Grouped thousands ("1,200") are
    refused with the way to write them: read as a decimal comma the value
    would silently shrink a thousandfold (clinical.md §f.2 A7).
    """
    cleaned = text.strip()
    if _GROUPED.fullmatch(cleaned):
        if "," in cleaned and "." in cleaned and cleaned.rindex(",") > cleaned.rindex("."):
            plain = cleaned.replace(".", "").replace(",", ".")
        else:
            plain = "".join(c for c in cleaned if c not in _SEPARATORS)
        return (
            f"{cleaned!r} has a thousands separator, which is never read as a decimal: "
            f"write {plain} (no separator; a point or comma only for decimals, e.g. 1.2)."
        )
    if not _DECIMAL.fullmatch(cleaned):
        return "enter a number, e.g. 450 or 0.45 (digits and one decimal point or comma)."
    return float(cleaned.replace(",", "."))


def _is_mapping(value: object) -> bool:
    # Decoded JSON is a plain dict: checked first, as an ABC check costs ~0.3 us.
    return type(value) is dict or isinstance(value, Mapping)


def _is_number(value: object) -> bool:
    # bool is an int in Python; true/false is never a lab value.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _slip(code: str, value: float, unit: str, *, soft: bool) -> str:
    """The unit the value was more likely in: one that puts it in the usual range."""
    lab = LABS[code]
    low = lab.soft_low if soft and lab.soft_low is not None else lab.minimum
    high = lab.soft_high if soft and lab.soft_high is not None else lab.maximum
    for other in lab.allowed_units:
        if other == unit:
            continue
        x = value * (1.0 if other == lab.unit else lab.units[other])
        if (low is None or x >= low) and (high is None or x <= high):
            return f"was it {other}?"
    return "check the value and its unit."


def read_lab(
    code: str, value: object, unit: str | None = None, *, text: bool = False
) -> LabReading | FieldError:
    """Validate one lab value given in ``unit`` (default: the canonical unit).

    The one reading of a raw value, shared by the API, the CLI and the form
    (clinical.md §f.2 A7): the number is checked against the plausible range
    in the unit it was entered in, and converted only after; a converted value
    outside the usual range gets a warning naming the likely unit slip. With
    ``text`` (the form), a string is read as a typed number. Returns the
    reading, or the error naming the field.
    """
    lab = LABS[code]
    name = f"labs.{code}"
    if lab.kind is LabKind.CATEGORY:
        if isinstance(value, str) and value in lab.choices:
            return LabReading(code, value)
        return FieldError(name, f"{value!r} is not allowed; use one of: {', '.join(lab.choices)}.", code)

    if text and isinstance(value, str):
        typed = read_number_text(value)
        if isinstance(typed, str):
            return FieldError(name, typed, code)
        value = typed
    if not _is_number(value):
        return FieldError(name, f"must be a number in {lab.unit}; got {type(value).__name__}.", code)
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        return FieldError(name, "must be a finite number.", code)

    given, factor = lab.unit, 1.0
    if unit is not None and unit != lab.unit:
        try:
            given, factor = resolve_unit(code, unit)
        except UnitError as exc:
            return FieldError(
                f"{name}.unit", f"unknown unit {unit!r}; allowed: {', '.join(exc.allowed)}.", code, "unit"
            )
    canonical = number if factor == 1.0 else number * factor
    low, high = lab.minimum, lab.maximum
    if (low is not None and canonical < low) or (high is not None and canonical > high):
        # The range as it reads in the unit entered: a clinician typing g/L sees g/L.
        places = lab.precision_of(given) + 2
        lo = format_value((low or 0) / factor, places)
        hi = format_value((high or 0) / factor, places)
        shown = format_value(number, places)
        unit_text = display_unit(given) or (f" {given}" if given not in ("ratio", "count") else "")
        return FieldError(
            name,
            f"{shown}{unit_text} is outside the plausible range {lo}-{hi}{unit_text}; "
            f"{_slip(code, number, given, soft=False)}",
            code,
        )
    if lab.kind is LabKind.INTEGER and canonical != int(canonical):
        return FieldError(name, "must be a whole number.", code)

    warning = None
    if (lab.soft_low is not None and canonical < lab.soft_low) or (
        lab.soft_high is not None and canonical > lab.soft_high
    ):
        # e.g. "A haemoglobin outside 5-20 g/dL is rare. 15.3 mmol/L is 24.6 g/dL: was it g/dL?"
        hint = lab.soft_hint or "An unusual value."
        slip = _slip(code, number, given, soft=True)
        if given != lab.unit:
            said = format_value(number, lab.precision_of(given) + 2) + display_unit(given)
            said += f" is {format_fixed(canonical, lab.precision)}{display_unit(lab.unit)}"
            warning = f"{hint} {said}: {slip}"
        else:
            warning = f"{hint[:-1] if hint.endswith('.') else hint}: {slip}"
    out: float | int = int(canonical) if lab.kind is LabKind.INTEGER else canonical
    return LabReading(code, out, None if given == lab.unit else Entered(number, given), warning)


def parse_lab(
    code: str, raw: Any, errors: list[FieldError], warnings: list[FieldError], *, text: bool = False
) -> LabReading | None:
    """Validate one lab value as a case gives it: a value, or {"value": ..., "unit": ...}."""
    name = f"labs.{code}"
    if raw is None:
        return None
    unit: Any = None
    value: Any = raw
    if _is_mapping(raw) and LABS[code].kind is not LabKind.CATEGORY:
        extra = set(raw) - {"value", "unit"}
        if extra or "value" not in raw or "unit" not in raw:
            errors.append(
                FieldError(name, 'give a number, or an object {"value": number, "unit": string}.', code)
            )
            return None
        value, unit = raw["value"], raw["unit"]
        if not isinstance(unit, str):
            errors.append(FieldError(f"{name}.unit", "must be a string.", code, "unit"))
            return None
    reading = read_lab(code, value, unit, text=text)
    if isinstance(reading, FieldError):
        errors.append(reading)
        return None
    if reading.warning:
        warnings.append(FieldError(name, reading.warning, code))
    return reading


class ObjectWithDuplicates(dict[str, Any]):
    """A decoded JSON object in which some key was given more than once."""

    duplicates: tuple[str, ...] = ()


def object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for json.loads: remember duplicate keys instead of "last wins".

    The duplicates are reported by ``duplicate_key_errors`` with their path,
    as an error (clinical.md §f.2 A7): which value was meant is unknowable.
    """
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = ObjectWithDuplicates(obj)
    seen: set[str] = set()
    twice: list[str] = []
    for key, _value in pairs:
        if key in seen and key not in twice:
            twice.append(key)
        seen.add(key)
    marked.duplicates = tuple(twice)
    return marked


def duplicate_key_errors(value: Any, path: str = "") -> list[FieldError]:
    """One error per key given twice anywhere in a decoded document, naming its path."""
    errors: list[FieldError] = []
    if isinstance(value, dict):
        for key in getattr(value, "duplicates", ()):
            errors.append(
                FieldError(
                    f"{path}{key}",
                    "given more than once; give each key once (which value was meant cannot be known).",
                )
            )
        for key, item in value.items():
            if isinstance(item, dict | list):
                errors.extend(duplicate_key_errors(item, f"{path}{key}."))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict | list):
                errors.extend(duplicate_key_errors(item, f"{path}{i}."))
    return errors


def _plain_range(lab: Lab) -> tuple[float, float]:
    """Values that need no error and no warning: inside the plausible and the usual range."""
    low = max(x for x in (lab.minimum, lab.soft_low, -math.inf) if x is not None)
    high = min(x for x in (lab.maximum, lab.soft_high, math.inf) if x is not None)
    return low, high


# Per numeric (non-integer) lab, for parse_case's shortcut.
_PLAIN: dict[str, tuple[float, float]] = {
    code: _plain_range(lab) for code, lab in LABS.items() if lab.kind is LabKind.NUMBER
}


def parse_case(
    data: Any, criteria_sets: Iterable[str], *, text: bool = False, drafts: Mapping[str, str] | None = None
) -> Case:
    """Validate a decoded JSON case. Raises ``InputError`` listing every problem.

    With ``text`` (the form), lab values may be typed strings ("0,45"). ``drafts`` maps a
    switched-off criteria set to the message that refuses it (RuleBook.draft_messages).
    """
    case, errors = read_case(data, criteria_sets, text=text, drafts=drafts)
    if errors:
        raise InputError(list(errors))
    return case


def read_case(
    data: Any, criteria_sets: Iterable[str], *, text: bool = False, drafts: Mapping[str, str] | None = None
) -> tuple[Case, tuple[FieldError, ...]]:
    """The one reading of a case: the valid part of it, and every problem found.

    A field in error is left out of the case, so a caller that can show the
    problems next to the answer (the form) still evaluates the rest; the API
    and the CLI refuse the whole case instead (``parse_case``).
    """
    errors: list[FieldError] = []
    warnings: list[FieldError] = []
    if not _is_mapping(data):
        return Case(), (FieldError("(body)", "must be a JSON object."),)
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            errors.append(FieldError(str(key), f"unknown key; allowed: {', '.join(TOP_LEVEL_KEYS)}."))

    slugs = tuple(criteria_sets)
    criteria_set = data.get("criteria_set")
    if isinstance(criteria_set, str) and drafts and criteria_set in drafts and criteria_set not in slugs:
        errors.append(FieldError("criteria_set", drafts[criteria_set], "criteria_set"))
        criteria_set = None
    elif criteria_set is not None and criteria_set not in slugs:
        errors.append(
            FieldError(
                "criteria_set",
                f"{criteria_set!r} is not known; use one of: {', '.join(slugs)}.",
                "criteria_set",
            )
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
    if not _is_mapping(raw_findings):
        errors.append(FieldError("findings", "must be an object of finding codes to true/false."))
        raw_findings = {}
    for code, value in raw_findings.items():
        if code not in FINDINGS:
            errors.append(
                FieldError(f"findings.{code}", "unknown finding code; see GET /api/v1/vocabulary.", str(code))
            )
        elif value is None:
            continue  # explicitly not assessed
        elif not isinstance(value, bool):
            errors.append(
                FieldError(
                    f"findings.{code}",
                    "must be true (present), false (absent) or null (not assessed).",
                    code,
                )
            )
        else:
            findings[code] = value

    labs: dict[str, float | str] = {}
    entered: dict[str, Entered] = {}
    raw_labs = data.get("labs", {})
    if raw_labs is None:
        raw_labs = {}
    if not _is_mapping(raw_labs):
        errors.append(FieldError("labs", "must be an object of lab codes to values."))
        raw_labs = {}
    for code, raw in raw_labs.items():
        lab = LABS.get(code)
        if lab is None:
            errors.append(
                FieldError(f"labs.{code}", "unknown lab code; see GET /api/v1/vocabulary.", str(code))
            )
            continue
        # Shortcut for the common case, a plain number in the canonical unit that
        # needs no message: what read_lab would answer, without building a reading.
        kind = type(raw)
        plain = _PLAIN.get(code)
        if (kind is float or kind is int) and plain is not None and plain[0] <= raw <= plain[1]:
            labs[code] = float(raw)
            continue
        reading = parse_lab(code, raw, errors, warnings, text=text)
        if reading is not None:
            labs[code] = reading.value
            if reading.entered is not None:
                entered[code] = reading.entered

    case = Case(
        findings=findings,
        labs=labs,
        criteria_set=criteria_set,
        compare=compare,
        warnings=tuple(warnings),
        entered=entered,
    )
    return case, tuple(errors)
