"""CDS Hooks service ``poems-follow-up`` on ``patient-view``: a rising VEGF (clinical.md §h.4 H-V3).

A patient already known to have POEMS (a Condition coded in the POEMS set of the
terminology content, ``TerminologyCode`` use "poems") is followed for years, and VEGF
often rises before anything else does (Kourelis, Leukemia 2016). When the record's VEGF
series has risen past the follow-up's progression rule, this service answers with one card
naming the values, the dates, the rule with its source and evidence tag, and a SMART link
into the follow-up. Without a POEMS history it answers with no card and reads no VEGF.

A second service, not a second card of ``poems-criteria``: that service answers "what do the
labs say about the criteria" for anyone and, by design, never reads the problem list; this one
needs the problem list, asks a narrower question, and an EHR can switch either on alone.

The rule is the engine's (``evaluate_follow_up`` with the published ``follow_up_rules``),
never re-implemented here: this module turns the VEGF Observations into the design.md §3.9
document and the engine's answer into a card. No treatment lines are read from the record,
so response is not evaluable (H-B4) and progression runs against the nadir of all earlier
values of the same specimen (serum and plasma are never compared: H-V1). Nothing read is
stored or logged.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from checklist.ehr import fhir_map, follow_up_read
from checklist.engine.diagnosis.words import evidence_word
from checklist.engine.follow_up import FollowUpRules, evaluate_follow_up, parse_follow_up
from checklist.engine.follow_up.result import DomainResult
from checklist.engine.inputs import InputError

SERVICE_ID = "poems-follow-up"
HOOK = "patient-view"
SUMMARY_LIMIT = 140
CARD_KIND = "vegf_rise"
# A VEGF every 3 months for 12 years; the FHIR reader's page bound (fhir_read.MAX_PAGES) stops
# it earlier on a longer record, and the card says so.
VEGF_PAGE_SIZE = 50
REQUIRED_PREFETCH = ("observations", "conditions")
OPTIONAL_PREFETCH = ("specimens",)
_VOID_VERIFICATION = frozenset({"refuted", "entered-in-error"})
_PROGRESSION = ("progression", "progression_confounded")


def vegf_codes(loinc: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The LOINC codes (mapping content) of a VEGF result, in the mapping's order."""
    found = [c for c, m in loinc.items() if m.get("target") == "vegf_pg_ml"]
    return sorted(found, key=lambda c: (loinc[c].get("order", 0), c))


