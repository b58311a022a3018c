"""From FHIR R4 resources (Patient, Observation, Specimen) to the engine's case input.

Used by the CDS Hooks service and the SMART launch alike, so both read a
record the same way. Pure functions over decoded JSON and the LOINC mapping
(content); no Django import, no network.

Rules (issue 13):
- the newest usable Observation per engine input wins; values older than
  ``STALE_AFTER_DAYS`` are used but marked stale;
- units come from ``valueQuantity.code`` (UCUM) and must be listed for that
  LOINC code in the mapping; a value in any other unit is shown, never used;
- a comparator (``<5``) is not a value, and is shown, never used;
- age and sex come from Patient; findings are never read from Conditions;
- the VEGF specimen comes from the Observation's Specimen.type when coded,
  else from the LOINC code when it names one, else it is ``unknown``;
- the lab's reference-range high on a VEGF result is its upper limit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from checklist.engine.vocabulary import FINDINGS

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
STALE_AFTER_DAYS = 90

# Observation statuses whose value stands (FHIR R4 ObservationStatus).
USABLE_STATUSES = frozenset({"final", "amended", "corrected"})

# Engine inputs that make the card worth showing (issue 13): without one of
# these, patient-view (which fires on every chart opening) gets no card.
POEMS_RELEVANT = frozenset(
    {"vegf_pg_ml", "m_protein_g_dl", "flc_kappa_mg_l", "flc_lambda_mg_l", "flc_ratio", "m_protein_present"}
)

# Coded qualitative results: detected / not detected.
_PRESENT = {
    (SNOMED, "260373001"),  # Detected
    (SNOMED, "10828004"),  # Positive
    (SNOMED, "52101004"),  # Present
    ("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "POS"),
    ("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "DET"),
}
_ABSENT = {
    (SNOMED, "260415000"),  # Not detected
    (SNOMED, "260385009"),  # Negative
    (SNOMED, "2667000"),  # Absent
    ("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "NEG"),
    ("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "ND"),
}

# Specimen.type codes that say serum or plasma.
_SPECIMEN_TYPES = {
    (SNOMED, "119364003"): "serum",  # Serum specimen
    (SNOMED, "119361006"): "plasma",  # Plasma specimen
    ("http://terminology.hl7.org/CodeSystem/v2-0487", "SER"): "serum",
    ("http://terminology.hl7.org/CodeSystem/v2-0487", "PLAS"): "plasma",
}


@dataclass(frozen=True, slots=True)
class RecordValue:
    """One value read from the record, used or not, with where it came from."""

    target: str
    loinc: str
    label: str
    shown: str  # the value as the record gives it, e.g. "450 pg/mL" or "detected"
    date: datetime.date | None
    stale: bool
    used: bool
    note: str = ""
    engine_value: Any = None  # what the case carries for ``target`` when used
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. specimen, ULN


@dataclass(slots=True)
class RecordExtract:
    """The case the record supports, and every value read, for display."""

    labs: dict[str, Any] = field(default_factory=dict)
    findings: dict[str, bool] = field(default_factory=dict)
    values: list[RecordValue] = field(default_factory=list)
    patient_notes: list[str] = field(default_factory=list)

    @property
    def relevant(self) -> bool:
        return any(v.target in POEMS_RELEVANT for v in self.values)

    def case(self, criteria_set: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"findings": dict(self.findings), "labs": dict(self.labs)}
        if criteria_set:
            data["criteria_set"] = criteria_set
        return data

    def drop(self, target: str, reason: str) -> None:
        """Stop using one input (e.g. the engine refused it), keeping it visible with the reason."""
        self.labs.pop(target, None)
        self.findings.pop(target, None)
        if target == "vegf_pg_ml":
            self.labs.pop("vegf_specimen", None)
            self.labs.pop("vegf_uln_pg_ml", None)
        self.values = [
            RecordValue(v.target, v.loinc, v.label, v.shown, v.date, v.stale, False, reason, None, v.extra)
            if v.used and v.target == target
            else v
            for v in self.values
        ]


def resources(bundle_or_resource: Any, resource_type: str) -> list[dict[str, Any]]:
    """The resources of one type in a searchset Bundle, a list, or a single resource."""
    if not bundle_or_resource:
        return []
    if isinstance(bundle_or_resource, list):
        return [
            r for r in bundle_or_resource if isinstance(r, dict) and r.get("resourceType") == resource_type
        ]
    if not isinstance(bundle_or_resource, dict):
        return []
    if bundle_or_resource.get("resourceType") == resource_type:
        return [bundle_or_resource]
    if bundle_or_resource.get("resourceType") == "Bundle":
        found = []
        for entry in bundle_or_resource.get("entry") or []:
            res = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(res, dict) and res.get("resourceType") == resource_type:
                found.append(res)
        return found
    return []


def _parse_date(text: Any) -> datetime.date | None:
    if not isinstance(text, str) or len(text) < 4:
        return None
    try:
        if len(text) == 4:
            return datetime.date(int(text), 7, 1)  # a bare year: mid-year, for age and staleness only
        if len(text) == 7:
            return datetime.date(int(text[:4]), int(text[5:7]), 15)
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        return None


def observation_date(obs: Mapping[str, Any]) -> datetime.date | None:
    """When the sample was taken (effective), else when the result was issued."""
    period = obs.get("effectivePeriod") or {}
    for candidate in (
        obs.get("effectiveDateTime"),
        obs.get("effectiveInstant"),
        period.get("end") if isinstance(period, dict) else None,
        period.get("start") if isinstance(period, dict) else None,
        obs.get("issued"),
    ):
        parsed = _parse_date(candidate)
        if parsed:
            return parsed
    return None


def _codings(concept: Any) -> list[tuple[str, str]]:
    if not isinstance(concept, dict):
        return []
    return [
        (str(c.get("system", "")), str(c.get("code", "")))
        for c in concept.get("coding") or []
        if isinstance(c, dict)
    ]


def age_and_sex(patient: Mapping[str, Any] | None, today: datetime.date) -> tuple[dict[str, Any], list[str]]:
    """Age in whole years and sex (M/F) from a Patient; notes say what could not be read."""
    labs: dict[str, Any] = {}
    notes: list[str] = []
    if not patient:
        notes.append("No Patient resource: age and sex not read.")
        return labs, notes
    born = _parse_date(patient.get("birthDate"))
    if born and born <= today:
        years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        labs["age_years"] = years
    else:
        notes.append("Birth date missing or unreadable: age not read.")
    gender = patient.get("gender")
    if gender == "male":
        labs["sex"] = "M"
    elif gender == "female":
        labs["sex"] = "F"
    else:
        # FHIR's administrative gender "other"/"unknown" does not say which Hb/Hct thresholds
        # apply; the engine then evaluates both (clinical.md A1).
        notes.append(
            "Sex not recorded as male or female: haemoglobin/haematocrit thresholds are checked for both."
        )
    return labs, notes


def _fmt(value: float) -> str:
    return f"{value:g}"


def _specimen_of(
    obs: Mapping[str, Any], specimens: Mapping[str, Mapping[str, Any]]
) -> tuple[str | None, str]:
    """Serum or plasma from the Observation's Specimen.type; (None, why) when it cannot be read."""
    ref = obs.get("specimen")
    if not isinstance(ref, dict) or not isinstance(ref.get("reference"), str):
        return None, "no specimen on the result"
    reference = ref["reference"]
    specimen: Mapping[str, Any] | None = None
    if reference.startswith("#"):
        for contained in obs.get("contained") or []:
            if isinstance(contained, dict) and contained.get("id") == reference[1:]:
                specimen = contained
    else:
        # "Specimen/abc", an absolute URL, or a versioned reference: the id is the last segment.
        specimen = specimens.get(reference.split("/_history")[0].rstrip("/").rsplit("/", 1)[-1])
    if specimen is None:
        return None, "its specimen was not available"
    for coding in _codings(specimen.get("type")):
        if coding in _SPECIMEN_TYPES:
            return _SPECIMEN_TYPES[coding], ""
    return None, "its specimen type is not coded as serum or plasma"


