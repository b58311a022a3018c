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
from checklist.engine.i18n import AND, COMMA, gettext_noop
from checklist.engine.inputs import Case, display_unit
from checklist.engine.message import Message, join
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
_SEX_WORDS = {"M": Message("male"), "F": Message("female")}
# The specimen in words, at the start of a sentence and within one.
_SPECIMEN = {"serum": Message("serum"), "plasma": Message("plasma")}
_SPECIMEN_CAP = {"serum": Message("Serum"), "plasma": Message("Plasma")}

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
    said = _RECORDED_PRESENT if value else _RECORDED_ABSENT
    return CriterionResult(code, status, [said])


_RECORDED_PRESENT = Message("Recorded by the clinician as present.")
_RECORDED_ABSENT = Message("Recorded by the clinician as absent.")


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
        names = join(COMMA, [book.label(f) for f in present])
        return CriterionResult(code, S_MET, [Message("Present: %(names)s.", names=names)])
    reasons: list[str] = []
    non_qualifying_present = [f for f in subs.non_qualifying if findings.get(f) is True]
    if non_qualifying_present:
        names = join(AND, [book.label(f) for f in non_qualifying_present])
        # §f.3 A13: never worded as if the criterion were settled while parts are still open.
        if len(non_qualifying_present) == 1:
            text = gettext_noop(
                "%(names)s does not count on its own (2007 caveat; both together are a judgement call)."
            )
        else:
            text = gettext_noop(
                "%(names)s do not count on their own (2007 caveat; both together are a judgement call)."
            )
        reasons.append(Message(text, names=names))
    left_out = [f for f in subs.not_counted if findings.get(f) is True]
    if left_out:
        names = join(AND, [book.label(f) for f in left_out])
        if len(left_out) == 1:
            text = gettext_noop("%(names)s is not in the %(set)s list and not counted here.")
        else:
            text = gettext_noop("%(names)s are not in the %(set)s list and not counted here.")
        reasons.append(Message(text, names=names, set=subs.set_name))
    if qualifying and all(findings.get(f) is False for f in qualifying):
        reasons.append(Message("All qualifying findings recorded as absent."))
        return CriterionResult(code, S_NOT_MET, reasons)
    # §f.3 A13: an unknown criterion names the parts not assessed.
    unassessed = [book.label(f) for f in qualifying if f not in findings]
    if unassessed:
        reasons.append(Message("Not assessed: %(names)s.", names=join(COMMA, unassessed)))
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
        reasons.append(Message("M-protein present on immunofixation."))
    if findings.get("clonal_plasma_cells_on_biopsy") is True:
        reasons.append(Message("Clonal plasma cells on biopsy."))
    if findings.get("marrow_clone") is True:
        reasons.append(Message("Clonal plasma cells on the iliac-crest marrow biopsy."))
    light = case.labs.get("light_chain_type")
    heavy = case.labs.get("heavy_chain_type")
    if light in _CLONAL_LIGHT:
        reasons.append(Message("Light chain typed as %(type)s.", type=str(light)))
    if heavy in _CLONAL_HEAVY:
        reasons.append(Message("Heavy chain typed as %(type)s.", type=str(heavy)))
    elif heavy == "light_chain_only":
        reasons.append(Message("Typed as a light-chain-only clone."))
    if reasons:
        return CriterionResult(code, S_MET, reasons)
    fixation = findings.get("m_protein_present")
    biopsy = findings.get("clonal_plasma_cells_on_biopsy")
    if fixation is False and biopsy is False:
        return CriterionResult(
            code,
            S_NOT_MET,
            [
                Message(
                    "No M-protein on immunofixation and no clonal plasma cells on biopsy. "
                    "Cases reported as POEMS without a clone do not meet the criteria."
                )
            ],
        )
    if fixation is False:
        if findings.get("marrow_clone") is False:
            reason = gettext_noop(
                "Immunofixation recorded negative. A clone may still be found by "
                "serum free light chains, or a biopsy of a bone lesion."
            )
            settle = gettext_noop("Serum free light chains, or a biopsy of a bone lesion.")
        else:
            reason = gettext_noop(
                "Immunofixation recorded negative. A clone may still be found by "
                "serum free light chains, or a biopsy of a bone lesion or the marrow."
            )
            settle = gettext_noop("Serum free light chains, or a biopsy of a bone lesion or the marrow.")
        return CriterionResult(code, S_UNKNOWN, [Message(reason)], to_settle=Message(settle))
    if biopsy is False:
        return CriterionResult(
            code,
            S_UNKNOWN,
            [
                Message(
                    "No clone on biopsy (recorded). Not established: needs serum and urine immunofixation."
                )
            ],
            to_settle=Message("Serum and urine immunofixation; serum free light chains."),
        )
    return CriterionResult(
        code,
        S_UNKNOWN,
        [Message("Not established: needs serum and urine immunofixation, or a biopsy showing a clone.")],
    )


