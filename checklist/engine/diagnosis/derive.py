"""Derivations D1-D8 of clinical.md §f: from findings and labs to tri-state criteria.

Each criterion comes out met, not met or unknown, with the reasons a clinician
can check. "Not assessed" (a missing key) is never read as absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from checklist.engine.diagnosis.compare import crosses, exact_ratio, exact_value
from checklist.engine.diagnosis.result import Status
from checklist.engine.diagnosis.rulebook import CriteriaSetRule, RuleBook, SubfindingList, Threshold
from checklist.engine.inputs import Case, display_unit
from checklist.engine.vocabulary import ANY_OF_CRITERIA

# Module-level aliases: attribute access on an Enum class is slow in Python 3.11,
# and the engine reads these in every loop (see bench/ for the figures).
S_MET, S_NOT_MET, S_UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN


@dataclass(slots=True)
class CriterionResult:
    code: str
    status: Status
    reasons: list[str] = field(default_factory=list)
    # What would settle an unknown criterion, when it is more specific than the
    # criterion's investigations in content (e.g. "the VEGF specimen").
    to_settle: str = ""
    # The content thresholds each reason applied, by the reason's index (None: none did).
    # Their evidence tags and bases become the reason's (tagging.reason_evidence).
    applied: dict[int, tuple[Threshold, ...]] | None = None


# A reason as it is built: its words and the thresholds it applied.
Said = tuple[str, tuple[Threshold, ...]]


def _result(code: str, status: Status, said: list[Said], to_settle: str = "") -> CriterionResult:
    applied = {i: used for i, (_text, used) in enumerate(said) if used}
    return CriterionResult(code, status, [text for text, _used in said], to_settle, applied or None)


@dataclass(slots=True)
class Derived:
    """Criterion results for one case, before any criteria set's rule is applied."""

    # Under the current sub-finding lists; a set with its own lists reads ``criteria_for``.
    criteria: dict[str, CriterionResult]
    case: Case
    # Criteria decided by the clinician's explicit flag: the same answer in every set.
    explicit: frozenset[str] = frozenset()
    # Notes for the cautions registry, made where the fact is found: (code, detail).
    notes: list[tuple[str, str]] = field(default_factory=list)
    # Exact (compare.exact_ratio): a float quotient misses the IMWG boundary.
    flc_ratio: Fraction | None = None
    # Explicit flags the findings contradict, criterion code -> detail, under the current
    # lists; a set with its own lists reads them again (criteria_for, kept in SetOutcome).
    conflicts: dict[str, str] = field(default_factory=dict)


def _num(value: float) -> str:
    return f"{value:g}"


# Light and heavy chain typings that prove a clone (D1, with §f.2 A6).
_CLONAL_LIGHT = ("lambda", "kappa", "kappa_and_lambda", "biclonal")
_CLONAL_HEAVY = ("IgG", "IgA", "IgM", "IgD", "IgE", "biclonal")
_SEXES = ("M", "F")
_SEX_WORDS = {"M": "male", "F": "female"}

# D6: when any of these is given, the explicit endocrinopathy flag is ignored.
_SUBFINDINGS_OVERRIDE_EXPLICIT = frozenset({"endocrinopathy"})

# An any-of criterion content gives no sub-findings: unknown unless flagged (never met by nothing).
# Not dead: from_records accepts content without a list (e.g. every organomegaly finding detached).
_NO_SUBS = {
    code: SubfindingList(code, (), (), (), "", frozenset(), "Not assessed.") for code in ANY_OF_CRITERIA
}


def _explicit(case: Case, book: RuleBook, code: str) -> CriterionResult | None:
    value = case.findings.get(code)
    if value is None:
        return None
    status = S_MET if value else S_NOT_MET
    word = "present" if value else "absent"
    return CriterionResult(code, status, [f"Recorded by the clinician as {word}."])


