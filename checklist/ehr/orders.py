"""CDS Hooks service ``poems-cidp-orders`` on ``order-select`` and ``order-sign`` (clinical.md §i.7).

When a clinician orders IVIG, plasma exchange or (for CIDP) a corticosteroid, the chart
is read as the CIDP clinic screen reads a clinician's answers, and the engine's
``card_decision`` says whether a card is due: a red flag on the chart, or no recent VEGF
or serum immunofixation. The card suggests ordering the missing tests, never cancelling
the treatment.

This module turns FHIR into the engine's plain values and the decision into a card; the
HTTP side (JWT, prefetch or FHIR reads, audit) is ``cds_hooks``. Nothing read from the
chart is stored or logged: the card goes back to the EHR and is forgotten.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from checklist.content.care_rules import OrderHookRules
from checklist.ehr import fhir_map
from checklist.engine.inputs import InputError
from checklist.engine.screen import CardDecision, Coding, DraftOrder, card_decision, parse_screen
from checklist.engine.screen.inputs import ScreenInput

SERVICE_ID = "poems-cidp-orders"
HOOKS = ("order-select", "order-sign")
SUMMARY_LIMIT = 140
SCREEN_PATH = "/screen"  # the screen page's URL (design.md §3.10), a contract between rooms
ORDER_TYPES = ("MedicationRequest", "ServiceRequest", "Procedure", "NutritionOrder", "DeviceRequest")

# Condition statuses that take a problem off the list (FHIR R4 condition-clinical / -ver-status).
_INACTIVE_CLINICAL = frozenset({"inactive", "resolved", "remission"})
_VOID_VERIFICATION = frozenset({"refuted", "entered-in-error"})

# How an immunofixation report names the chains (the result is usually narrative).
_LAMBDA = re.compile(r"\blambda\b|λ", re.IGNORECASE)
_KAPPA = re.compile(r"\bkappa\b|κ", re.IGNORECASE)
_HEAVY = re.compile(r"\bIg\s?([GAMDE])\b", re.IGNORECASE)

# Which screen inputs a record value fills.
_SCREEN_LABS = ("vegf_pg_ml", "vegf_uln_pg_ml", "platelets_10e9_l")
_TEST_DATES = {"vegf_pg_ml": "vegf_date", "m_protein_present": "sife_date"}


# ---------------------------------------------------------------------------- discovery


def prefetch_templates(loinc: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    codes = sorted(loinc, key=lambda c: (loinc[c].get("order", 0), c))
    code_param = ",".join(quote(f"{fhir_map.LOINC}|{code}", safe="") for code in codes)
    return {
        "observations": "Observation?patient={{context.patientId}}&code="
        + code_param
        + "&_sort=-date&_count=200",
        "conditions": "Condition?patient={{context.patientId}}&_count=200",
        "specimens": "Specimen?patient={{context.patientId}}",
    }


REQUIRED_PREFETCH = ("observations", "conditions")
OPTIONAL_PREFETCH = ("specimens",)


def service_descriptions(loinc: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per hook: CDS Hooks 2.0 discovery gives each service one hook, so the
    second hook is the same service id (the POST body's ``hook`` says which it is)."""
    prefetch = prefetch_templates(loinc)
    return [
        {
            "hook": hook,
            "id": SERVICE_ID,
            "title": "CIDP treatment order: could this neuropathy be POEMS?",
            "description": (
                "When IVIG, plasma exchange or a corticosteroid for CIDP is ordered, checks the "
                "record for POEMS red flags (lambda M-protein, thrombocytosis, raised VEGF, oedema "
                "or effusion) and for a recent VEGF and serum immunofixation. Answers with a card "
                "suggesting the missing tests, or with no card. Not a diagnosis."
            ),
            "prefetch": prefetch,
            "usageRequirements": (
                "Send a JWT signed with ES384 or RS384 by a registered issuer. Observations and Conditions "
                "are needed, by prefetch or fhirServer with fhirAuthorization; Specimens are optional."
            ),
        }
        for hook in HOOKS
    ]


# ---------------------------------------------------------------------------- reading FHIR


def _codings(concept: Any) -> tuple[Coding, ...]:
    if not isinstance(concept, dict):
        return ()
    return tuple(
        Coding(str(c.get("system", "")), str(c.get("code", "")))
        for c in concept.get("coding") or []
        if isinstance(c, dict) and c.get("code")
    )


