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
    # Added with clinical.md §f.2: what a clinician reads, not only which codes fire.
    "caution_levels",  # {code: "major" | "minor"}
    "caution_detail_contains",  # {code: [text, ...]}
    "reasons_contain",  # {criterion code: [text, ...]}
    "reasons_exclude",  # {criterion code: [text, ...]}
    "to_settle_contains",  # {criterion code: text}
    "to_settle_exclude",  # {criterion code: [text, ...]}
    "differential_reasons_contain",  # {differential code: [text, ...]}
    "treatment",  # null, or {"extent": ..., "pages_first": [slug, ...]}
    "warnings_contain",  # {field: text}
    # Added with clinical.md §j.6: the work-up once the chosen set is met.
    "staging_missing",  # [item code, ...] that must be listed as missing
    "not_staging_missing",  # [item code, ...] that must not be
    "risk_factors",  # [factor code, ...] exactly, in order ([] when none or not met)
    "risk_factor_values",  # {factor code: value as entered}
    "extent",  # null, or {"extent": ..., "to_settle_contains": text, "to_settle_exclude": [text, ...]}
    "drug_cautions",  # {code: level}; {} expects none
    # Added with clinical.md §j.5: a graded set (mhlw-jp).
    "mhlw_category",  # definite | probable | possible | not_met | unknown
    "mhlw_covered",  # true | false
    "mhlw_exclusion_shown",  # true: the exclusion is said beside the category
    # Added with issue 19: the evidence beside every rule.
    "reason_evidence",  # {criterion code: [evidence tag, ...]} each tag beside one of its reasons
    "threshold_basis",  # {threshold code: "published" | "app_default"} as a reason applied it
    "caution_evidence",  # {caution code: evidence tag}
    "risk_factor_basis",  # {factor code: {"limit": text, "basis": "published" | "app_default" | null}}
    "extent_reason_evidence",  # [evidence tag, ...] each tag beside one of the extent's reasons
    "differential_reason_evidence",  # {differential code: [evidence tag, ...]}
)


def _texts_missing(label: str, wanted: Mapping[str, Any], got: Mapping[str, list[str]]) -> list[str]:
    out = []
    for code, texts in wanted.items():
        joined = " ".join(got.get(code, []))
        for text in [texts] if isinstance(texts, str) else texts:
            if text not in joined:
                out.append(f"{label} {code}: expected to contain {text!r}, got {joined!r}")
    return out


def expectation_from(result: Mapping[str, Any]) -> dict[str, Any]:
    """What a case expects, read off an answer (a staff member keeping the page's case):
    status, every criterion's status, the flags and cautions shown. ``differences`` of
    this and the same answer is empty."""
    return {
        "status": result["status"],
        "criteria": {c["code"]: c["status"] for c in result["criteria"]},
        "differentials": [d["code"] for d in result["differentials"]],
        "cautions": [c["code"] for c in result["cautions"]],
    }


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
    levels = {c["code"]: c.get("level") for c in result["cautions"]}
    for code, want in expected.get("caution_levels", {}).items():
        if levels.get(code) != want:
            out.append(f"caution {code}: expected level {want}, got {levels.get(code, '(not shown)')}")
    details = {c["code"]: [c.get("detail") or ""] for c in result["cautions"]}
    out += _texts_missing("caution detail", expected.get("caution_detail_contains", {}), details)
    reasons = {c["code"]: c["reasons"] for c in result["criteria"]}
    out += _texts_missing("reasons of", expected.get("reasons_contain", {}), reasons)
    for code, texts in expected.get("reasons_exclude", {}).items():
        joined = " ".join(reasons.get(code, []))
        for text in texts:
            if text in joined:
                out.append(f"reasons of {code}: expected not to contain {text!r}, got {joined!r}")
    settle = {c["code"]: [c.get("to_settle") or ""] for c in result["criteria"]}
    out += _texts_missing("to_settle of", expected.get("to_settle_contains", {}), settle)
    for code, texts in expected.get("to_settle_exclude", {}).items():
        for text in texts:
            if text in settle.get(code, [""])[0]:
                out.append(f"to_settle of {code}: expected not to contain {text!r}")
    flags = {d["code"]: d["reasons"] for d in result["differentials"]}
    out += _texts_missing("differential reasons of", expected.get("differential_reasons_contain", {}), flags)
    if "treatment" in expected:
        want, got = expected["treatment"], result.get("treatment")
        if want is None or got is None:
            if want != got:
                out.append(f"treatment: expected {want}, got {got}")
        else:
            if want.get("extent") != got["extent"]:
                out.append(f"treatment extent: expected {want.get('extent')}, got {got['extent']}")
            if "pages" in want and list(want["pages"]) != got["pages"]:
                out.append(f"treatment pages: expected {want['pages']}, got {got['pages']}")
            first = list(want.get("pages_first", []))
            if got["pages"][: len(first)] != first:
                out.append(f"treatment pages: expected to start with {first}, got {got['pages']}")
    out += _workup_differences(expected, result)
    for key in ("mhlw_category", "mhlw_covered"):
        if key in expected and expected[key] != result.get(key):
            out.append(f"{key}: expected {expected[key]!r}, got {result.get(key, '(not given)')!r}")
    if "mhlw_exclusion_shown" in expected and expected["mhlw_exclusion_shown"] != bool(
        result.get("mhlw_exclusion")
    ):
        out.append(
            f"mhlw_exclusion: expected shown={expected['mhlw_exclusion_shown']}, "
            f"got {result.get('mhlw_exclusion')!r}"
        )
    out += _evidence_differences(expected, result)
    warned = {w["field"]: [w["message"]] for w in result.get("warnings", [])}
    out += _texts_missing("warning on", expected.get("warnings_contain", {}), warned)
    return out