def _any_of(case: Case, subs: SubfindingList, book: RuleBook) -> CriterionResult:
    """D4, D5, D6, D7: met if a qualifying sub-finding is present.

    Not met only when every qualifying sub-finding was assessed absent; with
    any of them not assessed the answer is unknown. ``subs`` is the list of
    one criteria set: a set that predates the 2007 caveat counts diabetes and
    thyroid disease as qualifying, and a set can leave sub-findings out (the
    2003 lists had no acrocyanosis, flushing or pericardial effusion).
    """
    code = subs.criterion
    qualifying = subs.qualifying
    findings = case.findings
    if findings.keys().isdisjoint(subs.codes):
        # The common case in clinic: nothing entered for this criterion yet.
        return CriterionResult(code, S_UNKNOWN, [subs.not_assessed] if qualifying else [])
    present = [f for f in qualifying if findings.get(f) is True]
    if present:
        names = ", ".join(book.label(f) for f in present)
        return CriterionResult(code, S_MET, [f"Present: {names}."])
    reasons: list[str] = []
    non_qualifying_present = [f for f in subs.non_qualifying if findings.get(f) is True]
    if non_qualifying_present:
        names = " and ".join(book.label(f) for f in non_qualifying_present)
        # §f.3 A13: never worded as if the criterion were settled while parts are still open.
        one = len(non_qualifying_present) == 1
        alone = "does not count on its own" if one else "do not count on their own"
        reasons.append(f"{names} {alone} (2007 caveat; both together are a judgement call).")
    left_out = [f for f in subs.not_counted if findings.get(f) is True]
    if left_out:
        names = " and ".join(book.label(f) for f in left_out)
        verb = "is" if len(left_out) == 1 else "are"
        reasons.append(f"{names} {verb} not in the {subs.set_name} list and not counted here.")
    if qualifying and all(findings.get(f) is False for f in qualifying):
        reasons.append("All qualifying findings recorded as absent.")
        return CriterionResult(code, S_NOT_MET, reasons)
    # §f.3 A13: an unknown criterion names the parts not assessed.
    unassessed = [book.label(f) for f in qualifying if f not in findings]
    if unassessed:
        reasons.append("Not assessed: " + ", ".join(unassessed) + ".")
    return CriterionResult(code, S_UNKNOWN, reasons)


def _monoclonal(case: Case) -> CriterionResult:
    """D1: immunofixation, biopsy clone, or a positive heavy/light-chain typing.

    §f.2 A6: a light-chain-only typing is a clone; after a negative
    immunofixation the reason names what could still find one, never the
    test just recorded.
    """
    code = "monoclonal_plasma_cell_disorder"
    findings = case.findings
    reasons: list[str] = []
    if findings.get("m_protein_present") is True:
        reasons.append("M-protein present on immunofixation.")
    if findings.get("clonal_plasma_cells_on_biopsy") is True:
        reasons.append("Clonal plasma cells on biopsy.")
    if findings.get("marrow_clone") is True:
        reasons.append("Clonal plasma cells on the iliac-crest marrow biopsy.")
    light = case.labs.get("light_chain_type")
    heavy = case.labs.get("heavy_chain_type")
    if light in _CLONAL_LIGHT:
        reasons.append(f"Light chain typed as {light}.")
    if heavy in _CLONAL_HEAVY:
        reasons.append(f"Heavy chain typed as {heavy}.")
    elif heavy == "light_chain_only":
        reasons.append("Typed as a light-chain-only clone.")
    if reasons:
        return CriterionResult(code, S_MET, reasons)
    fixation = findings.get("m_protein_present")
    biopsy = findings.get("clonal_plasma_cells_on_biopsy")
    if fixation is False and biopsy is False:
        return CriterionResult(
            code,
            S_NOT_MET,
            [
                "No M-protein on immunofixation and no clonal plasma cells on biopsy. "
                "Cases reported as POEMS without a clone do not meet the criteria."
            ],
        )
    if fixation is False:
        where = "a bone lesion" if findings.get("marrow_clone") is False else "a bone lesion or the marrow"
        still = f"serum free light chains, or a biopsy of {where}"
        return CriterionResult(
            code,
            S_UNKNOWN,
            [f"Immunofixation recorded negative. A clone may still be found by {still}."],
            to_settle=still[0].upper() + still[1:] + ".",
        )
    if biopsy is False:
        return CriterionResult(
            code,
            S_UNKNOWN,
            ["No clone on biopsy (recorded). Not established: needs serum and urine immunofixation."],
            to_settle="Serum and urine immunofixation; serum free light chains.",
        )
    return CriterionResult(
        code,
        S_UNKNOWN,
        ["Not established: needs serum and urine immunofixation, or a biopsy showing a clone."],
    )


