"""Exact numbers for threshold comparison in the unit entered (clinical.md §f.3 A10), for every room.

A value meets its threshold as the digits entered, never rounded and never converted in
floating point: ``exact`` gives those digits as a rational, ``unit_factor`` the exact
factor of an entered unit to the lab's canonical one. A canonical threshold divided by
that factor is the threshold in the entered unit, exactly.
"""

from __future__ import annotations

from fractions import Fraction

from checklist.engine.units import resolve_unit

# Factors in the vocabulary are written as decimals or simple fractions (1/88.4);
# limit_denominator recovers the rational the author meant, so no float error remains.
_DENOMINATOR = 10**6


def exact(x: float) -> Fraction:
    """The number as typed: repr of a float is the shortest decimal that reads back to it."""
    return Fraction(repr(x))


def unit_factor(lab: str, unit: str) -> Fraction:
    """canonical = entered x this, exactly. Raises ``units.UnitError`` for a unit the lab refuses."""
    return Fraction(resolve_unit(lab, unit)[1]).limit_denominator(_DENOMINATOR)