def _medication_codings(order: Mapping[str, Any]) -> tuple[Coding, ...]:
    found = _codings(order.get("medicationCodeableConcept"))
    ref = order.get("medicationReference")
    if isinstance(ref, dict) and isinstance(ref.get("reference"), str) and ref["reference"].startswith("#"):
        for contained in order.get("contained") or []:
            if isinstance(contained, dict) and contained.get("id") == ref["reference"][1:]:
                found += _codings(contained.get("code"))
    # FHIR R5-style CodeableReference, which some clients already send.
    medication = order.get("medication")
    if isinstance(medication, dict):
        found += _codings(medication.get("concept"))
    return found


def draft_orders(context: Mapping[str, Any], hook: str) -> list[DraftOrder]:
    """The draft orders, as codes. For order-select, only the ones just selected when the
    client says which (``selections``), as the hook defines."""
    bundle = context.get("draftOrders")
    selections = context.get("selections")
    chosen = (
        {s for s in selections if isinstance(s, str)}
        if hook == "order-select" and isinstance(selections, list) and selections
        else None
    )
    orders = []
    for resource_type in ORDER_TYPES:
        for order in fhir_map.resources(bundle, resource_type):
            if chosen is not None and f"{resource_type}/{order.get('id')}" not in chosen:
                continue
            if resource_type == "MedicationRequest":
                codings = _medication_codings(order)
            else:
                codings = _codings(order.get("code"))
            reasons = tuple(c for concept in order.get("reasonCode") or [] for c in _codings(concept))
            orders.append(DraftOrder(resource_type, codings, reasons))
    return orders


def active_conditions(conditions: Iterable[Mapping[str, Any]], patient_id: str) -> list[Mapping[str, Any]]:
    out = []
    for c in conditions:
        if not _about(c, patient_id):
            continue
        clinical = {x.code for x in _codings(c.get("clinicalStatus"))}
        verification = {x.code for x in _codings(c.get("verificationStatus"))}
        if clinical & _INACTIVE_CLINICAL or verification & _VOID_VERIFICATION:
            continue
        out.append(c)
    return out


def _about(resource: Mapping[str, Any], patient_id: str) -> bool:
    """A resource about another patient is ignored, never mixed in."""
    ref = (resource.get("subject") or {}).get("reference")
    return isinstance(ref, str) and ref.split("/_history")[0].rstrip("/").endswith(f"Patient/{patient_id}")


def _ife_typing(
    observations: Iterable[Mapping[str, Any]], loinc: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """Heavy and light chain of the newest positive immunofixation, from the report's words.

    Only what the report says: "IgG lambda" gives both, "lambda" only the light chain,
    and a report naming both kappa and lambda is biclonal or unclear, so it is left out.
    """
    ife_codes = {code for code, m in loinc.items() if m.get("target") == "m_protein_present"}
    newest: tuple[datetime.date, Mapping[str, Any]] | None = None
    for obs in observations:
        if obs.get("status") not in fhir_map.USABLE_STATUSES:
            continue
        if not any(c.system == fhir_map.LOINC and c.code in ife_codes for c in _codings(obs.get("code"))):
            continue
        day = fhir_map.observation_date(obs) or datetime.date.min
        if newest is None or day > newest[0]:
            newest = (day, obs)
    if newest is None:
        return {}
    obs = newest[1]
    concept = obs.get("valueCodeableConcept") or {}
    words = " ".join(
        str(t)
        for t in (
            obs.get("valueString"),
            concept.get("text") if isinstance(concept, dict) else None,
            *[c.get("display") for c in (concept.get("coding") or []) if isinstance(c, dict)],
        )
        if isinstance(t, str)
    )
    typing: dict[str, str] = {}
    lam, kap = bool(_LAMBDA.search(words)), bool(_KAPPA.search(words))
    if lam != kap:
        typing["light_chain_type"] = "lambda" if lam else "kappa"
    heavy = {m.upper() for m in _HEAVY.findall(words)}
    if len(heavy) == 1:
        typing["heavy_chain_type"] = f"Ig{heavy.pop()}"
    return typing


@dataclass(slots=True)
class Chart:
    """What the order hook read from the record: the screen's values and their provenance."""

    values: dict[str, Any] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)  # code -> "520 10*3/uL, 2026-12-01"
    conditions: list[Coding] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # what the screen refused, with the reason


