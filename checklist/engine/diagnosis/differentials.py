"""Differential flags: one registry entry per code, with its trigger and reasons together.

A flag means "consider / exclude"; it is never a diagnosis. Each trigger
returns the reasons it fired (empty: it did not), so the clinician can see
which value or finding raised it, each with the content thresholds it applied
(IMWG's numbers for the myeloma flag), which become the reason's evidence entry
as for a criterion (issue 19). Names and pages are content; triggers are
here (clinical.md §f, with §f.2 A4 and A5).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from checklist.engine.diagnosis.context import Context
from checklist.engine.diagnosis.derive import S_MET
from checklist.engine.diagnosis.imwg import (
    DEFINING_EVENT_LABS,
    FLAG_ONLY_LABS,
    flc_finding,
    lab_said,
    lytic_event,
)
from checklist.engine.diagnosis.result import Differential, Evidence, Verdict
from checklist.engine.diagnosis.tagging import Said, said_evidence
from checklist.engine.i18n import COMMA
from checklist.engine.message import Message, join
from checklist.engine.vocabulary import FINDING_GROUPS

# Findings that raise the AL amyloidosis flag with a clone (§f). Not criterion
# sub-findings: content does not own them.
_AL_FINDINGS = (
    "autonomic_dysfunction",
    "carpal_tunnel_syndrome",
    "macroglossia",
    "amyloid_on_biopsy",
    "cardiac_amyloid_suspected",
    "neuropathy_axonal_predominant",
)
_VEGF_CONFOUNDERS = FINDING_GROUPS["vegf_confounders"]
# The flag's lab items: every defining event except the 60% marrow one (the
# >=10% flag item covers it), plus the flag-only items.
_MYELOMA_FLAG_LABS = (
    *(item for item in DEFINING_EVENT_LABS if item[0] != "mde_marrow_plasma_cells"),
    *FLAG_ONLY_LABS,
)

Trigger = Callable[[Context, Mapping[str, list[Said]]], list[Said]]

# Content gives the flags no evidence tag of their own (only their thresholds have one), so a
# reason that applies no threshold reads as unverified, never as unlabelled.
_TRIGGER_EVIDENCE = Evidence.UNVERIFIED


_IGM = Message("IgM paraprotein.")
_PROTEINURIA = Message("Proteinuria")


def _says(*texts: str) -> list[Said]:
    """Reasons that apply no content threshold."""
    return [(t, ()) for t in texts]


@dataclass(frozen=True, slots=True)
class DifferentialRule:
    code: str
    # Reads the case and the flags fired so far (registry order); returns the reasons.
    trigger: Trigger


def _present(ctx: Context, codes: tuple[str, ...]) -> list[str]:
    return [c for c in codes if ctx.case.findings.get(c) is True]


def _cidp(ctx: Context, fired: Mapping[str, list[Said]]) -> list[Said]:
    if ctx.neuropathy and ctx.case.findings.get("neuropathy_demyelinating") is True:
        return _says(Message("Polyneuropathy with demyelinating features."))
    return []


def _gbs(ctx: Context, fired: Mapping[str, list[Said]]) -> list[Said]:
    return (
        _says(Message("Acute onset (nadir within 4 weeks)."))
        if ctx.case.findings.get("neuropathy_acute_onset") is True
        else []
    )


def _myeloma(ctx: Context, fired: Mapping[str, list[Said]]) -> list[Said]:
    """A clone and any CRAB/SLiM item; the FLC ratio per IMWG (§f.2 A4)."""
    if not ctx.clone:
        return []
    reasons = lab_said(ctx.case, ctx.book, _MYELOMA_FLAG_LABS)
    lytic = lytic_event(ctx.case)
    if lytic is not None:
        reasons.append((lytic, ()))
    flc = flc_finding(ctx.case, ctx.book, ctx.derived.flc_ratio)
    if flc is not None:
        reasons.append((flc.reason, flc.used))
    return reasons


def _al(ctx: Context, fired: Mapping[str, list[Said]]) -> list[Said]:
    if not ctx.clone:
        return []
    reasons = _says(*(Message("%(name)s.", name=ctx.book.label(c)) for c in _present(ctx, _AL_FINDINGS)))
    return reasons + lab_said(ctx.case, ctx.book, (("al_proteinuria", "proteinuria_g_24h", _PROTEINURIA),))


def _mgus(ctx: Context, fired: Mapping[str, list[Said]]) -> list[Said]:
    """§f.2 A5: only when neither the chosen nor the current set is met, and no amyloid on biopsy."""
    if (
        not (ctx.neuropathy and ctx.clone)
        or ctx.poems_met
        or "multiple_myeloma" in fired
        or ctx.case.findings.get("amyloid_on_biopsy") is True
    ):
        return []
    # "Not met" only when the rule can no longer be met; while criteria are still unknown the
    # case may yet be POEMS, and a haematologist must not read the flag as an exclusion.
    settled = ctx.chosen.status is Verdict.NOT_MET and ctx.default.status is Verdict.NOT_MET
    if settled:
        return _says(Message("Polyneuropathy with a monoclonal protein, and the POEMS criteria are not met."))
    return _says(
        Message(
            "Polyneuropathy with a monoclonal protein, and the POEMS criteria are not (yet) met: "
            "criteria are still unknown."
        )
    )


def _igm_mag(ctx: Context, fired: Mapping[str, list[Said]]) -> list[Said]:
    reasons = []
    if ctx.case.labs.get("heavy_chain_type") == "IgM":
        reasons.append(_IGM)
    if ctx.case.findings.get("anti_mag_positive") is True:
        reasons.append(Message("Anti-MAG antibodies positive."))
    return _says(*reasons)


def _waldenstrom(ctx: Context, fired: Mapping[str, list[Said]]) -> list[Said]:
    return _says(_IGM) if ctx.case.labs.get("heavy_chain_type") == "IgM" else []


def _castleman_variant(ctx: Context, fired: Mapping[str, list[Said]]) -> list[Said]:
    if ctx.derived.criteria["castleman_disease"].status is S_MET and not ctx.clone:
        return _says(Message("Castleman disease without a documented clonal plasma-cell disorder."))
    return []


def _mpn(ctx: Context, fired: Mapping[str, list[Said]]) -> list[Said]:
    if ctx.derived.criteria["thrombocytosis_polycythemia"].status is not S_MET:
        return []
    reasons = []
    if not ctx.clone:
        reasons.append(Message("Thrombocytosis/polycythaemia without a documented clone."))
    if ctx.case.findings.get("jak2_positive") is True:
        reasons.append(Message("JAK2 or another MPN driver mutation positive."))
    return _says(*reasons)


def _other_vegf(ctx: Context, fired: Mapping[str, list[Said]]) -> list[Said]:
    if ctx.derived.criteria["vegf_elevated"].status is not S_MET:
        return []
    reasons = []
    if not ctx.clone:
        reasons.append(Message("Raised VEGF without a documented clone."))
    confounders = _present(ctx, _VEGF_CONFOUNDERS)
    if confounders:
        reasons.append(
            Message(
                "VEGF confounder: %(names)s.", names=join(COMMA, [ctx.book.label(c) for c in confounders])
            )
        )
    return _says(*reasons)


# Registry order is evaluation order: mgus_neuropathy reads whether the myeloma flag fired.
RULES: tuple[DifferentialRule, ...] = (
    DifferentialRule("cidp", _cidp),
    DifferentialRule("multiple_myeloma", _myeloma),
    DifferentialRule("al_amyloidosis", _al),
    DifferentialRule("mgus_neuropathy", _mgus),
    DifferentialRule("igm_anti_mag_neuropathy", _igm_mag),
    DifferentialRule("waldenstrom_macroglobulinemia", _waldenstrom),
    DifferentialRule("castleman_disease_variant", _castleman_variant),
    DifferentialRule("guillain_barre_syndrome", _gbs),
    DifferentialRule("myeloproliferative_neoplasm", _mpn),
    DifferentialRule("other_vegf_elevation", _other_vegf),
)

DIFFERENTIALS: tuple[str, ...] = tuple(r.code for r in RULES)


def differentials(ctx: Context) -> tuple[Differential, ...]:
    """The flags that fire, in content order, each with its reasons and their evidence entries."""
    fired: dict[str, list[Said]] = {}
    for rule in RULES:
        reasons = rule.trigger(ctx, fired)
        if reasons:
            fired[rule.code] = reasons
    names = ctx.book.differential_names
    return tuple(
        Differential(code, names[code], *said_evidence(fired[code], _TRIGGER_EVIDENCE))
        for code in names
        if code in fired
    )
