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
from django.conf import settings
from django.http import HttpRequest
from django.template import engines
from django.template.backends.jinja2 import Jinja2
from django.template.backends.jinja2 import Template as Jinja2Template
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import trans_real

from checklist.web import jinja
from checklist.web.presenters import diagnosis
from checklist.web.presenters.diagnosis import ResultView

register = template.Library()


class _Template(Protocol):
    def render(self, context: dict[str, Any] | None = None, request: HttpRequest | None = None) -> str: ...


@cache
def _template(name: str, language: str) -> _Template:
    """A compiled template in one language, kept for the process (the engine's own cache would
    look it up by name, and check it is up to date, on every render). Its interface strings
    were translated when it was compiled (``checklist.web.jinja.for_language``)."""
    backend = engines["jinja2"]
    assert isinstance(backend, Jinja2)
    env = jinja.for_language(language, trans_real.translation(language))
    compiled: _Template = Jinja2Template(env.get_template(name), backend)
    return compiled


def render(name: str, context: dict[str, Any]) -> str:
    """The template in the active language (English when none is active)."""
    return _template(name, translation.get_language() or settings.LANGUAGE_CODE).render(context)


def panel_html(view: ResultView, request: HttpRequest | None = None) -> str:
    """The whole panel, in the order of issue 10: headline, flags, missing, criteria,
    comparison, treatment, references, then the note, print-only inputs and the notice."""
    save_case = (
        mark_safe(render_to_string("checklist/_save_case.html", request=request))  # a rendered template
        if view.staff and request is not None
        else ""
    )
    language = translation.get_language() or settings.LANGUAGE_CODE
    return render(
        "checklist/_result.html",
        {"v": view, "reports": view.reports, "save_case": save_case, **_note_switch(language, language)},
    )


def result_html(ctx: Mapping[str, Any]) -> str:
    """The panel from the presenter's parts (``diagnosis.parts``; tests hand in their own)."""
    return panel_html(diagnosis.shape(ctx), ctx.get("request"))


def note_body(reports: Mapping[str, str], page_language: str = "", note_language: str = "") -> str:
    """The two notes to copy: the short one (about ten lines) and the full report, in
    ``note_language``, with the page's words (labels, buttons) in the page's language."""
    page = page_language or translation.get_language() or settings.LANGUAGE_CODE
    context = {"reports": reports, **_note_switch(page, note_language or page)}
    with translation.override(page):
        return render("checklist/_result_note.html", context)


def _note_switch(page_language: str, note_language: str) -> dict[str, Any]:
    """What the note's language control offers: on an English page nothing; on another, the
    English note (for a referral letter), or back to the page's language once it is English."""
    english = settings.LANGUAGE_CODE
    if page_language == english:
        return {"note_switch": "", "note_lang_url": ""}
    if note_language == english:
        return {"note_switch": "page", "note_lang_url": diagnosis.note_url()}
    return {"note_switch": "en", "note_lang_url": diagnosis.note_url() + "?note_lang=en"}


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
