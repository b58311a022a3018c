"""Build the diagnosis rule book from content records, checked against the engine's registries.

The caution and differential registries import the rule book's types, so the rule
book cannot import them; this module sits above both and hands their codes in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from checklist.engine.diagnosis.cautions import CAUTIONS
from checklist.engine.diagnosis.differentials import DIFFERENTIALS
from checklist.engine.diagnosis.rulebook import RuleBook
from checklist.engine.diagnosis.rulebook import from_records as _from_records


def from_records(records: Iterable[Mapping[str, Any]]) -> RuleBook:
    """A RuleBook from fixture-shaped records; RuleBookError lists every inconsistency."""
    return _from_records(records, differential_codes=DIFFERENTIALS, caution_codes=CAUTIONS)
