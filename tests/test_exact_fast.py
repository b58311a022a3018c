"""The integer comparison of compare.py agrees with an exact Fraction reference (§f.3 A10)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from checklist.engine.exact import exact, ratio, threshold_ratio, unit_factor, unit_ratio
from checklist.engine.vocabulary import LABS

_OPS = (operator.gt, operator.ge, operator.lt, operator.le)
_UNITS = [(lab, unit) for lab, spec in LABS.items() for unit in (spec.unit, *spec.units)]


def _fast(op: Callable[[int, int], bool], x: float, lab: str, unit: str, limit: float) -> bool:
    n, d = ratio(x)
    fn, fd = unit_ratio(lab, unit)
    ln, ld = threshold_ratio(limit)
    return bool(op(n * fn * ld, ln * d * fd))


def _reference(op: Callable[[Fraction, Fraction], bool], x: float, lab: str, unit: str, limit: float) -> bool:
    return bool(op(Fraction(repr(x)) * unit_factor(lab, unit), Fraction(repr(limit))))


_NUMBERS = st.one_of(
    st.floats(min_value=-1e308, max_value=1e308, allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([100.0, 99.99999999999999, 100.00000000000001, 2.75, 11.0, 0.01, 1e-300, 5e-324]),
)


# No deadline: a loaded CI machine once took 279 ms on a first example; speed is bench/'s to
# measure, this test checks only that the two comparisons agree.
@settings(deadline=None)
@given(
    x=_NUMBERS,
    limit=st.sampled_from([100.0, 0.01, 2.75, 11.0, 16.5, 450.0, 200.0, 1920.0, 0.5]),
    op=st.sampled_from(_OPS),
    lab_unit=st.sampled_from(_UNITS),
)
def test_fast_comparison_agrees_with_fraction(
    x: float, limit: float, op: Callable[[object, object], bool], lab_unit: tuple[str, str]
) -> None:
    lab, unit = lab_unit
    assert _fast(op, x, lab, unit, limit) == _reference(op, x, lab, unit, limit)


def test_a10_examples_exact() -> None:
    # 220 / 2.2 and 22 / 0.22 are exactly 100; in floats they are 99.99999999999999.
    for kappa, lam in ((220.0, 2.2), (22.0, 0.22)):
        (kn, kd), (ln, ld) = ratio(kappa), ratio(lam)
        assert Fraction(kn * ld, kd * ln) == 100
    assert exact(99.99999999999999) < 100
    assert ratio(7) == (7, 1)
