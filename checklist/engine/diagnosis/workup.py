"""Once the chosen set is met: the work-up before treatment (clinical.md §j.1-§j.4, §j.6).

Shown only when the chosen set is met; empty otherwise. Nothing here is a score
or a recommendation: the staging items say what is still missing and what it
would settle (J-W1), the extent is A8's (J-E1-J-E4, treatment.py), the risk
factors are those one cohort associated with shorter overall survival, each
with its hazard ratio (J-K1, J-K2, J-K4), and the drug cautions carry a level
(J-D1-J-D6).

The words, numbers and sources below are content. The content models have no
record for them yet (a new model would be needed), so they live here as plain
constants, read only through this module; they move to fixture-backed content
with the next content release.
"""

from __future__ import annotations

from dataclasses import dataclass

from checklist.engine.diagnosis.compare import crosses
from checklist.engine.diagnosis.result import (
    Basis,
    DrugCaution,
    Evidence,
    Extent,
    Level,
    RiskFactor,
    StagingItem,
    Treatment,
)
from checklist.engine.diagnosis.rulebook import Threshold
from checklist.engine.inputs import Case
from checklist.engine.vocabulary import LABS

_AJH_2023 = "Dispenzieri, Am J Hematol 2023, PMID 37732822"
_WANG = "Wang et al., Leukemia 2017, doi:10.1038/leu.2016.168"
_HUMENIUK = "Humeniuk et al., Blood 2013;122:68-73"
_DSOUZA = "D'Souza et al., Blood 2012"


@dataclass(frozen=True, slots=True)
class _Item:
    code: str
    # What the item reads in the case: any one of these given counts as done.
    labs: tuple[str, ...]
    findings: tuple[str, ...]
    # The investigation by name (the short note lists these), and what it reads when not plain.
    test: str
    reads: str
    settles: str
    evidence: Evidence
    source: str


# §j.1. Only items the vocabulary can record; PET avidity and ONLS have no input yet.
STAGING: tuple[_Item, ...] = (
    _Item(
        "bone_lesion_count",
        ("bone_lesion_count",),
        (),
        "Whole-body FDG-PET/CT (or low-dose CT)",
        "the number of sclerotic lesions",
        "Extent: 1-3 lesions without a marrow clone is limited disease (radiation); more is disseminated.",
        Evidence.READ_ABSTRACT,
        f"{_HUMENIUK} (1-3 lesions); {_DSOUZA} (PET avidity)",
    ),
    _Item(
        "marrow_clone",
        (),
        ("marrow_clone",),
        "Iliac-crest marrow biopsy (aspirate and trephine, light-chain staining for clonality)",
        "",
        "Extent: a marrow clone makes the disease disseminated, so systemic therapy.",
        Evidence.READ_ABSTRACT,
        f"{_AJH_2023}; {_HUMENIUK}",
    ),
    _Item(
        "pasp_mmhg",
        ("pasp_mmhg",),
        (),
        "Echocardiogram with estimated pulmonary artery systolic pressure",
        "",
        "Whether pulmonary hypertension, a factor associated with shorter overall survival, is present.",
        Evidence.READ_ABSTRACT,
        f"{_WANG}; Li et al., Haematologica 2013 [secondary]",
    ),
    _Item(
        "dlco_pct_pred",
        ("dlco_pct_pred",),
        (),
        "Pulmonary function tests with DLCO",
        "",
        "A reduced DLCO predicted the need for salvage therapy after radiation.",
        Evidence.READ_ABSTRACT,
        _HUMENIUK,
    ),
    _Item(
        "pleural_effusion",
        (),
        ("pleural_effusion",),
        "Chest imaging for pleural effusion",
        "",
        "Whether pleural effusion, a factor associated with shorter overall survival, is present.",
        Evidence.READ_ABSTRACT,
        _WANG,
    ),
    _Item(
        "egfr_ml_min_1_73m2",
        ("egfr_ml_min_1_73m2",),
        (),
        "Creatinine and eGFR",
        "",
        "Whether an eGFR below 30 mL/min/1.73 m², a factor associated with shorter overall survival, "
        "is present.",
        Evidence.READ_ABSTRACT,
        _WANG,
    ),
    _Item(
        "proteinuria_g_24h",
        ("proteinuria_g_24h",),
        (),
        "24-hour urine protein",
        "",
        "Raised urinary protein predicted the need for salvage therapy after radiation.",
        Evidence.READ_ABSTRACT,
        _HUMENIUK,
    ),
    _Item(
        "albumin_g_dl",
        ("albumin_g_dl",),
        (),
        "Serum albumin",
        "",
        "Low albumin at diagnosis predicted progression-free survival; the cut-off is not standardised.",
        Evidence.READ_ABSTRACT,
        "Kourelis et al., Am J Hematol 2016; <3.2 g/dL [secondary]",
    ),
    _Item(
        "age_years",
        ("age_years",),
        (),
        "Age",
        "",
        "Whether age over 50, a factor associated with shorter overall survival, applies.",
        Evidence.READ_ABSTRACT,
        _WANG,
    ),
    _Item(
        "vegf_pg_ml",
        ("vegf_pg_ml",),
        (),
        "VEGF, with the specimen (serum or plasma)",
        "",
        "The VEGF baseline that response is measured against (§h.4).",
        Evidence.APP_CONVENTION,
        "clinical.md §h.4",
    ),
    _Item(
        "m_protein_g_dl",
        ("m_protein_g_dl", "flc_kappa_mg_l", "flc_lambda_mg_l", "flc_ratio"),
        (),
        "Serum and urine immunofixation, M-spike and serum free light chains",
        "",
        "The haematological baseline that response is measured against (§h.5).",
        Evidence.APP_CONVENTION,
        "clinical.md §h.5",
    ),
    _Item(
        "platelets_10e9_l",
        ("platelets_10e9_l", "hemoglobin_g_dl", "hematocrit_pct"),
        (),
        "Full blood count (platelets, haemoglobin, haematocrit)",
        "",
        "Thrombosis risk, and a myeloproliferative mimic.",
        Evidence.SECONDARY,
        "Mellors et al., Am J Hematol 2021",
    ),
)


