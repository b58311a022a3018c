"""The follow-up answer (design.md §3.9 output) as plain dataclasses, and its JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .inputs import Measure

DOMAINS = ("vegf", "hem", "pet", "clinical")


@dataclass(frozen=True, slots=True)
class Caution:
    code: str
    level: str  # "major" | "minor" (clinical.md §f.2 A2)
    message: str
    rule: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "level": self.level, "message": self.message}


@dataclass(frozen=True, slots=True)
class Point:
    """A value and the visit it comes from (a baseline or a nadir)."""

    measure: Measure
    date: date

    def as_dict(self) -> dict[str, Any]:
        m = self.measure
        return {"value": _number(m.entered), "unit": m.unit, "date": self.date.isoformat(), "shown": m.show()}


@dataclass(frozen=True, slots=True)
class DomainResult:
    category: str
    rule: str
    source: str
    evidence: str
    reason: str
    baseline: Point | None = None
    nadir: Point | None = None
    change_pct: Decimal | None = None
    cautions: tuple[Caution, ...] = ()
    # What raised possible_progression from this domain, if anything: "true" or "confounded".
    trigger: str = ""
    value: Point | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "rule": self.rule,
            "source": self.source,
            "evidence": self.evidence,
            "baseline": self.baseline.as_dict() if self.baseline else None,
            "nadir": self.nadir.as_dict() if self.nadir else None,
            "change_pct": _pct(self.change_pct),
            "reason": self.reason,
            "cautions": [c.as_dict() for c in self.cautions],
        }


@dataclass(frozen=True, slots=True)
class VisitResult:
    date: date
    domains: dict[str, DomainResult]
    possible_progression: bool | str
    triggers: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "domains": {d: self.domains[d].as_dict() for d in DOMAINS},
            "possible_progression": self.possible_progression,
            "progression_label": "possible progression: review" if self.possible_progression else "",
            "progression_triggers": list(self.triggers),
        }


@dataclass(frozen=True, slots=True)
class FollowUpResult:
    content_version: str
    disclaimer: str
    visits: tuple[VisitResult, ...] = field(default_factory=tuple)


def to_json(result: FollowUpResult) -> dict[str, Any]:
    """The design.md §3.9 output as plain JSON types."""
    return {
        "content_version": result.content_version,
        "disclaimer": result.disclaimer,
        "visits": [v.as_dict() for v in result.visits],
    }


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _pct(value: Decimal | None) -> float | None:
    # Rounded for display only; every comparison used the exact value (clinical.md §h.9).
    if value is None:
        return None
    return round(float(value), 1)


def pct_text(value: Decimal) -> str:
    shown = _pct(value)
    return f"{'+' if value > 0 else ''}{shown:g}%"
