"""The evaluation as typed values: what the engine answers, before it becomes JSON.

Every status word and level the API prints is an enum member here; the one
``Evaluation.to_dict`` makes the JSON of design.md §3.3, and the OpenAPI
response schema is generated from these same classes (checklist/openapi.py),
so the contract is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from checklist.engine.evidence import Basis, Evidence
from checklist.engine.slots import slot_init
from checklist.engine.vocabulary import Extent, Group

__all__ = [
    "Basis",
    "Caution",
    "Comparison",
    "CriterionOutcome",
    "Differential",
    "Evaluation",
    "Evidence",
    "Extent",
    "Group",
    "Issue",
    "Level",
    "ReasonEvidence",
    "SetRef",
    "Status",
    "ThresholdUse",
    "Treatment",
    "Verdict",
]


class Status(StrEnum):
    """A criterion: met, not met, or unknown (not assessed, or depends on a missing qualifier)."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


class Verdict(StrEnum):
    """A criteria set: met, not met (cannot be met whatever the unknowns), or incomplete."""

    MET = "met"
    NOT_MET = "not_met"
    INCOMPLETE = "incomplete"


class Level(StrEnum):
    """A caution's weight (clinical.md §f.2 A2): major ones travel with the headline."""

    MAJOR = "major"
    MINOR = "minor"


# The JSON word of every enum member, looked up rather than read through
# Enum.value (a slow descriptor in Python 3.11) on the per-criterion path.
_TEXT: dict[StrEnum, str] = {
    m: m.value for e in (Status, Verdict, Level, Extent, Group, Evidence, Basis) for m in e
}


@slot_init
@dataclass(frozen=True, slots=True)
class SetRef:
    slug: str
    name: str
    version: str


@slot_init
@dataclass(frozen=True, slots=True)
class ThresholdUse:
    """A content threshold a reason applied: a published number (with its citation) or an app default."""

    code: str
    limit: str  # e.g. ">= 200 pg/mL"
    basis: Basis
    evidence: Evidence
    source: str  # the citation ("" when content names none)


@slot_init
@dataclass(frozen=True, slots=True)
class ReasonEvidence:
    """The evidence tag of one reason (the weakest of the thresholds it applies, else its rule's)."""

    evidence: Evidence
    thresholds: tuple[ThresholdUse, ...] = ()


@slot_init
@dataclass(frozen=True, slots=True)
class CriterionOutcome:
    code: str
    name: str
    group: Group
    status: Status
    reasons: tuple[str, ...]
    to_settle: str | None = None  # only for an unknown criterion
    # One entry per reason, in the same order (added beside ``reasons``: design.md §3.3).
    reason_evidence: tuple[ReasonEvidence, ...] = ()


@slot_init
@dataclass(frozen=True, slots=True)
class Differential:
    code: str
    name: str
    reasons: tuple[str, ...]
    # One entry per reason, as for a criterion: the thresholds a reason applied (IMWG's, for
    # the myeloma flag), else the flag's tag (content gives flags none yet: unverified).
    reason_evidence: tuple[ReasonEvidence, ...] = ()


@slot_init
@dataclass(frozen=True, slots=True)
class Caution:
    code: str
    level: Level
    message: str
    detail: str | None = None
    evidence: Evidence = Evidence.UNVERIFIED  # content: the caution's own tag
    source: str = ""  # content: the caution's reference


@slot_init
@dataclass(frozen=True, slots=True)
class Treatment:
    """What the literature keys treatment to (§f.2 A8), and the pages to show first."""

    extent: Extent
    pages: tuple[str, ...]
    reasons: tuple[str, ...]


@slot_init
@dataclass(frozen=True, slots=True)
class StagingItem:
    """§j.1 / J-W1: a staging item not yet recorded, and what it would settle."""

    code: str
    test: str  # the investigation by name
    why: str
    settles: str
    evidence: Evidence
    source: str


@slot_init
@dataclass(frozen=True, slots=True)
class RiskFactor:
    """§j.3 J-K2: a factor one cohort associated with shorter overall survival. Never a score."""

    code: str
    factor: str
    value: str  # as entered
    hr: str  # hazard ratio with its 95% CI
    wording: str
    evidence: Evidence
    source: str
    # The factor's threshold (e.g. "> 50 years"; "" for a finding) and where its number comes from.
    limit: str = ""
    basis: Basis | None = None


@slot_init
@dataclass(frozen=True, slots=True)
class DrugCaution:
    """§j.4: a drug or treatment caution with its level."""

    code: str
    level: Level
    message: str
    evidence: Evidence
    source: str


@slot_init
@dataclass(frozen=True, slots=True)
class ExtentOut:
    """§j.2: the extent of A8 (as in ``treatment``), and what would settle it when unknown."""

    extent: Extent
    reasons: tuple[str, ...]
    to_settle: str | None = None
    reason_evidence: tuple[ReasonEvidence, ...] = ()  # one per reason, as for a criterion


@slot_init
@dataclass(frozen=True, slots=True)
class Issue:
    """An input problem or warning, naming the field."""

    field: str
    message: str


@slot_init
@dataclass(frozen=True, slots=True)
class Comparison:
    criteria_set: str
    name: str
    status: Verdict
    meets_criteria: bool
    missing: tuple[str, ...]
    explanation: str


