"""IMWG 2014 myeloma-defining events (Rajkumar, Lancet Oncol 2014;15:e538-48), per clinical.md §f.2 A3/A4.

Shared by the ``multiple_myeloma`` flag and the ``myeloma_defining_events``
caution, so that the two can never disagree about a threshold. The numbers
are content (thresholds); which lab each event reads is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from checklist.engine.diagnosis.compare import crosses, ratio_crosses
from checklist.engine.diagnosis.rulebook import RuleBook, Threshold
from checklist.engine.diagnosis.tagging import Said
from checklist.engine.inputs import Case

# (threshold code, lab code, name): myeloma-defining events read from one lab (A3).
DEFINING_EVENT_LABS: tuple[tuple[str, str, str], ...] = (
    ("mm_calcium", "calcium_mg_dl", "Calcium"),
    ("mm_creatinine", "creatinine_mg_dl", "Creatinine"),
    ("mm_creatinine_clearance", "creatinine_clearance_ml_min", "Creatinine clearance"),
    ("mm_egfr", "egfr_ml_min_1_73m2", "eGFR"),
    ("mm_hemoglobin", "hemoglobin_g_dl", "Haemoglobin"),
    ("mde_marrow_plasma_cells", "bm_plasma_cells_pct", "Marrow plasma cells"),
    ("mm_mri_focal_lesions", "mri_focal_lesions_count", "MRI focal lesions"),
)

# §f.3 A12: the "B" of CRAB, read from a finding, not a lab.
LYTIC_EVENT = ("lytic_bone_lesions", "Osteolytic lesions")
FLC_EVENT_NAME = "Free light chain ratio"

# Every myeloma-defining event by name, in one list: the flag, the caution and the
# multiple-myeloma page must name the same events (tests/test_myeloma_events.py reads it).
DEFINING_EVENT_NAMES: tuple[str, ...] = (
    *(name for _, _, name in DEFINING_EVENT_LABS),
    LYTIC_EVENT[1],
    FLC_EVENT_NAME,
)

# What else raises the myeloma flag (clinical.md §f): a clone at a myeloma
# level, which is not a defining event by itself.
FLAG_ONLY_LABS: tuple[tuple[str, str, str], ...] = (
    ("mm_marrow_plasma_cells", "bm_plasma_cells_pct", "Marrow plasma cells"),
    ("mm_m_protein", "m_protein_g_dl", "M-protein"),
)


def lab_said(case: Case, book: RuleBook, items: tuple[tuple[str, str, str], ...]) -> list[Said]:
    """One reason per lab over its threshold, with the value as entered and the threshold applied."""
    hits: list[Said] = []
    labs = case.labs
    for threshold_code, lab, name in items:
        value = labs.get(lab)
        if value is None or isinstance(value, str):
            continue
        threshold = book.thresholds[threshold_code]
        if crosses(threshold, case, lab):
            hits.append((f"{name} {case.show(lab)} {threshold.describe()}.", (threshold,)))
    return hits


def lab_hits(case: Case, book: RuleBook, items: tuple[tuple[str, str, str], ...]) -> list[str]:
    """One reason per lab over its threshold, with the value as entered."""
    return [text for text, _used in lab_said(case, book, items)]


@dataclass(frozen=True, slots=True)
class FlcFinding:
    """An extreme free light chain ratio, and whether the involved chain makes it an event."""

    is_event: bool  # ratio extreme and involved chain >= its threshold
    needs_level: bool  # ratio extreme, involved chain not given
    reason: str
    # The content thresholds the reason quotes: the ratio's, and the involved chain's.
    used: tuple[Threshold, ...] = ()


def _shown(ratio: Fraction) -> str:
    """The ratio for a reason; a plausible kappa over a vanishing lambda exceeds any float."""
    try:
        return f"{float(ratio):.4g}"
    except OverflowError:
        return "inf"


def flc_finding(case: Case, book: RuleBook, ratio: Fraction | None) -> FlcFinding | None:
    """§f.2 A4: the ratio counts only with the involved chain at or above 100 mg/L.

    None when the ratio is not extreme, or when the involved chain was given
    and is below the threshold (then the ratio alone is no event).
    """
    if ratio is None:
        return None
    high, low = book.thresholds["mm_flc_ratio_high"], book.thresholds["mm_flc_ratio_low"]
    if ratio_crosses(high, ratio):
        ratio_threshold, chain, lab = high, "kappa", "flc_kappa_mg_l"
    elif ratio_crosses(low, ratio):
        ratio_threshold, chain, lab = low, "lambda", "flc_lambda_mg_l"
    else:
        return None
    involved = book.thresholds["mm_flc_involved"]
    ratio_text = f"{FLC_EVENT_NAME} (kappa/lambda) {_shown(ratio)} {ratio_threshold.describe()}"
    level = case.labs.get(lab)
    if level is None or isinstance(level, str):
        return FlcFinding(
            False,
            True,
            f"{ratio_text}; the involved ({chain}) chain level is needed to make it a "
            f"myeloma-defining event ({chain} {involved.describe()}).",
            (ratio_threshold, involved),
        )
    if not crosses(involved, case, lab):
        return None
    return FlcFinding(
        True,
        False,
        f"{ratio_text}, involved {chain} {case.show(lab)} {involved.describe()}.",
        (ratio_threshold, involved),
    )


def lytic_event(case: Case) -> str | None:
    """§f.3 A12: one or more osteolytic lesions; a mixed lesion is named as one to biopsy, not as myeloma."""
    if case.findings.get(LYTIC_EVENT[0]) is not True:
        return None
    if case.findings.get("sclerotic_bone_lesions") is True:
        return (
            f"{LYTIC_EVENT[1]} recorded beside sclerotic lesions: a mixed lesion still counts as "
            "sclerotic for POEMS, but its lytic part should be biopsied to exclude myeloma. "
            "This does not by itself make the case myeloma."
        )
    return f"{LYTIC_EVENT[1]} on skeletal radiography, CT or PET-CT (IMWG 2014)."


def defining_events(case: Case, book: RuleBook, ratio: Fraction | None) -> list[str]:
    """Every IMWG myeloma-defining event present (§f.2 A3, §f.3 A12), as reasons."""
    events = lab_hits(case, book, DEFINING_EVENT_LABS)
    lytic = lytic_event(case)
    if lytic is not None:
        events.append(lytic)
    flc = flc_finding(case, book, ratio)
    if flc is not None and flc.is_event:
        events.append(flc.reason)
    return events
