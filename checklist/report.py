"""The "copy to note" plain-text report. It holds only what the clinician entered:
no name, no identifier, unless they typed one into a free-text field (there is none).
"""

from __future__ import annotations

import datetime
from typing import Any

from .content import Snapshot
from .engine.rulebook import display_unit
from .engine.vocabulary import LABS, LabKind
from .templatetags.checklist_tags import criterion_word, status_headline


def plain_text_report(form: Any, result: dict[str, Any], snap: Snapshot, today: datetime.date) -> str:
    book = snap.book
    case = form.case
    lines = [
        "POEMS syndrome criteria checklist (POEMSaid) - decision support, NOT A DIAGNOSIS",
        f"Date: {today.isoformat()}",
        f"Criteria set: {result['criteria_set']['name']} ({result['criteria_set']['slug']}, "
        f"version {result['criteria_set']['version']})",
        f"Content version: {result['content_version']}",
        "",
        f"Result: {status_headline(result['status'])} under {result['criteria_set']['name']}.",
    ]
    if result["missing"]:
        lines.append("Still needed: " + ", ".join(book.criterion_names[c] for c in result["missing"]) + ".")
    lines += ["", "Criteria:"]
    for c in result["criteria"]:
        lines.append(
            f"- [{criterion_word(c['status'])}] {c['name']} ({c['group']}): {' '.join(c['reasons'])}"
        )
    if result.get("comparison"):
        lines += ["", "Under each criteria set:"]
        for row in result["comparison"]:
            lines.append(f"- {row['name']}: {row['status'].replace('_', ' ')}. {row['explanation']}")
    lines += ["", "Differentials to consider or exclude:"]
    lines += [f"- {d['name']}: {' '.join(d['reasons'])}" for d in result["differentials"]] or [
        "- none flagged"
    ]
    if result["cautions"]:
        lines += ["", "Cautions:"]
        lines += [
            f"- {c['message']}" + (f" {c['detail']}" if c.get("detail") else "") for c in result["cautions"]
        ]
    lines += ["", "Inputs (not assessed items omitted):"]
    if case is not None:
        for code, value in case.findings.items():
            lines.append(f"- {book.label(code)}: {'present' if value else 'absent'}")
        labels = {f["code"]: f["label"] for f in snap.labs}
        for code, value in case.labs.items():
            lab = LABS[code]
            shown = value if lab.kind is LabKind.CATEGORY else f"{value:g}{display_unit(lab.unit)}"
            lines.append(f"- {labels.get(code, code)}: {shown}")
    lines += ["", result["disclaimer"]]
    closing = snap.texts.get("report_disclaimer")
    if closing:
        lines.append(closing["body"])
    return "\n".join(lines)