def _vegf(case: Case, book: RuleBook, cautions: list[tuple[str, str]]) -> CriterionResult:
    """D3: above the lab's ULN if given, else the specimen's high-specificity cut-off.

    §f.2 A1: without a specimen, the value is read against every specimen's
    cut-off; if they disagree the criterion is unknown, never "not met".
    """
    code = "vegf_elevated"
    value = case.labs.get("vegf_pg_ml")
    if not isinstance(value, float):
        return CriterionResult(code, S_UNKNOWN, ["VEGF not measured."])
    specimen = case.labs.get("vegf_specimen")
    cutoffs: dict[str, Threshold] = {
        "plasma": book.thresholds["vegf_plasma_cutoff"],
        "serum": book.thresholds["vegf_serum_cutoff"],
    }
    known = specimen in cutoffs
    candidates = {str(specimen): cutoffs[str(specimen)]} if known else cutoffs
    shown = case.show("vegf_pg_ml")
    spec_word = f"{str(specimen).capitalize()} VEGF" if known else "VEGF (specimen not given)"
    uln = case.labs.get("vegf_uln_pg_ml")
    if isinstance(uln, float):
        # The lab's own upper limit settles the criterion whatever the specimen.
        # §f.3 A10: both as entered, times their exact factors.
        met = (exact_value(case, "vegf_pg_ml") or 0) > (exact_value(case, "vegf_uln_pg_ml") or 0)
        sign = ">" if met else "<="
        said: list[Said] = [
            (f"{spec_word} {shown} {sign} the lab's upper limit {case.show('vegf_uln_pg_ml')}.", ())
        ]
        below = [(s, t) for s, t in candidates.items() if not crosses(t, case, "vegf_pg_ml")]
        if met and below:
            which = " and ".join(f"the {s} cut-off {t.describe()}" for s, t in below)
            said.append((f"Below {which}: borderline, low specificity.", tuple(t for _s, t in below)))
            cautions.append(("borderline_vegf", said[-1][0]))
        return _result(code, S_MET if met else S_NOT_MET, said)
    if known:
        cutoff = candidates[str(specimen)]
        met = crosses(cutoff, case, "vegf_pg_ml")
        verdict = "meets the cut-off" if met else "is below the cut-off"
        return _result(
            code,
            S_MET if met else S_NOT_MET,
            [(f"{spec_word} {shown} {verdict} {cutoff.describe()}.", (cutoff,))],
        )
    both = tuple(cutoffs.values())
    meets = [s for s, t in cutoffs.items() if crosses(t, case, "vegf_pg_ml")]
    if len(meets) == len(cutoffs):
        described = " and ".join(f"{s} {t.describe()}" for s, t in cutoffs.items())
        return _result(code, S_MET, [(f"{spec_word} {shown} meets both cut-offs: {described}.", both)])
    if not meets:
        described = " and ".join(f"{s} {t.describe()}" for s, t in cutoffs.items())
        return _result(code, S_NOT_MET, [(f"{spec_word} {shown} is below both cut-offs: {described}.", both)])
    fails = [s for s in cutoffs if s not in meets]
    reason = (
        f"VEGF {shown}: meets the {meets[0]} cut-off {cutoffs[meets[0]].describe()}, "
        f"not the {fails[0]} one {cutoffs[fails[0]].describe()}. The specimen decides: state it."
    )
    return _result(
        code,
        S_UNKNOWN,
        [(reason, both)],
        to_settle="The VEGF specimen (serum or plasma), or the lab's upper limit for VEGF.",
    )