def _quantity(quantity: Any, units: Mapping[str, str]) -> tuple[float | None, str | None, str, str]:
    """(value, engine unit, shown text, why not usable) for a Quantity."""
    if not isinstance(quantity, dict):
        return None, None, "no value", "no numeric value"
    value = quantity.get("value")
    ucum = quantity.get("code") if quantity.get("system") in (UCUM, None) else None
    unit_text = quantity.get("unit") or ucum or ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, None, "no value", "no numeric value"
    shown = f"{quantity.get('comparator', '')}{_fmt(value)} {unit_text}".strip()
    if quantity.get("comparator"):
        return None, None, shown, "reported with a comparator, not as an exact value"
    for candidate in (ucum, quantity.get("unit")):
        if isinstance(candidate, str) and candidate in units:
            return float(value), units[candidate], shown, ""
    return None, None, shown, f"unit {unit_text or '(none)'} is not one listed for this code"


def _presence(obs: Mapping[str, Any]) -> tuple[bool | None, str]:
    value = obs.get("valueBoolean")
    if isinstance(value, bool):
        return value, "detected" if value else "not detected"
    codings = _codings(obs.get("valueCodeableConcept"))
    for interpretation in obs.get("interpretation") or []:
        codings.extend(_codings(interpretation))
    if any(c in _PRESENT for c in codings):
        return True, "detected"
    if any(c in _ABSENT for c in codings):
        return False, "not detected"
    text = obs.get("valueString") or (obs.get("valueCodeableConcept") or {}).get("text")
    return None, f"'{text}'" if isinstance(text, str) else "no coded result"