def read_chart(
    observations: Sequence[Mapping[str, Any]],
    specimens: Sequence[Mapping[str, Any]],
    conditions: Sequence[Mapping[str, Any]],
    rules: OrderHookRules,
    loinc: Mapping[str, Mapping[str, Any]],
    today: datetime.date,
) -> Chart:
    """The record as the screen's input (design.md §3.10 codes); absent means not assessed."""
    chart = Chart()
    extract = fhir_map.extract(None, observations, specimens, loinc, today)
    by_target = {v.target: v for v in extract.values if v.used}
    for code in _SCREEN_LABS:
        value = extract.labs.get(code)
        if isinstance(value, dict):
            chart.values[code] = {"value": value["value"], "unit": value["unit"]}
    specimen = extract.labs.get("vegf_specimen")
    if "vegf_pg_ml" in chart.values and specimen in ("serum", "plasma"):
        chart.values["vegf_specimen"] = specimen
    if "m_protein_present" in extract.findings:
        present = extract.findings["m_protein_present"]
        chart.values["m_protein_present"] = present
        if present:
            chart.values.update(_ife_typing(observations, loinc))
    for target, date_code in _TEST_DATES.items():
        v = by_target.get(target)
        if target in chart.values and v is not None and v.date is not None and v.date <= today:
            chart.values[date_code] = v.date.isoformat()
    for target, v in by_target.items():
        when = v.date.isoformat() if v.date else "date not recorded"
        chart.shown[target] = f"{v.shown}, {when}"
    for condition in conditions:
        codings = _codings(condition.get("code"))
        chart.conditions.extend(codings)
        for c in codings:
            finding = rules.condition_findings.get((c.system, c.code))
            if finding:
                chart.values[finding] = True
                chart.shown[finding] = f"on the problem list ({c.code})"
    return chart


def screen_input(chart: Chart, rules: OrderHookRules, today: datetime.date) -> ScreenInput:
    """Parse the chart's values as the screen does; a value it refuses is dropped and said."""
    values = dict(chart.values)
    for _attempt in range(6):
        try:
            return parse_screen({"values": values}, rules.rules, today=today, require_context=False)
        except InputError as exc:
            dropped = False
            for error in exc.errors:
                code = error.field.split(".")[1] if error.field.startswith("values.") else ""
                if code in values:
                    values.pop(code)
                    chart.dropped.append(f"{code}: {error.message}")
                    dropped = True
            if not dropped:
                raise
    return parse_screen({"values": {}}, rules.rules, today=today, require_context=False)


def decide(
    hook: str,
    context: Mapping[str, Any],
    chart: Chart,
    rules: OrderHookRules,
    today: datetime.date,
) -> CardDecision:
    inp = screen_input(chart, rules, today)
    return card_decision(hook, draft_orders(context, hook), chart.conditions, inp, rules.rules)


# ---------------------------------------------------------------------------- the card

_TEST_WORDS = {"vegf": "VEGF", "serum_ife": "serum immunofixation"}


def _loinc_for(loinc: Mapping[str, Mapping[str, Any]], target: str) -> tuple[str, str] | None:
    found = sorted((m.get("order", 0), code) for code, m in loinc.items() if m.get("target") == target)
    if not found:
        return None
    code = found[0][1]
    return code, str(loinc[code].get("display") or code)


