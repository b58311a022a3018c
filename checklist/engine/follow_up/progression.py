"""The per-visit flag (clinical.md §h.8 H-F1): "possible progression: review", and what raised it."""

from __future__ import annotations

from typing import Any

from .result import DOMAINS, DomainResult


def progression_flag(domains: dict[str, DomainResult]) -> tuple[bool | str, tuple[dict[str, Any], ...]]:
    triggers = []
    for name in DOMAINS:
        r = domains[name]
        if not r.trigger:
            continue
        triggers.append(
            {
                "domain": name,
                "rule": r.rule,
                "category": r.category,
                "confounded": r.trigger == "confounded",
                "value": r.value.as_dict() if r.value else None,
                "nadir": r.nadir.as_dict() if r.nadir else None,
                "reason": r.reason,
            }
        )
    if any(not t["confounded"] for t in triggers):
        return True, tuple(triggers)
    if triggers:
        return "confounded", tuple(triggers)
    return False, ()