def _vegf(case: Case, book: RuleBook, cautions: list[tuple[str, str]]) -> CriterionResult:
    """D3: above the lab's ULN if given, else the specimen's high-specificity cut-off.

    §f.2 A1: without a specimen, the value is read against every specimen's
    cut-off; if they disagree the criterion is unknown, never "not met".
    """
    code = "vegf_elevated"
    value = case.labs.get("vegf_pg_ml")
    if not isinstance(value, float):
        return CriterionResult(code, S_UNKNOWN, [Message("VEGF not measured.")])
    specimen = case.labs.get("vegf_specimen")
    cutoffs: dict[str, Threshold] = {
        "plasma": book.thresholds["vegf_plasma_cutoff"],
        "serum": book.thresholds["vegf_serum_cutoff"],
    }
    known = specimen in cutoffs
    candidates = {str(specimen): cutoffs[str(specimen)]} if known else cutoffs
    shown = case.show("vegf_pg_ml")
    spec_word = (
        Message("%(specimen)s VEGF", specimen=_SPECIMEN_CAP[str(specimen)])
        if known
        else Message("VEGF (specimen not given)")
    )
    uln = case.labs.get("vegf_uln_pg_ml")
    if isinstance(uln, float):
        # The lab's own upper limit settles the criterion whatever the specimen.
        # §f.3 A10: both as entered, times their exact factors.
        met = (exact_value(case, "vegf_pg_ml") or 0) > (exact_value(case, "vegf_uln_pg_ml") or 0)
        if met:
            uln_text = gettext_noop("%(vegf)s %(value)s > the lab's upper limit %(uln)s.")
        else:
            uln_text = gettext_noop("%(vegf)s %(value)s <= the lab's upper limit %(uln)s.")
        said: list[Said] = [
            (Message(uln_text, vegf=spec_word, value=shown, uln=case.show("vegf_uln_pg_ml")), ())
        ]
        below = [(s, t) for s, t in candidates.items() if not crosses(t, case, "vegf_pg_ml")]
        if met and below:
            which = join(
                AND,
                [
                    Message("the %(specimen)s cut-off %(limit)s", specimen=_SPECIMEN[s], limit=t.describe())
                    for s, t in below
                ],
            )
            said.append(
                (
                    Message("Below %(which)s: borderline, low specificity.", which=which),
                    tuple(t for _s, t in below),
                )
            )
            cautions.append(("borderline_vegf", said[-1][0]))
        return _result(code, S_MET if met else S_NOT_MET, said)
    if known:
        cutoff = candidates[str(specimen)]
        met = crosses(cutoff, case, "vegf_pg_ml")
        if met:
            verdict = gettext_noop("%(vegf)s %(value)s meets the cut-off %(limit)s.")
        else:
            verdict = gettext_noop("%(vegf)s %(value)s is below the cut-off %(limit)s.")
        return _result(
            code,
            S_MET if met else S_NOT_MET,
            [(Message(verdict, vegf=spec_word, value=shown, limit=cutoff.describe()), (cutoff,))],
        )
    both = tuple(cutoffs.values())
    meets = [s for s, t in cutoffs.items() if crosses(t, case, "vegf_pg_ml")]
    if len(meets) == len(cutoffs) or not meets:
        described = join(
            AND,
            [
                Message("%(specimen)s %(limit)s", specimen=_SPECIMEN[s], limit=t.describe())
                for s, t in cutoffs.items()
            ],
        )
        if meets:
            text = gettext_noop("%(vegf)s %(value)s meets both cut-offs: %(limits)s.")
        else:
            text = gettext_noop("%(vegf)s %(value)s is below both cut-offs: %(limits)s.")
        said_both = Message(text, vegf=spec_word, value=shown, limits=described)
        return _result(code, S_MET if meets else S_NOT_MET, [(said_both, both)])
    fails = [s for s in cutoffs if s not in meets]
    reason = Message(
        "VEGF %(value)s: meets the %(yes)s cut-off %(yes_limit)s, "
        "not the %(no)s one %(no_limit)s. The specimen decides: state it.",
        value=shown,
        yes=_SPECIMEN[meets[0]],
        yes_limit=cutoffs[meets[0]].describe(),
        no=_SPECIMEN[fails[0]],
        no_limit=cutoffs[fails[0]].describe(),
    )
    return _result(
        code,
        S_UNKNOWN,
        [(reason, both)],
        to_settle=Message("The VEGF specimen (serum or plasma), or the lab's upper limit for VEGF."),
    )