def _service_request(patient_id: str, code: str, display: str, note: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "code": {"coding": [{"system": fhir_map.LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if note:
        resource["note"] = [{"text": note}]
    return resource


def suggestion(
    decision: CardDecision, loinc: Mapping[str, Mapping[str, Any]], patient_id: str
) -> dict[str, Any] | None:
    """One suggestion adding every missing test (§i.7), with LOINC codes from the LOINC mapping."""
    actions = []
    wanted: list[tuple[str, str]] = []
    if "vegf" in decision.missing_tests:
        wanted.append(
            (
                "vegf_pg_ml",
                "State the specimen: plasma (SNOMED CT 119361006) or serum (119364003), as your laboratory "
                "does; the cut-offs differ about tenfold.",
            )
        )
    if "serum_ife" in decision.missing_tests:
        wanted += [
            ("m_protein_present", "Serum immunofixation: electrophoresis alone often misses the small band."),
            ("flc_kappa_mg_l", ""),
            ("flc_lambda_mg_l", ""),
            ("flc_ratio", ""),
        ]
    for target, note in wanted:
        found = _loinc_for(loinc, target)
        if found is None:
            continue  # the mapping has no active code for it: nothing honest to order by code
        code, display = found
        actions.append(
            {
                "type": "create",
                "description": f"Order {display} (LOINC {code})",
                "resource": _service_request(patient_id, code, display, note),
            }
        )
    if not actions:
        return None
    words = " and ".join(_TEST_WORDS[t] for t in decision.missing_tests if t in _TEST_WORDS)
    label = f"Order {words}" + (" with free light chains" if "serum_ife" in decision.missing_tests else "")
    return {"label": label, "uuid": str(uuid.uuid4()), "isRecommended": True, "actions": actions}


def override_reasons(rules: OrderHookRules, base: str) -> list[dict[str, str]]:
    system = f"{base}/cds-services/{SERVICE_ID}/override-reasons"
    return [
        {"code": r["code"], "system": system, "display": r["display"]}
        for r in rules.rules.cds.override_reasons
    ]


def build_card(
    decision: CardDecision,
    chart: Chart,
    rules: OrderHookRules,
    loinc: Mapping[str, Mapping[str, Any]],
    patient_id: str,
    base: str,
    launch_url: str,
    notes: list[str],
) -> dict[str, Any]:
    summary = decision.summary
    if len(summary) >= SUMMARY_LIMIT:
        summary = summary[: SUMMARY_LIMIT - 2].rstrip() + "…"
    cds = rules.rules.cds
    names = {t.code: t.label for t in cds.trigger_orders}
    lines = [f"**Order:** {', '.join(names.get(t, t) for t in decision.triggers)}."]
    if decision.red_flags:
        lines += ["", "**POEMS red flags on the chart:**"]
        for flag in decision.red_flags:
            lines.append(f"- {flag['reason']}")
    shown = [f"- {code.replace('_', ' ')}: {text}" for code, text in chart.shown.items()]
    if shown:
        lines += ["", "**Read from the record** (newest per test):", *shown]
    if decision.missing_tests:
        months = rules.rules.recency_months
        missing = ", ".join(_TEST_WORDS.get(t, t) for t in decision.missing_tests)
        lines += [
            "",
            f"**Not on file within {months} months (or undated):** {missing}. "
            "Suggested: serum immunofixation with free light chains (and urine immunofixation), and VEGF "
            "with the specimen stated, in the same draw; image the skeleton if either is abnormal.",
        ]
    if chart.dropped:
        lines += ["", "**Not used** (the screen refused the value): " + "; ".join(chart.dropped)]
    matched = _matched_unverified(decision, chart, rules)
    if matched:
        lines += [
            "",
            "Matched on codes marked **[unverified]** in this service's content: " + ", ".join(matched) + ".",
        ]
    lines += [*[f"- {n}" for n in notes]] if notes else []
    lines += ["", "**Why:**", *[f"- {e}" for e in decision.evidence_lines]]
    lines += [
        "",
        "Not a diagnosis. The screen, filled from the record, is linked below; it never stops the order.",
    ]
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": summary,
        "indicator": decision.indicator,
        "detail": "\n".join(lines),
        "source": {"label": "POEMSaid CIDP clinic screen", "url": base + SCREEN_PATH},
        "overrideReasons": override_reasons(rules, base),
        "links": [
            {
                "label": "Open the POEMS screen, filled from the record",
                "url": launch_url,
                "type": "smart",
                "appContext": "screen",
            }
        ],
    }
    proposed = suggestion(decision, loinc, patient_id)
    if proposed is not None:
        card["suggestions"] = [proposed]
    return card


def _matched_unverified(decision: CardDecision, chart: Chart, rules: OrderHookRules) -> list[str]:
    """The unverified codes this decision rests on, so the reader can weigh them."""
    chart_codes = {(c.system, c.code) for c in chart.conditions}
    out = []
    for row in rules.codes:
        if row.get("evidence") != "unverified":
            continue
        key = (str(row["system"]), str(row["code"]))
        if row["use"] in decision.triggers or (row["use"] != "corticosteroid" and key in chart_codes):
            out.append(f"{row['display']} ({row['code']})")
    return out


def screen_form_values(chart: Chart, cidp_on_chart: bool) -> dict[str, str]:
    """The chart as the screen page's form takes it (SMART launch with target "screen"):
    a finding as yes/no, a lab as its number with ``<code>__unit``, a date as YYYY-MM-DD."""
    form: dict[str, str] = {}
    if cidp_on_chart:
        form["acquired_demyelinating_neuropathy"] = "yes"
    for code, value in chart.values.items():
        if isinstance(value, bool):
            form[code] = "yes" if value else "no"
        elif isinstance(value, dict):
            form[code] = f"{value['value']:g}"
            form[f"{code}__unit"] = str(value["unit"])
        else:
            form[code] = str(value)
    return form


def cidp_on(chart: Chart, rules: OrderHookRules) -> bool:
    wanted = {(c.system, code) for c in rules.rules.cds.cidp_conditions for code in c.codes}
    return any((c.system, c.code) in wanted for c in chart.conditions)