def _workup_differences(expected: Mapping[str, Any], result: Mapping[str, Any]) -> list[str]:
    """§j.6 fields: staging_missing, risk_factors_present, extent, drug_cautions."""
    out: list[str] = []
    missing = {i["code"] for i in result.get("staging_missing", [])}
    for code in expected.get("staging_missing", []):
        if code not in missing:
            out.append(f"staging item {code}: expected as missing, not listed")
    for code in expected.get("not_staging_missing", []):
        if code in missing:
            out.append(f"staging item {code}: listed as missing, expected not to be")
    factors = result.get("risk_factors_present", [])
    if "risk_factors" in expected and [f["code"] for f in factors] != list(expected["risk_factors"]):
        out.append(f"risk factors: expected {expected['risk_factors']}, got {[f['code'] for f in factors]}")
    values = {f["code"]: f["value"] for f in factors}
    for code, want in expected.get("risk_factor_values", {}).items():
        if values.get(code) != want:
            out.append(f"risk factor {code}: expected value {want!r}, got {values.get(code)!r}")
    if "extent" in expected:
        want, got = expected["extent"], result.get("extent")
        if want is None or got is None:
            if want != got:
                out.append(f"extent: expected {want}, got {got}")
        else:
            if want.get("extent") != got["extent"]:
                out.append(f"extent: expected {want.get('extent')}, got {got['extent']}")
            text = want.get("to_settle_contains")
            if text and text not in (got.get("to_settle") or ""):
                out.append(f"extent to_settle: expected to contain {text!r}, got {got.get('to_settle')!r}")
            for text in want.get("to_settle_exclude", []):
                if text in (got.get("to_settle") or ""):
                    out.append(
                        f"extent to_settle: expected not to contain {text!r}, got {got['to_settle']!r}"
                    )
    if "drug_cautions" in expected:
        got_levels = {d["code"]: d["level"] for d in result.get("drug_cautions", [])}
        want_levels = dict(expected["drug_cautions"])
        if want_levels == {} and got_levels:
            out.append(f"drug cautions: expected none, got {sorted(got_levels)}")
        for code, level in want_levels.items():
            if got_levels.get(code) != level:
                out.append(f"drug caution {code}: expected level {level}, got {got_levels.get(code)}")
    return out


def _evidence_differences(expected: Mapping[str, Any], result: Mapping[str, Any]) -> list[str]:
    """The evidence tags beside reasons and cautions, and each applied threshold's basis."""
    out: list[str] = []
    tags = {c["code"]: [r["evidence"] for r in c.get("reason_evidence", [])] for c in result["criteria"]}
    for code, wanted in expected.get("reason_evidence", {}).items():
        for tag in [wanted] if isinstance(wanted, str) else wanted:
            if tag not in tags.get(code, []):
                out.append(f"reasons of {code}: expected a reason tagged {tag}, got {tags.get(code, [])}")
    applied: dict[str, set[str]] = {}
    rows = [
        *result["criteria"],
        *([result["extent"]] if result.get("extent") else []),
        *result["differentials"],
    ]
    for row in rows:
        for r in row.get("reason_evidence", []):
            for t in r["thresholds"]:
                applied.setdefault(t["code"], set()).add(t["basis"])
    for code, basis in expected.get("threshold_basis", {}).items():
        if basis not in applied.get(code, set()):
            got = sorted(applied.get(code, set())) or "not applied"
            out.append(f"threshold {code}: expected applied as {basis}, got {got}")
    shown = {c["code"]: c.get("evidence") for c in result["cautions"]}
    for code, tag in expected.get("caution_evidence", {}).items():
        if shown.get(code) != tag:
            out.append(f"caution {code}: expected evidence {tag}, got {shown.get(code, '(not shown)')}")
    factors = {f["code"]: f for f in result.get("risk_factors_present", [])}
    for code, want in expected.get("risk_factor_basis", {}).items():
        factor = factors.get(code)
        cut_off = None if factor is None else {"limit": factor.get("limit"), "basis": factor.get("basis")}
        if cut_off != want:
            out.append(f"risk factor {code}: expected cut-off {want}, got {cut_off or '(not present)'}")
    extent = result.get("extent") or {}
    extent_tags = [r["evidence"] for r in extent.get("reason_evidence", [])]
    for tag in expected.get("extent_reason_evidence", []):
        if tag not in extent_tags:
            out.append(f"extent reasons: expected a reason tagged {tag}, got {extent_tags}")
    flagged = {
        d["code"]: [r["evidence"] for r in d.get("reason_evidence", [])] for d in result["differentials"]
    }
    for code, wanted in expected.get("differential_reason_evidence", {}).items():
        for tag in wanted:
            if tag not in flagged.get(code, []):
                out.append(
                    f"differential {code}: expected a reason tagged {tag}, got {flagged.get(code, [])}"
                )
    return out
