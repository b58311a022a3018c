"""§f.3 A12: the engine, the caution and the multiple-myeloma page list the same defining events.

Reads the shipped fixtures directly (no database), so a page edit that drops an
event, or an engine event the page never names, fails here.
"""

import json
import re
from pathlib import Path

from checklist.engine.diagnosis.imwg import DEFINING_EVENT_LABS, DEFINING_EVENT_NAMES, LYTIC_EVENT

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _page_text() -> str:
    records = json.loads((FIXTURES / "content_pages.json").read_text(encoding="utf-8"))
    page = next(
        r["fields"]
        for r in records
        if r["model"] == "checklist.differential" and r["fields"]["code"] == "multiple_myeloma"
    )
    return " ".join(page[k] for k in ("summary", "why_it_matters", "distinguishing", "tests"))


def _thresholds() -> dict[str, float]:
    records = json.loads((FIXTURES / "checklist_content.json").read_text(encoding="utf-8"))
    rows = [r["fields"] for r in records if r["model"] == "checklist.threshold"]
    return {f["code"]: float(f["value"]) for f in rows}


def test_every_engine_event_is_named_on_the_myeloma_page():
    text = _page_text().lower()
    missing = [name for name in DEFINING_EVENT_NAMES if name.lower() not in text]
    assert missing == []


def test_every_engine_event_threshold_number_is_on_the_myeloma_page():
    text = _page_text()
    numbers = set(re.findall(r"\d+(?:\.\d+)?", text))
    thresholds = _thresholds()
    missing = [(c, thresholds[c]) for c, _, _ in DEFINING_EVENT_LABS if f"{thresholds[c]:g}" not in numbers]
    # §f.3 A10: the numbers IMWG publishes in a second unit decide there, so the page names them too.
    rules = json.loads((FIXTURES / "diagnosis_rules.json").read_text(encoding="utf-8"))
    missing += [
        (c, row["value"])
        for c, rows in rules["published_unit_thresholds"].items()
        for row in rows
        if f"{row['value']:g}" not in numbers
    ]
    assert missing == []


def test_the_lytic_event_reads_a_real_finding():
    from checklist.engine.vocabulary import FINDINGS

    assert LYTIC_EVENT[0] in FINDINGS
