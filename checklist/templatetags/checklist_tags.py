"""Words for the result's machine codes. Tested as plain functions."""

from __future__ import annotations

import html
from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from ..engine.result import Status, Verdict
from ..engine.rulebook import display_unit
from ..engine.vocabulary import Group

register = template.Library()

# Keyed by the engine's enums (StrEnum: they look up by the JSON strings too), so a status
# word is defined once, in the engine. "Unknown" rather than "not assessed": since §f.2 A1 a
# criterion can be unknown with its value given (the specimen or sex decides); the reason says why.
_CRITERION: dict[str, str] = {Status.MET: "met", Status.NOT_MET: "not met", Status.UNKNOWN: "unknown"}
_HEADLINE: dict[str, str] = {
    Verdict.MET: "Meets the criteria",
    Verdict.NOT_MET: "Does not meet the criteria",
    Verdict.INCOMPLETE: "Incomplete: cannot be decided yet",
}
# How a case moves in a regression message: "from Meets to Does not meet".
_VERB: dict[str, str] = {
    Verdict.MET: "Meets",
    Verdict.NOT_MET: "Does not meet",
    Verdict.INCOMPLETE: "Incomplete",
}
_SHORT: dict[str, str] = {Verdict.MET: "Met", Verdict.NOT_MET: "Not met", Verdict.INCOMPLETE: "Incomplete"}
_GROUP: dict[str, str] = {Group.MANDATORY: "mandatory", Group.MAJOR: "other major", Group.MINOR: "minor"}


def verdict_verb(status: str) -> str:
    return _VERB.get(status, status)


@register.filter
def criterion_word(status: str) -> str:
    return _CRITERION.get(status, status)


@register.filter
def status_headline(status: str) -> str:
    return _HEADLINE.get(status, status)


@register.filter
def status_short(status: str) -> str:
    return _SHORT.get(status, status)


@register.filter
def group_word(group: str) -> str:
    return _GROUP.get(group, group)


@register.filter
def paragraphs(text: str) -> list[dict[str, object]]:
    """Split plain content text into paragraphs and bullet lists (lines starting '- ')."""
    blocks: list[dict[str, object]] = []
    for chunk in (text or "").replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.strip().split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            blocks.append({"list": [line[2:] for line in lines]})
        else:
            bullets = [line[2:] for line in lines if line.startswith("- ")]
            text_lines = [line for line in lines if not line.startswith("- ")]
            blocks.append({"text": " ".join(text_lines)})
            if bullets:
                blocks.append({"list": bullets})
    return blocks


@register.filter
def at(mapping: Any, key: str) -> Any:
    """``mapping[key]`` or "" (a QueryDict gives its last value)."""
    if not mapping:
        return ""
    value = mapping.get(key, "")
    return "" if value is None else value


@register.filter
def has_any(mapping: Any, codes: Any) -> bool:
    """True when any of ``codes`` holds a value: its disclosure opens by itself."""
    if not mapping:
        return False
    return any(mapping.get(code) not in (None, "") for code in codes)


@register.simple_tag
def chosen_unit(values: Any, item: Any, system: str) -> str:
    """The unit posted for a lab, else the page's unit system (SI or US)."""
    posted = values.get(f"{item.code}__unit") if values else None
    if posted:
        return str(posted)
    return str(item.si_unit if system == "SI" else item.us_unit)


@register.filter
def unit_word(unit: str) -> str:
    return display_unit(unit).strip() or unit


# The result is re-rendered on every change, so its longest lists are built here
# with the standard library's escape and f-strings: several times faster than the
# template loops or format_html_join (whose lazy-string handling dominates).


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


# What a criterion line says when its own control is "Not assessed" and the details
# beneath it (sub-findings, labs) decide it anyway.
_DERIVED: dict[str, str] = {
    Status.MET: "Met, from the details below",
    Status.NOT_MET: "Not met, from the details below",
}


@register.filter
def derived_word(status: str) -> str:
    return _DERIVED.get(status, "")


@register.simple_tag
def criteria_items(criteria: list[dict[str, Any]]) -> str:
    """The criteria with their reasons (the collapsed "Criteria, with reasons" list)."""
    out = []
    for c in criteria:
        reasons = "".join(f"<li>{_e(r)}</li>" for r in c["reasons"])
        out.append(
            f'<li class="crit status-{_e(c["status"])}" data-code="{_e(c["code"])}" '
            f'data-status="{_e(c["status"])}" data-derived="{_e(derived_word(c["status"]))}">'
            f'<span class="badge-status">'
            f'{_e(criterion_word(c["status"]))}</span> <span class="crit-name">{_e(c["name"])}</span>'
            f' <span class="crit-group">({_e(group_word(c["group"]))})</span>'
            f'<ul class="reasons">{reasons}</ul></li>'
        )
    return mark_safe("".join(out))  # every value escaped above


