"""The "copy to note" plain-text report. It holds only what the clinician entered:
no name, no identifier, unless they typed one into a free-text field (there is none).
"""

from __future__ import annotations

import datetime
from typing import Any

from checklist.content.rule_book import Snapshot
from checklist.engine.diagnosis.result import Level, Status
from checklist.engine.diagnosis.words import criterion_word, evidence_word, group_word, status_headline


def _headline(result: dict[str, Any], major: list[dict[str, Any]]) -> str:
    caveats = f", with {len(major)} major caveat{'s' if len(major) != 1 else ''}" if major else ""
    return f"Result: {status_headline(result['status'])} under {result['criteria_set']['name']}{caveats}."


def major_cautions(result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The cautions that lead, beside the headline. A caution without a level is minor
    (clinical.md §f.2 A2): only named ones lead."""
    return [c for c in (result or {}).get("cautions", []) if c.get("level") == Level.MAJOR]


def _left_out(form: Any) -> list[str]:
    """Values in error are left out of the evaluation (a bad value never blanks the answer), so
    a report must say so: otherwise "VEGF not measured" would stand for a VEGF that was typed."""
    return [
        f"LEFT OUT, fix and re-run: {e['label'] or e['name']}: {e['message']}"
        for e in (form.error_list() if form is not None and form.errors else [])
    ]


def before_treatment_lines(result: dict[str, Any], short: bool = False) -> list[str]:
    """clinical.md §j once the chosen set is met: the work-up still missing, the extent, the
    risk factors present (each with its source), and, in the full report, the drug cautions."""
    if result.get("status") != "met":
        return []
    tag = " [{}]".format
    lines = ["", "Before treatment (clinical.md §j; not a recommendation):"] if not short else []
    extent = result.get("extent") or {}
    if extent:
        settle = f" To settle: {extent['to_settle']}" if extent.get("to_settle") else ""
        lines.append(f"Extent: {extent.get('extent', 'unknown')}.{settle}")
    missing = result.get("staging_missing") or []
    if short:
        if missing:
            lines.append("Work-up still missing: " + "; ".join(m["why"].split(":")[0] for m in missing) + ".")
        risks = result.get("risk_factors_present") or []
        if risks:
            lines.append(
                "Factors linked to shorter survival in one cohort: "
                + ", ".join(r["factor"] for r in risks)
                + "."
            )
        return lines
    for m in missing:
        ev = tag(evidence_word(m["evidence"]))
        lines.append(f"- Missing: {m['why']} Settles: {m['settles']}{ev} ({m['source']})")
    for r in result.get("risk_factors_present") or []:
        ev = tag(evidence_word(r["evidence"]))
        lines.append(f"- {r['wording']} Value {r['value']}; {r['hr']}{ev} ({r['source']})")
    for c in result.get("drug_cautions") or []:
        ev = tag(evidence_word(c["evidence"]))
        kind = "Major drug caution" if c["level"] == "major" else "Drug caution"
        lines.append(f"- {kind}: {c['message']}{ev} ({c['source']})")
    return lines


def short_report(form: Any, result: dict[str, Any], snap: Snapshot, today: datetime.date) -> str:
    """About ten lines for a clinic note: headline, caveats, criteria, flags, versions, disclaimer."""
    major = major_cautions(result)
    names = snap.book.criterion_names
    met = [c["name"] for c in result["criteria"] if c["status"] == Status.MET]
    lines = [
        f"POEMSaid {today.isoformat()} (decision support, NOT A DIAGNOSIS)",
        _headline(result, major),
    ]
    lines += [f"Major caveat: {c['message']}" for c in major]
    lines += _left_out(form)
    lines.append("Met: " + (", ".join(met) if met else "none") + ".")
    if result["missing"]:
        lines.append("Still needed: " + ", ".join(names[c] for c in result["missing"]) + ".")
    flags = [d["name"] for d in result["differentials"]]
    lines.append("Differentials to consider: " + (", ".join(flags) if flags else "none flagged") + ".")
    lines += before_treatment_lines(result, short=True)
    lines.append(
        f"Criteria set {result['criteria_set']['name']} v{result['criteria_set']['version']}; "
        f"content {result['content_version']}."
    )
    lines.append(result["disclaimer"])
    return "\n".join(lines)


def plain_text_report(form: Any, result: dict[str, Any], snap: Snapshot, today: datetime.date) -> str:
    book = snap.book
    major = major_cautions(result)
    lines = [
        "POEMS syndrome criteria checklist (POEMSaid) - decision support, NOT A DIAGNOSIS",
        f"Date: {today.isoformat()}",
        f"Criteria set: {result['criteria_set']['name']} ({result['criteria_set']['slug']}, "
        f"version {result['criteria_set']['version']})",
        f"Content version: {result['content_version']}",
        "",
        _headline(result, major),
    ]
    lines += [f"Major caveat: {c['message']}" + (f" {c['detail']}" if c.get("detail") else "") for c in major]
    lines += _left_out(form)
    if result["missing"]:
        lines.append("Still needed: " + ", ".join(book.criterion_names[c] for c in result["missing"]) + ".")
    lines += ["", "Differentials to consider or exclude:"]
    lines += [f"- {d['name']}: {' '.join(d['reasons'])}" for d in result["differentials"]] or [
        "- none flagged"
    ]
    minor = [c for c in result["cautions"] if c not in major]
    if minor:
        lines += ["", "Cautions:"]
        lines += [f"- {c['message']}" + (f" {c['detail']}" if c.get("detail") else "") for c in minor]
    lines += ["", "Criteria:"]
    for c in result["criteria"]:
        word, group = criterion_word(c["status"]), group_word(c["group"])
        lines.append(f"- [{word}] {c['name']} ({group}): {' '.join(c['reasons'])}")
    if result.get("comparison"):
        lines += ["", "Under each criteria set:"]
        for row in result["comparison"]:
            lines.append(f"- {row['name']}: {row['status'].replace('_', ' ')}. {row['explanation']}")
    lines += before_treatment_lines(result)
    lines += ["", "Inputs, as entered (not assessed items omitted):"]
    lines += [f"- {e['label']}: {e['value']}" for e in form.entered()] or ["- none"]
    lines += ["", result["disclaimer"]]
    closing = snap.texts.get("report_disclaimer")
    if closing:
        lines.append(closing["body"])
    return "\n".join(lines)
