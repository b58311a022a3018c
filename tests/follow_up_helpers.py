"""A §3.9 follow-up document as the page's form fields (``v<N>__<code>``, ``t<N>__<field>``),
for the page tests: the same timeline through the form path and through the engine."""

from __future__ import annotations

from typing import Any

from checklist.engine.follow_up.inputs import LAB_CODES
from checklist.engine.vocabulary import LABS


def form_fields(document: dict[str, Any]) -> dict[str, str]:
    """Visits in the document's order as columns 1..N; numbers as typed, each with its unit."""
    out: dict[str, str] = {
        "visits": str(len(document["visits"])),
        "treatments": str(max(1, len(document.get("treatments") or []))),
    }
    for n, visit in enumerate(document["visits"], start=1):
        out[f"v{n}__date"] = visit["date"]
        for code, value in (visit.get("values") or {}).items():
            name = f"v{n}__{code}"
            if isinstance(value, bool):
                out[name] = "yes" if value else "no"
            elif isinstance(value, dict):
                out[name] = str(value["value"])
                out[f"{name}__unit"] = value["unit"]
            elif value is None:
                continue
            else:
                out[name] = str(value)
                if code in LAB_CODES and len(LABS[code].allowed_units) > 1:  # canonical (§3.9)
                    out[f"{name}__unit"] = LABS[code].unit
    for n, t in enumerate(document.get("treatments") or [], start=1):
        out[f"t{n}__type"] = t["type"]
        out[f"t{n}__start"] = t["start"]
        if t.get("end"):
            out[f"t{n}__end"] = t["end"]
    return out
