"""The result panel's HTML: ``{% result_panel %}`` inside the page's ``result`` partial.

Why Python and not the template language: the panel is rendered again on every
click (the live result, design.md §3.4 and issue 10), and Django's template
engine spent about 300 us a render on its own nodes and lookups, more than the
engine's evaluation of all three criteria sets. Built here with f-strings it
costs a fraction of that. The page, its partials (``result``, ``live``) and
the htmx swap are unchanged; only the panel's body is built here.

Escaping: every value goes through ``_e`` (case data, engine words) or
``_c`` (content strings, memoised: criterion names, labels, reference lines).
``tests/test_result_panel.py`` sends hostile text through every builder.
Nothing a clinician entered is memoised: ``_c`` is only ever given content.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable
from datetime import date
from typing import Any

from django import template
from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from checklist.engine.diagnosis.words import (
    criterion_word,
    evidence_word,
    group_word,
    status_headline,
    status_short,
)
from checklist.web.templatetags.checklist_tags import derived_word
from tests.legacy_report import (
    DRUGS_HEADING,
    MISSING_HEADING,
    NO_SCORE,
    RISKS_HEADING,
    WorkUpLine,
    before_treatment,
)

register = template.Library()  # never registered: the string builder kept for tests/test_result_parity.py


def _e(value: object) -> str:
    """Escape for HTML text and attribute values (quotes included)."""
    return html.escape(value if type(value) is str else str(value), quote=True)


@functools.lru_cache(maxsize=2048)
def _c(value: str) -> str:
    """Escape a content string (names, labels, words), remembered: the same few hundred recur.

    Never given case data: what a clinician typed is escaped afresh (``_e``) and not kept.
    """
    return html.escape(value, quote=True)


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


# --------------------------------------------------------------------------- lists


def criteria_items(criteria: Iterable[dict[str, Any]]) -> str:
    """The criteria with their reasons (the collapsed "Criteria, with reasons" list)."""
    out = []
    for c in criteria:
        status = _c(c["status"])
        reasons = "".join([f"<li>{_e(r)}</li>" for r in c["reasons"]])
        out.append(
            f'<li class="crit status-{status}" data-code="{_c(c["code"])}" '
            f'data-status="{status}" data-derived="{_c(derived_word(c["status"]))}">'
            f'<span class="badge-status">'
            f'{_c(criterion_word(c["status"]))}</span> <span class="crit-name">{_c(c["name"])}</span>'
            f' <span class="crit-group">({_c(group_word(c["group"]))})</span>'
            f'<ul class="reasons">{reasons}</ul></li>'
        )
    return "".join(out)


def print_criteria(criteria: Iterable[dict[str, Any]]) -> str:
    return "".join([f"<li>[{_c(criterion_word(c['status']))}] {_c(c['name'])}</li>" for c in criteria])


# A finding's value is one of our own two words; only typed values need escaping each time.
_OWN_WORDS = frozenset({"present", "absent"})


def entered_items(entered: Iterable[dict[str, str]]) -> str:
    return "".join(
        [
            f"<li>{_c(e['label'])}: {e['value'] if e['value'] in _OWN_WORDS else _e(e['value'])}</li>"
            for e in entered
        ]
    )


def chip_items(chips: Iterable[dict[str, str]]) -> str:
    return "".join(
        [
            f'<li class="chip status-{_c(c["status"])}"><span class="chip-short" aria-hidden="true">'
            f'{_c(c["short"])}</span><span class="chip-mark" aria-hidden="true"></span>'
            f'<span class="visually-hidden">{_c(c["name"])}: {_c(criterion_word(c["status"]))}</span></li>'
            for c in chips
        ]
    )


# Content codes to their page address: reverse() costs ~20 us, and the codes are few.
_DIFFERENTIAL_URLS: dict[str, str] = {}


def _differential_url(code: str) -> str:
    url = _DIFFERENTIAL_URLS.get(code)
    if url is None:
        url = _DIFFERENTIAL_URLS[code] = reverse("checklist:differential", args=[code])
    return url


def differential_items(differentials: Iterable[dict[str, Any]]) -> str:
    """Each flagged differential: a link to its page, then why it was flagged."""
    return "".join(
        [
            f'<li><a href="{_e(_differential_url(d["code"]))}">{_c(d["name"])}</a>: '
            f"{_e(' '.join(d['reasons']))}</li>"
            for d in differentials
        ]
    )


def missing_items(criteria: Iterable[dict[str, Any]], missing: Iterable[str]) -> str:
    """The criteria still needed, in the set's order, each linked to its line on the form."""
    wanted = set(missing)
    out = []
    for c in criteria:
        if c["code"] in wanted:
            settle = f": {_e(c['to_settle'])}" if c.get("to_settle") else ""
            out.append(f'<li><a href="#id_{_c(c["code"])}_0">{_c(c["name"])}</a>{settle}</li>')
    return "".join(out)


