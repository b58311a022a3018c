"""The flowsheet's fields (design.md §3.9: ``v<N>__<code>``, ``t<N>__<field>``) and the §3.9
document they make. No validation of its own: the engine's ``parse_follow_up`` reads the
document, and each error it names ("visits[1].values.vegf_pg_ml") is put back on its field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext, gettext_noop

from checklist.engine.follow_up.inputs import TREATMENT_TYPES
from checklist.engine.inputs import display_unit
from checklist.engine.vocabulary import LABS

MAX_VISITS = 40  # a visit every 3 months for 10 years
MAX_TREATMENTS = 10
# The words here are English msgids (gettext_noop): the presenter says them in the page's language.
YES_NO = (("", "—"), ("yes", gettext_noop("yes")), ("no", gettext_noop("no")))
IFE = (
    ("", "—"),
    ("positive", gettext_noop("positive")),
    ("negative", gettext_noop("negative")),
    ("not_done", gettext_noop("not done")),
)
SPECIMENS = (
    ("", "—"),
    ("plasma", gettext_noop("plasma")),
    ("serum", gettext_noop("serum")),
    ("unknown", gettext_noop("unknown")),
)
_TX_WORDS = {
    "radiation": gettext_noop("radiation"),
    "asct": gettext_noop("ASCT"),
    "systemic": gettext_noop("systemic"),
    "steroid_only": gettext_noop("steroid only"),
    "other": gettext_noop("other"),
}
TX_TYPES = (("", "—"), *((t, _TX_WORDS.get(t, t.replace("_", " "))) for t in TREATMENT_TYPES))


@dataclass(frozen=True, slots=True)
class Row:
    """One measure of the flowsheet: a row, one cell per visit."""

    code: str
    label: str
    kind: str  # "lab" (number + unit), "number", "choice", "bool", "date", "text"
    group: str
    choices: tuple[tuple[str, str], ...] = ()
    unit: str = ""  # shown beside a "number" field
    step: str = "any"

    @property
    def units(self) -> tuple[tuple[str, str], ...]:
        lab = LABS.get(self.code)
        if lab is None:
            return ()
        return tuple((u, display_unit(u).strip() or u) for u in lab.allowed_units)


GROUPS = (
    ("vegf", gettext_noop("VEGF")),
    ("hem", gettext_noop("Haematological")),
    ("pet", gettext_noop("FDG-PET")),
    ("clinical", gettext_noop("Clinical")),
    ("confounders", gettext_noop("VEGF confounders at the visit")),
)

ROWS: tuple[Row, ...] = (
    Row("vegf_pg_ml", gettext_noop("VEGF"), "lab", "vegf"),
    Row("vegf_specimen", gettext_noop("VEGF specimen"), "choice", "vegf", SPECIMENS),
    Row("vegf_uln_pg_ml", gettext_noop("VEGF upper limit (lab)"), "lab", "vegf"),
    Row("vegf_lab", gettext_noop("VEGF laboratory"), "text", "vegf"),
    Row("m_protein_g_dl", gettext_noop("M-protein"), "lab", "hem"),
    Row("sife_result", gettext_noop("Serum immunofixation"), "choice", "hem", IFE),
    Row("uife_result", gettext_noop("Urine immunofixation"), "choice", "hem", IFE),
    Row("flc_kappa_mg_l", gettext_noop("Free kappa"), "lab", "hem"),
    Row("flc_lambda_mg_l", gettext_noop("Free lambda"), "lab", "hem"),
    Row("flc_ratio", gettext_noop("FLC ratio (κ/λ)"), "lab", "hem"),
    Row(
        "flc_ratio_ref_low",
        gettext_noop("FLC ratio range, low (lab)"),
        "number",
        "hem",
        unit=gettext_noop("ratio"),
    ),
    Row(
        "flc_ratio_ref_high",
        gettext_noop("FLC ratio range, high (lab)"),
        "number",
        "hem",
        unit=gettext_noop("ratio"),
    ),
    Row("pet_done", gettext_noop("PET done"), "bool", "pet", YES_NO),
    Row(
        "pet_avid_lesion_count",
        gettext_noop("Avid lesions"),
        "number",
        "pet",
        unit=gettext_noop("count"),
        step="1",
    ),
    Row("pet_suv_max", gettext_noop("SUVmax"), "number", "pet", unit="SUV"),
    Row("pet_new_avid_lesion", gettext_noop("New avid lesion"), "bool", "pet", YES_NO),
    Row(
        "onls_total", gettext_noop("ONLS (0-12)"), "number", "clinical", unit=gettext_noop("points"), step="1"
    ),
    Row("mrs", gettext_noop("mRS (0-6)"), "number", "clinical", unit=gettext_noop("points"), step="1"),
    Row("peripheral_edema", gettext_noop("Peripheral oedema"), "bool", "clinical", YES_NO),
    Row("pleural_effusion", gettext_noop("Pleural effusion"), "bool", "clinical", YES_NO),
    Row("ascites", gettext_noop("Ascites"), "bool", "clinical", YES_NO),
    Row("pericardial_effusion", gettext_noop("Pericardial effusion"), "bool", "clinical", YES_NO),
    Row("skin_changes", gettext_noop("Skin changes"), "bool", "clinical", YES_NO),
    Row("endocrinopathy", gettext_noop("Endocrinopathy"), "bool", "clinical", YES_NO),
    Row("papilledema", gettext_noop("Papilloedema"), "bool", "clinical", YES_NO),
    Row("platelets_10e9_l", gettext_noop("Platelets"), "lab", "clinical"),
    Row("recent_acute_illness", gettext_noop("Recent acute illness"), "bool", "confounders", YES_NO),
    Row("acute_infection", gettext_noop("Acute infection"), "bool", "confounders", YES_NO),
    Row("iron_deficiency_anemia", gettext_noop("Iron-deficiency anaemia"), "bool", "confounders", YES_NO),
    Row("copd", gettext_noop("COPD"), "bool", "confounders", YES_NO),
    Row("obstructive_sleep_apnea", gettext_noop("Obstructive sleep apnoea"), "bool", "confounders", YES_NO),
    Row("active_malignancy", gettext_noop("Active cancer"), "bool", "confounders", YES_NO),
    Row("vasculitis", gettext_noop("Vasculitis"), "bool", "confounders", YES_NO),
    Row("bevacizumab_exposure", gettext_noop("Bevacizumab exposure"), "bool", "confounders", YES_NO),
    Row("gcsf_last_date", gettext_noop("Last G-CSF"), "date", "confounders"),
    Row("transfusion_last_date", gettext_noop("Last transfusion"), "date", "confounders"),
)
ROW_BY_CODE = {r.code: r for r in ROWS}
TX_FIELDS = ("type", "start", "end")
LABELS = {r.code: r.label for r in ROWS} | {"date": gettext_noop("Date")}
TX_LABELS = {
    "line": gettext_noop("line"),
    "type": gettext_noop("type"),
    "start": gettext_noop("start"),
    "end": gettext_noop("end (radiation: last fraction)"),
}

_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def visit_field(n: int, code: str) -> str:
    return f"v{n}__{code}"


def tx_field(n: int, name: str) -> str:
    return f"t{n}__{name}"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    name: str  # the form field ("v2__vegf_pg_ml"), or "" for the whole timeline
    where: str  # "Visit 2, VEGF"
    message: str


@dataclass(slots=True)
class Flowsheet:
    """What was posted, as entered, and the §3.9 document it makes."""

    data: Mapping[str, str]
    visits: int
    treatments: int
    document: dict[str, Any]
    # Index in document["visits"] -> visit number on the page; likewise for treatments.
    visit_numbers: list[int]
    tx_numbers: list[int]
    problems: list[FieldProblem]

    def value(self, name: str) -> str:
        return self.data.get(name, "")


def _count(data: Mapping[str, str], key: str, prefix: str, top: int) -> int:
    """How many columns: the posted count, else the highest numbered field, at least 1."""
    found = 0
    raw = data.get(key, "")
    if raw.isdigit():
        found = int(raw)
    for name in data:
        m = re.match(rf"{prefix}(\d+)__", name)
        if m:
            found = max(found, int(m.group(1)))
    return max(1, min(found, top))


def _number(text: str) -> int | float | None:
    text = text.strip().replace(" ", "")
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text.replace(",", "."))
    return None


def visit_words(n: int | str) -> str:
    """ "Visit 2", in the active language (the column head and the start of each field's name)."""
    return gettext("Visit %(n)s") % {"n": n}


def treatment_words(n: int | str) -> str:
    return gettext("Treatment %(n)s") % {"n": n}


def field_words(head: str, what: str) -> str:
    """ "Visit 2, VEGF": the accessible name of a field (follow_up.js renumbers its head)."""
    return gettext("%(head)s, %(what)s") % {"head": head, "what": what}


def where(visit: int | None, code: str, tx: int | None = None) -> str:
    """The field in words, in the active language (the views run in the page's)."""
    if tx is not None:
        return field_words(treatment_words(tx), gettext(TX_LABELS.get(code, code)))
    return field_words(visit_words(visit or 0), gettext(LABELS.get(code, code)))


def read_flowsheet(data: Mapping[str, str]) -> Flowsheet:
    """Posted fields -> the design.md §3.9 document. A visit with nothing entered is left out;
    a value that is not a number is left out with a problem naming its field."""
    visits = _count(data, "visits", "v", MAX_VISITS)
    treatments = _count(data, "treatments", "t", MAX_TREATMENTS)
    problems: list[FieldProblem] = []
    out_visits: list[dict[str, Any]] = []
    numbers: list[int] = []
    for n in range(1, visits + 1):
        values: dict[str, Any] = {}
        for row in ROWS:
            name = visit_field(n, row.code)
            raw = data.get(name, "").strip()
            if not raw:
                continue
            if row.kind in ("lab", "number"):
                value = _number(raw)
                if value is None:
                    problems.append(
                        FieldProblem(
                            name,
                            where(n, row.code),
                            gettext("%(value)s is not a number.") % {"value": repr(raw)},
                        )
                    )
                    continue
                if row.kind == "lab":
                    unit = data.get(visit_field(n, row.code + "__unit"), "") or LABS[row.code].unit
                    values[row.code] = {"value": value, "unit": unit}
                else:
                    values[row.code] = value
            elif row.kind == "bool":
                if raw in ("yes", "no"):
                    values[row.code] = raw == "yes"
                else:
                    problems.append(FieldProblem(name, where(n, row.code), gettext("choose yes, no or —.")))
            else:
                values[row.code] = raw
        day = data.get(visit_field(n, "date"), "").strip()
        if not day and not values:
            continue  # an empty column: nothing to evaluate
        if not day:
            problems.append(
                FieldProblem(
                    visit_field(n, "date"), where(n, "date"), gettext("give the date of this visit.")
                )
            )
            continue
        out_visits.append({"date": day, "values": values})
        numbers.append(n)
    out_tx: list[dict[str, Any]] = []
    tx_numbers: list[int] = []
    for n in range(1, treatments + 1):
        kind = data.get(tx_field(n, "type"), "").strip()
        start = data.get(tx_field(n, "start"), "").strip()
        end = data.get(tx_field(n, "end"), "").strip()
        if not (kind or start or end):
            continue
        if not kind:
            problems.append(
                FieldProblem(tx_field(n, "type"), where(None, "type", n), gettext("choose the type."))
            )
            continue
        if not start:
            problems.append(
                FieldProblem(tx_field(n, "start"), where(None, "start", n), gettext("give the start date."))
            )
            continue
        out_tx.append({"line": n, "type": kind, "start": start, "end": end or None})
        tx_numbers.append(n)
    document = {"visits": out_visits, "treatments": out_tx}
    return Flowsheet(data, visits, treatments, document, numbers, tx_numbers, problems)


_ENGINE_FIELD = re.compile(r"(visits|treatments)\[(\d+)\](?:\.values)?(?:\.([a-z0-9_]+))?(\.unit)?")


def field_of(sheet: Flowsheet, engine_field: str) -> tuple[str, str]:
    """The engine's field name ("visits[1].values.vegf_pg_ml") -> (form field, words)."""
    m = _ENGINE_FIELD.match(engine_field)
    if m is None:
        return "", gettext("The timeline")
    kind, index, code = m.group(1), int(m.group(2)), m.group(3) or ""
    if kind == "visits" and index < len(sheet.visit_numbers):
        n = sheet.visit_numbers[index]
        code = code or "date"
        code = code if code in ROW_BY_CODE or code == "date" else "date"
        if m.group(4) and ROW_BY_CODE.get(code, ROWS[0]).kind == "lab":
            return visit_field(n, code + "__unit"), gettext("%(field)s (unit)") % {"field": where(n, code)}
        return visit_field(n, code), where(n, code)
    if kind == "treatments" and index < len(sheet.tx_numbers):
        n = sheet.tx_numbers[index]
        name = code if code in TX_FIELDS else "start"
        return tx_field(n, name), where(None, name, n)
    return "", gettext("The timeline")


def without(sheet: Flowsheet, engine_fields: list[str]) -> None:
    """Leave the named parts out of the document, so that the rest is still evaluated."""
    drop_visits: set[int] = set()
    drop_tx: set[int] = set()
    for name in engine_fields:
        m = _ENGINE_FIELD.match(name)
        if m is None:
            continue
        kind, index, code = m.group(1), int(m.group(2)), m.group(3)
        if kind == "visits" and index < len(sheet.document["visits"]):
            values = sheet.document["visits"][index]["values"]
            if code and code in values:
                del values[code]
                # A VEGF value needs its specimen; without the specimen, leave the value out too.
                if code == "vegf_specimen":
                    values.pop("vegf_pg_ml", None)
                if code in ("flc_ratio_ref_low", "flc_ratio_ref_high"):
                    values.pop("flc_ratio_ref_low", None)
                    values.pop("flc_ratio_ref_high", None)
                if code == "pet_done":
                    values.pop("pet_done", None)
            elif code == "vegf_specimen":
                values.pop("vegf_pg_ml", None)
            elif code in ("flc_ratio_ref_low", "flc_ratio_ref_high"):
                values.pop("flc_ratio_ref_low", None)
                values.pop("flc_ratio_ref_high", None)
            else:
                drop_visits.add(index)
        elif kind == "treatments":
            drop_tx.add(index)
    if drop_visits:
        keep = [i for i in range(len(sheet.document["visits"])) if i not in drop_visits]
        sheet.document["visits"] = [sheet.document["visits"][i] for i in keep]
        sheet.visit_numbers = [sheet.visit_numbers[i] for i in keep]
    if drop_tx:
        keep = [i for i in range(len(sheet.document["treatments"])) if i not in drop_tx]
        sheet.document["treatments"] = [sheet.document["treatments"][i] for i in keep]
        sheet.tx_numbers = [sheet.tx_numbers[i] for i in keep]


def edit(data: Mapping[str, str], action: str) -> dict[str, str]:
    """ "Add visit", "Remove visit N" and the same for treatments, without JavaScript:
    the posted fields renumbered, so that visit N+1 becomes visit N."""
    out = dict(data)
    visits = _count(data, "visits", "v", MAX_VISITS)
    treatments = _count(data, "treatments", "t", MAX_TREATMENTS)
    if action == "add_visit":
        out["visits"] = str(min(visits + 1, MAX_VISITS))
    elif action == "add_treatment":
        out["treatments"] = str(min(treatments + 1, MAX_TREATMENTS))
    elif m := re.fullmatch(r"remove_([vt])(\d+)", action):
        prefix, gone = m.group(1), int(m.group(2))
        total = visits if prefix == "v" else treatments
        if 1 <= gone <= total:
            renamed: dict[str, str] = {}
            for name, value in data.items():
                mm = re.match(rf"{prefix}(\d+)__(.*)", name)
                if mm is None:
                    renamed[name] = value
                    continue
                k = int(mm.group(1))
                if k == gone:
                    continue
                renamed[f"{prefix}{k - 1 if k > gone else k}__{mm.group(2)}"] = value
            out = renamed
            out["visits" if prefix == "v" else "treatments"] = str(max(1, total - 1))
    out.pop("action", None)
    return out


# The checklist's fields that carry over to visit 1 of a new follow-up (its baseline).
FROM_CHECKLIST_LABS = (
    "vegf_pg_ml",
    "vegf_uln_pg_ml",
    "m_protein_g_dl",
    "flc_kappa_mg_l",
    "flc_lambda_mg_l",
    "flc_ratio",
    "platelets_10e9_l",
)
FROM_CHECKLIST_FINDINGS = (
    "peripheral_edema",
    "pleural_effusion",
    "ascites",
    "pericardial_effusion",
    "skin_changes",
    "endocrinopathy",
    "papilledema",
    "recent_acute_illness",
    "iron_deficiency_anemia",
    "copd",
    "obstructive_sleep_apnea",
    "active_malignancy",
    "vasculitis",
)


def from_checklist(data: Mapping[str, str], today: str) -> dict[str, str]:
    """The checklist's posted case as visit 1 of a follow-up, dated today (to be corrected to the
    date of those tests). Serum immunofixation comes from "monoclonal protein present"."""
    out = {"visits": "2", "treatments": "1", visit_field(1, "date"): today}
    for code in FROM_CHECKLIST_LABS:
        value = data.get(code, "").strip()
        if value:
            out[visit_field(1, code)] = value
            unit = data.get(f"{code}__unit", "")
            if unit:
                out[visit_field(1, f"{code}__unit")] = unit
    specimen = data.get("vegf_specimen", "")
    if specimen in ("serum", "plasma", "unknown"):
        out[visit_field(1, "vegf_specimen")] = specimen
    for code in FROM_CHECKLIST_FINDINGS:
        if data.get(code) in ("yes", "no"):
            out[visit_field(1, code)] = data[code]
    present = data.get("m_protein_present")
    if present in ("yes", "no"):
        out[visit_field(1, "sife_result")] = "positive" if present == "yes" else "negative"
    return out
