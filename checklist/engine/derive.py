"""Derivations D1-D8 of clinical.md §f: from findings and labs to tri-state criteria.

Each criterion comes out met, not met or unknown, with the reasons a clinician
can check. "Not assessed" (a missing key) is never read as absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .inputs import Case
from .rulebook import RuleBook, Threshold, display_unit


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


# Module-level aliases: attribute access on an Enum class is slow in Python 3.11,
# and the engine reads these in every loop (see bench/ for the figures).
S_MET, S_NOT_MET, S_UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN


@dataclass(slots=True)
class CriterionResult:
    code: str
    status: Status
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Derived:
    """Criterion results for one case, before any criteria set's rule is applied."""

    criteria: dict[str, CriterionResult]
    # Endocrinopathy without the 2007 diabetes/thyroid caveat, for sets that predate it.
    endocrinopathy_no_caveat: CriterionResult
    cautions: list[tuple[str, str]] = field(default_factory=list)  # (code, detail)
    flc_ratio: float | None = None


def _num(value: float) -> str:
    return f"{value:g}"


# Light and heavy chain typings that prove a clone (D1).
_CLONAL_LIGHT = ("lambda", "kappa", "biclonal")
_CLONAL_HEAVY = ("IgG", "IgA", "IgM", "IgD", "IgE", "biclonal")

# D6: when any of these is given, the explicit endocrinopathy flag is ignored.
_SUBFINDINGS_OVERRIDE_EXPLICIT = frozenset({"endocrinopathy"})


def _explicit(case: Case, book: RuleBook, code: str) -> CriterionResult | None:
    value = case.findings.get(code)
    if value is None:
        return None
    status = S_MET if value else S_NOT_MET
    word = "present" if value else "absent"
    return CriterionResult(code, status, [f"Recorded by the clinician as {word}."])


def _any_of(case: Case, book: RuleBook, code: str, *, caveat: bool = True) -> CriterionResult:
    """D4, D5, D6, D7: met if a qualifying sub-finding is present.

    Not met only when every qualifying sub-finding was assessed absent; with
    any of them not assessed the answer is unknown. With ``caveat`` off, the
    non-qualifying sub-findings (diabetes, thyroid) count as qualifying, as in
    the 2003 criteria.
    """
    subs = book.subfindings.get(code, ())
    qualifying = book.qualifying(code, caveat=caveat)
    findings = case.findings
    if findings.keys().isdisjoint(book.sub_codes(code)):
        # The common case in clinic: nothing entered for this criterion yet.
        return CriterionResult(
            code, S_UNKNOWN, [book.not_assessed_text(code, caveat=caveat)] if qualifying else []
        )
    present = [f for f in qualifying if findings.get(f) is True]
    if present:
        names = ", ".join(book.label(f) for f in present)
        return CriterionResult(code, S_MET, [f"Present: {names}."])
    reasons: list[str] = []
    non_qualifying_present = [f for f, q in subs if not q and findings.get(f) is True]
    if non_qualifying_present:
        names = " and ".join(book.label(f) for f in non_qualifying_present)
        reasons.append(
            f"{names} alone does not meet this criterion (2007 caveat; judgement call for both together)."
        )
    if qualifying and all(findings.get(f) is False for f in qualifying):
        reasons.append("All qualifying findings recorded as absent.")
        return CriterionResult(code, S_NOT_MET, reasons)
    unassessed = [book.label(f) for f in qualifying if f not in findings]
    if unassessed:
        reasons.append("Not assessed: " + ", ".join(unassessed) + ".")
    return CriterionResult(code, S_UNKNOWN, reasons)


def _monoclonal(case: Case) -> CriterionResult:
    """D1: immunofixation, biopsy clone, or a positive heavy/light-chain typing."""
    code = "monoclonal_plasma_cell_disorder"
    reasons: list[str] = []
    if case.findings.get("m_protein_present") is True:
        reasons.append("M-protein present on immunofixation.")
    if case.findings.get("clonal_plasma_cells_on_biopsy") is True:
        reasons.append("Clonal plasma cells on biopsy.")
    light = case.labs.get("light_chain_type")
    heavy = case.labs.get("heavy_chain_type")
    if light in _CLONAL_LIGHT:
        reasons.append(f"Light chain typed as {light}.")
    if heavy in _CLONAL_HEAVY:
        reasons.append(f"Heavy chain typed as {heavy}.")
    if reasons:
        return CriterionResult(code, S_MET, reasons)
    if (
        case.findings.get("m_protein_present") is False
        and case.findings.get("clonal_plasma_cells_on_biopsy") is False
    ):
        return CriterionResult(
            code,
            S_NOT_MET,
            [
                "No M-protein on immunofixation and no clonal plasma cells on biopsy. "
                "Cases reported as POEMS without a clone do not meet the criteria."
            ],
        )
    return CriterionResult(
        code,
        S_UNKNOWN,
        ["Not established: needs serum and urine immunofixation, or a biopsy showing a clone."],
    )