def comparison_rows(rows: Iterable[dict[str, Any]]) -> str:
    """The case under each criteria set: one table row per set."""
    return "".join(
        [
            f'<tr class="status-{_c(r["status"])}"><th scope="row">{_c(r["name"])}</th>'
            f"<td>{_c(status_short(r['status']))}</td><td>{_e(r['explanation'])}</td></tr>"
            for r in rows
        ]
    )


def reference_items(refs: Iterable[dict[str, Any]]) -> str:
    """References in short form, with the PMID, else the DOI."""
    out = []
    for r in refs:
        ident = (
            f" (PMID {_e(r['pmid'])})" if r.get("pmid") else f" (doi {_e(r['doi'])})" if r.get("doi") else ""
        )
        out.append(f"<li>{_c(r['short'])}{ident}</li>")
    return "".join(out)


_LINKS: dict[tuple[tuple[str, str], ...], str] = {}


def treatment_links(pages: Iterable[dict[str, Any]]) -> str:
    """Links to treatment pages, joined by " · ". Built once per list (content changes the key)."""
    key = tuple((str(p["slug"]), str(p["name"])) for p in pages)
    built = _LINKS.get(key)
    if built is None:
        built = " · ".join(
            f'<a href="{_e(reverse("checklist:treatment", args=[slug]))}">{_e(name)}</a>'
            for slug, name in key
        )
        if len(_LINKS) > 64:
            _LINKS.clear()
        _LINKS[key] = built
    return built


# --------------------------------------------------------------------------- sections


def _error_summary(errors: list[dict[str, str]]) -> str:
    if not errors:
        return ""
    items = "".join(
        [f'<li><a href="#{_e(e["id"])}">{_e(e["label"])}: {_e(e["message"])}</a></li>' for e in errors]
    )
    n = len(errors)
    return (
        '<section class="error-summary" aria-labelledby="error-summary-title">\n'
        f'<h2 class="error-summary-title" id="error-summary-title">{n} value{_plural(n)} left out: '
        f"fix to include</h2>\n<ul>{items}</ul>\n</section>"
    )


def _head(result: dict[str, Any] | None, major: list[dict[str, Any]], chips: list[dict[str, str]]) -> str:
    if result:
        caveats = (
            f'<span class="with-caveats">, with {len(major)} major caveat{_plural(len(major))}</span>'
            if major
            else ""
        )
        headline = (
            f'<p class="headline"><strong>{_e(status_headline(result["status"]))}</strong>{caveats} '
            f'<span class="under">under {_c(result["criteria_set"]["name"])}</span></p>\n'
        )
        if major:
            headline += (
                '<ul class="major-cautions">'
                + "".join([f"<li>{_e(c['message'])}</li>" for c in major])
                + "</ul>\n"
            )
    else:
        headline = '<p class="headline">Nothing entered yet. Start with the mandatory criteria.</p>\n'
    return (
        f'<div class="result-head">\n{headline}'
        f'<ol class="chips" aria-label="The criteria at a glance">{chip_items(chips)}</ol>\n'
        '<button type="button" class="btn btn-sm btn-outline-primary result-toggle" aria-expanded="false" '
        'aria-controls="result-detail">Full result</button>\n</div>\n'
    )


def _flags(ctx: dict[str, Any], result: dict[str, Any]) -> str:
    out = [
        '<section class="flags" aria-labelledby="flags-title">'
        '<h3 class="h6" id="flags-title">Differentials to consider or exclude</h3>\n'
    ]
    if result.get("differentials"):
        out.append(f'<ul class="differentials">{differential_items(result["differentials"])}</ul>\n')
    else:
        body = (ctx.get("no_differentials") or {}).get("body") or ""
        out.append(f'<p class="small">{_e(body)}</p>\n')
    minor = ctx.get("minor_cautions")
    if minor:
        items = "".join(
            [
                f"<li>{_e(c['message'])}"
                + (f' <span class="detail">{_e(c["detail"])}</span>' if c.get("detail") else "")
                + "</li>"
                for c in minor
            ]
        )
        out.append(f'<h3 class="h6">Cautions</h3><ul class="cautions">{items}</ul>\n')
    warnings = ctx.get("warnings")
    if warnings:
        items = "".join(
            [
                f'<li><a href="#id_{_e(w["code"])}">{_e(w["label"])}</a>: {_e(w["message"])}</li>'
                for w in warnings
            ]
        )
        out.append(f'<h3 class="h6">Check these values</h3><ul class="warnings">{items}</ul>\n')
    out.append("</section>\n")
    return "".join(out)


