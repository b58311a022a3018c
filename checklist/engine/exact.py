"""Exact numbers for threshold comparison in the unit entered (clinical.md §f.3 A10), for every room.

A value meets its threshold as the digits entered, never rounded and never converted in
floating point: ``exact`` gives those digits as a rational, ``unit_factor`` the exact
factor of an entered unit to the lab's canonical one. A canonical threshold divided by
that factor is the threshold in the entered unit, exactly; and since both are exact,
comparing entered x factor with the canonical threshold is the same comparison.

The follow-up computes in ``Decimal`` rather than ``Fraction`` (a timeline makes
thousands of comparisons, and Fraction is pure Python): ``exact_decimal`` and
``decimal_factor`` are the same numbers, and ``decimal_factor`` refuses a factor
that no decimal holds exactly (1/1.611 would round).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from checklist.engine.units import resolve_unit

# Factors in the vocabulary are written as decimals or simple fractions (1/88.4);
# limit_denominator recovers the rational the author meant, so no float error remains.
_DENOMINATOR = 10**6


def exact(x: float) -> Fraction:
    """The number as typed: repr of a float is the shortest decimal that reads back to it."""
    return Fraction(repr(x))


def ratio(x: float) -> tuple[int, int]:
    """``exact`` as (numerator, denominator > 0), unreduced, without building a Fraction.

    The hot paths compare by cross-multiplying these integers: the same exact comparison
    at a fraction of Fraction's cost (it is pure Python, and parses the string by regex).
    """
    if isinstance(x, int):
        return x, 1
    return Decimal(repr(x)).as_integer_ratio()


@lru_cache(maxsize=1024)  # content thresholds only (a rule book's numbers), never entered values
def threshold_ratio(x: float) -> tuple[int, int]:
    """``ratio`` of a published threshold, built once per number."""
    return ratio(x)


@lru_cache(maxsize=256)
def unit_ratio(lab: str, unit: str) -> tuple[int, int]:
    """``unit_factor`` as (numerator, denominator > 0)."""
    factor = unit_factor(lab, unit)
    return factor.numerator, factor.denominator


@lru_cache(maxsize=256)  # pure; callers pass the unit as the vocabulary names it
def unit_factor(lab: str, unit: str) -> Fraction:
    """canonical = entered x this, exactly. Raises ``units.UnitError`` for a unit the lab refuses."""
    return Fraction(resolve_unit(lab, unit)[1]).limit_denominator(_DENOMINATOR)


def exact_decimal(x: float) -> Decimal:
    """``exact`` as a Decimal: the digits as typed."""
    return Decimal(x) if isinstance(x, int) else Decimal(repr(x))


@lru_cache(maxsize=256)
def decimal_factor(lab: str, unit: str) -> Decimal:
    """``unit_factor`` as a Decimal; ValueError when no decimal is that factor exactly."""
    factor = unit_factor(lab, unit)
    denominator = factor.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        raise ValueError(f"{lab} in {unit}: the factor {factor} is not a terminating decimal")
    return Decimal(factor.numerator) / Decimal(factor.denominator)
