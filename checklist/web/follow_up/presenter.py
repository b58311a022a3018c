"""One presenter for the follow-up: the page, the live fragment, the print view and the note
all read ``present`` (design.md §2: parse -> evaluate -> present).

The charts are laid out here as numbers (coordinates in an SVG viewBox) and drawn by a
template: no chart library, no script, no inline style (the CSP forbids both).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from checklist.content.care_rules import CareContext
from checklist.content.say import say
from checklist.content.words import evidence_word
from checklist.engine.follow_up.inputs import Timeline, Visit
from checklist.engine.follow_up.result import DOMAINS, Caution, DomainResult, FollowUpResult, VisitResult
from checklist.engine.follow_up.rules import FollowUpRules
from checklist.engine.inputs import display_unit
from checklist.engine.vocabulary import LABS

from .forms import (
    GROUPS,
    ROWS,
    SPECIMENS,
    TX_TYPES,
    FieldProblem,
    Flowsheet,
    Row,
    field_words,
    treatment_words,
    tx_field,
    visit_field,
    visit_words,
)

# English msgids (gettext_noop); said with gettext where the page is drawn, in its language.
DOMAIN_NAMES = {
    "vegf": gettext_noop("VEGF"),
    "hem": gettext_noop("Haematological"),
    "pet": gettext_noop("FDG-PET"),
    "clinical": gettext_noop("Clinical"),
}
DOMAIN_ABBR = {"vegf": "VEGF", "hem": gettext_noop("Haem"), "pet": "PET", "clinical": gettext_noop("Clin")}
CATEGORY_WORDS = {
    "cr": gettext_noop("complete response"),
    "vgpr": gettext_noop("very good partial response"),
    "pr": gettext_noop("partial response"),
    "stable": gettext_noop("stable"),
    "progression": gettext_noop("consistent with progression"),
    "progression_confounded": gettext_noop("a rise consistent with progression, but confounded"),
    "not_cr_unmeasurable": gettext_noop(
        "not a complete response (spike too small to measure a partial response)"
    ),
    "improved": gettext_noop("improved"),
    "worse": gettext_noop("worse"),
    "not_evaluable": gettext_noop("not evaluable"),
    "not_done": gettext_noop("not done at this visit"),
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
FLAG_WORDS = {
    True: gettext_noop("possible progression: review"),
    "confounded": gettext_noop("possible progression, confounded: review"),
}
NO_FLAG = gettext_noop("no possible progression")
SPECIMEN_WORDS = dict(SPECIMENS)


def category_words(category: str) -> str:
    return _(CATEGORY_WORDS[category]) if category in CATEGORY_WORDS else category


def specimen_words(specimen: str) -> str:
    return _(SPECIMEN_WORDS[specimen]) if SPECIMEN_WORDS.get(specimen) else specimen


# The one unit the engine writes as an English word after a number (ONLS and mRS: "4 points");
# every other unit is a symbol kept as entered.
_POINTS = re.compile(r"(?<=\d) points\b")


def units_said(text: str) -> str:
    """``text`` with the unit word "points" in the active language ("4 points" -> "4 点")."""
    if " points" not in text:
        return text
    word = _("points")
    return text if word == "points" else _POINTS.sub(" " + word, text)


def _lang(text: str) -> str:
    """The lang of an engine text as said: "en-GB" where it has no translation in the page's
    language (so the page declares it), else "" (the page's)."""
    return getattr(text, "lang", "")


@dataclass(frozen=True, slots=True)
class Cell:
    name: str
    value: str
    unit_name: str = ""
    unit_value: str = ""
    error: str = ""
    label: str = ""  # the accessible name: "Visit 2, VEGF"
    unit_label: str = ""  # its unit's: "Visit 2, VEGF, unit"


@dataclass(frozen=True, slots=True)
class SheetRow:
    """A row with its words in the page's language (the Row's are the English msgids)."""

    row: Row
    cells: tuple[Cell, ...]
    label: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    unit: str = ""

    @property
    def kind(self) -> str:
        return self.row.kind

    @property
    def units(self) -> tuple[tuple[str, str], ...]:
        return self.row.units


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
    reason_lang: str
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

    @property
    def legend_text(self) -> str:
        return _(", ").join(self.legend)

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


def _on(value: str, day: date) -> str:
    return _("%(value)s on %(date)s") % {"value": units_said(value), "date": day.isoformat()}


def _caution(c: Caution, language: str) -> dict[str, str]:
    said = say(c.message, language)
    level = _("Major") if c.level == "major" else _("Minor") if c.level == "minor" else c.level
    return c.as_dict() | {"rule": c.rule, "message": str(said), "lang": _lang(said), "level_words": level}


def _domain_view(name: str, r: DomainResult, language: str) -> DomainView:
    reason = say(r.reason, language)
    return DomainView(
        domain=name,
        name=_(DOMAIN_NAMES[name]),
        abbr=_(DOMAIN_ABBR[name]),
        category=r.category,
        words=category_words(r.category),
        letter=LETTERS.get(r.category, r.category),
        rule=r.rule,
        source=r.source,
        evidence=r.evidence,
        evidence_words=evidence_word(r.evidence),
        flagged_evidence=r.evidence in ("unverified", "app_convention"),
        reason=units_said(str(reason)) if not _lang(reason) else str(reason),
        reason_lang=_lang(reason),
        baseline=_on(r.baseline.measure.show(), r.baseline.date) if r.baseline else "",
        nadir=_on(r.nadir.measure.show(), r.nadir.date) if r.nadir else "",
        cautions=tuple(_caution(c, language) for c in r.cautions),
    )


def _trigger_words(t: dict[str, Any]) -> str:
    value = (t.get("value") or {}).get("shown", "")
    nadir = t.get("nadir") or {}
    domain = t["domain"]
    parts = [f"{_(DOMAIN_NAMES[domain]) if domain in DOMAIN_NAMES else domain} ({t['rule']})"]
    if value:
        parts.append(value)
    if nadir:
        parts.append(
            _("nadir %(value)s on %(date)s")
            % {"value": nadir.get("shown", ""), "date": nadir.get("date", "")}
        )
    words = _(", ").join(parts)
    return _("%(trigger)s (confounded)") % {"trigger": words} if t.get("confounded") else words


# --- the flowsheet ---------------------------------------------------------------------------


def default_unit(code: str, system: str) -> str:
    lab = LABS[code]
    return lab.si if system == "SI" else lab.unit


def sheet_groups(sheet: Flowsheet, errors: dict[str, str], system: str) -> tuple[SheetGroup, ...]:
    out = []
    for code, title in GROUPS:
        rows = []
        title = _(title)
        for row in ROWS:
            if row.group != code:
                continue
            cells = []
            label = _(row.label)
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
                        field_words(visit_words(n), label),
                        field_words(field_words(visit_words(n), label), _("unit")) if unit_name else "",
                    )
                )
            choices = tuple((v, _(w) if v else w) for v, w in row.choices)
            rows.append(SheetRow(row, tuple(cells), label, choices, _(row.unit) if row.unit else ""))
        out.append(SheetGroup(code, title, tuple(rows)))
    return tuple(out)


