"""The evidence entry of each reason (issue 19), for every kind of item that gives reasons.

Criteria, the extent and the differential flags all tag their reasons the same way, so the
rule lives here, below evaluate.py and differentials.py (which both need it).
"""

from __future__ import annotations

from checklist.engine.diagnosis.result import Evidence, ReasonEvidence
from checklist.engine.diagnosis.rulebook import Threshold
from checklist.engine.evidence import weakest

# A reason as it is built: its words and the content thresholds it applied.
Said = tuple[str, tuple[Threshold, ...]]


def reason_evidence(
    count: int, applied: dict[int, tuple[Threshold, ...]] | None, rule: Evidence
) -> tuple[ReasonEvidence, ...]:
    """One tag per reason: the weakest of the thresholds it applied, else its rule's own (content)."""
    plain = ReasonEvidence(rule)
    if not applied:
        return (plain,) * count
    out = []
    for i in range(count):
        used = applied.get(i)
        if used:
            out.append(
                ReasonEvidence(weakest(t.evidence for t in used) or rule, tuple(t.use() for t in used))
            )
        else:
            out.append(plain)
    return tuple(out)


def said_evidence(said: list[Said], rule: Evidence) -> tuple[tuple[str, ...], tuple[ReasonEvidence, ...]]:
    """The reasons' words and their evidence entries, from reasons as they were built."""
    applied = {i: used for i, (_text, used) in enumerate(said) if used}
    return tuple(text for text, _used in said), reason_evidence(len(said), applied or None, rule)