def extract(
    patient: Mapping[str, Any] | None,
    observations: Iterable[Mapping[str, Any]],
    specimens: Iterable[Mapping[str, Any]],
    loinc_map: Mapping[str, Mapping[str, Any]],
    today: datetime.date,
) -> RecordExtract:
    """Read the record into engine inputs. Never raises on odd resources: it notes them."""
    out = RecordExtract()
    demo, out.patient_notes = age_and_sex(patient, today)
    out.labs.update(demo)
    by_id = {str(s.get("id")): s for s in specimens if isinstance(s, dict) and s.get("id")}

    # Newest first; among the same date, the mapping's order decides (stable sort).
    candidates: list[tuple[datetime.date | None, int, Mapping[str, Any], str, Mapping[str, Any]]] = []
    for obs in observations:
        if not isinstance(obs, dict) or obs.get("status") not in USABLE_STATUSES:
            continue
        for system, code in _codings(obs.get("code")):
            mapping = loinc_map.get(code) if system == LOINC else None
            if mapping:
                candidates.append((observation_date(obs), int(mapping.get("order", 0)), obs, code, mapping))
                break
    candidates.sort(key=lambda c: (c[0] or datetime.date.min, -c[1]), reverse=True)

    seen: set[str] = set()
    for date, _order, obs, code, mapping in candidates:
        target = str(mapping["target"])
        if target in seen:
            continue  # an older value of an input already read
        days_old = (today - date).days if date else None
        stale = days_old is None or days_old > STALE_AFTER_DAYS
        label = str(mapping.get("display") or code)
        extra: dict[str, Any] = {"days_old": days_old}
        if target in FINDINGS:  # a finding is read as present/absent, not as a Quantity
            present, shown = _presence(obs)
            if present is None:
                out.values.append(
                    RecordValue(
                        target,
                        code,
                        label,
                        shown,
                        date,
                        stale,
                        False,
                        "result not coded as detected or not detected",
                        None,
                        extra,
                    )
                )
                continue
            seen.add(target)
            out.findings[target] = present
            out.values.append(RecordValue(target, code, label, shown, date, stale, True, "", present, extra))
            continue

        units = mapping.get("ucum_units") or {}
        value, unit, shown, why = _quantity(obs.get("valueQuantity"), units)
        if value is None or unit is None:
            out.values.append(RecordValue(target, code, label, shown, date, stale, False, why, None, extra))
            continue
        seen.add(target)
        engine_value = {"value": value, "unit": unit}
        out.labs[target] = engine_value
        if target == "vegf_pg_ml":
            specimen, why_not = _specimen_of(obs, by_id)
            fixed = mapping.get("specimen") or None
            extra["specimen"] = specimen or fixed or "unknown"
            extra["specimen_source"] = (
                "Specimen.type" if specimen else ("the LOINC code" if fixed else f"unknown: {why_not}")
            )
            out.labs["vegf_specimen"] = extra["specimen"]
            for rng in obs.get("referenceRange") or []:
                high = rng.get("high") if isinstance(rng, dict) else None
                uln, uln_unit, uln_shown, _ = _quantity(high, units)
                if uln is not None and uln_unit is not None:
                    out.labs["vegf_uln_pg_ml"] = {"value": uln, "unit": uln_unit}
                    extra["uln"] = uln_shown
                    break
        out.values.append(RecordValue(target, code, label, shown, date, stale, True, "", engine_value, extra))
    return out