def date_cells(sheet: Flowsheet, errors: dict[str, str]) -> tuple[Cell, ...]:
    return tuple(
        Cell(
            visit_field(n, "date"),
            sheet.value(visit_field(n, "date")),
            error=errors.get(visit_field(n, "date"), ""),
            label=field_words(visit_words(n), _("date")),
        )
        for n in range(1, sheet.visits + 1)
    )


def tx_rows(sheet: Flowsheet, errors: dict[str, str]) -> tuple[TxRow, ...]:
    def cell(n: int, name: str, label: str) -> Cell:
        f = tx_field(n, name)
        return Cell(f, sheet.value(f), error=errors.get(f, ""), label=field_words(treatment_words(n), label))

    return tuple(
        TxRow(n, cell(n, "type", _("type")), cell(n, "start", _("start")), cell(n, "end", _("end")))
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
    thresholds: Sequence[tuple[str, str, Decimal]],  # (kind, label, value)
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
    top = max([float(p[1]) for p in points] + [float(t[2]) for t in thresholds] + [0.0]) * 1.12 or 1.0
    ticks = _nice_ticks(top)
    top = max(top, ticks[-1])
    y = _scale(0, top, c.bottom, c.top)
    c.y_ticks = [{"y": round(y(t), 1), "label": _fmt(t)} for t in ticks]
    # At most about five date labels, at visits, so that they do not overlap.
    visit_days = sorted({v.date for v in timeline.visits})
    stride = max(1, -(-len(visit_days) // 5))
    c.x_ticks = [{"x": round(x(_days(d, first)), 1), "label": month_label(d)} for d in visit_days[::stride]]
    for t in timeline.treatments:
        x0 = x(_days(t.start, first))
        x1 = x(_days(t.end, first)) if t.end else c.right
        kind = tx_words(t.type)
        span = {"line": str(t.line), "kind": kind, "start": t.start.isoformat()}
        c.bands.append(
            {
                "x": round(x0, 1),
                "width": round(max(x1 - x0, 3), 1),
                "label": _("L%(line)s %(kind)s") % span,
                "label_x": round(x0 + 3, 1),
                "words": _("line %(line)s, %(kind)s, from %(start)s to %(end)s")
                % (span | {"end": t.end.isoformat()})
                if t.end
                else _("line %(line)s, %(kind)s, from %(start)s, ongoing") % span,
            }
        )
    seen: list[float] = []
    for kind, label, value in thresholds:
        yy = round(y(value), 1)
        if any(abs(yy - s) < 9 for s in seen):
            continue  # two lines this close: their labels would overlap; the table has both
        seen.append(yy)
        c.lines.append({"y": yy, "label": f"{label} {_fmt(value)}", "kind": kind})
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
                "name": series_words(name),
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
    c.legend = [f"{code} {category_words(cat)}" for cat, code in LETTERS.items() if code in used]
    c.summary = f"{title}: " + "; ".join(f"{d.isoformat()} {shown}" for d, _, _, shown in points)
    return c


def month_label(d: date) -> str:
    """A date axis label: "Jan 2026" in English, "2026年1月" in Japanese and Chinese."""
    return date_format(d, _("M Y"))


def tx_words(kind: str) -> str:
    words = dict(TX_TYPES).get(kind)
    return _(words) if words else kind


# The charts' series: a specimen (VEGF) or a measure (one series each).
_SERIES = {"M-protein": gettext_noop("M-protein"), "FLC ratio": gettext_noop("FLC ratio")}


def series_words(name: str) -> str:
    return _(_SERIES[name]) if name in _SERIES else specimen_words(name)


def _latest_with(results: Sequence[VisitResult], domain: str) -> DomainResult | None:
    for v in reversed(results):
        r = v.domains[domain]
        if r.baseline is not None:
            return r
    return None


def charts(timeline: Timeline, result: FollowUpResult, rules: FollowUpRules) -> list[Chart]:
    """The charts, their words in the active language (titles, thresholds, letters)."""
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
    lines: list[tuple[str, str, Decimal]] = []
    if ref is not None and ref.baseline is not None:
        fall = rules.need("fu_vegf_pr_fall_pct")
        rise = rules.need("fu_vegf_prog_rise_pct")
        lines.append(("baseline", _("baseline"), ref.baseline.measure.exact))
        lines.append(("fall", f"−{_fmt(fall)}%", ref.baseline.measure.exact * (1 - fall / 100)))
        if ref.nadir is not None:
            lines.append(("nadir", _("nadir"), ref.nadir.measure.exact))
            lines.append(
                (
                    "nadir",
                    _("nadir +%(rise)s%%") % {"rise": _fmt(rise)},
                    ref.nadir.measure.exact * (1 + rise / 100),
                )
            )
    letters = [
        (r.date, LETTERS[r.domains["vegf"].category], category_words(r.domains["vegf"].category))
        for r in results
        if "vegf_pg_ml" in _visit(visits, r.date).numbers
    ]
    chart = _chart("chart-vegf", _("VEGF"), "pg/mL", vegf_points, lines, letters, timeline)
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
        lines.append(("baseline", _("baseline"), ref.baseline.measure.exact))
        lines.append(("fall", f"−{_fmt(fall)}%", ref.baseline.measure.exact * (1 - fall / 100)))
        if ref.nadir is not None:
            low = ref.nadir.measure.exact
            lines.append(("nadir", _("nadir"), low))
            # Both must hold (H-H3): the higher of the two is the line a value must pass.
            lines.append(
                (
                    "nadir",
                    _("nadir +%(rise)s%% and +%(absolute)s")
                    % {"rise": _fmt(rise), "absolute": _fmt(absolute)},
                    max(low * (1 + rise / 100), low + absolute),
                )
            )
    hem_letters = [
        (r.date, LETTERS[r.domains["hem"].category], category_words(r.domains["hem"].category))
        for r in results
        if r.domains["hem"].category != "not_done"
    ]
    chart = _chart("chart-mprotein", _("M-protein"), "g/dL", m_points, lines, hem_letters, timeline)
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
            lines = [("lab", _("lab high"), ref_high.exact), ("lab", _("lab low"), ref_low.exact)]
            break
    chart = _chart(
        "chart-flc",
        _("FLC ratio (κ/λ)"),
        _("ratio"),
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
    note_language: str = "",
    disclaimer: str = "",
) -> dict[str, Any]:
    """Everything the page, the fragment, the print view and the note show, in the active
    language; the note in ``note_language`` (the page's unless English is asked for).
    ``disclaimer``: the release's in the page's language (the engine's is the English)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
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
                    domains=tuple(_domain_view(d, r.domains[d], language) for d in DOMAINS),
                    flag=r.possible_progression,
                    flag_words=_(FLAG_WORDS.get(r.possible_progression, NO_FLAG)),
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
        "tx_types": tuple((v, _(w) if v else w) for v, w in TX_TYPES),
        "js_words": js_words(),
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
        "disclaimer": disclaimer or care.disclaimer,
        "rules_disclaimer": disclaimer or rules.disclaimer,
        "today": today,
        "unit_system": system,
        "status_line": status_line(latest, problems),
    }
    context["note_lang"] = note_language or language
    context["note_switch"] = not language.lower().startswith("en")
    if note_language and note_language != language:
        # The note alone in another language (English for a referral letter): its own words,
        # the engine's English texts and the English disclaimer.
        with translation.override(note_language):
            again = present(sheet, timeline, result, rules, care, problems, today, system)
        context["note"] = again["note"]
    else:
        context["note"] = note_text(context, timeline)
    return context


def to_fix(count: int) -> str:
    return ngettext("%(n)s value to fix", "%(n)s values to fix", count) % {"n": count}


def js_words() -> list[tuple[str, str]]:
    """follow_up.js's words, in the page's language, for data-w-* attributes on the form (the
    script writes no words of its own). "{n}" is where it puts a number."""
    return [
        ("visit", visit_words("{n}")),
        ("treatment", treatment_words("{n}")),
        ("sep", _("%(head)s, %(what)s") % {"head": "", "what": ""}),
        ("remove-visit", _(" visit %(n)s") % {"n": "{n}"}),
        ("remove-treatment", _(" treatment %(n)s") % {"n": "{n}"}),
        (
            "stale",
            _(
                "Could not update: this answer is for earlier entries. "
                "Change any value or press Show result to try again."
            ),
        ),
        ("stale-status", _("Could not update the answer")),
        ("copied", _("Copied.")),
        ("press-copy", _("Press Ctrl+C to copy.")),
        ("saved", _("Saved %(n)s observations.") % {"n": "{n}"}),
        (
            "saved-local",
            _("%(n)s measures have no LOINC mapping and were saved with a local code.") % {"n": "{n}"},
        ),
        ("saved-skipped", _("Visit %(n)s has no date and was not saved.") % {"n": "{n}"}),
        (
            "open-failed",
            _("Could not open the file: it is not a follow-up saved by POEMSaid (a FHIR Bundle)."),
        ),
        ("opened", _("Opened %(n)s visits.") % {"n": "{n}"}),
        (
            "opened-unread",
            _("Opened %(n)s visits; %(unread)s entries not read.") % {"n": "{n}", "unread": "{u}"},
        ),
    ]


def status_line(latest: VisitView | None, problems: Sequence[FieldProblem]) -> str:
    if latest is None:
        return to_fix(len(problems)) if problems else ""
    parts = [_("Latest visit %(date)s") % {"date": latest.date}]
    parts += [f"{d.name} {d.words}" for d in latest.domains if d.category != "not_done"]
    if latest.flag:
        parts.append(latest.flag_words)
    if problems:
        parts.append(to_fix(len(problems)))
    return _(", ").join(parts)


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
                "specimen": specimen_words(v.choices.get("vegf_specimen", "—"))
                if "vegf_pg_ml" in v.numbers
                else "—",
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
    lines = [_("POEMSaid follow-up, %(date)s. Not a diagnosis.") % {"date": today.isoformat()}]
    first, last = timeline.visits[0].date.isoformat(), timeline.visits[-1].date.isoformat()
    tx = _("; ").join(
        (
            _("line %(line)s %(kind)s from %(start)s to %(end)s")
            if t.end
            else _("line %(line)s %(kind)s from %(start)s")
        )
        % {
            "line": t.line,
            "kind": tx_words(t.type),
            "start": t.start.isoformat(),
            "end": t.end.isoformat() if t.end else "",
        }
        for t in timeline.treatments
    )
    lines.append(
        ngettext(
            "%(n)s visit, %(first)s to %(last)s. Treatment: %(treatment)s.",
            "%(n)s visits, %(first)s to %(last)s. Treatment: %(treatment)s.",
            len(timeline.visits),
        )
        % {"n": len(timeline.visits), "first": first, "last": last, "treatment": tx or _("none recorded")}
    )
    lines.append(_("Latest visit %(date)s:") % {"date": latest.date})
    for d in latest.domains:
        against = _(", baseline %(baseline)s") % {"baseline": d.baseline} if d.baseline else ""
        lines.append(
            _("- %(domain)s: %(words)s (%(rule)s, %(evidence)s%(against)s).")
            % {
                "domain": d.name,
                "words": d.words,
                "rule": d.rule,
                "evidence": d.evidence_words,
                "against": against,
            }
        )
    flag = latest.flag_words if latest.flag else _(NO_FLAG)
    trig = f" ({_('; ').join(latest.triggers)})" if latest.triggers else ""
    lines.append(_("Progression flag: %(flag)s%(triggers)s.") % {"flag": flag, "triggers": trig})
    majors = [c["message"] for c in context["cautions"] if c["level"] == "major"]
    if majors:
        lines.append(_("Cautions: %(cautions)s") % {"cautions": " ".join(majors)})
    lines.append(
        _("Content %(content)s; follow-up rules %(rules)s.")
        % {"content": context["content_version"], "rules": context["rules_version"]}
    )
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