def _details(result: dict[str, Any]) -> str:
    """What is missing, the criteria with reasons and the set comparison (both collapsed)."""
    out = []
    if result.get("missing"):
        out.append(
            '<section class="missing" aria-labelledby="missing-title">'
            '<h3 class="h6" id="missing-title">Still needed to decide</h3>\n'
            f"<ul>{missing_items(result['criteria'], result['missing'])}</ul></section>\n"
        )
    out.append(
        '<details class="res-block" id="res-criteria"><summary>Criteria, with reasons</summary>\n'
        f'<ul class="criteria-list">{criteria_items(result["criteria"])}</ul>\n</details>\n'
    )
    if result.get("comparison"):
        out.append(
            '<details class="res-block" id="res-compare"><summary>Under each criteria set</summary>\n'
            '<table class="table table-sm compare"><caption class="visually-hidden">The case under each '
            "criteria set</caption>\n"
            '<thead><tr><th scope="col">Criteria set</th><th scope="col">Result</th>'
            '<th scope="col">Why</th></tr></thead>\n'
            f"<tbody>{comparison_rows(result['comparison'])}</tbody></table>\n</details>\n"
        )
    out.append(
        '<h3 class="h6 print-only">Criteria</h3>'
        f'<ul class="print-criteria print-only">{print_criteria(result["criteria"])}</ul>\n'
    )
    return "".join(out)


def _evidence(tag: str) -> str:
    """The evidence tag as a small label; an unverified number is never shown without it."""
    return f' <span class="ev ev-{_e(tag)}">{_c(evidence_word(tag))}</span>'


def _workup_list(heading: str, css: str, rows: tuple[WorkUpLine, ...]) -> str:
    if not rows:
        return ""
    items = "".join(
        f'<li>{_e(r.text)}{_evidence(r.evidence)} <span class="src">{_e(r.source)}</span></li>' for r in rows
    )
    return f'<h4 class="h6 mb-1">{_c(heading)}</h4>\n<ul class="small {css}">{items}</ul>\n'


def _before_treatment(result: dict[str, Any]) -> str:
    """clinical.md §j, once the chosen set is met: what the work-up still lacks and why, the
    extent or what would settle it, the risk factors present and the drug cautions, each with
    its source; the same lines as the notes (report.before_treatment). A disclosure, so it
    never pushes the answer out of view on a phone."""
    bt = before_treatment(result)
    if bt is None:
        return ""
    n = len(bt.missing)
    extent = _e(bt.extent)
    settle = f" To settle it: {_e(bt.to_settle)}" if bt.to_settle else ""
    no_score = f'<p class="small text-muted mb-1">{_c(NO_SCORE)}</p>\n' if bt.risks else ""
    return (
        '<details class="before-treatment" id="before-treatment">\n'
        f'<summary class="h6">Before treatment: {n} work-up item{_plural(n)} missing, '
        f"extent {extent}</summary>\n"
        # The extent's reasons stand in the treatment section just below; here only what settles it.
        f'<p class="small mb-1"><strong>Extent: {extent}.</strong>{settle}</p>\n'
        + _workup_list(MISSING_HEADING, "workup", bt.missing)
        + _workup_list(RISKS_HEADING, "risks", bt.risks)
        + no_score
        + _workup_list(DRUGS_HEADING, "drugs", bt.drugs)
        + "</details>\n"
    )


def _treatment(treatment: dict[str, Any]) -> str:
    out = ['<section class="treatment" aria-labelledby="treatment-title">\n']
    if treatment.get("met") and treatment.get("lead"):
        extent = treatment.get("extent")
        scope = (
            f" for {_e(extent)} disease"
            if extent in ("limited", "disseminated")
            else " (disease extent not known yet)"
        )
        out.append(
            f'<h3 class="h6" id="treatment-title">Treatment options discussed in the literature{scope}</h3>\n'
        )
        if treatment.get("reasons"):
            out.append(f'<p class="small">{_e(" ".join(treatment["reasons"]))}</p>\n')
        out.append(f'<p class="treatments-lead">{treatment_links(treatment["lead"])}</p>\n')
        if treatment.get("rest"):
            out.append(f'<p class="small mb-1">Also: {treatment_links(treatment["rest"])}</p>\n')
    else:
        title = (
            "Treatment options discussed in the literature"
            if treatment.get("met")
            else "If POEMS is confirmed: treatment options"
        )
        out.append(f'<h3 class="h6" id="treatment-title">{title}</h3>\n')
        out.append(f'<p class="small treatments-inline">{treatment_links(treatment.get("rest") or [])}</p>')
    out.append("</section>\n")
    return "".join(out)