def _vegf(case: Case, book: RuleBook, cautions: list[tuple[str, str]]) -> CriterionResult:
    """D3: above the lab's ULN if given, else the specimen's high-specificity cut-off."""
    code = "vegf_elevated"
    value = case.labs.get("vegf_pg_ml")
    if not isinstance(value, float):
        return CriterionResult(code, S_UNKNOWN, ["VEGF not measured."])
    specimen = str(case.labs.get("vegf_specimen", "unknown"))
    cutoff: Threshold = book.thresholds["vegf_plasma_cutoff" if specimen == "plasma" else "vegf_serum_cutoff"]
    spec_word = specimen.capitalize() if specimen in ("plasma", "serum") else "VEGF (specimen unknown)"
    uln = case.labs.get("vegf_uln_pg_ml")
    if isinstance(uln, float):
        met = value > uln
        sign = ">" if met else "<="
        reasons = [f"{spec_word} VEGF {_num(value)} pg/mL {sign} the lab's upper limit {_num(uln)} pg/mL."]
        if met and not cutoff.passes(value):
            reasons.append(
                f"Below the high-specificity cut-off {cutoff.describe()}: borderline, low specificity."
            )
            cautions.append(("borderline_vegf", reasons[-1]))
        return CriterionResult(code, S_MET if met else S_NOT_MET, reasons)
    met = cutoff.passes(value)
    verdict = "meets the cut-off" if met else "is below the cut-off"
    reason = f"{spec_word} VEGF {_num(value)} pg/mL {verdict} {cutoff.describe()}"
    if specimen not in ("plasma", "serum"):
        reason += "; the serum cut-off is used when the specimen is unknown"
    reasons = [reason + "."]
    return CriterionResult(code, S_MET if met else S_NOT_MET, reasons)


def _sex_threshold(book: RuleBook, stem: str, sex: object) -> Threshold:
    # Unknown sex uses the male (higher) value, as clinical.md §a.3 says.
    return book.thresholds[f"{stem}_f" if sex == "F" else f"{stem}_m"]


def _thrombocytosis(case: Case, book: RuleBook, cautions: list[tuple[str, str]]) -> CriterionResult:
    """D8: platelets, or haemoglobin / haematocrit with sex-specific thresholds."""
    code = "thrombocytosis_polycythemia"
    sex = case.labs.get("sex")
    checks: list[tuple[str, str, Threshold]] = [
        ("platelets_10e9_l", "Platelets", book.thresholds["platelets_thrombocytosis"]),
        ("hemoglobin_g_dl", "Haemoglobin", _sex_threshold(book, "hemoglobin_polycythemia", sex)),
        ("hematocrit_pct", "Haematocrit", _sex_threshold(book, "hematocrit_polycythemia", sex)),
    ]
    met_reasons: list[str] = []
    other_reasons: list[str] = []
    for lab, name, threshold in checks:
        value = case.labs.get(lab)
        if not isinstance(value, float):
            continue
        sex_note = ""
        if lab != "platelets_10e9_l" and sex not in ("M", "F"):
            sex_note = " (sex not given: male threshold used)"
        unit = display_unit(threshold.unit)
        text = f"{name} {_num(value)}{unit}"
        if threshold.passes(value):
            met_reasons.append(f"{text} {threshold.describe()}{sex_note}.")
        else:
            other_reasons.append(f"{text}: not above {_num(threshold.value)}{unit}{sex_note}.")
    platelets = case.labs.get("platelets_10e9_l")
    borderline = book.thresholds["platelets_borderline"]
    if (
        isinstance(platelets, float)
        and borderline.passes(platelets)
        and not book.thresholds["platelets_thrombocytosis"].passes(platelets)
    ):
        detail = f"Platelets {_num(platelets)} x10^9/L: borderline ({borderline.describe()})."
        cautions.append(("borderline_platelets", detail))
        other_reasons.append(detail)
    if met_reasons:
        return CriterionResult(code, S_MET, met_reasons + other_reasons)
    has_rbc = "hemoglobin_g_dl" in case.labs or "hematocrit_pct" in case.labs
    if "platelets_10e9_l" in case.labs and has_rbc:
        return CriterionResult(code, S_NOT_MET, other_reasons)
    missing = []
    if "platelets_10e9_l" not in case.labs:
        missing.append("platelet count")
    if not has_rbc:
        missing.append("haemoglobin or haematocrit")
    return CriterionResult(code, S_UNKNOWN, [*other_reasons, "Not assessed: " + ", ".join(missing) + "."])