def poems_codes(code_rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(system, code) of every active POEMS condition code (terminology content)."""
    return sorted({(str(r["system"]), str(r["code"])) for r in code_rows if r.get("use") == "poems"})


def prefetch_templates(
    loinc: Mapping[str, Mapping[str, Any]], poems: Sequence[tuple[str, str]]
) -> dict[str, str]:
    codes = ",".join(quote(f"{fhir_map.LOINC}|{c}", safe="") for c in vegf_codes(loinc))
    # Only the POEMS codes are asked for: the rest of the problem list is none of our business.
    # Without any (none seeded; an editor adds the site's), the whole list is read and matches nothing.
    condition_codes = ",".join(quote(f"{system}|{code}", safe="") for system, code in poems)
    return {
        "conditions": "Condition?patient={{context.patientId}}"
        + (f"&code={condition_codes}" if condition_codes else "")
        + "&_count=100",
        # Newest first and paged (design.md §3.11): the newest values decide, and a client that
        # sends one page still sends them.
        "observations": "Observation?patient={{context.patientId}}&code="
        + codes
        + f"&_sort=-date&_count={VEGF_PAGE_SIZE}",
        "specimens": "Specimen?patient={{context.patientId}}",
    }


def service_description(
    loinc: Mapping[str, Mapping[str, Any]], poems: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    return {
        "hook": HOOK,
        "id": SERVICE_ID,
        "title": "POEMS follow-up: has VEGF risen past the progression rule?",
        "description": (
            "For a patient with POEMS syndrome on the problem list, reads every VEGF result and shows a "
            "card when the newest has risen more than the follow-up's published rise above the lowest "
            "earlier value of the same specimen (serum and plasma are never compared), with the values, "
            "dates, rule and source, and a link to open the follow-up. Possible progression: review. "
            "Not a diagnosis. No card for a patient without POEMS on the problem list."
        ),
        "prefetch": prefetch_templates(loinc, poems),
        "usageRequirements": (
            "Send a JWT signed with ES384 or RS384 by a registered issuer. Conditions and the VEGF "
            "Observations are needed, by prefetch or fhirServer with fhirAuthorization; Specimens "
            "are optional (without them a VEGF specimen comes from its LOINC code, or is unknown and "
            "not compared). POEMS is recognised by the condition codes of the terminology content."
        ),
    }


def _codings(concept: Any) -> list[tuple[str, str]]:
    if not isinstance(concept, dict):
        return []
    return [
        (str(c.get("system", "")), str(c.get("code", "")))
        for c in concept.get("coding") or []
        if isinstance(c, dict) and c.get("code")
    ]


def poems_history(
    conditions: Iterable[Mapping[str, Any]], patient_id: str, poems: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The POEMS codes on this patient's problem list. A condition in remission or resolved is
    still the history that follow-up is for; only a refuted or mistaken entry does not count."""
    wanted = set(poems)
    found = []
    for c in conditions:
        if not _about(c, patient_id):
            continue
        if {code for _s, code in _codings(c.get("verificationStatus"))} & _VOID_VERIFICATION:
            continue
        found += [coding for coding in _codings(c.get("code")) if coding in wanted]
    return sorted(set(found))


def _about(resource: Mapping[str, Any], patient_id: str) -> bool:
    ref = (resource.get("subject") or {}).get("reference")
    return isinstance(ref, str) and ref.split("/_history")[0].rstrip("/").endswith(f"Patient/{patient_id}")


@dataclass(slots=True)
class Series:
    """The VEGF values as the engine's visits, and what the card says about them."""

    document: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)  # date, shown, specimen, used
    notes: list[str] = field(default_factory=list)


def _json_number(text: str) -> int | float:
    # The reader writes numbers as typed (no exponent), so float() keeps the digits exactly.
    return int(text) if text.lstrip("-").isdigit() else float(text)


def vegf_series(
    observations: Iterable[Mapping[str, Any]],
    specimens: Iterable[Mapping[str, Any]],
    loinc: Mapping[str, Mapping[str, Any]],
) -> Series:
    """One visit per VEGF sampling date (oldest first), as the follow-up's SMART launch reads them."""
    only_vegf = {c: m for c, m in loinc.items() if m.get("target") == "vegf_pg_ml"}
    record = follow_up_read.serial(observations, specimens, only_vegf)
    visits: list[dict[str, Any]] = []
    series = Series({"visits": visits, "treatments": []}, notes=list(record.notes))
    for n, day in enumerate(record.dates, start=1):
        f = record.fields
        value = f.get(f"v{n}__vegf_pg_ml")
        if value is None:
            continue
        values: dict[str, Any] = {
            "vegf_pg_ml": {"value": _json_number(value), "unit": f[f"v{n}__vegf_pg_ml__unit"]},
            "vegf_specimen": f.get(f"v{n}__vegf_specimen", "unknown"),
        }
        if f"v{n}__vegf_uln_pg_ml" in f:
            values["vegf_uln_pg_ml"] = {
                "value": _json_number(f[f"v{n}__vegf_uln_pg_ml"]),
                "unit": f[f"v{n}__vegf_uln_pg_ml__unit"],
            }
        visits.append({"date": day.isoformat(), "values": values})
        series.rows.append(
            {
                "date": day,
                "shown": f"{value} {values['vegf_pg_ml']['unit']}",
                "specimen": values["vegf_specimen"],
            }
        )
    unused = [r for r in record.shown if r.get("note")]
    if unused:
        series.notes.append(f"{len(unused)} VEGF result(s) could not be used (unit or value not readable).")
    return series


