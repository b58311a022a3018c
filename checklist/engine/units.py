"""Units: the spellings people type, and conversion into the canonical units of clinical.md §e.3."""

from __future__ import annotations

import re

from checklist.engine.vocabulary import LABS, UNIT_ALIASES


class UnitError(ValueError):
    """The unit is not one this lab accepts. ``allowed`` lists the ones it does."""

    def __init__(self, lab: str, unit: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"unknown unit {unit!r} for {lab}")
        self.lab = lab
        self.unit = unit
        self.allowed = allowed


# "10e9", "10*9", "10E9" and "x10^9" are all written for 10^9.
_POWER = re.compile(r"x?10(?:\^|\*|e)(\d)")


def normalise_unit(unit: str) -> str:
    """Fold the spellings of one unit into one comparable form.

    Case, spaces, µ/μ/u, ×/x, superscripts and the ways of writing a power of
    ten are folded; nothing else. Two units that differ after folding are
    different units, and an unknown one is an error, never a guess.
    """
    folded = unit.strip()
    for alias, plain in UNIT_ALIASES.items():
        folded = folded.replace(alias, plain)
    folded = folded.replace(" ", "").lower().replace("mcl", "ul").replace("mm^3", "mm3").replace("m^2", "m2")
    return _POWER.sub(r"10^\1", folded)


# {lab: {normalised spelling: (unit as the lab names it, factor)}}, built once:
# parse_case looks units up per value.
_UNITS: dict[str, dict[str, tuple[str, float]]] = {}
for _code, _lab in LABS.items():
    _known = {normalise_unit(_lab.unit): (_lab.unit, 1.0)}
    _known.update({normalise_unit(u): (u, f) for u, f in _lab.units.items()})
    for _spelling, _target in _lab.aliases.items():
        _known[normalise_unit(_spelling)] = _known[normalise_unit(_target)]
    _UNITS[_code] = _known


def resolve_unit(lab_code: str, unit: str) -> tuple[str, float]:
    """The unit as the lab names it and its factor to the canonical unit.

    Raises ``UnitError`` for a unit the lab does not accept.
    """
    lab = LABS[lab_code]
    if unit == lab.unit:
        return unit, 1.0
    found = _UNITS[lab_code].get(normalise_unit(unit))
    if found is None:
        raise UnitError(lab_code, unit, lab.allowed_units)
    return found


def accepted_spellings(lab_code: str) -> tuple[str, ...]:
    """Every unit spelling the lab accepts, as written in the vocabulary."""
    lab = LABS[lab_code]
    return (*lab.allowed_units, *lab.aliases)


def to_canonical(lab_code: str, value: float, unit: str) -> float:
    """Return ``value`` given in ``unit`` converted to the lab's canonical unit.

    Raises ``UnitError`` for a unit the lab does not accept; never guesses.
    """
    factor = resolve_unit(lab_code, unit)[1]
    return value if factor == 1.0 else value * factor
