"""Compare an evaluation with an expectation (golden cases and regression cases).

One comparison for both, so a golden case in the repository and the same case
run by ``check_cases`` in the admin can never disagree about what "passes" means.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXPECT_KEYS = (
    "status",
    "criteria",
    "missing",
    "differentials",
    "not_differentials",
    "cautions",
    "not_cautions",
)


def differences(expected: Mapping[str, Any], result: Mapping[str, Any]) -> list[str]:
    """Every way ``result`` departs from ``expected``; empty when it matches."""
    out: list[str] = []
    unknown = set(expected) - set(EXPECT_KEYS)
    if unknown:
        out.append(f"unknown expectation keys: {', '.join(sorted(unknown))}")
    if "status" in expected and expected["status"] != result["status"]:
        out.append(f"status: expected {expected['status']}, got {result['status']}")
    statuses = {c["code"]: c["status"] for c in result["criteria"]}
    for code, want in expected.get("criteria", {}).items():
        got = statuses.get(code, "(not in this set)")
        if got != want:
            out.append(f"criterion {code}: expected {want}, got {got}")
    if "missing" in expected and sorted(expected["missing"]) != sorted(result["missing"]):
        out.append(f"missing: expected {sorted(expected['missing'])}, got {sorted(result['missing'])}")
    fired = {d["code"] for d in result["differentials"]}
    for code in expected.get("differentials", []):
        if code not in fired:
            out.append(f"differential {code}: expected to fire, did not")
    for code in expected.get("not_differentials", []):
        if code in fired:
            out.append(f"differential {code}: fired, expected not to")
    cautions = {c["code"] for c in result["cautions"]}
    for code in expected.get("cautions", []):
        if code not in cautions:
            out.append(f"caution {code}: expected, not shown")
    for code in expected.get("not_cautions", []):
        if code in cautions:
            out.append(f"caution {code}: shown, expected not to be")
    return out
