"""Build the diagnosis rule book from content records, checked against the engine's registries.

The caution and differential registries import the rule book's types, so the rule
book cannot import them; this module sits above both and hands their codes in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from checklist.engine.diagnosis.cautions import CAUTIONS
from checklist.engine.diagnosis.differentials import DIFFERENTIALS
from checklist.engine.diagnosis.rulebook import RuleBook, RuleBookError
from checklist.engine.diagnosis.rulebook import from_records as _from_records
from checklist.engine.diagnosis.workup import rules_from_dict
from checklist.engine.evidence import RulesError


def from_records(records: Iterable[Mapping[str, Any]], rules: Mapping[str, Any]) -> RuleBook:
    """A RuleBook from fixture-shaped records and the diagnosis rules (fixtures/diagnosis_rules.json).

    RuleBookError lists every inconsistency, in the records and in the rules alike.
    """
    try:
        workup, published = rules_from_dict(rules)
    except RulesError as exc:
        raise RuleBookError([f"diagnosis rules: {p}" for p in exc.problems]) from None
    return _from_records(
        records,
        differential_codes=DIFFERENTIALS,
        caution_codes=CAUTIONS,
        workup=workup,
        published_units=published,
    )