@slot_init
@dataclass(frozen=True, slots=True)
class Evaluation:
    criteria_set: SetRef
    content_version: str
    status: Verdict
    meets_criteria: bool  # exactly when status is met
    mandatory_met: tuple[str, ...]
    major_met: tuple[str, ...]
    minor_met: tuple[str, ...]
    criteria: tuple[CriterionOutcome, ...]
    missing: tuple[str, ...]
    differentials: tuple[Differential, ...]
    cautions: tuple[Caution, ...]
    treatment: Treatment | None
    warnings: tuple[Issue, ...]
    disclaimer: str
    comparison: tuple[Comparison, ...] | None = None
    # §j.6: only when the chosen set is met (empty / null otherwise).
    staging_missing: tuple[StagingItem, ...] = ()
    extent: ExtentOut | None = None
    risk_factors_present: tuple[RiskFactor, ...] = ()
    drug_cautions: tuple[DrugCaution, ...] = ()
    # §j.6, a graded set only (mhlw-jp): the category, whether it is covered for support, and
    # the exclusion said beside the category (J-M4: A3 alone is not a myeloma diagnosis).
    mhlw_category: str | None = None
    mhlw_covered: bool | None = None
    mhlw_exclusion: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of design.md §3.3. Written out by hand: dataclasses.asdict is several times slower."""
        s = self.criteria_set
        criteria = []
        for c in self.criteria:
            item: dict[str, Any] = {
                "code": c.code,
                "name": c.name,
                "group": _TEXT[c.group],
                "status": _TEXT[c.status],
                "reasons": list(c.reasons),
            }
            if c.to_settle is not None:
                item["to_settle"] = c.to_settle
            item["reason_evidence"] = [_reason_evidence(r) for r in c.reason_evidence]
            criteria.append(item)
        cautions = []
        for k in self.cautions:
            caution: dict[str, Any] = {"code": k.code, "level": _TEXT[k.level], "message": k.message}
            if k.detail is not None:
                caution["detail"] = k.detail
            caution["evidence"] = _TEXT[k.evidence]
            caution["source"] = k.source
            cautions.append(caution)
        t = self.treatment
        out: dict[str, Any] = {
            "criteria_set": {"slug": s.slug, "name": s.name, "version": s.version},
            "content_version": self.content_version,
            "status": _TEXT[self.status],
            "meets_criteria": self.meets_criteria,
            "mandatory_met": list(self.mandatory_met),
            "major_met": list(self.major_met),
            "minor_met": list(self.minor_met),
            "criteria": criteria,
            "missing": list(self.missing),
            "differentials": [
                {
                    "code": d.code,
                    "name": d.name,
                    "reasons": list(d.reasons),
                    "reason_evidence": [_reason_evidence(r) for r in d.reason_evidence],
                }
                for d in self.differentials
            ],
            "cautions": cautions,
            "treatment": None
            if t is None
            else {"extent": _TEXT[t.extent], "pages": list(t.pages), "reasons": list(t.reasons)},
            "warnings": [{"field": w.field, "message": w.message} for w in self.warnings],
            "disclaimer": self.disclaimer,
        }
        out["staging_missing"] = [
            {
                "code": i.code,
                "test": i.test,
                "why": i.why,
                "settles": i.settles,
                "evidence": _TEXT[i.evidence],
                "source": i.source,
            }
            for i in self.staging_missing
        ]
        e = self.extent
        out["extent"] = (
            None
            if e is None
            else {
                "extent": _TEXT[e.extent],
                "reasons": list(e.reasons),
                "to_settle": e.to_settle,
                "reason_evidence": [_reason_evidence(r) for r in e.reason_evidence],
            }
        )
        out["risk_factors_present"] = [
            {
                "code": r.code,
                "factor": r.factor,
                "value": r.value,
                "hr": r.hr,
                "wording": r.wording,
                "evidence": _TEXT[r.evidence],
                "source": r.source,
                "limit": r.limit,
                "basis": None if r.basis is None else _TEXT[r.basis],
            }
            for r in self.risk_factors_present
        ]
        out["drug_cautions"] = [
            {
                "code": d.code,
                "level": _TEXT[d.level],
                "message": d.message,
                "evidence": _TEXT[d.evidence],
                "source": d.source,
            }
            for d in self.drug_cautions
        ]
        if self.mhlw_category is not None:
            out["mhlw_category"] = self.mhlw_category
            out["mhlw_covered"] = self.mhlw_covered
            out["mhlw_exclusion"] = self.mhlw_exclusion
        if self.comparison is not None:
            out["comparison"] = [
                {
                    "criteria_set": r.criteria_set,
                    "name": r.name,
                    "status": _TEXT[r.status],
                    "meets_criteria": r.meets_criteria,
                    "missing": list(r.missing),
                    "explanation": r.explanation,
                }
                for r in self.comparison
            ]
        return out


def _reason_evidence(r: ReasonEvidence) -> dict[str, Any]:
    return {
        "evidence": _TEXT[r.evidence],
        "thresholds": [
            {
                "code": t.code,
                "limit": t.limit,
                "basis": _TEXT[t.basis],
                "evidence": _TEXT[t.evidence],
                "source": t.source,
            }
            for t in r.thresholds
        ],
    }
