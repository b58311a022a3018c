"""The stable codes of clinical.md §e.

Codes are part of the public contract (API, CLI, fixtures, golden cases) and
are never renamed. Labels and help text are content and live in the database;
what lives here is what the engine needs to validate input: the canonical unit,
the allowed categorical values and the plausibility range of every lab.

Plausibility ranges are input-validation limits, not normal ranges (§e.3).
The soft ranges add a warning zone for values that are possible but more
often a unit slip (three-zone validation, as MEDCALCEHR does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Group(StrEnum):
    MANDATORY = "mandatory"
    MAJOR = "major"
    MINOR = "minor"


# §e.1: every criterion code and its class in the default (mayo-2007) set. Other
# sets give their own roles in content; this is only the closed list of codes.
CRITERIA: dict[str, Group] = {
    "polyneuropathy": Group.MANDATORY,
    "monoclonal_plasma_cell_disorder": Group.MANDATORY,
    "castleman_disease": Group.MAJOR,
    "sclerotic_bone_lesions": Group.MAJOR,
    "vegf_elevated": Group.MAJOR,
    "organomegaly": Group.MINOR,
    "extravascular_volume_overload": Group.MINOR,
    "endocrinopathy": Group.MINOR,
    "skin_changes": Group.MINOR,
    "papilledema": Group.MINOR,
    "thrombocytosis_polycythemia": Group.MINOR,
}

# D4-D7: the criteria met by any one of their sub-findings (content lists them, and
# a criteria set may leave some out). The others have their own derivation.
ANY_OF_CRITERIA: tuple[str, ...] = (
    "organomegaly",
    "extravascular_volume_overload",
    "endocrinopathy",
    "skin_changes",
)

# The labs each criterion's rule reads (derive.py: _vegf, _thrombocytosis), the ones a
# form keeps on the criterion's own line first (forms.INLINE_LABS of them). A test watches
# what the two derivations read and fails when this list and they disagree.
CRITERION_LABS: dict[str, tuple[str, ...]] = {
    "vegf_elevated": ("vegf_pg_ml", "vegf_specimen", "vegf_uln_pg_ml"),
    "thrombocytosis_polycythemia": ("platelets_10e9_l", "hemoglobin_g_dl", "hematocrit_pct", "sex"),
}

# §e.2: finding codes (booleans), grouped as the spec groups them. Criterion
# codes are accepted as findings too: they are the clinician's explicit flags.
FINDING_GROUPS: dict[str, tuple[str, ...]] = {
    "neuropathy": (
        "neuropathy_demyelinating",
        "neuropathy_axonal_predominant",
        "neuropathy_acute_onset",
        "neuropathy_painful",
        "neuropathy_sensory_predominant",
        "sensory_ataxia",
        "tremor",
        "autonomic_dysfunction",
        "carpal_tunnel_syndrome",
        "mononeuropathy_multiplex",
        "ncs_conduction_block",
        "ncs_temporal_dispersion",
        "ncs_sural_sparing",
        "ivig_refractory",
    ),
    "clone": (
        "m_protein_present",
        "clonal_plasma_cells_on_biopsy",
        "marrow_clone",
        "anti_mag_positive",
        "amyloid_on_biopsy",
        "jak2_positive",
    ),
    "bone": ("lytic_bone_lesions",),
    "organomegaly": ("hepatomegaly", "splenomegaly", "lymphadenopathy"),
    "volume": ("peripheral_edema", "pleural_effusion", "ascites", "pericardial_effusion"),
    "endocrine": (
        "endo_adrenal_insufficiency",
        "endo_pituitary",
        "endo_hyperprolactinemia",
        "endo_hypogonadism",
        "endo_gynecomastia",
        "endo_parathyroid",
        "endo_diabetes_mellitus",
        "endo_thyroid_disorder",
        "erectile_dysfunction",
    ),
    "skin": (
        "skin_hyperpigmentation",
        "skin_hypertrichosis",
        "skin_hemangiomata",
        "skin_plethora",
        "skin_acrocyanosis",
        "skin_flushing",
        "skin_white_nails",
        "skin_thickening",
    ),
    "other": (
        "clubbing",
        "weight_loss",
        "hyperhidrosis",
        "pulmonary_hypertension",
        "restrictive_lung_disease",
        "thrombotic_diathesis",
        "diarrhea",
        "low_vitamin_b12",
        "fever",
    ),
    "al_flags": ("macroglossia", "cardiac_amyloid_suspected"),
    "vegf_confounders": (
        "iron_deficiency_anemia",
        "copd",
        "obstructive_sleep_apnea",
        "active_malignancy",
        "vasculitis",
        "recent_acute_illness",
    ),
}

SUB_FINDINGS: frozenset[str] = frozenset(c for codes in FINDING_GROUPS.values() for c in codes)
FINDINGS: frozenset[str] = SUB_FINDINGS | frozenset(CRITERIA)

ENDOCRINE_SUB_FINDINGS: tuple[str, ...] = tuple(
    c for c in FINDING_GROUPS["endocrine"] if c.startswith("endo_")
)
VEGF_CONFOUNDERS: tuple[str, ...] = FINDING_GROUPS["vegf_confounders"]


class LabKind(StrEnum):
    NUMBER = "number"
    INTEGER = "integer"
    CATEGORY = "category"


@dataclass(frozen=True, slots=True)
class Lab:
    code: str
    kind: LabKind
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    # Other units accepted on input, as {unit: factor}: canonical = value * factor.
    units: dict[str, float] = field(default_factory=dict)
    # Possible but suspicious values, in the canonical unit. Outside them -> a
    # warning that names the likely unit slip (clinical.md §f.2 A7).
    soft_low: float | None = None
    soft_high: float | None = None
    soft_hint: str = ""
    # Decimals a lab reports in: the canonical unit, then the other units.
    precision: int = 0
    unit_precision: dict[str, int] = field(default_factory=dict)
    # Other spellings of the same units, as {spelling: unit}. Spelling is
    # compared after normalise_unit (case, spaces, µ, ×, superscripts folded).
    aliases: dict[str, str] = field(default_factory=dict)
    # The unit an SI laboratory reports in, when it is not the canonical (US) one.
    si_unit: str = ""

    @property
    def allowed_units(self) -> tuple[str, ...]:
        return (self.unit, *self.units)

    @property
    def si(self) -> str:
        return self.si_unit or self.unit

    def precision_of(self, unit: str) -> int:
        return self.precision if unit == self.unit else self.unit_precision.get(unit, self.precision)


HEAVY_CHAINS = ("IgG", "IgA", "IgM", "IgD", "IgE", "light_chain_only", "biclonal", "none", "unknown")
# ``kappa_and_lambda``: two clones, one of each; ``biclonal``: two clones, light chains not
# stated (clinical.md §f.3 A11).
LIGHT_CHAINS = ("lambda", "kappa", "kappa_and_lambda", "biclonal", "none", "unknown")

# Spellings of cell counts that normalise_unit does not fold by itself
# (it already folds x10^9/L, 10E9/L, 10*9/L and ×10⁹/L into 10^9/L).
_COUNT_ALIASES = {
    "G/L": "10^9/L",
    "K/uL": "10^3/uL",
    "10^3/mm3": "10^3/uL",
    "/mm3": "/uL",  # 1 mm3 is 1 uL
    "cells/uL": "/uL",
}

# The platelet warning zone (x10^9/L): the check and its words read the same numbers.
_PLATELETS_SOFT_LOW, _PLATELETS_SOFT_HIGH = 20, 1500

_LABS: tuple[Lab, ...] = (
    Lab("age_years", LabKind.NUMBER, "years", 0, 120),
    Lab("sex", LabKind.CATEGORY, choices=("M", "F")),
    Lab(
        "vegf_pg_ml",
        LabKind.NUMBER,
        "pg/mL",
        0,
        50_000,
        # ng/L is the same quantity as pg/mL (1 ng/L = 1 pg/mL).
        units={"ng/mL": 1000.0, "ng/L": 1.0},
        unit_precision={"ng/mL": 3},
        soft_low=5,
        soft_hint="A VEGF below 5 pg/mL is unusual.",
    ),
    Lab("vegf_specimen", LabKind.CATEGORY, choices=("serum", "plasma", "unknown")),
    Lab(
        "vegf_uln_pg_ml",
        LabKind.NUMBER,
        "pg/mL",
        1,
        5_000,
        units={"ng/mL": 1000.0, "ng/L": 1.0},
        unit_precision={"ng/mL": 3},
    ),
    Lab(
        "platelets_10e9_l",
        LabKind.NUMBER,
        "10^9/L",
        1,
        2_500,
        # /mm3 is the same volume as /uL.
        units={"10^3/uL": 1.0, "/uL": 0.001},
        aliases=_COUNT_ALIASES,
        soft_low=_PLATELETS_SOFT_LOW,
        soft_high=_PLATELETS_SOFT_HIGH,
        soft_hint=(
            f"A platelet count below {_PLATELETS_SOFT_LOW} or above {_PLATELETS_SOFT_HIGH} x10^9/L is rare."
        ),
    ),
    Lab(
        "hemoglobin_g_dl",
        LabKind.NUMBER,
        "g/dL",
        2,
        25,
        units={"g/L": 0.1, "mmol/L": 1.611},
        precision=1,
        unit_precision={"g/L": 0, "mmol/L": 1},
        soft_low=5,
        soft_high=20,
        soft_hint="A haemoglobin outside 5-20 g/dL is rare.",
        si_unit="g/L",
    ),
    Lab(
        "hematocrit_pct",
        LabKind.NUMBER,
        "%",
        5,
        80,
        units={"L/L": 100.0},
        precision=1,
        unit_precision={"L/L": 3},
        soft_low=15,
        soft_high=65,
        soft_hint="A haematocrit outside 15-65% is rare.",
        si_unit="L/L",
    ),
    Lab(
        "calcium_mg_dl",
        LabKind.NUMBER,
        "mg/dL",
        4,
        20,
        units={"mmol/L": 4.008},
        precision=1,
        unit_precision={"mmol/L": 2},
        soft_low=6,
        soft_high=16,
        soft_hint="A calcium outside 6-16 mg/dL is rare.",
        si_unit="mmol/L",
    ),
    Lab(
        "creatinine_mg_dl",
        LabKind.NUMBER,
        "mg/dL",
        0.1,
        25,
        units={"umol/L": 1 / 88.4},
        aliases={"micromol/L": "umol/L"},
        precision=2,
        soft_high=15,
        soft_hint="A creatinine above 15 mg/dL is rare.",
        si_unit="umol/L",
    ),
    Lab("egfr_ml_min_1_73m2", LabKind.NUMBER, "mL/min/1.73m2", 1, 200),
    Lab("creatinine_clearance_ml_min", LabKind.NUMBER, "mL/min", 1, 250),
    Lab("bm_plasma_cells_pct", LabKind.NUMBER, "%", 0, 100),
    Lab(
        "m_protein_g_dl",
        LabKind.NUMBER,
        "g/dL",
        0,
        15,
        units={"g/L": 0.1},
        precision=2,
        unit_precision={"g/L": 1},
        soft_high=8,
        soft_hint="An M-protein above 8 g/dL is rare.",
        si_unit="g/L",
    ),
    Lab("heavy_chain_type", LabKind.CATEGORY, choices=HEAVY_CHAINS),
    Lab("light_chain_type", LabKind.CATEGORY, choices=LIGHT_CHAINS),
    Lab(
        "flc_kappa_mg_l",
        LabKind.NUMBER,
        "mg/L",
        0,
        100_000,
        units={"mg/dL": 10.0},
        precision=1,
        unit_precision={"mg/dL": 2},
    ),
    Lab(
        "flc_lambda_mg_l",
        LabKind.NUMBER,
        "mg/L",
        0,
        100_000,
        units={"mg/dL": 10.0},
        precision=1,
        unit_precision={"mg/dL": 2},
    ),
    Lab("flc_ratio", LabKind.NUMBER, "ratio", 0.0001, 10_000, precision=4),
    Lab(
        "albumin_g_dl",
        LabKind.NUMBER,
        "g/dL",
        0.5,
        6.5,
        units={"g/L": 0.1},
        precision=1,
        soft_low=1.5,
        soft_hint="An albumin below 1.5 g/dL is rare.",
        si_unit="g/L",
    ),
    Lab(
        "vitamin_b12_pg_ml",
        LabKind.NUMBER,
        "pg/mL",
        0,
        10_000,
        units={"pmol/L": 1.355, "ng/L": 1.0},
        si_unit="pmol/L",
    ),
    Lab(
        "csf_protein_mg_dl",
        LabKind.NUMBER,
        "mg/dL",
        5,
        2_000,
        units={"g/L": 100.0},
        unit_precision={"g/L": 2},
        si_unit="g/L",
    ),
    Lab(
        "proteinuria_g_24h",
        LabKind.NUMBER,
        "g/24h",
        0,
        30,
        precision=2,
        aliases={"g/day": "g/24h", "g/d": "g/24h"},
    ),
    Lab("pasp_mmhg", LabKind.NUMBER, "mmHg", 5, 150),
    Lab("dlco_pct_pred", LabKind.NUMBER, "% predicted", 5, 150),
    Lab("median_tli", LabKind.NUMBER, "ratio", 0, 1, precision=2),
    Lab("bone_lesion_count", LabKind.INTEGER, "count", 0, 200),
    Lab("mri_focal_lesions_count", LabKind.INTEGER, "count", 0, 200),
)

LABS: dict[str, Lab] = {lab.code: lab for lab in _LABS}

# Character spellings folded before any unit is compared, so that "µmol/L",
# "umol/l" and "μmol/L" are one unit, never a silent guess between units.
UNIT_ALIASES: dict[str, str] = {
    "µ": "u",
    "μ": "u",
    "×": "x",
    "⁹": "^9",
    "³": "^3",
    "²": "^2",
}


# Thresholds the engine asks content for, by code. Content must define each
# one (the fixture test checks this); the numbers themselves are editable.
THRESHOLDS: tuple[str, ...] = (
    "vegf_plasma_cutoff",
    "vegf_serum_cutoff",
    "platelets_thrombocytosis",
    "platelets_borderline",
    "hemoglobin_polycythemia_m",
    "hemoglobin_polycythemia_f",
    "hematocrit_polycythemia_m",
    "hematocrit_polycythemia_f",
    "mm_calcium",
    "mm_creatinine",
    "mm_creatinine_clearance",
    "mm_egfr",
    "mm_hemoglobin",
    "mm_marrow_plasma_cells",
    "mm_m_protein",
    "mm_flc_ratio_high",
    "mm_flc_ratio_low",
    "mm_mri_focal_lesions",
    "mm_flc_involved",
    "mde_marrow_plasma_cells",
    "al_proteinuria",
    "extent_limited_max_lesions",  # §f.2 A8: read by engine/treatment.py
)


class Extent(StrEnum):
    """Disease extent, which the literature keys treatment to (clinical.md §c.1, §f.2 A8)."""

    LIMITED = "limited"
    DISSEMINATED = "disseminated"
    UNKNOWN = "unknown"


# Content maps each extent to the pages to show first; "supportive" pages follow any extent.
SUPPORTIVE = "supportive"
TREATMENT_SLOTS: tuple[str, ...] = (*(e.value for e in Extent), SUPPORTIVE)


@dataclass(frozen=True, slots=True)
class CutoffRange:
    """Where an editor may put a threshold (issue 11): outside ``low``-``high`` is refused.

    Inside it but outside ``typical_low``-``typical_high`` is allowed only after
    the editor confirms, because such a number is more often a unit slip than
    a new cut-off (``hint`` says which slip). Units are the lab's canonical unit.
    """

    low: float
    high: float
    typical_low: float
    typical_high: float
    hint: str = ""


_VEGF_HINT = "VEGF cut-offs are in pg/mL: was it typed in ng/mL (0.2 ng/mL = 200 pg/mL)?"
_HB_HINT = "Haemoglobin cut-offs are in g/dL: was it typed in mmol/L (10 mmol/L = 16.1 g/dL)?"
_HCT_HINT = "Haematocrit cut-offs are in %: was it typed as a fraction (0.49 L/L = 49%)?"
THRESHOLD_RANGES: dict[str, CutoffRange] = {
    "vegf_plasma_cutoff": CutoffRange(0.01, 10_000, 50, 2_000, _VEGF_HINT),
    "vegf_serum_cutoff": CutoffRange(0.01, 20_000, 200, 5_000, _VEGF_HINT),
    "platelets_thrombocytosis": CutoffRange(50, 2_000, 300, 1_000, "Platelet cut-offs are in x10^9/L."),
    "platelets_borderline": CutoffRange(50, 2_000, 300, 1_000, "Platelet cut-offs are in x10^9/L."),
    "hemoglobin_polycythemia_m": CutoffRange(3, 25, 12, 20, _HB_HINT),
    "hemoglobin_polycythemia_f": CutoffRange(3, 25, 12, 20, _HB_HINT),
    "hematocrit_polycythemia_m": CutoffRange(0.1, 80, 35, 65, _HCT_HINT),
    "hematocrit_polycythemia_f": CutoffRange(0.1, 80, 35, 65, _HCT_HINT),
    "mm_calcium": CutoffRange(1, 20, 9, 14, "Calcium is in mg/dL: was it mmol/L (2.75 mmol/L = 11 mg/dL)?"),
    "mm_creatinine": CutoffRange(0.1, 25, 1, 5, "Creatinine is in mg/dL (177 umol/L = 2 mg/dL)."),
    "mm_creatinine_clearance": CutoffRange(5, 150, 20, 80),
    "mm_egfr": CutoffRange(5, 150, 20, 80),
    "mm_hemoglobin": CutoffRange(3, 25, 6, 14, _HB_HINT),
    "mm_marrow_plasma_cells": CutoffRange(1, 100, 5, 60),
    "mm_m_protein": CutoffRange(0.1, 15, 1, 5, "M-protein is in g/dL: was it g/L (30 g/L = 3 g/dL)?"),
    "mm_flc_ratio_high": CutoffRange(1, 10_000, 8, 1_000),
    "mm_flc_ratio_low": CutoffRange(0.0001, 1, 0.001, 0.125),
    "mm_mri_focal_lesions": CutoffRange(1, 50, 1, 10),
    "al_proteinuria": CutoffRange(0.05, 20, 0.2, 3, "Proteinuria is in g/24h (500 mg/24h = 0.5 g/24h)."),
    "mm_flc_involved": CutoffRange(1, 10_000, 50, 500, "FLC are in mg/L (10 mg/dL = 100 mg/L)."),
    "mde_marrow_plasma_cells": CutoffRange(1, 100, 30, 90),
    "extent_limited_max_lesions": CutoffRange(1, 50, 1, 10),
}
