"""One presenter for the follow-up: the page, the live fragment, the print view and the note
all read ``present`` (design.md §2: parse -> evaluate -> present).

The charts are laid out here as numbers (coordinates in an SVG viewBox) and drawn by a
template: no chart library, no script, no inline style (the CSP forbids both).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from checklist.content.care_rules import CareContext
from checklist.content.words import evidence_word
from checklist.engine.follow_up.inputs import Timeline, Visit
from checklist.engine.follow_up.result import DOMAINS, DomainResult, FollowUpResult, VisitResult
from checklist.engine.follow_up.rules import FollowUpRules
from checklist.engine.inputs import display_unit
from checklist.engine.vocabulary import LABS

from .forms import GROUPS, ROWS, TX_TYPES, FieldProblem, Flowsheet, Row, tx_field, visit_field

DOMAIN_NAMES = {"vegf": "VEGF", "hem": "Haematological", "pet": "FDG-PET", "clinical": "Clinical"}
DOMAIN_ABBR = {"vegf": "VEGF", "hem": "Haem", "pet": "PET", "clinical": "Clin"}
CATEGORY_WORDS = {
    "cr": "complete response",
    "vgpr": "very good partial response",
    "pr": "partial response",
    "stable": "stable",
    "progression": "consistent with progression",
    "progression_confounded": "a rise consistent with progression, but confounded",
    "not_cr_unmeasurable": "not a complete response (spike too small to measure a partial response)",
    "improved": "improved",
    "worse": "worse",
    "not_evaluable": "not evaluable",
    "not_done": "not done at this visit",
}
# The letter drawn at each visit on the charts (a legend under each chart spells them out).
LETTERS = {
    "cr": "CR",
    "vgpr": "VGPR",
    "pr": "PR",
    "stable": "S",
    "progression": "P",
    "progression_confounded": "P?",
    "not_cr_unmeasurable": "U",
    "improved": "I",
    "worse": "W",
    "not_evaluable": "NE",
    "not_done": "–",
}
FLAG_WORDS = {True: "possible progression: review", "confounded": "possible progression, confounded: review"}


@dataclass(frozen=True, slots=True)
class Cell:
    name: str
    value: str
    unit_name: str = ""
    unit_value: str = ""
    error: str = ""
    label: str = ""  # the accessible name: "Visit 2, VEGF"


@dataclass(frozen=True, slots=True)
class SheetRow:
    row: Row
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class SheetGroup:
    code: str
    title: str
    rows: tuple[SheetRow, ...]


@dataclass(frozen=True, slots=True)
class TxRow:
    n: int
    type: Cell
    start: Cell
    end: Cell


@dataclass(frozen=True, slots=True)
class DomainView:
    domain: str
    name: str
    abbr: str
    category: str
    words: str
    letter: str
    rule: str
    source: str
    evidence: str
    evidence_words: str
    flagged_evidence: bool  # unverified or an app convention: drawn so that it stands out
    reason: str
    baseline: str
    nadir: str
    cautions: tuple[dict[str, str], ...]


@dataclass(frozen=True, slots=True)
class VisitView:
    n: int  # the column on the page
    date: str
    domains: tuple[DomainView, ...]
    flag: bool | str
    flag_words: str
    triggers: tuple[str, ...]


@dataclass(slots=True)
class Chart:
    id: str
    title: str
    unit: str
    width: int = 440
    height: int = 190
    left: int = 52
    right: int = 432
    top: int = 24
    bottom: int = 160
    y_ticks: list[dict[str, Any]] = field(default_factory=list)
    x_ticks: list[dict[str, Any]] = field(default_factory=list)
    bands: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)  # thresholds
    series: list[dict[str, Any]] = field(default_factory=list)
    letters: list[dict[str, Any]] = field(default_factory=list)
    legend: list[str] = field(default_factory=list)
    summary: str = ""

    # Positions the template draws at (computed here: template arithmetic is integer-only).
    @property
    def band_height(self) -> int:
        return self.bottom - self.top

    @property
    def band_label_y(self) -> int:
        return self.bottom - 4

    @property
    def x_label_y(self) -> int:
        return self.bottom + 13

    @property
    def letter_y(self) -> int:
        return self.top - 8

    @property
    def tick_x(self) -> int:
        return self.left - 4

    @property
    def label_x(self) -> int:
        return self.right - 2


def _fmt(value: Decimal | float) -> str:
    number = float(value)
    if number == 0:
        return "0"
    if abs(number) >= 100:
        return f"{number:.0f}"
    if abs(number) >= 10:
        return f"{number:.1f}".rstrip("0").rstrip(".")
    return f"{number:.3g}"


def _domain_view(name: str, r: DomainResult) -> DomainView:
    return DomainView(
        domain=name,
        name=DOMAIN_NAMES[name],
        abbr=DOMAIN_ABBR[name],
        category=r.category,
        words=CATEGORY_WORDS.get(r.category, r.category),
        letter=LETTERS.get(r.category, r.category),
        rule=r.rule,
        source=r.source,
        evidence=r.evidence,
        evidence_words=evidence_word(r.evidence),
        flagged_evidence=r.evidence in ("unverified", "app_convention"),
        reason=r.reason,
        baseline=f"{r.baseline.measure.show()} on {r.baseline.date.isoformat()}" if r.baseline else "",
        nadir=f"{r.nadir.measure.show()} on {r.nadir.date.isoformat()}" if r.nadir else "",
        cautions=tuple(c.as_dict() | {"rule": c.rule} for c in r.cautions),
    )


def _trigger_words(t: dict[str, Any]) -> str:
    value = (t.get("value") or {}).get("shown", "")
    nadir = t.get("nadir") or {}
    parts = [f"{DOMAIN_NAMES.get(t['domain'], t['domain'])} ({t['rule']})"]
    if value:
        parts.append(value)
    if nadir:
        parts.append(f"nadir {nadir.get('shown', '')} on {nadir.get('date', '')}")
    return ", ".join(parts) + (" (confounded)" if t.get("confounded") else "")


# --- the flowsheet ---------------------------------------------------------------------------


def default_unit(code: str, system: str) -> str:
    lab = LABS[code]
    return lab.si if system == "SI" else lab.unit


def sheet_groups(sheet: Flowsheet, errors: dict[str, str], system: str) -> tuple[SheetGroup, ...]:
    out = []
    for code, title in GROUPS:
        rows = []
        for row in ROWS:
            if row.group != code:
                continue
            cells = []
            for n in range(1, sheet.visits + 1):
                name = visit_field(n, row.code)
                unit_name = visit_field(n, row.code + "__unit") if row.kind == "lab" else ""
                unit_value = ""
                if unit_name:
                    unit_value = sheet.value(unit_name) or default_unit(row.code, system)
                cells.append(
                    Cell(
                        name,
                        sheet.value(name),
                        unit_name,
                        unit_value,
                        errors.get(name, ""),
                        f"Visit {n}, {row.label}",
                    )
                )
            rows.append(SheetRow(row, tuple(cells)))
        out.append(SheetGroup(code, title, tuple(rows)))
    return tuple(out)


def date_cells(sheet: Flowsheet, errors: dict[str, str]) -> tuple[Cell, ...]:
    return tuple(
        Cell(
            visit_field(n, "date"),
            sheet.value(visit_field(n, "date")),
            error=errors.get(visit_field(n, "date"), ""),
            label=f"Visit {n}, date",
        )
        for n in range(1, sheet.visits + 1)
    )


def tx_rows(sheet: Flowsheet, errors: dict[str, str]) -> tuple[TxRow, ...]:
    def cell(n: int, name: str, label: str) -> Cell:
        f = tx_field(n, name)
        return Cell(f, sheet.value(f), error=errors.get(f, ""), label=f"Treatment {n}, {label}")

    return tuple(
        TxRow(n, cell(n, "type", "type"), cell(n, "start", "start"), cell(n, "end", "end"))
        for n in range(1, sheet.treatments + 1)
    )


# --- the charts ------------------------------------------------------------------------------


def _scale(low: float, high: float, a: float, b: float) -> Any:
    span = (high - low) or 1.0
    return lambda v: a + (float(v) - low) * (b - a) / span


def _nice_ticks(top: float) -> list[float]:
    """0 and about four round steps (1, 2, 2.5 or 5 times a power of ten) up to ``top``."""
    if top <= 0 or not math.isfinite(top):
        return [0.0]
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)
    count = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(count + 1)]


def _days(d: date, origin: date) -> int:
    return (d - origin).days


def _chart(
    chart_id: str,
    title: str,
    unit: str,
    points: Sequence[tuple[date, Decimal, str, str]],  # (date, canonical value, series, shown)
    thresholds: Sequence[tuple[str, Decimal]],
    letters: Sequence[tuple[date, str, str]],  # (date, letter, words)
    timeline: Timeline,
) -> Chart | None:
    if not points:
        return None
    c = Chart(chart_id, title, unit)
    days = [p[0] for p in points] + [v.date for v in timeline.visits]
    for t in timeline.treatments:
        days.append(t.start)
        if t.end:
            days.append(t.end)
    first, last = min(days), max(days)
    if first == last:
        first, last = first - timedelta(days=30), last + timedelta(days=30)
    x = _scale(0, _days(last, first), c.left + 10, c.right - 18)
    top = max([float(p[1]) for p in points] + [float(v) for _, v in thresholds] + [0.0]) * 1.12 or 1.0
    ticks = _nice_ticks(top)
    top = max(top, ticks[-1])
    y = _scale(0, top, c.bottom, c.top)
    c.y_ticks = [{"y": round(y(t), 1), "label": _fmt(t)} for t in ticks]
    # At most about five date labels, at visits, so that they do not overlap.
    visit_days = sorted({v.date for v in timeline.visits})
    stride = max(1, -(-len(visit_days) // 5))
    c.x_ticks = [
        {"x": round(x(_days(d, first)), 1), "label": d.strftime("%b %Y")} for d in visit_days[::stride]
    ]
    for t in timeline.treatments:
        x0 = x(_days(t.start, first))
        x1 = x(_days(t.end, first)) if t.end else c.right
        kind = dict(TX_TYPES).get(t.type, t.type)
        c.bands.append(
            {
                "x": round(x0, 1),
                "width": round(max(x1 - x0, 3), 1),
                "label": f"L{t.line} {kind}",
                "label_x": round(x0 + 3, 1),
                "words": f"line {t.line}, {kind}, from {t.start.isoformat()}"
                + (f" to {t.end.isoformat()}" if t.end else ", ongoing"),
            }
        )
    seen: list[float] = []
    for label, value in thresholds:
        yy = round(y(value), 1)
        if any(abs(yy - s) < 9 for s in seen):
            continue  # two lines this close: their labels would overlap; the table has both
        seen.append(yy)
        c.lines.append({"y": yy, "label": f"{label} {_fmt(value)}", "kind": label.split()[0].lower()})
    by_series: dict[str, list[dict[str, Any]]] = {}
    for d, value, series, shown in points:
        by_series.setdefault(series, []).append(
            {
                "x": round(x(_days(d, first)), 1),
                "y": round(y(value), 1),
                "sx": round(x(_days(d, first)) - 3.5, 1),
                "sy": round(y(value) - 3.5, 1),
                "words": f"{d.isoformat()}: {shown}",
            }
        )
    for i, (name, pts) in enumerate(by_series.items()):
        c.series.append(
            {
                "name": name,
                "shape": "square" if name == "serum" else "circle",
                "index": i,
                "points": pts,
                "path": "M" + " L".join(f"{p['x']} {p['y']}" for p in pts),
            }
        )
    used = set()
    for d, letter, words in letters:
        used.add(letter)
        c.letters.append(
            {"x": round(x(_days(d, first)), 1), "letter": letter, "words": f"{d.isoformat()}: {words}"}
        )
    c.legend = [f"{code} {CATEGORY_WORDS[cat]}" for cat, code in LETTERS.items() if code in used]
    c.summary = f"{title}: " + "; ".join(f"{d.isoformat()} {shown}" for d, _, _, shown in points)
    return c


def _latest_with(results: Sequence[VisitResult], domain: str) -> DomainResult | None:
    for v in reversed(results):
        r = v.domains[domain]
        if r.baseline is not None:
            return r
    return None


def charts(timeline: Timeline, result: FollowUpResult, rules: FollowUpRules) -> list[Chart]:
    visits: tuple[Visit, ...] = timeline.visits
    results = result.visits
    out: list[Chart] = []
    vegf_points = [
        (
            v.date,
            v.numbers["vegf_pg_ml"].exact,
            v.choices.get("vegf_specimen", "unknown"),
            v.numbers["vegf_pg_ml"].show(),
        )
        for v in visits
        if "vegf_pg_ml" in v.numbers
    ]
    ref = _latest_with(results, "vegf")
    lines: list[tuple[str, Decimal]] = []
    if ref is not None and ref.baseline is not None:
        fall = rules.need("fu_vegf_pr_fall_pct")
        rise = rules.need("fu_vegf_prog_rise_pct")
        lines.append(("baseline", ref.baseline.measure.exact))
        lines.append((f"−{_fmt(fall)}%", ref.baseline.measure.exact * (1 - fall / 100)))
        if ref.nadir is not None:
            lines.append(("nadir", ref.nadir.measure.exact))
            lines.append((f"nadir +{_fmt(rise)}%", ref.nadir.measure.exact * (1 + rise / 100)))
    letters = [
        (r.date, LETTERS[r.domains["vegf"].category], CATEGORY_WORDS[r.domains["vegf"].category])
        for r in results
        if "vegf_pg_ml" in _visit(visits, r.date).numbers
    ]
    chart = _chart("chart-vegf", "VEGF", "pg/mL", vegf_points, lines, letters, timeline)
    if chart:
        out.append(chart)
    m_points = [
        (v.date, v.numbers["m_protein_g_dl"].exact, "M-protein", v.numbers["m_protein_g_dl"].show())
        for v in visits
        if "m_protein_g_dl" in v.numbers
    ]
    ref = _latest_with(results, "hem")
    lines = []
    if ref is not None and ref.baseline is not None:
        fall = rules.need("fu_hem_pr_fall_pct")
        rise, absolute = rules.need("fu_hem_prog_rise_pct"), rules.need("fu_hem_prog_abs_g_dl")
        lines.append(("baseline", ref.baseline.measure.exact))
        lines.append((f"−{_fmt(fall)}%", ref.baseline.measure.exact * (1 - fall / 100)))
        if ref.nadir is not None:
            low = ref.nadir.measure.exact
            lines.append(("nadir", low))
            # Both must hold (H-H3): the higher of the two is the line a value must pass.
            lines.append(
                (f"nadir +{_fmt(rise)}% and +{_fmt(absolute)}", max(low * (1 + rise / 100), low + absolute))
            )
    hem_letters = [
        (r.date, LETTERS[r.domains["hem"].category], CATEGORY_WORDS[r.domains["hem"].category])
        for r in results
        if r.domains["hem"].category != "not_done"
    ]
    chart = _chart("chart-mprotein", "M-protein", "g/dL", m_points, lines, hem_letters, timeline)
    if chart:
        out.append(chart)
    flc_points = [
        (v.date, v.numbers["flc_ratio"].exact, "FLC ratio", v.numbers["flc_ratio"].show())
        for v in visits
        if "flc_ratio" in v.numbers
    ]
    lines = []
    for v in reversed(visits):
        ref_low, ref_high = v.numbers.get("flc_ratio_ref_low"), v.numbers.get("flc_ratio_ref_high")
        if ref_low is not None and ref_high is not None:
            lines = [("lab high", ref_high.exact), ("lab low", ref_low.exact)]
            break
    chart = _chart(
        "chart-flc",
        "FLC ratio (κ/λ)",
        "ratio",
        flc_points,
        lines,
        hem_letters if not m_points else [],
        timeline,
    )
    if chart:
        out.append(chart)
    return out


def _visit(visits: Sequence[Visit], day: date) -> Visit:
    return next(v for v in visits if v.date == day)


# --- the whole answer ------------------------------------------------------------------------


def present(
    sheet: Flowsheet,
    timeline: Timeline | None,
    result: FollowUpResult | None,
    rules: FollowUpRules,
    care: CareContext,
    problems: Sequence[FieldProblem],
    today: date,
    system: str,
) -> dict[str, Any]:
    """Everything the page, the fragment, the print view and the note show."""
    errors = {p.name: p.message for p in problems if p.name}
    number_of = {}
    if timeline is not None:
        by_date = dict(zip((v["date"] for v in sheet.document["visits"]), sheet.visit_numbers, strict=False))
        number_of = {v.date: by_date.get(v.date.isoformat(), 0) for v in timeline.visits}
    visits: list[VisitView] = []
    if result is not None:
        for r in result.visits:
            visits.append(
                VisitView(
                    n=number_of.get(r.date, 0),
                    date=r.date.isoformat(),
                    domains=tuple(_domain_view(d, r.domains[d]) for d in DOMAINS),
                    flag=r.possible_progression,
                    flag_words=FLAG_WORDS.get(r.possible_progression, "no possible progression"),
                    triggers=tuple(_trigger_words(t) for t in r.triggers),
                )
            )
    latest = visits[-1] if visits else None
    cautions: list[dict[str, str]] = []
    if latest is not None:
        seen = set()
        for d in latest.domains:
            for c in d.cautions:
                key = (c["code"], c["message"])
                if key not in seen:
                    seen.add(key)
                    cautions.append(c | {"domain": d.name})
        cautions.sort(key=lambda c: c["level"] != "major")
    drawn = charts(timeline, result, rules) if timeline is not None and result is not None else []
    table = _data_table(timeline, result) if timeline is not None and result is not None else []
    context = {
        "sheet": sheet,
        "date_cells": date_cells(sheet, errors),
        "groups": sheet_groups(sheet, errors, system),
        "tx_rows": tx_rows(sheet, errors),
        "tx_types": TX_TYPES,
        "columns": list(range(1, sheet.visits + 1)),
        "problems": list(problems),
        "field_messages": [{"name": n, "text": t} for n, t in errors.items()],
        "visits": visits,
        "latest": latest,
        "cautions": cautions,
        "charts": drawn,
        "data_table": table,
        "content_version": care.content_version,
        "rules_version": rules.version,
        "disclaimer": care.disclaimer,
        "rules_disclaimer": rules.disclaimer,
        "today": today,
        "unit_system": system,
        "status_line": status_line(latest, problems),
    }
    context["note"] = note_text(context, timeline)
    return context


def status_line(latest: VisitView | None, problems: Sequence[FieldProblem]) -> str:
    if latest is None:
        return f"{len(problems)} value{'s' if len(problems) != 1 else ''} to fix" if problems else ""
    parts = [f"Latest visit {latest.date}"]
    parts += [f"{d.name} {d.words}" for d in latest.domains if d.category != "not_done"]
    if latest.flag:
        parts.append(latest.flag_words)
    if problems:
        parts.append(f"{len(problems)} value{'s' if len(problems) != 1 else ''} to fix")
    return ", ".join(parts)


def _data_table(timeline: Timeline, result: FollowUpResult) -> list[dict[str, str]]:
    rows = []
    for v, r in zip(timeline.visits, result.visits, strict=True):

        def shown(code: str, visit: Visit = v) -> str:
            m = visit.numbers.get(code)
            return m.show() if m is not None else "—"

        rows.append(
            {
                "date": v.date.isoformat(),
                "vegf": shown("vegf_pg_ml"),
                "specimen": v.choices.get("vegf_specimen", "—") if "vegf_pg_ml" in v.numbers else "—",
                "vegf_response": LETTERS[r.domains["vegf"].category],
                "m_protein": shown("m_protein_g_dl"),
                "flc_ratio": shown("flc_ratio"),
                "hem_response": LETTERS[r.domains["hem"].category],
                "pet_response": LETTERS[r.domains["pet"].category],
                "clinical_response": LETTERS[r.domains["clinical"].category],
            }
        )
    return rows


def note_text(context: dict[str, Any], timeline: Timeline | None) -> str:
    """About ten lines for the clinical note: the latest response per domain with its rule."""
    latest: VisitView | None = context["latest"]
    if latest is None or timeline is None:
        return ""
    today: date = context["today"]
    lines = [f"POEMSaid follow-up, {today.isoformat()}. Not a diagnosis."]
    first, last = timeline.visits[0].date.isoformat(), timeline.visits[-1].date.isoformat()
    tx = "; ".join(
        f"line {t.line} {t.type.replace('_', ' ')} from {t.start.isoformat()}"
        + (f" to {t.end.isoformat()}" if t.end else "")
        for t in timeline.treatments
    )
    lines.append(f"{len(timeline.visits)} visits, {first} to {last}. Treatment: {tx or 'none recorded'}.")
    lines.append(f"Latest visit {latest.date}:")
    for d in latest.domains:
        against = f", baseline {d.baseline}" if d.baseline else ""
        lines.append(f"- {d.name}: {d.words} ({d.rule}, {d.evidence_words}{against}).")
    flag = latest.flag_words if latest.flag else "no possible progression"
    trig = f" ({'; '.join(latest.triggers)})" if latest.triggers else ""
    lines.append(f"Progression flag: {flag}{trig}.")
    majors = [c["message"] for c in context["cautions"] if c["level"] == "major"]
    if majors:
        lines.append("Cautions: " + " ".join(majors))
    lines.append(f"Content {context['content_version']}; follow-up rules {context['rules_version']}.")
    lines.append(context["disclaimer"])
    return "\n".join(lines)


def loinc_map(loinc: dict[str, dict[str, Any]]) -> str:
    """For "Save to file": each follow-up code's LOINC code from the mapping content
    (the first active mapping by order), and its UCUM units. Serum immunofixation reads the
    mapping of "monoclonal protein present", which is that test's result."""
    targets = {"sife_result": "m_protein_present"}
    out: dict[str, dict[str, Any]] = {}
    rows = sorted(loinc.values(), key=lambda f: (f.get("order", 0), f["loinc_code"]))
    for code in [r.code for r in ROWS]:
        target = targets.get(code, code)
        found = [f for f in rows if f["target"] == target]
        if found:
            f = found[0]
            units = f.get("ucum_units") or {}
            # Ours -> UCUM: where two UCUM codes read as one of ours, the one listed first.
            ucum = {ours: theirs for theirs, ours in reversed(list(units.items()))}
            out[code] = {
                "code": f["loinc_code"],
                "display": f["display"],
                "also": [g["loinc_code"] for g in found[1:]],
                "ucum": ucum,
                "from_ucum": dict(units),
            }
    return json.dumps(out, sort_keys=True)


def unit_words(code: str) -> str:
    return display_unit(LABS[code].unit).strip()
