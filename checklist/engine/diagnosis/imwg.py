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
from checklist.engine.message import Message

# (threshold code, lab code, name): myeloma-defining events read from one lab (A3).
DEFINING_EVENT_LABS: tuple[tuple[str, str, str], ...] = (
    ("mm_calcium", "calcium_mg_dl", Message("Calcium")),
    ("mm_creatinine", "creatinine_mg_dl", Message("Creatinine")),
    ("mm_creatinine_clearance", "creatinine_clearance_ml_min", Message("Creatinine clearance")),
    ("mm_egfr", "egfr_ml_min_1_73m2", Message("eGFR")),
    ("mm_hemoglobin", "hemoglobin_g_dl", Message("Haemoglobin")),
    ("mde_marrow_plasma_cells", "bm_plasma_cells_pct", Message("Marrow plasma cells")),
    ("mm_mri_focal_lesions", "mri_focal_lesions_count", Message("MRI focal lesions")),
)

# The involved chain, in words (a code elsewhere: kappa and lambda as written in the lab).
_KAPPA = Message("kappa")
_LAMBDA = Message("lambda")

# §f.3 A12: the "B" of CRAB, read from a finding, not a lab.
LYTIC_EVENT = ("lytic_bone_lesions", Message("Osteolytic lesions"))
FLC_EVENT_NAME = Message("Free light chain ratio")

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
    ("mm_marrow_plasma_cells", "bm_plasma_cells_pct", Message("Marrow plasma cells")),
    ("mm_m_protein", "m_protein_g_dl", Message("M-protein")),
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
            hits.append(
                (
                    Message(
                        "%(name)s %(value)s %(limit)s.",
                        name=name,
                        value=case.show(lab),
                        limit=threshold.describe(),
                    ),
                    (threshold,),
                )
            )
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
        ratio_threshold, chain, lab = high, _KAPPA, "flc_kappa_mg_l"
    elif ratio_crosses(low, ratio):
        ratio_threshold, chain, lab = low, _LAMBDA, "flc_lambda_mg_l"
    else:
        return None
    involved = book.thresholds["mm_flc_involved"]
    ratio_text = Message(
        "%(name)s (kappa/lambda) %(ratio)s %(limit)s",
        name=FLC_EVENT_NAME,
        ratio=_shown(ratio),
        limit=ratio_threshold.describe(),
    )
    level = case.labs.get(lab)
    if level is None or isinstance(level, str):
        return FlcFinding(
            False,
            True,
            Message(
                "%(ratio)s; the involved (%(chain)s) chain level is needed to make it a "
                "myeloma-defining event (%(chain)s %(limit)s).",
                ratio=ratio_text,
                chain=chain,
                limit=involved.describe(),
            ),
            (ratio_threshold, involved),
        )
    if not crosses(involved, case, lab):
        return None
    return FlcFinding(
        True,
        False,
        Message(
            "%(ratio)s, involved %(chain)s %(value)s %(limit)s.",
            ratio=ratio_text,
            chain=chain,
            value=case.show(lab),
            limit=involved.describe(),
        ),
        (ratio_threshold, involved),
    )


def lytic_event(case: Case) -> str | None:
    """§f.3 A12: one or more osteolytic lesions; a mixed lesion is named as one to biopsy, not as myeloma."""
    if case.findings.get(LYTIC_EVENT[0]) is not True:
        return None
    if case.findings.get("sclerotic_bone_lesions") is True:
        return Message(
            "%(name)s recorded beside sclerotic lesions: a mixed lesion still counts as "
            "sclerotic for POEMS, but its lytic part should be biopsied to exclude myeloma. "
            "This does not by itself make the case myeloma.",
            name=LYTIC_EVENT[1],
        )
    return Message("%(name)s on skeletal radiography, CT or PET-CT (IMWG 2014).", name=LYTIC_EVENT[1])


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
