"""The checklist form: tri-state findings and labs with units, grouped like the criteria.

The form only turns posted fields into the API's case shape and maps the
engine's validation errors back onto the fields; the engine decides what is
valid. Labels and help text come from content; the grouping is here, because
it follows the criteria's structure, which is code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crispy_forms.helper import FormHelper
from django import forms

from .content import Snapshot
from .engine import InputError, parse_case
from .engine.inputs import Case
from .engine.vocabulary import LABS, LabKind

NOT_ASSESSED, PRESENT, ABSENT = "", "yes", "no"
TRI_STATE = [(NOT_ASSESSED, "Not assessed"), (PRESENT, "Present"), (ABSENT, "Absent")]


@dataclass(frozen=True, slots=True)
class Block:
    """One fieldset of the form: a criterion, or a theme, and the items under it.

    A criterion's block takes its title, help and POEMS letter from content;
    only theme blocks (labs, other signs) carry a title here.
    """

    key: str
    items: tuple[str, ...]
    criterion: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class Part:
    key: str
    title: str
    blocks: tuple[Block, ...]
    intro: str = ""


# The order of the form follows the structure of the criteria, which is code.
# Finding codes and lab codes are both listed; the vocabulary says which is which.
PARTS: tuple[Part, ...] = (
    Part(
        "mandatory",
        "Mandatory criteria",
        (
            Block("polyneuropathy", ("polyneuropathy",), criterion="polyneuropathy"),
            Block(
                "monoclonal",
                (
                    "m_protein_present",
                    "clonal_plasma_cells_on_biopsy",
                    "light_chain_type",
                    "heavy_chain_type",
                ),
                criterion="monoclonal_plasma_cell_disorder",
            ),
        ),
    ),
    Part(
        "major",
        "Other major criteria",
        (
            Block("castleman", ("castleman_disease",), criterion="castleman_disease"),
            Block(
                "bone", ("sclerotic_bone_lesions", "lytic_bone_lesions"), criterion="sclerotic_bone_lesions"
            ),
            Block(
                "vegf",
                ("vegf_pg_ml", "vegf_specimen", "vegf_uln_pg_ml", "vegf_elevated"),
                criterion="vegf_elevated",
            ),
        ),
    ),
    Part(
        "minor",
        "Minor criteria",
        (
            Block(
                "organomegaly", ("hepatomegaly", "splenomegaly", "lymphadenopathy"), criterion="organomegaly"
            ),
            Block(
                "volume",
                ("peripheral_edema", "pleural_effusion", "ascites", "pericardial_effusion"),
                criterion="extravascular_volume_overload",
            ),
            Block(
                "endocrine",
                (
                    "endo_hypogonadism",
                    "endo_gynecomastia",
                    "endo_hyperprolactinemia",
                    "endo_adrenal_insufficiency",
                    "endo_pituitary",
                    "endo_parathyroid",
                    "endo_diabetes_mellitus",
                    "endo_thyroid_disorder",
                    "erectile_dysfunction",
                ),
                criterion="endocrinopathy",
            ),
            Block(
                "skin",
                (
                    "skin_hyperpigmentation",
                    "skin_hypertrichosis",
                    "skin_hemangiomata",
                    "skin_plethora",
                    "skin_acrocyanosis",
                    "skin_flushing",
                    "skin_white_nails",
                    "skin_thickening",
                ),
                criterion="skin_changes",
            ),
            Block("papilledema", ("papilledema",), criterion="papilledema"),
            Block(
                "counts",
                ("platelets_10e9_l", "hemoglobin_g_dl", "hematocrit_pct", "sex"),
                criterion="thrombocytosis_polycythemia",
            ),
        ),
    ),
    Part(
        "other",
        "Other signs",
        (
            Block(
                "other_signs",
                (
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
                title="Other signs",
            ),
        ),
        intro="Recorded for the picture; not counted towards the criteria.",
    ),
    Part(
        "labs",
        "Other labs",
        (
            Block("patient", ("age_years",), title="Patient"),
            Block(
                "chemistry",
                (
                    "calcium_mg_dl",
                    "creatinine_mg_dl",
                    "egfr_ml_min_1_73m2",
                    "creatinine_clearance_ml_min",
                    "albumin_g_dl",
                    "vitamin_b12_pg_ml",
                    "proteinuria_g_24h",
                ),
                title="Chemistry",
            ),
            Block(
                "paraprotein",
                (
                    "m_protein_g_dl",
                    "flc_kappa_mg_l",
                    "flc_lambda_mg_l",
                    "flc_ratio",
                    "bm_plasma_cells_pct",
                    "bone_lesion_count",
                    "mri_focal_lesions_count",
                ),
                title="Paraprotein and marrow",
            ),
            Block(
                "other_tests",
                ("csf_protein_mg_dl", "pasp_mmhg", "dlco_pct_pred", "median_tli"),
                title="Other investigations",
            ),
        ),
        intro="Used for the differentials (myeloma, AL amyloidosis) and for context.",
    ),
    Part(
        "clues",
        "Clues for the differentials",
        (
            Block(
                "neuropathy",
                (
                    "neuropathy_demyelinating",
                    "neuropathy_axonal_predominant",
                    "neuropathy_acute_onset",
                    "neuropathy_painful",
                    "neuropathy_sensory_predominant",
                    "sensory_ataxia",
                    "tremor",
                    "mononeuropathy_multiplex",
                    "ncs_conduction_block",
                    "ncs_temporal_dispersion",
                    "ncs_sural_sparing",
                    "ivig_refractory",
                ),
                title="Neuropathy pattern",
            ),
            Block(
                "al",
                (
                    "autonomic_dysfunction",
                    "carpal_tunnel_syndrome",
                    "macroglossia",
                    "cardiac_amyloid_suspected",
                    "amyloid_on_biopsy",
                    "anti_mag_positive",
                    "jak2_positive",
                ),
                title="AL amyloidosis and other clues",
            ),
            Block(
                "confounders",
                (
                    "iron_deficiency_anemia",
                    "copd",
                    "obstructive_sleep_apnea",
                    "active_malignancy",
                    "vasculitis",
                    "recent_acute_illness",
                ),
                title="VEGF confounders",
            ),
        ),
        intro="These do not count towards the criteria; they raise or lower the differential flags.",
    ),
)

FORM_CODES: tuple[str, ...] = tuple(code for part in PARTS for block in part.blocks for code in block.items)


def unit_field(code: str) -> str:
    return f"{code}__unit"


class CaseForm(forms.Form):
    """Binds the posted checklist. ``case`` and ``payload`` are set after validation."""

    def __init__(self, *args: Any, snapshot: Snapshot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.snapshot = snapshot
        self.case: Case | None = None
        self.warnings: dict[str, str] = {}
        # The fields depend only on content, so they are built once per content
        # version and shared: building or deep-copying ~130 fields cost ~2 ms a
        # request. Fields are never mutated per request (errors live on the form).
        self.fields = dict(_fields_for(snapshot))
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        findings: dict[str, bool] = {}
        labs: dict[str, Any] = {}
        for code in FORM_CODES:
            raw = data.get(code)
            lab = LABS.get(code)
            if lab is None:
                if raw == PRESENT:
                    findings[code] = True
                elif raw == ABSENT:
                    findings[code] = False
            elif raw not in (None, ""):
                if lab.kind is LabKind.CATEGORY:
                    labs[code] = raw
                    continue
                number = _to_number(str(raw))
                if number is None:
                    self.add_error(code, "Enter a number, e.g. 450 or 0.45.")
                    continue
                unit = data.get(unit_field(code)) or lab.unit
                labs[code] = number if unit == lab.unit else {"value": number, "unit": unit}
        payload: dict[str, Any] = {"findings": findings, "labs": labs}
        if data.get("criteria_set"):
            payload["criteria_set"] = data["criteria_set"]
        if self.errors:
            return data
        try:
            self.case = parse_case({**payload, "compare": True}, self.snapshot.book.sets)
        except InputError as exc:
            for error in exc.errors:
                name = error.field.split(".")[1] if "." in error.field else None
                if name in self.fields:
                    self.add_error(name, error.message)
                else:
                    self.add_error(None, f"{error.field}: {error.message}")
            return data
        self.warnings = {w.field.split(".")[-1]: w.message for w in self.case.warnings}
        return data


_FIELDS: dict[str, dict[str, forms.Field]] = {}


def _fields_for(snapshot: Snapshot) -> dict[str, forms.Field]:
    fields = _FIELDS.get(snapshot.stamp)
    if fields is None:
        fields = _build_fields(snapshot)
        _FIELDS.clear()
        _FIELDS[snapshot.stamp] = fields
    return fields


def _build_fields(snapshot: Snapshot) -> dict[str, forms.Field]:
    words = {f["code"]: f for f in snapshot.findings} | {f["code"]: f for f in snapshot.labs}
    fields: dict[str, forms.Field] = {
        "criteria_set": forms.ChoiceField(
            label="Criteria set",
            required=False,
            choices=[(s["slug"], s["name"]) for s in snapshot.criteria_sets],
            initial=snapshot.book.default_set,
        )
    }
    for code in FORM_CODES:
        text = words.get(code, {})
        label = text.get("label", code)
        help_text = text.get("help_text", "")
        lab = LABS.get(code)
        if lab is None:
            fields[code] = forms.ChoiceField(
                label=label,
                help_text=help_text,
                choices=TRI_STATE,
                required=False,
                initial=NOT_ASSESSED,
                widget=forms.RadioSelect,
            )
        elif lab.kind is LabKind.CATEGORY:
            fields[code] = forms.ChoiceField(
                label=label,
                help_text=help_text,
                choices=[("", "Not assessed"), *[(c, c.replace("_", " ")) for c in lab.choices]],
                required=False,
            )
        else:
            # Plain text input: the engine validates the number, so that a
            # bad value gets the same message here as from the API.
            fields[code] = forms.CharField(
                label=label,
                help_text=help_text,
                required=False,
                max_length=32,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
            if lab.units:
                fields[unit_field(code)] = forms.ChoiceField(
                    label=f"{label} unit",
                    choices=[(u, u) for u in lab.allowed_units],
                    required=False,
                    initial=lab.unit,
                )
    return fields


def _to_number(text: str) -> float | None:
    """Accept '450', '0.45' and a decimal comma ('0,45'); nothing else."""
    cleaned = text.strip().replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _part_intro(part: Part, snapshot: Snapshot) -> str:
    """How many of a group the default set needs, read from content."""
    rule = snapshot.book.sets[snapshot.book.default_set]
    if part.key == "mandatory":
        return f"{rule.name}: all are required."
    if part.key == "major":
        return f"{rule.name}: at least {rule.major_min} needed."
    if part.key == "minor":
        return f"{rule.name}: at least {rule.minor_min} needed."
    return part.intro


def layout(form: CaseForm) -> list[dict[str, Any]]:
    """The form's fields arranged as PARTS, for the template. Presentation only."""
    criteria = {c["code"]: c for c in form.snapshot.criteria}
    out = []
    for part in PARTS:
        blocks = []
        for block in part.blocks:
            words = criteria.get(block.criterion, {})
            items = []
            for code in block.items:
                lab = LABS.get(code)
                kind = (
                    "finding" if lab is None else ("category" if lab.kind is LabKind.CATEGORY else "number")
                )
                unit_name = unit_field(code)
                items.append(
                    {
                        "code": code,
                        "kind": kind,
                        "field": form[code],
                        "unit": form[unit_name] if unit_name in form.fields else None,
                        "canonical_unit": lab.unit if lab is not None else "",
                        "warning": form.warnings.get(code, ""),
                    }
                )
            blocks.append(
                {
                    "key": block.key,
                    "title": words.get("name", block.title),
                    "intro": words.get("help_text", ""),
                    "letter": words.get("letter", ""),
                    "items": items,
                }
            )
        out.append({"part": part, "intro": _part_intro(part, form.snapshot), "blocks": blocks})
    return out
