"""Threshold comparison in the unit the value was entered in (clinical.md §f.3 A10).

A value is never rounded, nor converted in floating point, before it meets its
threshold. Where the source publishes the threshold in the unit entered, that
published number decides (a value on a published boundary never crosses it:
2.75 mmol/L is not > 2.75 mmol/L, although 2.75 x 4.008 = 11.02 mg/dL). Otherwise
the threshold is carried into the entered unit with the exact (rational) factor,
which is the same comparison as the entered value times the exact factor.

Audit of every threshold the engine compares (content thresholds of
vocabulary.THRESHOLDS; published unit(s) -> how a value is compared):

=========================  ==========================  ========================================
threshold                  published unit(s)           how compared
=========================  ==========================  ========================================
vegf_plasma_cutoff >=200   pg/mL                       ng/L exact (x1); ng/mL: 200 pg/mL = 0.2
                                                       ng/mL exactly (factor 1000)
vegf_serum_cutoff >=1920   pg/mL (app default,         as above; 1.92 ng/mL exactly
                           secondary)
VEGF vs lab ULN            the lab's own unit          both sides entered values x exact factor
platelets >450, >=400      x10^9/L (app convention)    10^3/uL x1; /uL, /mm3: 450000 exactly
Hb >16.5 M, >16.0 F        g/dL (WHO 2016)             g/L: 165/160 exactly; mmol/L: / 1.611
                                                       (the app's factor, exact rational)
Hct >49 M, >48 F           % (WHO 2016)                L/L: 0.49 / 0.48 exactly
mm_calcium >11             mg/dL and mmol/L (IMWG)     mg/dL: 11; mmol/L: published 2.75 (content:
                                                       fixtures/diagnosis_rules.json)
mm_creatinine >2           mg/dL and umol/L (IMWG)     mg/dL: 2; umol/L: published 177 (as above)
mm_creatinine_clearance    mL/min                      one unit only
mm_egfr <40                mL/min/1.73m2               one unit only
mm_hemoglobin <10          g/dL (IMWG)                 g/L: 100 exactly; mmol/L: 10 / 1.611
mm_marrow / mde_marrow     %                           one unit only
mm_m_protein >=3           g/dL                        g/L: 30 exactly
mm_flc_involved >=100      mg/L                        mg/dL: 10 exactly (either chain)
mm_flc_ratio >=100/<=0.01  ratio (unitless)            as given, else the exact quotient of
                                                       the chains (exact_ratio)
mm_mri_focal_lesions >=2   count                       integer, no unit
extent_limited <=3         count                       integer, no unit
al_proteinuria >=0.5       g/24 h                      one unit only
=========================  ==========================  ========================================
"""

from __future__ import annotations

from fractions import Fraction

from checklist.engine.diagnosis.rulebook import Threshold
from checklist.engine.exact import ratio, threshold_ratio, unit_ratio
from checklist.engine.inputs import Case


def _entered_ratio(case: Case, lab: str) -> tuple[int, int] | None:
    """The value in the canonical unit as (numerator, denominator > 0): entered x exact factor."""
    value = case.labs.get(lab)
    if isinstance(value, str) or value is None:
        return None
    given = case.entered.get(lab)
    if given is None:
        return ratio(value)
    n, d = ratio(given.value)
    fn, fd = unit_ratio(lab, given.unit)
    return n * fn, d * fd


def exact_value(case: Case, lab: str) -> Fraction | None:
    """The value in the canonical unit, exactly: as entered times the exact factor."""
    found = _entered_ratio(case, lab)
    return None if found is None else Fraction(*found)


def _passes(threshold: Threshold, x: tuple[int, int], limit: tuple[int, int]) -> bool:
    # x0/x1 ? l0/l1 with both denominators > 0 is x0*l1 ? l0*x1: exact, in integers.
    return threshold.passes_limit(x[0] * limit[1], limit[0] * x[1])  # type: ignore[arg-type]


def crosses(threshold: Threshold, case: Case, lab: str) -> bool:
    """Whether ``lab`` as entered crosses ``threshold`` (False when it is not a number)."""
    given = case.entered.get(lab)
    if given is not None:
        published = threshold.published_in(given.unit)
        if published is not None:
            return _passes(threshold, ratio(given.value), threshold_ratio(published))
    value = _entered_ratio(case, lab)
    if value is None:
        return False
    return _passes(threshold, value, threshold_ratio(threshold.value))


def exact_ratio(case: Case) -> Fraction | None:
    """The free light chain ratio (kappa/lambda), exactly: as given, else the chains' quotient.

    A quotient of floats misses its boundary (220 / 2.2 is 99.99999999999999 in floating point).
    """
    given = exact_value(case, "flc_ratio")
    if given is not None:
        return given
    kappa, lam = exact_value(case, "flc_kappa_mg_l"), exact_value(case, "flc_lambda_mg_l")
    if kappa is None or lam is None or lam <= 0:
        return None
    return kappa / lam


def ratio_crosses(threshold: Threshold, ratio: Fraction) -> bool:
    """Whether an exact ratio (exact_ratio) crosses ``threshold``."""
    return _passes(threshold, (ratio.numerator, ratio.denominator), threshold_ratio(threshold.value))
