"""What the cautions and differential registries may read about one evaluated case."""

from __future__ import annotations

from dataclasses import dataclass

from checklist.engine.diagnosis.derive import Derived
from checklist.engine.diagnosis.rulebook import RuleBook
from checklist.engine.diagnosis.sets import SetOutcome
from checklist.engine.inputs import Case


@dataclass(slots=True)  # built once per evaluation and only read; not frozen because it is on the hot path
class Context:
    case: Case
    book: RuleBook
    derived: Derived
    chosen: SetOutcome  # the set the clinician chose (or the default)
    default: SetOutcome  # the default (current) set, the same object when it was chosen
    historical: tuple[SetOutcome, ...]  # superseded sets (mayo-2003)
    clone: bool  # monoclonal plasma-cell disorder met
    neuropathy: bool  # polyneuropathy met
    notes: dict[str, str]  # the derivation's notes for the cautions, by code (details joined)

    @property
    def poems_met(self) -> bool:
        """Met under the chosen set or the current one (clinical.md §f.2 A5)."""
        return self.chosen.met or self.default.met