@dataclass(frozen=True, slots=True)
class _Factor:
    code: str
    factor: str
    # A lab past a threshold (compared as entered, like every other threshold: compare.py),
    # or, when a finding code, that finding recorded present.
    test: Threshold | str
    hr: str
    evidence: Evidence
    source: str


def _limit(
    code: str, lab: str, comparator: str, value: float, evidence: Evidence, source: str, basis: Basis
) -> Threshold:
    return Threshold(
        code,
        lab,
        comparator,
        value,
        label="",
        unit=LABS[lab].unit,
        source=source,
        evidence=evidence,
        basis=basis,
    )


_WORDS = "associated with shorter overall survival in one cohort"

# §j.3 J-K2 (Wang 2017, 362 patients) with J-K4's PASP threshold. No points, no score.
RISK_FACTORS: tuple[_Factor, ...] = (
    _Factor(
        "age_over_50",
        "Age over 50",
        _limit("age_over_50", "age_years", "gt", 50, Evidence.READ_ABSTRACT, _WANG, Basis.PUBLISHED),
        "HR 4.07 (95% CI 1.41-11.76)",
        Evidence.READ_ABSTRACT,
        _WANG,
    ),
    _Factor(
        "pulmonary_hypertension",
        "Pulmonary hypertension (PASP >= 50 mmHg)",
        _limit(
            "pulmonary_hypertension",
            "pasp_mmhg",
            "ge",
            50,
            Evidence.SECONDARY,
            "Li et al., Haematologica 2013 [secondary]",
            Basis.PUBLISHED,
        ),
        "HR 3.99 (95% CI 1.44-11.04)",
        Evidence.SECONDARY,
        f"{_WANG}; PASP >= 50 mmHg from Li, Haematologica 2013 [secondary]; Wang's PH definition "
        "[unverified]",
    ),
    _Factor(
        "pleural_effusion",
        "Pleural effusion",
        "pleural_effusion",
        "HR 3.81 (95% CI 1.23-11.79)",
        Evidence.READ_ABSTRACT,
        _WANG,
    ),
    _Factor(
        "egfr_below_30",
        "eGFR below 30 mL/min/1.73 m²",
        _limit(
            "egfr_below_30", "egfr_ml_min_1_73m2", "lt", 30, Evidence.READ_ABSTRACT, _WANG, Basis.PUBLISHED
        ),
        "HR 8.25 (95% CI 2.18-31.25)",
        Evidence.READ_ABSTRACT,
        _WANG,
    ),
)

