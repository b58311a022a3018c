"""The result panel, rendered from its templates: ``{% result_panel %}`` inside the page's
``result`` partial, and the same templates for the live fragment and the notes' body.

What it shows is the presenter's (``checklist.web.presenters.diagnosis.ResultView``); its
markup is ``templates/checklist/_result*.html``. No HTML is built here.

Why Jinja2: the panel is rendered again on every click (the live result, design.md §3.4).
Both engines were timed on the same templates (written then in the syntax the two share,
commit b421495; bench/README.md): Django's engine, cached loader and all, took about three
times Jinja2's time, and both several times the string builder they replace. Jinja2 with
its partials inlined when compiled (``checklist.web.jinja``) came back to about twice the
string builder. The templates go through Django's ``jinja2`` backend (``TEMPLATES``), and
each compiled template is kept for the process here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Protocol

from django import template
from django.http import HttpRequest
from django.template import engines
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from checklist.web.presenters import diagnosis
from checklist.web.presenters.diagnosis import ResultView

register = template.Library()


class _Template(Protocol):
    def render(self, context: dict[str, Any] | None = None, request: HttpRequest | None = None) -> str: ...


@cache
def _template(name: str) -> _Template:
    """A compiled template, kept for the process (the engine's own cache would look it up by
    name, and check it is up to date, on every render)."""
    compiled: _Template = engines["jinja2"].get_template(name)
    return compiled


def render(name: str, context: dict[str, Any]) -> str:
    return _template(name).render(context)


def panel_html(view: ResultView, request: HttpRequest | None = None) -> str:
    """The whole panel, in the order of issue 10: headline, flags, missing, criteria,
    comparison, treatment, references, then the note, print-only inputs and the notice."""
    save_case = (
        mark_safe(render_to_string("checklist/_save_case.html", request=request))  # a rendered template
        if view.staff and request is not None
        else ""
    )
    return render("checklist/_result.html", {"v": view, "reports": view.reports, "save_case": save_case})


def result_html(ctx: Mapping[str, Any]) -> str:
    """The panel from the presenter's parts (``diagnosis.parts``; tests hand in their own)."""
    return panel_html(diagnosis.shape(ctx), ctx.get("request"))


def note_body(reports: Mapping[str, str]) -> str:
    """The two notes to copy: the short one (about ten lines) and the full report."""
    return render("checklist/_result_note.html", {"reports": reports})


def _list(name: str, **view: Any) -> str:
    """One of the panel's lists on its own (its partial), for tests of its escaping."""
    return render(f"checklist/{name}.html", {"v": _Parts(**view)})


class _Parts:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def criteria_items(criteria: Iterable[Mapping[str, Any]]) -> str:
    return _list("_result_criteria", criteria=diagnosis.criteria(criteria))


def print_criteria(criteria: Iterable[Mapping[str, Any]]) -> str:
    return _list("_result_print_criteria", criteria=diagnosis.criteria(criteria))


def entered_items(entered: Iterable[Mapping[str, str]]) -> str:
    return _list("_result_entered", entered=diagnosis.entered(entered))


def chip_items(chips: Iterable[Mapping[str, str]]) -> str:
    return _list("_result_chips", chips=diagnosis.chips(chips))


def differential_items(differentials: Iterable[Mapping[str, Any]]) -> str:
    return _list("_result_differentials", differentials=diagnosis.differentials(differentials))


def missing_items(criteria: Iterable[Mapping[str, Any]], missing: Iterable[str]) -> str:
    return _list("_result_missing", missing=diagnosis.missing(criteria, missing))


def comparison_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    return _list("_result_compare", comparison=diagnosis.comparison(rows))


def reference_items(refs: Iterable[Mapping[str, Any]]) -> str:
    return _list("_result_refs", references=diagnosis.references(refs))


def _before_treatment(result: Mapping[str, Any]) -> str:
    """The before-treatment section alone (clinical.md §j), or "" when the engine sent none."""
    section = diagnosis.before_treatment(result)
    if section is None:
        return ""
    return _list("_result_before_treatment", before_treatment=section)


@register.simple_tag(takes_context=True)
def result_panel(context: template.Context) -> SafeString:
    return mark_safe(panel_html(context["view"], context.get("request")))  # escaped by its template


@register.simple_tag
def copy_note_body(reports: Mapping[str, str]) -> SafeString:
    return mark_safe(note_body(reports))  # escaped by its template