def _explicit_only(case: Case, book: RuleBook, code: str) -> CriterionResult:
    """D2 and the criteria the spec leaves to the clinician (neuropathy, Castleman, papilloedema)."""
    result = _explicit(case, book, code)
    if result is None:
        result = CriterionResult(code, S_UNKNOWN, ["Not assessed."])
    if code == "sclerotic_bone_lesions" and case.findings.get("lytic_bone_lesions") is True:
        result.reasons.append("Purely lytic lesions never meet this criterion; they raise the myeloma flag.")
    return result


def derive(case: Case, book: RuleBook) -> Derived:
    """Apply D1-D8. An explicit criterion flag wins, except for D6 (endocrinopathy)."""
    cautions: list[tuple[str, str]] = []
    computed: dict[str, CriterionResult] = {
        "monoclonal_plasma_cell_disorder": _monoclonal(case),
        "vegf_elevated": _vegf(case, book, cautions),
        "thrombocytosis_polycythemia": _thrombocytosis(case, book, cautions),
    }
    for code in ("organomegaly", "extravascular_volume_overload", "endocrinopathy", "skin_changes"):
        computed[code] = _any_of(case, book, code)

    results: dict[str, CriterionResult] = {}
    for code in ("polyneuropathy", "castleman_disease", "sclerotic_bone_lesions", "papilledema"):
        results[code] = _explicit_only(case, book, code)
    endocrine_subs_given = any(f in case.findings for f, _ in book.subfindings.get("endocrinopathy", ()))
    for code, derived in computed.items():
        explicit = _explicit(case, book, code)
        if explicit is None or (code in _SUBFINDINGS_OVERRIDE_EXPLICIT and endocrine_subs_given):
            if explicit is not None and explicit.status is not derived.status:
                derived.reasons.append(
                    "The explicit endocrinopathy flag is ignored when endocrine findings are given."
                )
            results[code] = derived
            continue
        if derived.status is not S_UNKNOWN and derived.status is not explicit.status:
            detail = (
                f"{book.criterion_names.get(code, code)} was recorded as "
                f"{'present' if explicit.status is S_MET else 'absent'}, but the findings say "
                f"{'met' if derived.status is S_MET else 'not met'}: the recorded answer is used."
            )
            cautions.append(("conflicting_input", detail))
            explicit.reasons.append(detail)
        results[code] = explicit

    no_caveat = _any_of(case, book, "endocrinopathy", caveat=False)
    explicit_endo = _explicit(case, book, "endocrinopathy")
    if explicit_endo is not None and not endocrine_subs_given:
        no_caveat = explicit_endo

    endo = results["endocrinopathy"]
    if endo.status is not S_MET and any(
        case.findings.get(f) is True for f, q in book.subfindings.get("endocrinopathy", ()) if not q
    ):
        cautions.append(("endocrinopathy_diabetes_thyroid_only", ""))

    flc_ratio = case.labs.get("flc_ratio")
    kappa, lam = case.labs.get("flc_kappa_mg_l"), case.labs.get("flc_lambda_mg_l")
    if not isinstance(flc_ratio, float) and isinstance(kappa, float) and isinstance(lam, float) and lam > 0:
        flc_ratio = kappa / lam
    return Derived(
        criteria=results,
        endocrinopathy_no_caveat=no_caveat,
        cautions=cautions,
        flc_ratio=flc_ratio if isinstance(flc_ratio, float) else None,
    )