def _thrombocytosis(case: Case, book: RuleBook, cautions: list[tuple[str, str]]) -> CriterionResult:
    """D8: platelets, or haemoglobin / haematocrit with sex-specific thresholds.

    §f.2 A1: without a sex, Hb and Hct are read against both thresholds; if
    the answer depends on the sex, the criterion is unknown.
    """
    code = "thrombocytosis_polycythemia"
    labs = case.labs
    if "platelets_10e9_l" not in labs and "hemoglobin_g_dl" not in labs and "hematocrit_pct" not in labs:
        return CriterionResult(
            code, S_UNKNOWN, [Message("Not assessed: platelet count, haemoglobin or haematocrit.")]
        )
    sex = labs.get("sex")
    sexes: tuple[str, ...] = (str(sex),) if sex in _SEXES else _SEXES
    met_reasons: list[Said] = []
    other_reasons: list[Said] = []
    open_reasons: list[Said] = []  # depend on the sex

    platelets = labs.get("platelets_10e9_l")
    platelets_met = False
    if isinstance(platelets, float):
        threshold = book.thresholds["platelets_thrombocytosis"]
        text = Message("Platelets %(value)s", value=case.show("platelets_10e9_l"))
        if crosses(threshold, case, "platelets_10e9_l"):
            platelets_met = True
            met_reasons.append(
                (Message("%(lab)s %(limit)s.", lab=text, limit=threshold.describe()), (threshold,))
            )
        else:
            limit = f"{_num(threshold.value)}{display_unit(threshold.unit)}"
            other_reasons.append(
                (Message("%(lab)s: not above %(limit)s.", lab=text, limit=limit), (threshold,))
            )
        borderline = book.thresholds["platelets_borderline"]
        if crosses(borderline, case, "platelets_10e9_l") and not platelets_met:
            detail = Message("%(lab)s: borderline (%(limit)s).", lab=text, limit=borderline.describe())
            cautions.append(("borderline_platelets", detail))
            other_reasons.append((detail, (borderline,)))

    met_by_sex = dict.fromkeys(sexes, False)
    for lab, name, stem in (
        ("hemoglobin_g_dl", gettext_noop("Haemoglobin %(value)s"), "hemoglobin_polycythemia"),
        ("hematocrit_pct", gettext_noop("Haematocrit %(value)s"), "hematocrit_polycythemia"),
    ):
        value = labs.get(lab)
        if not isinstance(value, float):
            continue
        text = Message(name, value=case.show(lab))
        by_sex = {s: book.thresholds[f"{stem}_{s.lower()}"] for s in sexes}
        passes = {s: crosses(t, case, lab) for s, t in by_sex.items()}
        for s, ok in passes.items():
            met_by_sex[s] = met_by_sex[s] or ok
        if len(sexes) == 1:
            t = by_sex[sexes[0]]
            if passes[sexes[0]]:
                met_reasons.append((Message("%(lab)s %(limit)s.", lab=text, limit=t.describe()), (t,)))
            else:
                limit = f"{_num(t.value)}{display_unit(t.unit)}"
                not_above = Message(
                    "%(lab)s: not above %(limit)s (%(sex)s).", lab=text, limit=limit, sex=_SEX_WORDS[sexes[0]]
                )
                other_reasons.append((not_above, (t,)))
            continue
        pair = tuple(by_sex.values())
        both = join(
            AND,
            [Message("%(sex)s %(limit)s", sex=_SEX_WORDS[s], limit=t.describe()) for s, t in by_sex.items()],
        )
        if all(passes.values()):
            above = Message(
                "%(lab)s is above both thresholds (sex not given): %(limits)s.", lab=text, limits=both
            )
            met_reasons.append((above, pair))
        elif not any(passes.values()):
            neither = Message(
                "%(lab)s is above neither threshold (sex not given): %(limits)s.", lab=text, limits=both
            )
            other_reasons.append((neither, pair))
        else:
            yes = next(s for s in sexes if passes[s])
            no = next(s for s in sexes if not passes[s])
            open_reasons.append(
                (
                    Message(
                        "%(lab)s: above the %(yes)s threshold %(yes_limit)s, not the "
                        "%(no)s one %(no_limit)s. The sex decides: state it.",
                        lab=text,
                        yes=_SEX_WORDS[yes],
                        yes_limit=by_sex[yes].describe(),
                        no=_SEX_WORDS[no],
                        no_limit=by_sex[no].describe(),
                    ),
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
            to_settle=Message("The patient's sex: the haemoglobin and haematocrit thresholds depend on it."),
        )
    has_rbc = "hemoglobin_g_dl" in labs or "hematocrit_pct" in labs
    if "platelets_10e9_l" in labs and has_rbc:
        return _result(code, S_NOT_MET, other_reasons)
    missing = []
    if "platelets_10e9_l" not in labs:
        missing.append(Message("platelet count"))
    if not has_rbc:
        missing.append(Message("haemoglobin or haematocrit"))
    not_assessed = Message("Not assessed: %(names)s.", names=join(COMMA, missing))
    return _result(code, S_UNKNOWN, [*other_reasons, (not_assessed, ())])


def _explicit_only(case: Case, book: RuleBook, code: str) -> CriterionResult:
    """D2 and the criteria the spec leaves to the clinician (neuropathy, Castleman, papilloedema)."""
    result = _explicit(case, book, code)
    if result is None:
        result = CriterionResult(code, S_UNKNOWN, [Message("Not assessed.")])
    if code == "sclerotic_bone_lesions" and case.findings.get("lytic_bone_lesions") is True:
        if result.status is S_MET:
            # §f.3 A12: a mixed lesion still counts here; the myeloma question goes to the caution.
            result.reasons.append(
                Message(
                    "Lytic lesions are recorded too: a mixed sclerotic-and-lytic lesion still counts here; "
                    "biopsy the lytic part to exclude myeloma."
                )
            )
        else:
            result.reasons.append(
                Message("Purely lytic lesions never meet this criterion; they raise the myeloma flag.")
            )
    return result


def _conflict(book: RuleBook, explicit: CriterionResult, derived: CriterionResult) -> str:
    """The detail when the findings contradict the recorded answer, else ""."""
    if derived.status is S_UNKNOWN or derived.status is explicit.status:
        return ""
    name = book.criterion_names.get(explicit.code, explicit.code)
    # Only two conflicts can happen: recorded present but not met, recorded absent but met.
    if explicit.status is S_MET:
        text = gettext_noop(
            "%(name)s was recorded as present, but the findings say not met: the recorded answer is used."
        )
    else:
        text = gettext_noop(
            "%(name)s was recorded as absent, but the findings say met: the recorded answer is used."
        )
    return Message(text, name=name)


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
            Message("The explicit endocrinopathy flag is ignored when endocrine findings are given.")
        )