@register.simple_tag
def print_criteria(criteria: list[dict[str, Any]]) -> str:
    return mark_safe(
        "".join(f"<li>[{_e(criterion_word(c['status']))}] {_e(c['name'])}</li>" for c in criteria)
    )


@register.simple_tag
def entered_items(entered: list[dict[str, str]]) -> str:
    return mark_safe("".join(f"<li>{_e(e['label'])}: {_e(e['value'])}</li>" for e in entered))


@register.simple_tag
def chip_items(chips: list[dict[str, str]]) -> str:
    return mark_safe(
        "".join(
            f'<li class="chip status-{_e(c["status"])}"><span class="chip-short" aria-hidden="true">'
            f'{_e(c["short"])}</span><span class="chip-mark" aria-hidden="true"></span>'
            f'<span class="visually-hidden">{_e(c["name"])}: {_e(criterion_word(c["status"]))}</span></li>'
            for c in chips
        )
    )


# Content codes to their page address: reverse() costs ~20 us, and the codes are few.
_DIFFERENTIAL_URLS: dict[str, str] = {}


def _differential_url(code: str) -> str:
    url = _DIFFERENTIAL_URLS.get(code)
    if url is None:
        url = _DIFFERENTIAL_URLS[code] = reverse("checklist:differential", args=[code])
    return url


@register.simple_tag
def differential_items(differentials: list[dict[str, Any]]) -> str:
    """Each flagged differential: a link to its page, then why it was flagged."""
    return mark_safe(
        "".join(
            f'<li><a href="{_e(_differential_url(d["code"]))}">{_e(d["name"])}</a>: '
            f"{_e(' '.join(d['reasons']))}</li>"
            for d in differentials
        )
    )


@register.simple_tag
def missing_items(criteria: list[dict[str, Any]], missing: list[str]) -> str:
    """The criteria still needed, in the set's order, each linked to its line on the form."""
    wanted = set(missing)
    out = []
    for c in criteria:
        if c["code"] in wanted:
            settle = f": {_e(c['to_settle'])}" if c.get("to_settle") else ""
            out.append(f'<li><a href="#id_{_e(c["code"])}_0">{_e(c["name"])}</a>{settle}</li>')
    return mark_safe("".join(out))


@register.simple_tag
def comparison_rows(rows: list[dict[str, Any]]) -> str:
    """The case under each criteria set: one table row per set."""
    return mark_safe(
        "".join(
            f'<tr class="status-{_e(r["status"])}"><th scope="row">{_e(r["name"])}</th>'
            f"<td>{_e(status_short(r['status']))}</td><td>{_e(r['explanation'])}</td></tr>"
            for r in rows
        )
    )


@register.simple_tag
def reference_items(refs: list[dict[str, Any]]) -> str:
    """References in short form, with the PMID, else the DOI."""
    out = []
    for r in refs:
        ident = (
            f" (PMID {_e(r['pmid'])})" if r.get("pmid") else f" (doi {_e(r['doi'])})" if r.get("doi") else ""
        )
        out.append(f"<li>{_e(r['short'])}{ident}</li>")
    return mark_safe("".join(out))


_LINKS: dict[tuple[tuple[str, str], ...], str] = {}


@register.simple_tag
def treatment_links(pages: list[dict[str, Any]]) -> str:
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
    return mark_safe(built)  # every value escaped above


@register.simple_tag
def set_subfindings(rule: Any) -> list[dict[str, Any]]:
    """The sub-findings each criterion of ``rule`` counts, as that set counts them (/criteria).

    A set can leave sub-findings out (``Finding.not_in_sets``: acrocyanosis,
    flushing and pericardial effusion under Mayo 2003) and can predate the
    2007 diabetes/thyroid caveat; the page shows the set's own list, read
    from the live release the view is showing.
    """
    from ..content import snapshot  # the live release's rule book, cached per process

    book = snapshot().book
    out = []
    for code in rule.codes:
        subs = book.subfinding_list(code, rule.slug)
        if subs is None:
            continue
        out.append(
            {
                "name": rule.labels.get(code) or book.criterion_names.get(code, code),
                "counted": [book.label(f) for f in subs.qualifying],
                "alone_not": [book.label(f) for f in subs.non_qualifying],
                "not_counted": [book.label(f) for f in subs.not_counted],
            }
        )
    return out