def latest_vegf(series: Series, rules: FollowUpRules, today: datetime.date) -> DomainResult | None:
    """The engine's VEGF answer at the newest VEGF; a visit the engine refuses is left out, said so."""
    visits = series.document["visits"]
    for _attempt in range(3):
        if len(visits) < 2:
            return None
        try:
            timeline = parse_follow_up({"visits": visits, "treatments": []}, today)
        except InputError as exc:
            bad = {e.field.split("]")[0] + "]" for e in exc.errors if e.field.startswith("visits[")}
            if not bad:
                raise
            kept = [v for i, v in enumerate(visits) if f"visits[{i}]" not in bad]
            series.notes.append(
                f"{len(visits) - len(kept)} VEGF result(s) refused by the follow-up and left out."
            )
            visits = kept
            continue
        return evaluate_follow_up(timeline, rules).visits[-1].domains["vegf"]
    return None


def _tag(evidence: str) -> str:
    return f"[{evidence_word(evidence)}]"


def build_card(
    result: DomainResult,
    series: Series,
    rules: FollowUpRules,
    history: Sequence[tuple[str, str]],
    code_rows: Iterable[Mapping[str, Any]],
    launch_url: str,
    source_url: str,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    assert result.value is not None and result.nadir is not None  # H-V3 always names both
    value, low = result.value, result.nadir
    rise = rules.thresholds["fu_vegf_prog_rise_pct"]
    above = rules.thresholds["fu_vegf_prog_requires_above_normal"]
    summary = (
        f"VEGF {value.measure.show()} ({value.date.isoformat()}) is >{rise.value}% above its nadir "
        f"{low.measure.show()}: possible progression, review. Not a diagnosis."
    )
    if len(summary) >= SUMMARY_LIMIT:
        summary = f"VEGF rose >{rise.value}% above its nadir: possible progression, review. Not a diagnosis."
    specimen = series.rows[-1]["specimen"] if series.rows else "unknown"
    displays = {(str(r["system"]), str(r["code"])): str(r.get("display") or "") for r in code_rows}
    lines = [
        f"**Possible progression: review.** {result.reason}",
        "",
        f"**Rule {result.rule}:** {result.source} {_tag(result.evidence)}",
        f"- Rise above the nadir: more than {rise.value}{rise.unit} ({rise.source}) {_tag(rise.evidence)}",
        f"- The value must also be above normal: {'yes' if above.value is True else 'no'} "
        f"({above.source}) {_tag(above.evidence)}",
        f"- Nadir: the lowest earlier {specimen} VEGF; serum and plasma values are never compared "
        "(H-V1). No treatment lines are read from the record, so response to treatment is not "
        "assessed here (H-B4): open the follow-up and enter them.",
        "",
        "**VEGF in the record** (oldest first):",
    ]
    for row in series.rows:
        mark = ""
        if row["date"] == low.date:
            mark = " (nadir)"
        elif row["date"] == value.date:
            mark = " (newest)"
        compared = "" if row["specimen"] == specimen else " - other specimen, not compared"
        lines.append(f"- {row['date'].isoformat()}: {row['shown']}, {row['specimen']}{mark}{compared}")
    cautions = list(result.cautions)
    if cautions:
        lines += ["", "**Cautions:**", *[f"- {c.message}" for c in cautions]]
    lines += [
        "",
        "**Why this patient:** POEMS syndrome on the problem list ("
        + "; ".join(f"{displays.get(h) or h[1]} ({h[0]} {h[1]})" for h in history)
        + ").",
    ]
    extra = [*series.notes, *notes]
    if extra:
        lines += ["", *[f"- {n}" for n in extra]]
    lines += [
        "",
        "A rise is consistent with progression, not proof of relapse: repeat the VEGF (after any acute "
        "illness or infection) and review the clinical, haematological and imaging findings.",
        "",
        f"**Not a diagnosis.** {rules.disclaimer} (Follow-up rules {rules.version}.)",
    ]
    return {
        "uuid": str(uuid.uuid4()),
        "summary": summary,
        "indicator": "warning",
        "detail": "\n".join(lines),
        "source": {"label": "POEMSaid follow-up (clinical.md §h)", "url": source_url},
        "links": [
            {
                "label": "Open the POEMS follow-up, filled from the record",
                "url": launch_url,
                "type": "smart",
                "appContext": "follow_up",
            }
        ],
    }