def _thrombocytosis(case: Case, book: RuleBook, cautions: list[tuple[str, str]]) -> CriterionResult:
    """D8: platelets, or haemoglobin / haematocrit with sex-specific thresholds.

    §f.2 A1: without a sex, Hb and Hct are read against both thresholds; if
    the answer depends on the sex, the criterion is unknown.
    """
    code = "thrombocytosis_polycythemia"
    labs = case.labs
    if "platelets_10e9_l" not in labs and "hemoglobin_g_dl" not in labs and "hematocrit_pct" not in labs:
        return CriterionResult(code, S_UNKNOWN, ["Not assessed: platelet count, haemoglobin or haematocrit."])
    sex = labs.get("sex")
    sexes: tuple[str, ...] = (str(sex),) if sex in _SEXES else _SEXES
    met_reasons: list[Said] = []
    other_reasons: list[Said] = []
    open_reasons: list[Said] = []  # depend on the sex

    platelets = labs.get("platelets_10e9_l")
    platelets_met = False
    if isinstance(platelets, float):
        threshold = book.thresholds["platelets_thrombocytosis"]
        text = f"Platelets {case.show('platelets_10e9_l')}"
        if crosses(threshold, case, "platelets_10e9_l"):
            platelets_met = True
            met_reasons.append((f"{text} {threshold.describe()}.", (threshold,)))
        else:
            limit = f"{_num(threshold.value)}{display_unit(threshold.unit)}"
            other_reasons.append((f"{text}: not above {limit}.", (threshold,)))
        borderline = book.thresholds["platelets_borderline"]
        if crosses(borderline, case, "platelets_10e9_l") and not platelets_met:
            detail = f"{text}: borderline ({borderline.describe()})."
            cautions.append(("borderline_platelets", detail))
            other_reasons.append((detail, (borderline,)))

    met_by_sex = dict.fromkeys(sexes, False)
    for lab, name, stem in (
        ("hemoglobin_g_dl", "Haemoglobin", "hemoglobin_polycythemia"),
        ("hematocrit_pct", "Haematocrit", "hematocrit_polycythemia"),
    ):
        value = labs.get(lab)
        if not isinstance(value, float):
            continue
        text = f"{name} {case.show(lab)}"
        by_sex = {s: book.thresholds[f"{stem}_{s.lower()}"] for s in sexes}
        passes = {s: crosses(t, case, lab) for s, t in by_sex.items()}
        for s, ok in passes.items():
            met_by_sex[s] = met_by_sex[s] or ok
        if len(sexes) == 1:
            t = by_sex[sexes[0]]
            if passes[sexes[0]]:
                met_reasons.append((f"{text} {t.describe()}.", (t,)))
            else:
                limit = f"{_num(t.value)}{display_unit(t.unit)}"
                other_reasons.append((f"{text}: not above {limit} ({_SEX_WORDS[sexes[0]]}).", (t,)))
            continue
        pair = tuple(by_sex.values())
        both = " and ".join(f"{_SEX_WORDS[s]} {t.describe()}" for s, t in by_sex.items())
        if all(passes.values()):
            met_reasons.append((f"{text} is above both thresholds (sex not given): {both}.", pair))
        elif not any(passes.values()):
            other_reasons.append((f"{text} is above neither threshold (sex not given): {both}.", pair))
        else:
            yes = next(s for s in sexes if passes[s])
            no = next(s for s in sexes if not passes[s])
            open_reasons.append(
                (
                    f"{text}: above the {_SEX_WORDS[yes]} threshold {by_sex[yes].describe()}, not the "
                    f"{_SEX_WORDS[no]} one {by_sex[no].describe()}. The sex decides: state it.",
                    pair,
                )
            )

    if platelets_met or all(met_by_sex.values()):
        return _result(code, S_MET, met_reasons + other_reasons)
    if any(met_by_sex.values()):
        return _result(
            code,
            S_UNKNOWN,
            open_reasons + other_reasons,
            to_settle="The patient's sex: the haemoglobin and haematocrit thresholds depend on it.",
        )
    has_rbc = "hemoglobin_g_dl" in labs or "hematocrit_pct" in labs
    if "platelets_10e9_l" in labs and has_rbc:
        return _result(code, S_NOT_MET, other_reasons)
    missing = []
    if "platelets_10e9_l" not in labs:
        missing.append("platelet count")
    if not has_rbc:
        missing.append("haemoglobin or haematocrit")
    return _result(code, S_UNKNOWN, [*other_reasons, ("Not assessed: " + ", ".join(missing) + ".", ())])