def _references(refs: list[dict[str, Any]]) -> str:
    if not refs:
        return ""
    return (
        '<section class="refs small" aria-labelledby="refs-title">'
        '<h3 class="h6" id="refs-title">References</h3>\n'
        f"<ul>{reference_items(refs)}</ul></section>\n"
    )


def note_body(reports: dict[str, str]) -> str:
    """The two notes to copy: the short one (about ten lines) and the full report."""
    if not reports:
        return '<p class="small">Nothing to copy yet: enter the case first.</p>'
    return (
        '<label class="form-label small" for="report-short">Short note</label>\n'
        '<textarea id="report-short" class="form-control report-text" rows="6" readonly>'
        f"{_e(reports.get('short', ''))}</textarea>\n"
        '<button type="button" class="btn btn-sm btn-outline-primary mt-1 js-only copy-btn" '
        'data-copy="report-short">Copy short note</button>\n'
        '<label class="form-label small mt-2" for="report-full">Full report</label>\n'
        '<textarea id="report-full" class="form-control report-text" rows="6" readonly>'
        f"{_e(reports.get('full', ''))}</textarea>\n"
        '<button type="button" class="btn btn-sm btn-outline-primary mt-1 js-only copy-btn" '
        'data-copy="report-full">Copy full report</button>\n'
        '<span class="small ms-2 copy-status" role="status"></span>\n'
    )


@functools.cache
def _note_url() -> str:
    return reverse("checklist:note")


def _copy_note(reports: dict[str, str]) -> str:
    """The page (no JavaScript needed) carries the notes; the live result fetches them
    with htmx when the disclosure is opened (``checklist.web.views.note``)."""
    if reports:
        body, fetch = note_body(reports), ""
    else:
        body = '<p class="small note-loading">Preparing the note…</p>'
        fetch = (
            f' hx-post="{_note_url()}" hx-trigger="toggle once" hx-target="find .note-body"'
            ' hx-swap="innerHTML" hx-sync="this:replace"'
        )
    return (
        f'<details class="copy-note no-print" id="copy-note"{fetch}><summary>Copy to note</summary>\n'
        f'<div class="note-body">{body}</div></details>\n'
    )


def _footer(ctx: dict[str, Any], result: dict[str, Any]) -> str:
    today: date = ctx["today"]
    chosen = result["criteria_set"]
    out = [
        f'<p class="versions small">Criteria set {_c(chosen["name"])}, version {_e(chosen["version"])} · '
        f"content version {_e(result['content_version'])} · {today.isoformat()}</p>\n",
        _copy_note(ctx.get("reports") or {}),
    ]
    request: HttpRequest | None = ctx.get("request")
    # Only a signed-in request can be staff: without a session cookie the lazy user
    # (a session read and an auth lookup) is never loaded.
    if request is not None and settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_staff:
        out.append(render_to_string("checklist/_save_case.html", request=request))
    entered = ctx.get("entered")
    out.append(
        '<section class="print-only print-inputs"><h3 class="h6">Inputs, as entered</h3>\n'
        f"<ul>{entered_items(entered) if entered else '<li>None</li>'}</ul>\n"
        f"<p>{_e(result.get('disclaimer') or '')}</p></section>\n"
    )
    return "".join(out)


def result_html(ctx: dict[str, Any]) -> str:
    """The whole panel, in the order of issue 10: headline, flags, missing, criteria,
    comparison, treatment, references, then the note, print-only inputs and the notice."""
    result: dict[str, Any] | None = ctx.get("result")
    status = _e(result["status"]) if result else "empty"
    out = [
        f'<div id="result" class="result status-{status}" tabindex="-1">\n',
        _error_summary(ctx.get("errors") or []),
        _head(result, ctx.get("major_cautions") or [], ctx.get("chips") or []),
        '<div class="result-detail" id="result-detail">\n',
    ]
    if result:
        out.append(_flags(ctx, result))
        out.append(_details(result))
        out.append(_before_treatment(result))
    out.append(_treatment(ctx.get("treatment") or {}))
    out.append(_references(ctx.get("set_refs") or []))
    if result:
        out.append(_footer(ctx, result))
    out.append(
        '<p class="small result-notice"><strong>Not a diagnosis.</strong> The case is checked against '
        "published criteria; the clinical judgement is yours.</p>\n</div>\n</div>"
    )
    return "".join(out)


@register.simple_tag(takes_context=True)
def result_panel(context: template.Context) -> SafeString:
    values: dict[str, Any] = {str(k): v for k, v in context.flatten().items()}
    return mark_safe(result_html(values))  # every value escaped above


@register.simple_tag
def copy_note_body(reports: dict[str, str]) -> SafeString:
    return mark_safe(note_body(reports))  # every value escaped above
