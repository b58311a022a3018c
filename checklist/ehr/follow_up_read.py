"""A patient's serial Observations as the follow-up flowsheet (design.md §3.9 fields).

The SMART launch with ``target=follow_up`` reads every Observation of the follow-up's
LOINC codes (newest first, paged, ``fhir_read``), and this module turns them into the
fields the ``/follow-up`` page posts: one visit per sampling date, oldest first, each
``v<N>__<code>`` with ``v<N>__<code>__unit`` for a lab. Pure functions over decoded JSON
and the LOINC mapping (content); no Django import, no network. Nothing read is stored.

Rules, the same as ``fhir_map.extract`` for one value (units from UCUM listed for the
code, no comparator, a usable status, the VEGF specimen from Specimen.type or the code),
but every date is kept, not only the newest. Two results of one measure on the same day:
the one listed first in the newest-first read wins (the later-issued one).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from checklist.ehr import fhir_map

# The follow-up's measures that a laboratory result fills (clinical.md §h.1-§h.2). Platelets
# are left out: counted monthly for years, they would make a visit of every blood count.
SERIAL_TARGETS = frozenset(
    {
        "vegf_pg_ml",
        "m_protein_g_dl",
        "m_protein_present",
        "flc_kappa_mg_l",
        "flc_lambda_mg_l",
        "flc_ratio",
    }
)
# The flowsheet's bound (checklist/web/follow_up/forms.py MAX_VISITS, 40: a visit every
# 3 months for 10 years). When the record holds more sampling dates, the newest are kept:
# the latest visits decide the current response, and the page says what was left out.
MAX_VISITS = 40


@dataclass(slots=True)
class SerialRecord:
    """The flowsheet fields and, for the page, what was read at each date."""

    fields: dict[str, str] = field(default_factory=dict)
    dates: list[datetime.date] = field(default_factory=list)
    shown: list[dict[str, Any]] = field(default_factory=list)  # one row per value read
    notes: list[str] = field(default_factory=list)

    def values_of(self, code: str) -> list[tuple[datetime.date, str]]:
        """(date, value as the form holds it) for one measure, oldest first."""
        out = []
        for n, day in enumerate(self.dates, start=1):
            value = self.fields.get(f"v{n}__{code}")
            if value is not None:
                out.append((day, value))
        return out


def _number(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def loinc_codes(loinc_map: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The LOINC codes (mapping content) whose target is a follow-up measure."""
    return [code for code, m in loinc_map.items() if m.get("target") in SERIAL_TARGETS]


def serial(
    observations: Iterable[Mapping[str, Any]],
    specimens: Iterable[Mapping[str, Any]],
    loinc_map: Mapping[str, Mapping[str, Any]],
) -> SerialRecord:
    """Every usable result of the follow-up's measures, grouped by date into visits."""
    by_id = {str(s.get("id")): s for s in specimens if isinstance(s, dict) and s.get("id")}
    per_day: dict[datetime.date, dict[str, str]] = {}
    out = SerialRecord()
    undated = 0
    for obs in observations:
        if not isinstance(obs, dict) or obs.get("status") not in fhir_map.USABLE_STATUSES:
            continue
        mapping, code = None, ""
        for system, c in fhir_map._codings(obs.get("code")):
            if system == fhir_map.LOINC and loinc_map.get(c, {}).get("target") in SERIAL_TARGETS:
                mapping, code = loinc_map[c], c
                break
        if mapping is None:
            continue
        day = fhir_map.observation_date(obs)
        if day is None:
            undated += 1
            continue
        target = str(mapping["target"])
        cells = per_day.setdefault(day, {})
        if target == "m_protein_present":
            present, shown = fhir_map._presence(obs)
            if present is None or "sife_result" in cells:
                continue
            cells["sife_result"] = "positive" if present else "negative"
            out.shown.append({"date": day, "code": "sife_result", "shown": shown, "loinc": code})
            continue
        if target in cells:
            continue
        value, unit, shown, why = fhir_map._quantity(
            obs.get("valueQuantity"), mapping.get("ucum_units") or {}
        )
        if value is None or unit is None:
            out.shown.append({"date": day, "code": target, "shown": shown, "loinc": code, "note": why})
            continue
        cells[target] = _number(value)
        cells[f"{target}__unit"] = unit
        row: dict[str, Any] = {"date": day, "code": target, "shown": shown, "loinc": code}
        if target == "vegf_pg_ml":
            specimen, _why = fhir_map._specimen_of(obs, by_id)
            cells["vegf_specimen"] = specimen or str(mapping.get("specimen") or "") or "unknown"
            row["specimen"] = cells["vegf_specimen"]
            for rng in obs.get("referenceRange") or []:
                high = rng.get("high") if isinstance(rng, dict) else None
                uln, uln_unit, _s, _w = fhir_map._quantity(high, mapping.get("ucum_units") or {})
                if uln is not None and uln_unit is not None:
                    cells["vegf_uln_pg_ml"] = _number(uln)
                    cells["vegf_uln_pg_ml__unit"] = uln_unit
                    break
        out.shown.append(row)
    if undated:
        out.notes.append(f"{undated} result(s) had no date and were not placed on the flowsheet.")
    days = sorted(d for d, cells in per_day.items() if cells)
    if len(days) > MAX_VISITS:
        out.notes.append(
            f"The record has results on {len(days)} dates; the newest {MAX_VISITS} are shown, "
            f"from {days[-MAX_VISITS].isoformat()}."
        )
        days = days[-MAX_VISITS:]
    kept = set(days)
    out.shown = sorted((r for r in out.shown if r["date"] in kept), key=lambda r: (r["date"], r["code"]))
    out.dates = days
    out.fields = {"visits": str(max(1, len(days))), "treatments": "1"}
    for n, day in enumerate(days, start=1):
        out.fields[f"v{n}__date"] = day.isoformat()
        for name, cell in per_day[day].items():
            out.fields[f"v{n}__{name}"] = cell
    return out
