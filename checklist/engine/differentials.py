"""Differential flags of clinical.md §f: deterministic "consider / exclude" triggers.

A flag is never a diagnosis. Each comes with the reasons it fired, so the
clinician can see which value or finding raised it.
"""

from __future__ import annotations

from collections.abc import Callable

from .derive import S_MET, Derived
from .inputs import Case
from .rulebook import RuleBook, display_unit
from .vocabulary import VEGF_CONFOUNDERS

_AL_FINDINGS = (
    "autonomic_dysfunction",
    "carpal_tunnel_syndrome",
    "macroglossia",
    "amyloid_on_biopsy",
    "cardiac_amyloid_suspected",
    "neuropathy_axonal_predominant",
)

# (threshold code, lab code, name) for the CRAB/SLiM items that use a lab value.
_MYELOMA_LABS = (
    ("mm_calcium", "calcium_mg_dl", "Calcium"),
    ("mm_creatinine", "creatinine_mg_dl", "Creatinine"),
    ("mm_creatinine_clearance", "creatinine_clearance_ml_min", "Creatinine clearance"),
    ("mm_egfr", "egfr_ml_min_1_73m2", "eGFR"),
    ("mm_hemoglobin", "hemoglobin_g_dl", "Haemoglobin"),
    ("mm_marrow_plasma_cells", "bm_plasma_cells_pct", "Marrow plasma cells"),
    ("mm_m_protein", "m_protein_g_dl", "M-protein"),
    ("mm_mri_focal_lesions", "mri_focal_lesions_count", "MRI focal lesions"),
)


def _present(case: Case, *codes: str) -> list[str]:
    return [c for c in codes if case.findings.get(c) is True]


def _lab_hits(case: Case, book: RuleBook, items: tuple[tuple[str, str, str], ...]) -> list[str]:
    hits = []
    for threshold_code, lab, name in items:
        value = case.labs.get(lab)
        threshold = book.thresholds[threshold_code]
        if isinstance(value, int | float) and not isinstance(value, bool) and threshold.passes(value):
            hits.append(f"{name} {value:g}{display_unit(threshold.unit)} {threshold.describe()}.")
    return hits


def differentials(case: Case, book: RuleBook, derived: Derived, status: str) -> list[dict[str, object]]:
    """Return the flags that fire, in content order, each with its reasons."""
    crit = derived.criteria
    clone = crit["monoclonal_plasma_cell_disorder"].status is S_MET
    neuropathy = crit["polyneuropathy"].status is S_MET
    heavy = case.labs.get("heavy_chain_type")
    fired: dict[str, list[str]] = {}

    def flag(code: str, reasons: list[str]) -> None:
        if reasons:
            fired[code] = reasons

    if neuropathy and case.findings.get("neuropathy_demyelinating") is True:
        flag(
            "cidp",
            ["Polyneuropathy with demyelinating features."],
        )
    if case.findings.get("neuropathy_acute_onset") is True:
        flag("guillain_barre_syndrome", ["Acute onset (nadir within 4 weeks)."])

    if clone:
        mm = _lab_hits(case, book, _MYELOMA_LABS)
        if case.findings.get("lytic_bone_lesions") is True:
            mm.append("Lytic bone lesions.")
        ratio = derived.flc_ratio
        if ratio is not None:
            for code in ("mm_flc_ratio_high", "mm_flc_ratio_low"):
                threshold = book.thresholds[code]
                if threshold.passes(ratio):
                    mm.append(f"Free light chain ratio {ratio:.4g} {threshold.describe()}.")
        flag("multiple_myeloma", mm)

        al = [f"{book.label(c)}." for c in _present(case, *_AL_FINDINGS)]
        al += _lab_hits(case, book, (("al_proteinuria", "proteinuria_g_24h", "Proteinuria"),))
        flag("al_amyloidosis", al)

    if heavy == "IgM" or case.findings.get("anti_mag_positive") is True:
        reasons = []
        if heavy == "IgM":
            reasons.append("IgM paraprotein.")
        if case.findings.get("anti_mag_positive") is True:
            reasons.append("Anti-MAG antibodies positive.")
        flag("igm_anti_mag_neuropathy", reasons)
    if heavy == "IgM":
        flag("waldenstrom_macroglobulinemia", ["IgM paraprotein."])

    if neuropathy and clone and status != "met" and "multiple_myeloma" not in fired:
        flag(
            "mgus_neuropathy",
            ["Polyneuropathy with a monoclonal protein, but the POEMS criteria are not met."],
        )
    if crit["castleman_disease"].status is S_MET and not clone:
        flag(
            "castleman_disease_variant",
            ["Castleman disease without a documented clonal plasma-cell disorder."],
        )
    if crit["thrombocytosis_polycythemia"].status is S_MET:
        reasons = []
        if not clone:
            reasons.append("Thrombocytosis/polycythaemia without a documented clone.")
        if case.findings.get("jak2_positive") is True:
            reasons.append("JAK2 or another MPN driver mutation positive.")
        flag("myeloproliferative_neoplasm", reasons)
    if crit["vegf_elevated"].status is S_MET:
        reasons = []
        if not clone:
            reasons.append("Raised VEGF without a documented clone.")
        confounders = _present(case, *VEGF_CONFOUNDERS)
        if confounders:
            reasons.append("VEGF confounder: " + ", ".join(book.label(c) for c in confounders) + ".")
        flag("other_vegf_elevation", reasons)

    order: Callable[[str], int] = list(book.differential_names).index
    return [
        {"code": code, "name": book.differential_names[code], "reasons": fired[code]}
        for code in sorted(fired, key=order)
    ]