def _explicit_only(case: Case, book: RuleBook, code: str) -> CriterionResult:
    """D2 and the criteria the spec leaves to the clinician (neuropathy, Castleman, papilloedema)."""
    result = _explicit(case, book, code)
    if result is None:
        result = CriterionResult(code, S_UNKNOWN, ["Not assessed."])
    if code == "sclerotic_bone_lesions" and case.findings.get("lytic_bone_lesions") is True:
        if result.status is S_MET:
            # §f.3 A12: a mixed lesion still counts here; the myeloma question goes to the caution.
            result.reasons.append(
                "Lytic lesions are recorded too: a mixed sclerotic-and-lytic lesion still counts here; "
                "biopsy the lytic part to exclude myeloma."
            )
        else:
            result.reasons.append(
                "Purely lytic lesions never meet this criterion; they raise the myeloma flag."
            )
    return result


def _conflict(book: RuleBook, explicit: CriterionResult, derived: CriterionResult) -> str:
    """The detail when the findings contradict the recorded answer, else ""."""
    if derived.status is S_UNKNOWN or derived.status is explicit.status:
        return ""
    return (
        f"{book.criterion_names.get(explicit.code, explicit.code)} was recorded as "
        f"{'present' if explicit.status is S_MET else 'absent'}, but the findings say "
        f"{'met' if derived.status is S_MET else 'not met'}: the recorded answer is used."
    )


def derive(case: Case, book: RuleBook) -> Derived:
    """Apply D1-D8. An explicit criterion flag wins, except for D6 (endocrinopathy)."""
    cautions: list[tuple[str, str]] = []
    computed: dict[str, CriterionResult] = {
        "monoclonal_plasma_cell_disorder": _monoclonal(case),
        "vegf_elevated": _vegf(case, book, cautions),
        "thrombocytosis_polycythemia": _thrombocytosis(case, book, cautions),
    }
    for code in ANY_OF_CRITERIA:
        computed[code] = _any_of(case, book.subfinding_list(code) or _NO_SUBS[code], book)

    results: dict[str, CriterionResult] = {}
    for code in ("polyneuropathy", "castleman_disease", "sclerotic_bone_lesions", "papilledema"):
        results[code] = _explicit_only(case, book, code)
    endocrine_subs_given = any(f in case.findings for f, _ in book.subfindings.get("endocrinopathy", ()))
    explicit_used: list[str] = []
    conflicts: dict[str, str] = {}
    for code, derived in computed.items():
        explicit = _explicit(case, book, code)
        if explicit is None or (code in _SUBFINDINGS_OVERRIDE_EXPLICIT and endocrine_subs_given):
            _note_overridden(explicit, derived)
            results[code] = derived
            continue
        detail = _conflict(book, explicit, derived)
        if detail:
            # Under the current lists; a set with its own lists decides again (criteria_for).
            conflicts[code] = detail
            explicit.reasons.append(detail)
        results[code] = explicit
        explicit_used.append(code)

    endo = results["endocrinopathy"]
    if endo.status is not S_MET and any(
        case.findings.get(f) is True for f, q in book.subfindings.get("endocrinopathy", ()) if not q
    ):
        cautions.append(("endocrinopathy_diabetes_thyroid_only", ""))

    return Derived(
        criteria=results,
        case=case,
        explicit=frozenset(explicit_used),
        notes=cautions,
        flc_ratio=exact_ratio(case),
        conflicts=conflicts,
    )


def _note_overridden(explicit: CriterionResult | None, derived: CriterionResult) -> None:
    """D6: an explicit endocrinopathy flag that the endocrine findings override is named, not hidden."""
    if explicit is not None and explicit.status is not derived.status:
        derived.reasons.append(
            "The explicit endocrinopathy flag is ignored when endocrine findings are given."
        )