# §j.4.
DRUG_CAUTIONS: tuple[DrugCaution, ...] = (
    DrugCaution(
        "neurotoxic_drugs",
        Level.MAJOR,
        "Thalidomide and bortezomib are active in POEMS but can worsen the neuropathy: weigh the "
        "benefit against that risk.",
        Evidence.READ_ABSTRACT,
        _AJH_2023,
    ),
    DrugCaution(
        "ivig_plasma_exchange",
        Level.MINOR,
        "IVIG and plasma exchange are not effective in POEMS.",
        Evidence.SECONDARY,
        "clinical.md §c.1; Marsh et al. 2021 (IVIG ineffective) [read: abstract]",
    ),
    DrugCaution(
        "bevacizumab",
        Level.MINOR,
        "Bevacizumab has given disappointing results, and may interfere with VEGF assays.",
        Evidence.SECONDARY,
        "J Neurol 2018 review, doi:10.1007/s00415-018-9110-6; clinical.md §h.8",
    ),
    DrugCaution(
        "corticosteroids",
        Level.MINOR,
        "Corticosteroids are temporising only.",
        Evidence.READ_ABSTRACT,
        _AJH_2023,
    ),
    DrugCaution(
        "lenalidomide_thrombosis",
        Level.MAJOR,
        "Lenalidomide needs thrombosis prophylaxis, as in myeloma IMiD practice (aspirin or "
        "low-molecular-weight heparin by risk).",
        Evidence.SECONDARY,
        "clinical.md §c.2, §f.3 A14",
    ),
    DrugCaution(
        "asct_engraftment_vegf",
        Level.MINOR,
        "After ASCT, engraftment syndrome is common, and G-CSF mobilisation confounds VEGF for some weeks.",
        Evidence.SECONDARY,
        "clinical.md §c.2, §h.8 (window: app convention)",
    ),
)


def staging_missing(case: Case) -> tuple[StagingItem, ...]:
    """J-W1: each staging item not yet recorded, with why and what it would settle."""
    out = []
    for item in STAGING:
        done = any(lab in case.labs for lab in item.labs) or any(f in case.findings for f in item.findings)
        if not done:
            why = f"{item.test}: {item.reads}." if item.reads else f"{item.test}."
            out.append(StagingItem(item.code, item.test, why, item.settles, item.evidence, item.source))
    return tuple(out)


def _present(case: Case, f: _Factor) -> str | None:
    """The value as entered when the factor is present, else None (not assessed is never absent)."""
    if isinstance(f.test, str):
        return "present" if case.findings.get(f.test) is True else None
    return case.show(f.test.lab) if crosses(f.test, case, f.test.lab) else None


def risk_factors_present(case: Case) -> tuple[RiskFactor, ...]:
    """J-K2: the factors present, each with its hazard ratio and source; never a score."""
    out = []
    for f in RISK_FACTORS:
        shown = _present(case, f)
        if shown is not None:
            limit, basis = ("", None) if isinstance(f.test, str) else (f.test.limit, f.test.basis)
            out.append(
                RiskFactor(
                    f.code,
                    f.factor,
                    shown.strip(),
                    f.hr,
                    f"{f.factor}: {_WORDS}.",
                    f.evidence,
                    f.source,
                    limit,
                    basis,
                )
            )
    return tuple(out)


def extent_to_settle(t: Treatment) -> str | None:
    """J-E4: what would settle an unknown extent."""
    if t.extent is not Extent.UNKNOWN:
        return None
    return "A PET-CT lesion count and an iliac-crest marrow biopsy."
