"""Unit conversion into the canonical units of clinical.md §e.3."""

from __future__ import annotations

from .vocabulary import LABS, UNIT_ALIASES


class UnitError(ValueError):
    """The unit is not one this lab accepts. ``allowed`` lists the ones it does."""

    def __init__(self, lab: str, unit: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"unknown unit {unit!r} for {lab}")
        self.lab = lab
        self.unit = unit
        self.allowed = allowed


def normalise_unit(unit: str) -> str:
    """Fold the spellings people type (µ/u, case, spaces) into one comparable form."""
    folded = unit.strip()
    for alias, plain in UNIT_ALIASES.items():
        folded = folded.replace(alias, plain)
    return folded.replace(" ", "").lower()


# {lab: {normalised unit: factor}}, built once: parse_case looks units up per value.
_FACTORS: dict[str, dict[str, float]] = {
    code: {normalise_unit(lab.unit): 1.0, **{normalise_unit(u): f for u, f in lab.units.items()}}
    for code, lab in LABS.items()
}


def to_canonical(lab_code: str, value: float, unit: str) -> float:
    """Return ``value`` given in ``unit`` converted to the lab's canonical unit.

    Raises ``UnitError`` for a unit the lab does not accept; never guesses.
    """
    if unit == LABS[lab_code].unit:
        return value
    factor = _FACTORS[lab_code].get(normalise_unit(unit))
    if factor is None:
        raise UnitError(lab_code, unit, LABS[lab_code].allowed_units)
    return value if factor == 1.0 else value * factor
