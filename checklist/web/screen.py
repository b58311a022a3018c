"""The CIDP clinic screen page, /screen: "Could this neuropathy be POEMS?" (clinical.md §i, design.md §3.10).

Thin, as the checklist: read the posted fields into the screen's input shape,
ask the engine, present. The rules and the version/disclaimer come only from
``content.care_rules`` (the API, the CLI and the EHR read the same ones).

Form fields follow the checklist's convention (design.md §3.4): each field's
name is the screen code; a finding takes ``yes``, ``no`` or empty (not
assessed); a lab takes its number as typed and its unit as ``<code>__unit``;
a choice its value; a date ``YYYY-MM-DD``. A bad value never blanks the
answer: the engine names the field, that field is left out, and the rest is
screened. Nothing posted is stored or logged.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from checklist.content.care_rules import care_context, screen_rules
from checklist.content.rule_book import snapshot
from checklist.content.say import say
from checklist.engine.inputs import InputError, display_unit, read_number_text
from checklist.engine.screen import ScreenRules, parse_screen, run_screen, screen_output
from checklist.engine.screen.flags import CHOICE_WORDS
from checklist.engine.vocabulary import LABS
from checklist.web.forms import MAX_TEXT, layout_for, read_posted, unit_field
from checklist.web.presenters.screen import (
    CHECKLIST_FIELDS,
    CONTEXT_CODE,
    NO,
    YES,
    Screened,
    ScreenView,
    present,
)
from checklist.web.templatetags.result_panel import render as render_jinja
from checklist.web.views import no_store

__all__ = ["CHECKLIST_FIELDS", "NO", "YES"]  # re-exported: the tests and the CLI name them here


def _twice(data: Any) -> set[str]:
    twice = getattr(data, "twice", None)
    if twice is not None:
        return set(twice)
    if hasattr(data, "getlist"):
        return {name for name in data if len(data.getlist(name)) > 1}
    return set()


def read_form(data: Any, rules: ScreenRules) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """Posted fields -> (echo of the fields, the screen's ``values``, field messages)."""
    echo: dict[str, str] = {}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if not data:
        return echo, values, errors
    twice = _twice(data)
    for code in rules.input_codes:
        spec = rules.inputs[code]
        names = (code, unit_field(code)) if spec.kind == "lab" else (code,)
        for name in names:
            raw = data.get(name)
            if isinstance(raw, str) and raw:
                echo[name] = raw[: MAX_TEXT * 2]
        raw = data.get(code)
        if code in twice:
            errors[code] = _("Given twice; enter it once.")
            continue
        if not isinstance(raw, str) or not raw:
            continue  # missing or empty: not assessed
        if len(raw) > MAX_TEXT:
            errors[code] = _("At most %(num)s characters.") % {"num": MAX_TEXT}
            continue
        if spec.kind == "finding":
            if raw in (YES, NO):
                values[code] = raw == YES
            else:
                errors[code] = _("Choose Yes, No or Not assessed.")
        elif spec.kind == "lab":
            typed = read_number_text(raw)
            if isinstance(typed, str):
                errors[code] = typed[0].upper() + typed[1:]
                continue
            unit = data.get(unit_field(code)) or LABS[spec.lab].unit
            if unit_field(code) in twice or len(unit) > MAX_TEXT:
                errors[unit_field(code)] = _("Choose one unit.")
                continue
            values[code] = {"value": typed, "unit": unit}
        else:  # a choice or a date: the engine checks it and names the field
            values[code] = raw
    return echo, values, errors


def screen_values(values: dict[str, Any], rules: ScreenRules, today: dt.date) -> Screened:
    """Screen ``values``; a field the engine refuses is left out and the rest screened again."""
    errors: dict[str, str] = {}
    values = dict(values)
    for _attempt in range(len(values) + 2):
        try:
            inp = parse_screen({"values": values}, rules, today=today)
        except InputError as exc:
            blocked = False
            for e in exc.errors:
                code = e.code or e.field.removeprefix("values.").split(".")[0]
                if code == CONTEXT_CODE:
                    blocked = True
                    continue
                name = unit_field(code) if e.part == "unit" else code
                errors.setdefault(name, _plain(str(say(e.message, get_language())), rules))
                values.pop(code, None)
            if blocked:
                return Screened({}, errors, None, bool(values))
            continue
        context = care_context()
        out = screen_output(
            run_screen(inp, rules), content_version=context.content_version, disclaimer=context.disclaimer
        )
        return Screened({}, errors, out, True)
    return Screened({}, errors, None, bool(values))  # pragma: no cover - each pass drops a field


def _plain(message: str, rules: ScreenRules) -> str:
    """An engine message for the page: the other fields it names by their labels, not codes."""
    words = _CODE.sub(
        lambda m: (
            f"\u201c{_(rules.inputs[m.group(0)].label)}\u201d" if m.group(0) in rules.inputs else m.group(0)
        ),
        message,
    )
    return words[0].upper() + words[1:]


_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def screen_form(data: Any, today: dt.date) -> Screened:
    rules = screen_rules()
    echo, values, form_errors = read_form(data, rules)
    done = screen_values(values, rules, today)
    errors = form_errors | {k: v for k, v in done.field_errors.items() if k not in form_errors}
    if data and values.get(CONTEXT_CODE) is not True and CONTEXT_CODE not in errors and (values or echo):
        errors[CONTEXT_CODE] = _(
            "This screen is for an acquired demyelinating neuropathy or suspected CIDP: answer Yes, "
            "or use the full checklist."
        )
    return Screened(echo, errors, done.output, bool(echo))


# --- Presenting and rendering ------------------------------------------------------------
# The answer is rendered again on every click (the live update): its markup is Jinja2
# templates (templates/checklist/_screen_answer*.html), compiled once, as the diagnosis
# result's is (checklist/web/templatetags/result_panel.py says why Jinja2).


_ITEMS: dict[tuple[int, str], list[dict[str, Any]]] = {}


def _items(rules: ScreenRules) -> list[dict[str, Any]]:
    """The page's items in order, each input with what its widget needs, in the page's language:
    built once per rules and language (the words are the rules data's, through the catalogues)."""
    key = (id(rules), get_language() or "")
    cached = _ITEMS.get(key)
    if cached is None or (cached and cached[0].get("rules") is not rules):
        cached = _build_items(rules)
        _ITEMS[key] = cached
    return cached


def _unit_word(unit: str) -> str:
    shown = display_unit(unit).strip() or unit
    return _("ratio") if shown == "ratio" else shown


def _build_items(rules: ScreenRules) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in rules.items:
        inputs = []
        for code in item.codes:
            spec = rules.inputs[code]
            entry: dict[str, Any] = {
                "code": code,
                "kind": spec.kind,
                "label": _(spec.label),
                "help": _(spec.help),
                "sub": bool(spec.parent),
            }
            if spec.kind == "lab":
                lab = LABS[spec.lab]
                entry["units"] = [(u, _unit_word(u)) for u in lab.allowed_units]
                entry["unit"] = lab.unit
            elif spec.kind == "choice":
                entry["choices"] = [(c, choice_label(c)) for c in LABS[spec.lab].choices]
            inputs.append(entry)
        out.append({"item": item.item, "title": _(item.title), "inputs": inputs, "rules": rules})
    return out


def choice_label(value: str) -> str:
    """A choice's words on the page (IgG stays IgG; "kappa and lambda" in the page's language)."""
    return _(CHOICE_WORDS[value]) if value in CHOICE_WORDS else value.replace("_", " ")


def _js_words() -> str:
    """The words screen.js writes (the phone's toggle, copying, a failed update), as data-words."""
    return json.dumps(
        {
            "full": _("Full answer"),
            "close": _("Close"),
            "hint": _(" the full answer"),
            "copied": _("Copied."),
            "press": _("Press Ctrl+C to copy."),
            "stale": _(
                "Could not update: this answer is for earlier entries. Change any value or press "
                "Show the answer to try again."
            ),
            "failed": _("Could not update the answer"),
        },
        ensure_ascii=False,
    )


def screen_view(screened: Screened) -> ScreenView:
    """The presenter's view of this screen, with the published rules and content."""
    context = care_context()
    language = get_language()
    if language and not language.startswith("en"):
        # The disclaimer in the page's language (the release's translated text); the content
        # version stays the English release's stamp, as the API and the note read it.
        context = replace(context, disclaimer=snapshot(language).book.disclaimer)
    return present(
        screened,
        screen_rules(),
        context,
        timezone.localdate(),
        set(layout_for(snapshot()).items),
        _checklist_url(),
    )


def answer_html(view: ScreenView) -> str:
    return render_jinja("checklist/_screen_answer.html", {"v": view})


def fragment_html(request: HttpRequest, screened: Screened) -> str:
    """The live update: the answer, the status line and each field's message, out of band."""
    return render_jinja("checklist/_screen_answer_live.html", {"v": screen_view(screened)})


_URLS: dict[str, str] = {}


def _checklist_url() -> str:
    """The checklist in the page's language (/ja/ from /ja/screen): one reverse per language."""
    language = get_language() or ""
    if language not in _URLS:
        _URLS[language] = reverse("checklist:checklist")
    return _URLS[language]


def _page_context(request: HttpRequest, screened: Screened) -> dict[str, Any]:
    view = screen_view(screened)
    answer: SafeString = mark_safe(answer_html(view))  # a rendered template: every value escaped
    return {
        "items": _items(screen_rules()),
        "values": screened.values,
        "field_errors": screened.field_errors,
        "status_line": view.status_line,
        "today": timezone.localdate(),
        "answer_html": answer,
        "js_words": _js_words(),
    }


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def screen_page(request: HttpRequest) -> HttpResponse:
    """The screen; posted without JavaScript, the page comes back with the answer.

    Exempt from CSRF like the checklist: posting a screen changes nothing on the server.
    """
    screened = screen_form(read_posted(request), timezone.localdate())
    if request.method == "POST" and getattr(request, "htmx", False):
        return _fragment(request, screened)
    status = 400 if screened.field_errors and request.method == "POST" else 200
    return render(request, "checklist/screen.html", _page_context(request, screened), status=status)


def _fragment(request: HttpRequest, screened: Screened) -> HttpResponse:
    return HttpResponse(fragment_html(request, screened))


@csrf_exempt
@no_store
@require_http_methods(["POST"])
def screen_fragment(request: HttpRequest) -> HttpResponse:
    """The answer alone, for the live update (htmx)."""
    return _fragment(request, screen_form(read_posted(request), timezone.localdate()))
