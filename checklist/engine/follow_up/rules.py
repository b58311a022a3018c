"""Follow-up content (clinical.md §h): every threshold, interval and rule source as plain data.

The engine never holds a number of its own: ``rules_from_dict`` builds a ``FollowUpRules``
from the content (the seed is fixtures/follow_up_rules.json), and every engine function
takes that object. Thresholds are exact decimals so that a boundary value in the data
(exactly 50.0%, exactly 0.5 g/dL) is compared exactly (clinical.md §f.3 A10).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..evidence import RulesError as RulesError  # one error for all content, re-exported
from ..evidence import check_tag

# The codes the engine reads; content must define each one (a missing one is a content error).
THRESHOLD_CODES: tuple[str, ...] = (
    "fu_baseline_window_days",
    "fu_vegf_pr_fall_pct",
    "fu_vegf_prog_rise_pct",
    "fu_vegf_prog_requires_above_normal",
    "fu_vegf_plasma_normal_pg_ml",
    "fu_vegf_serum_normal_pg_ml",
    "fu_hem_measurable_min_g_dl",
    "fu_hem_pr_fall_pct",
    "fu_hem_vgpr_fall_pct",
    "fu_hem_vgpr_enabled",
    "fu_hem_prog_rise_pct",
    "fu_hem_prog_abs_g_dl",
    "fu_pet_pr_suv_fall_pct",
    "fu_pet_prog_suv_rise_pct",
    "fu_pet_post_rt_min_weeks",
    "fu_onls_change_points",
    "fu_clinical_early_window_months",
    "fu_neuropathy_lag_months",
    "fu_gcsf_window_days",
    "fu_transfusion_window_days",
    "fu_platelet_change_pct",
    "fu_vegf_interval_months",
)

RULE_CODES: tuple[str, ...] = (
    "H-B1",
    "H-B2",
    "H-B4",
    "H-V0",
    "H-V1",
    "H-V2",
    "H-V3",
    "H-V4",
    "H-V5",
    "H-V6",
    "H-H0",
    "H-H1",
    "H-H2",
    "H-H3",
    "H-H4",
    "H-H5",
    "H-H6",
    "H-H7",
    "H-P1",
    "H-P2",
    "H-P3",
    "H-P4",
    "H-P5",
    "H-P6",
    "H-P7",
    "H-K0",
    "H-K1",
    "H-K2",
    "H-K3",
    "H-K4",
    "H-C1",
    "H-C2",
    "H-C3",
    "H-C4",
    "H-C5",
    "H-C6",
)


@dataclass(frozen=True, slots=True)
class Threshold:
    """One content value. ``value`` is None when the editor has switched the rule off."""

    code: str
    value: Decimal | bool | None
    unit: str
    source: str
    evidence: str


@dataclass(frozen=True, slots=True)
class RuleSource:
    code: str
    source: str
    evidence: str


@dataclass(frozen=True, slots=True)
class FollowUpRules:
    version: str
    disclaimer: str
    thresholds: Mapping[str, Threshold]
    rules: Mapping[str, RuleSource]

    def number(self, code: str) -> Decimal | None:
        value = self.thresholds[code].value
        return value if isinstance(value, Decimal) else None

    def need(self, code: str) -> Decimal:
        value = self.number(code)
        if value is None:
            raise RulesError([f"{code}: no number"])  # rules_from_dict refuses this earlier
        return value

    def flag(self, code: str) -> bool:
        return self.thresholds[code].value is True


# Which thresholds may be switched off (null) in content (clinical.md §h.6).
_NULLABLE = frozenset({"fu_pet_prog_suv_rise_pct"})
_FLAGS = frozenset({"fu_vegf_prog_requires_above_normal", "fu_hem_vgpr_enabled"})


def _tagged(where: str, raw: Mapping[str, Any], problems: list[str]) -> tuple[str, str]:
    source, evidence = raw.get("source"), raw.get("evidence")
    if not isinstance(source, str) or not source.strip():
        problems.append(f"{where}.source: a citation is required")
        source = ""
    if not check_tag(f"{where}.evidence", evidence, problems):
        evidence = "unverified"
    return source, str(evidence)


def rules_from_dict(data: Mapping[str, Any]) -> FollowUpRules:
    """Build the rules from content, refusing (RulesError) anything missing or malformed."""
    problems: list[str] = []
    version = data.get("version")
    disclaimer = data.get("disclaimer")
    if not isinstance(version, str) or not version:
        problems.append("version: required")
    if not isinstance(disclaimer, str) or not disclaimer:
        problems.append("disclaimer: required")
    raw_thresholds = data.get("thresholds") or {}
    raw_rules = data.get("rules") or {}
    thresholds: dict[str, Threshold] = {}
    for code in THRESHOLD_CODES:
        raw = raw_thresholds.get(code)
        if not isinstance(raw, Mapping):
            problems.append(f"thresholds.{code}: missing")
            continue
        source, evidence = _tagged(f"thresholds.{code}", raw, problems)
        value: Any = raw.get("value")
        built: Decimal | bool | None
        if code in _FLAGS:
            if not isinstance(value, bool):
                problems.append(f"thresholds.{code}.value: must be true or false")
            built = bool(value)
        elif value is None and code in _NULLABLE:
            built = None
        elif isinstance(value, int | float | str) and not isinstance(value, bool):
            try:
                # str() of the number as written in the content: 96.2 stays exactly 96.2.
                built = Decimal(str(value))
            except InvalidOperation:
                problems.append(f"thresholds.{code}.value: {value!r} is not a number")
                continue
            if not built.is_finite() or built < 0:
                problems.append(f"thresholds.{code}.value: must be a finite number >= 0")
        else:
            problems.append(f"thresholds.{code}.value: must be a number")
            continue
        unit = raw.get("unit", "")
        thresholds[code] = Threshold(code, built, str(unit), source, evidence)
    for code in raw_thresholds:
        if code not in THRESHOLD_CODES:
            problems.append(f"thresholds.{code}: unknown code")
    rules: dict[str, RuleSource] = {}
    for code in RULE_CODES:
        raw = raw_rules.get(code)
        if not isinstance(raw, Mapping):
            problems.append(f"rules.{code}: missing")
            continue
        source, evidence = _tagged(f"rules.{code}", raw, problems)
        rules[code] = RuleSource(code, source, evidence)
    if problems:
        raise RulesError(problems)
    return FollowUpRules(str(version), str(disclaimer), thresholds, rules)