def specimen_only(case: Case, code: str, threshold: Threshold) -> CriterionResult:
    """A criterion read from one threshold on its own specimen alone (clinical.md §j.5 J-M2).

    The MHLW rule is serum VEGF by ELISA: a plasma value is never converted to serum, so it
    leaves the criterion unknown and says so; without a specimen the value is read as the
    threshold's specimen (§f.2 A1), and because the other specimen is not accepted the answer
    is unknown too, to be settled by the specimen. The lab's own upper limit does not count.
    """
    specimen = threshold.specimen
    spec = _SPECIMEN.get(specimen, specimen)
    wanted = Message("%(specimen)s VEGF %(limit)s", specimen=spec, limit=threshold.describe())
    value = case.labs.get("vegf_pg_ml")
    if not isinstance(value, float):
        return CriterionResult(
            code, S_UNKNOWN, [Message("VEGF not measured; this set asks for %(wanted)s.", wanted=wanted)]
        )
    shown = case.show("vegf_pg_ml")
    given = case.labs.get("vegf_specimen")
    meets = crosses(threshold, case, "vegf_pg_ml")
    if given == specimen:
        if meets:
            text = gettext_noop("%(specimen)s VEGF %(value)s meets %(limit)s.")
        else:
            text = gettext_noop("%(specimen)s VEGF %(value)s is below %(limit)s.")
        cap = _SPECIMEN_CAP.get(specimen, specimen.capitalize())
        return CriterionResult(
            code,
            S_MET if meets else S_NOT_MET,
            [Message(text, specimen=cap, value=shown, limit=threshold.describe())],
        )
    if isinstance(given, str) and given != "unknown":
        return CriterionResult(
            code,
            S_UNKNOWN,
            [
                Message(
                    "%(given_cap)s VEGF %(value)s does not count: this criterion is %(wanted)s; "
                    "a %(given)s value is never converted to %(specimen)s.",
                    given_cap=_SPECIMEN_CAP.get(given, given.capitalize()),
                    value=shown,
                    wanted=wanted,
                    given=_SPECIMEN.get(given, given),
                    specimen=spec,
                )
            ],
            to_settle=Message("A %(specimen)s VEGF by ELISA.", specimen=spec),
        )
    if meets:
        text = gettext_noop(
            "VEGF %(value)s (specimen not given): as %(specimen)s it would meet %(limit)s; "
            "any other specimen does not count. State the specimen."
        )
    else:
        text = gettext_noop(
            "VEGF %(value)s (specimen not given): as %(specimen)s it would be below %(limit)s; "
            "any other specimen does not count. State the specimen."
        )
    return CriterionResult(
        code,
        S_UNKNOWN,
        [Message(text, value=shown, specimen=spec, limit=threshold.describe())],
        to_settle=Message(
            "The VEGF specimen (%(specimen)s is the only one this set accepts).", specimen=spec
        ),
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