def specimen_only(case: Case, code: str, threshold: Threshold) -> CriterionResult:
    """A criterion read from one threshold on its own specimen alone (clinical.md §j.5 J-M2).

    The MHLW rule is serum VEGF by ELISA: a plasma value is never converted to serum, so it
    leaves the criterion unknown and says so; without a specimen the value is read as the
    threshold's specimen (§f.2 A1), and because the other specimen is not accepted the answer
    is unknown too, to be settled by the specimen. The lab's own upper limit does not count.
    """
    specimen = threshold.specimen
    wanted = f"{specimen} VEGF {threshold.describe()}"
    value = case.labs.get("vegf_pg_ml")
    if not isinstance(value, float):
        return CriterionResult(code, S_UNKNOWN, [f"VEGF not measured; this set asks for {wanted}."])
    shown = case.show("vegf_pg_ml")
    given = case.labs.get("vegf_specimen")
    meets = crosses(threshold, case, "vegf_pg_ml")
    if given == specimen:
        verdict = "meets" if meets else "is below"
        return CriterionResult(
            code,
            S_MET if meets else S_NOT_MET,
            [f"{specimen.capitalize()} VEGF {shown} {verdict} {threshold.describe()}."],
        )
    if isinstance(given, str) and given != "unknown":
        return CriterionResult(
            code,
            S_UNKNOWN,
            [
                f"{given.capitalize()} VEGF {shown} does not count: this criterion is {wanted}; "
                f"a {given} value is never converted to {specimen}."
            ],
            to_settle=f"A {specimen} VEGF by ELISA.",
        )
    would = "would meet" if meets else "would be below"
    return CriterionResult(
        code,
        S_UNKNOWN,
        [
            f"VEGF {shown} (specimen not given): as {specimen} it {would} {threshold.describe()}; "
            f"any other specimen does not count. State the specimen."
        ],
        to_settle=f"The VEGF specimen ({specimen} is the only one this set accepts).",
    )


def criteria_for(
    rule: CriteriaSetRule, derived: Derived, book: RuleBook
) -> tuple[dict[str, CriterionResult], dict[str, str]]:
    if rule.specimen_rules:
        results, conflicts = _criteria_for(rule, derived, book)
        results = dict(results)
        for code, threshold in rule.specimen_rules.items():
            results[code] = specimen_only(derived.case, code, threshold)
        return results, conflicts
    return _criteria_for(rule, derived, book)


def _criteria_for(
    rule: CriteriaSetRule, derived: Derived, book: RuleBook
) -> tuple[dict[str, CriterionResult], dict[str, str]]:
    """The criterion results as ``rule`` reads them, and the explicit flags its findings contradict.

    Most sets count the current sub-finding lists: the shared results and conflicts,
    no work. A set with its own lists (Mayo 2003: no diabetes/thyroid caveat, narrower
    skin and oedema lists) gets only those criteria derived again. An explicit flag
    the derivation used stands in every set, but whether the findings contradict it
    is read in the set's own lists: under Mayo 2003, acrocyanosis does not contradict
    "skin changes: absent". ``derived`` is not changed: the caller keeps what it needs
    (apply_rule, in the set's SetOutcome; each set is applied once per evaluation).
    """
    own = book.set_lists(rule.slug)
    if not own:
        return derived.criteria, derived.conflicts
    results = dict(derived.criteria)
    # Copied on the first change: the shared mapping stays the current lists' (other sets
    # read it). A conflict only this set sees goes after the shared ones, as always listed.
    conflicts = derived.conflicts
    for subs in own:
        code = subs.criterion
        from_lists = _any_of(derived.case, subs, book)
        # A fresh result for an explicit flag: the shared one carries the current lists' conflict.
        explicit = _explicit(derived.case, book, code) if code in derived.explicit else None
        if explicit is None:
            # Not used, but maybe given and overridden by the findings (D6): say so here too.
            _note_overridden(_explicit(derived.case, book, code), from_lists)
            results[code] = from_lists
            continue
        detail = _conflict(book, explicit, from_lists)
        if detail:
            explicit.reasons.append(detail)
        results[code] = explicit
        if detail != conflicts.get(code, ""):
            if conflicts is derived.conflicts:
                conflicts = dict(conflicts)
            if detail:
                conflicts[code] = detail
            else:
                del conflicts[code]
    return results, conflicts
