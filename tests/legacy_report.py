"""The "copy to note" plain-text report. It holds only what the clinician entered:
no name, no identifier, unless they typed one into a free-text field (there is none).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class WorkUpLine:
    """One line of the §j section, in the same words on the page and in both notes."""

    text: str
    evidence: str  # a clinical.md §h tag code; words.evidence_word labels it
    source: str


@dataclass(frozen=True, slots=True)
class BeforeTreatment:
    """clinical.md §j as the page and the notes show it, read off the engine's answer."""

    extent: str
    extent_reasons: str
    to_settle: str
    missing: tuple[WorkUpLine, ...]
    tests: tuple[str, ...]  # the missing investigations by name, for the short note
    risks: tuple[WorkUpLine, ...]
    factors: tuple[str, ...]  # the risk factors present by name, for the short note
    drugs: tuple[WorkUpLine, ...]


BEFORE_TREATMENT = "Before treatment (clinical.md §j; not a recommendation)"
MISSING_HEADING = "Still missing"
# clinical.md §j.3 J-K2's wording, never "high risk"; and no score.
RISKS_HEADING = "Factors associated with shorter overall survival in one cohort"
NO_SCORE = "No score is computed: the published points were not found."
DRUGS_HEADING = "Drug cautions"


def before_treatment(result: dict[str, Any]) -> BeforeTreatment | None:
    """The §j section, or None when the engine sent nothing for it (it sends the work-up only
    once the chosen set is met, so whether to show it is the engine's answer, not the page's)."""
    extent = result.get("extent") or {}
    missing = result.get("staging_missing") or []
    risks = result.get("risk_factors_present") or []
    drugs = result.get("drug_cautions") or []
    if not (extent or missing or risks or drugs):
        return None
    return BeforeTreatment(
        extent=extent.get("extent", "unknown"),
        extent_reasons=" ".join(extent.get("reasons") or []),
        to_settle=extent.get("to_settle") or "",
        missing=tuple(
            WorkUpLine(f"{m['why']} Settles: {m['settles']}", m["evidence"], m["source"]) for m in missing
        ),
        tests=tuple(m["test"] for m in missing),
        risks=tuple(
            WorkUpLine(f"{r['factor']}: {r['value']}; {r['hr']}", r["evidence"], r["source"]) for r in risks
        ),
        factors=tuple(r["factor"] for r in risks),
        drugs=tuple(
            WorkUpLine(
                ("Major: " if d["level"] == Level.MAJOR else "") + d["message"], d["evidence"], d["source"]
            )
            for d in drugs
        ),
    )


def _lines(heading: str, rows: tuple[WorkUpLine, ...], after: str = "") -> list[str]:
    if not rows:
        return []
    lines = [f"{heading}:"] + [f"- {r.text} [{evidence_word(r.evidence)}] ({r.source})" for r in rows]
    return [*lines, after] if after else lines


def before_treatment_lines(result: dict[str, Any], short: bool = False) -> list[str]:
    """The §j section as note lines: in the short note one line each for the extent, the
    investigations still missing and the risk factors; in the full report every line with its
    evidence tag and source, and the drug cautions."""
    bt = before_treatment(result)
    if bt is None:
        return []
    settle = f" To settle: {bt.to_settle}" if bt.to_settle else ""
    if short:
        lines = [f"Extent: {bt.extent}.{settle}"]
        if bt.tests:
            lines.append("Work-up still missing: " + "; ".join(bt.tests) + ".")
        if bt.factors:
            lines.append(f"{RISKS_HEADING}: " + ", ".join(bt.factors) + ".")
        return lines
    reasons = f" {bt.extent_reasons}" if bt.extent_reasons else ""
    lines = ["", f"{BEFORE_TREATMENT}:", f"Extent: {bt.extent}.{reasons}{settle}"]
    lines += _lines(MISSING_HEADING, bt.missing)
    lines += _lines(RISKS_HEADING, bt.risks, after=NO_SCORE)
    lines += _lines(DRUGS_HEADING, bt.drugs)
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
