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
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from checklist.content.care_rules import CareContext, care_context, screen_rules
from checklist.content.rule_book import snapshot
from checklist.engine.diagnosis.words import evidence_word
from checklist.engine.inputs import InputError, display_unit, read_number_text
from checklist.engine.screen import ScreenRules, parse_screen, run_screen, screen_output
from checklist.engine.vocabulary import LABS
from checklist.web.forms import MAX_TEXT, layout_for, read_posted, unit_field
from checklist.web.views import no_store

YES, NO = "yes", "no"

# The screen's one required answer (clinical.md §i.2 item 1): without it there is no screen.
CONTEXT_CODE = "acquired_demyelinating_neuropathy"

# "Open the full checklist": the checklist field each screen code fills (design.md §3.4: the
# checklist's fields are the engine codes). Most codes are the same on both pages; the
# screen's context answer is a demyelinating polyneuropathy, which the checklist records
# as two findings. Codes the checklist has no field for are listed on the page beside the
# button (``carried_over``), never dropped silently.
CHECKLIST_FIELDS: Mapping[str, tuple[str, ...]] = {
    CONTEXT_CODE: ("polyneuropathy", "neuropathy_demyelinating"),
}


@dataclass(frozen=True, slots=True)
class Screened:
    """What the page shows: the form's values as posted, field messages, and the answer."""

    values: dict[str, str]  # field name -> text as posted (the form echoes it)
    field_errors: dict[str, str]  # field name -> message
    output: dict[str, Any] | None  # the design.md §3.10 output, or None (no screen yet)
    given: bool  # anything entered at all


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
            errors[code] = "Given twice; enter it once."
            continue
        if not isinstance(raw, str) or not raw:
            continue  # missing or empty: not assessed
        if len(raw) > MAX_TEXT:
            errors[code] = f"At most {MAX_TEXT} characters."
            continue
        if spec.kind == "finding":
            if raw in (YES, NO):
                values[code] = raw == YES
            else:
                errors[code] = "Choose Yes, No or Not assessed."
        elif spec.kind == "lab":
            typed = read_number_text(raw)
            if isinstance(typed, str):
                errors[code] = typed[0].upper() + typed[1:]
                continue
            unit = data.get(unit_field(code)) or LABS[spec.lab].unit
            if unit_field(code) in twice or len(unit) > MAX_TEXT:
                errors[unit_field(code)] = "Choose one unit."
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
                errors.setdefault(name, _plain(e.message, rules))
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
            f"\u201c{rules.inputs[m.group(0)].label}\u201d" if m.group(0) in rules.inputs else m.group(0)
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
        errors[CONTEXT_CODE] = (
            "This screen is for an acquired demyelinating neuropathy or suspected CIDP: answer Yes, "
            "or use the full checklist."
        )
    return Screened(echo, errors, done.output, bool(echo))


# --- Presenter -------------------------------------------------------------------------


def _items(rules: ScreenRules) -> list[dict[str, Any]]:
    """The page's items in order, each input with what its widget needs."""
    out = []
    for item in rules.items:
        inputs = []
        for code in item.codes:
            spec = rules.inputs[code]
            entry: dict[str, Any] = {
                "code": code,
                "kind": spec.kind,
                "label": spec.label,
                "help": spec.help,
                "sub": bool(spec.parent),
            }
            if spec.kind == "lab":
                lab = LABS[spec.lab]
                entry["units"] = [(u, display_unit(u).strip() or u) for u in lab.allowed_units]
                entry["unit"] = lab.unit
            elif spec.kind == "choice":
                entry["choices"] = [(c, c.replace("_", " ")) for c in LABS[spec.lab].choices]
            inputs.append(entry)
        out.append({"item": item.item, "title": item.title, "inputs": inputs})
    return out


# Longer than this, the first sentence is cut at its colon (the flags are listed below it):
# the answer bar on a phone has room for about two lines.
HEADLINE_MAX = 90


def _headline(message: str, n_flags: int) -> str:
    """The message's first sentence, or its lead and the number of red flags: the answer bar's line."""
    head = message.split(". ", 1)[0].rstrip(".") + "."
    if len(head) > HEADLINE_MAX and ": " in head:
        lead = head.split(": ", 1)[0]
        return f"{lead}: {n_flags} found." if n_flags else f"{lead}."
    return head


def _answer(screened: Screened, rules: ScreenRules) -> dict[str, Any] | None:
    out = screened.output
    if out is None:
        return None
    tests = {t.code: t for t in rules.tests}
    flags = {f.code: f for f in rules.red_flags}
    labels = {code: spec.label for code, spec in rules.inputs.items()}
    return {
        "category": out["category"],
        "headline": _headline(out["message"], len(out["red_flags"])),
        "message": out["message"],
        "red_flags": [
            {
                **f,
                "label": flags[f["code"]].label,
                "evidence_word": evidence_word(f["evidence"]),
            }
            for f in out["red_flags"]
        ],
        "tests": [
            {
                **t,
                "name": tests[t["code"]].name,
                "evidence": tests[t["code"]].evidence,
                "evidence_word": evidence_word(tests[t["code"]].evidence),
            }
            for t in out["tests"]
        ],
        "notes": out["notes"],
        "not_assessed": [{"code": c, "label": labels.get(c, c)} for c in out["not_assessed"]],
        "content_version": out["content_version"],
        "disclaimer": out["disclaimer"],
    }


def entered(screened: Screened, rules: ScreenRules) -> list[dict[str, str]]:
    """What was entered, as entered, in page order (for the print view and the carry-over list)."""
    rows = []
    for code in rules.input_codes:
        raw = screened.values.get(code)
        if not raw or code in screened.field_errors or unit_field(code) in screened.field_errors:
            continue
        spec = rules.inputs[code]
        if spec.kind == "finding":
            shown = {YES: "yes", NO: "no"}.get(raw, "")
            if not shown:
                continue
        elif spec.kind == "lab":
            unit = screened.values.get(unit_field(code)) or LABS[spec.lab].unit
            shown = f"{raw} {display_unit(unit).strip()}".strip()
        else:
            shown = raw.replace("_", " ")
        rows.append({"code": code, "label": spec.label, "value": shown})
    return rows


def carried_over(screened: Screened, rules: ScreenRules, checklist_fields: set[str]) -> dict[str, Any]:
    """The hidden fields of "Open the full checklist", and what the checklist has no field for."""
    fields: list[tuple[str, str]] = []
    missing: list[str] = []
    for row in entered(screened, rules):
        code = row["code"]
        targets = CHECKLIST_FIELDS.get(code, (code,))
        targets = tuple(t for t in targets if t in checklist_fields)
        if not targets:
            missing.append(rules.inputs[code].label)
            continue
        for target in targets:
            fields.append((target, screened.values[code]))
            unit = screened.values.get(unit_field(code))
            if rules.inputs[code].kind == "lab" and unit:
                fields.append((unit_field(target), unit))
    return {"fields": fields, "missing": missing}


def note_text(answer: dict[str, Any] | None, rules: ScreenRules, today: dt.date, context: CareContext) -> str:
    """The short note to copy (about six lines): answer, flags, tests, gaps, versions, notice."""
    if answer is None:
        return ""
    flags = "; ".join(
        f"{f['label']}{' (supportive)' if f['supportive'] else ''}" for f in answer["red_flags"]
    )
    tests = "; ".join(f"({i}) {t['name']}" for i, t in enumerate(answer["tests"], 1))
    gaps = ", ".join(n["label"] for n in answer["not_assessed"])
    lines = [
        f"POEMS screen for a CIDP clinic patient, {today.isoformat()}: {answer['headline']}",
        f"Red flags: {flags or 'none recorded'}.",
        f"Tests to order: {tests or 'none on this screen'}.",
        f"Not assessed: {gaps or 'nothing'}.",
        f"POEMSaid content {context.content_version}, screen rules {rules.version}.",
        f"Not a diagnosis. {context.disclaimer}",
    ]
    return "\n".join(lines)


def _status_line(answer: dict[str, Any] | None, errors: dict[str, str]) -> str:
    if answer is None:
        return ""
    parts = [answer["headline"]]
    n = len(answer["red_flags"])
    parts.append(f"{n} red flag{'s' if n != 1 else ''}")
    if errors:
        parts.append(f"{len(errors)} value{'s' if len(errors) != 1 else ''} to fix")
    return ", ".join(parts)


def _context(request: HttpRequest, screened: Screened) -> dict[str, Any]:
    rules = screen_rules()
    context = care_context()
    today = timezone.localdate()
    answer = _answer(screened, rules)
    policy = rules.policies.get(rules.default_policy, {})
    snap = snapshot()
    checklist_fields = set(layout_for(snap).items)
    labels = {code: spec.label for code, spec in rules.inputs.items()}
    return {
        "request": request,
        "answer": answer,
        "given": screened.given,
        "values": screened.values,
        "field_errors": screened.field_errors,
        "errors": [
            {
                "name": name,
                "anchor": name.removesuffix("__unit"),
                "label": labels.get(name.removesuffix("__unit"), name),
                "message": message,
            }
            for name, message in screened.field_errors.items()
        ],
        "note": note_text(answer, rules, today, context),
        "status_line": _status_line(answer, screened.field_errors),
        "carry": carried_over(screened, rules, checklist_fields),
        "policy": {
            "code": rules.default_policy,
            "label": policy.get("label", rules.default_policy),
            "source": policy.get("source", ""),
            "evidence": policy.get("evidence", ""),
            "evidence_word": evidence_word(policy.get("evidence", "")),
        },
        "recency_months": rules.recency_months,
        "content_version": context.content_version,
        "rules_version": rules.version,
        "today": today,
        "entered": entered(screened, rules),
    }


# --- The answer's markup --------------------------------------------------------------
# Built in Python, as the checklist's result panel is: Django's template nodes cost about
# 4 ms for this panel, more than reading and screening the case; it is rendered on every
# click. Every value goes through ``escape``; tests/test_screen_page.py sends hostile text.


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


def _ev(tag: str, word: str) -> str:
    return f'<span class="ev ev-{escape(tag)}">{escape(word)}</span>'


def answer_html(ctx: dict[str, Any]) -> str:
    answer: dict[str, Any] | None = ctx["answer"]
    out: list[str] = []
    if answer:
        cat = escape(answer["category"])
        out.append(
            f'<div id="answer" class="result screen-answer cat-{cat}" tabindex="-1" data-category="{cat}">\n'
        )
    else:
        out.append('<div id="answer" class="result screen-answer status-empty" tabindex="-1">\n')
    errors = ctx["errors"]
    if errors:
        items = "".join(
            f'<li><a href="#f-{escape(e["anchor"])}">{escape(e["label"])}</a>: {escape(e["message"])}</li>'
            for e in errors
        )
        out.append(
            '<div class="error-summary" role="group" aria-labelledby="error-summary-title">'
            f'<p class="error-summary-title" id="error-summary-title">{len(errors)} '
            f"value{_plural(len(errors))} left out of the screen until fixed</p>\n"
            f"<ul>{items}</ul></div>\n"
        )
    out.append('<div class="result-head">\n')
    if answer:
        flags, tests, na = answer["red_flags"], answer["tests"], answer["not_assessed"]
        out.append(
            f'<p class="headline"><strong>{escape(answer["headline"])}</strong></p>\n'
            f'<p class="screen-counts small mb-0">{len(flags)} red flag{_plural(len(flags))} · '
            f"{len(tests)} test{_plural(len(tests))} to order · {len(na)} not assessed</p>\n"
        )
    elif ctx["given"]:
        out.append(
            '<p class="headline">Answer <strong>Yes</strong> to the first question (acquired demyelinating '
            "neuropathy, or suspected CIDP) to see what to test.</p>\n"
        )
    else:
        out.append(
            '<p class="headline">Nothing entered yet. Start with the first question; leave what you have '
            "not assessed as <em>Not assessed</em>.</p>\n"
        )
    out.append(
        '<button type="button" class="btn btn-sm btn-outline-primary result-toggle" aria-expanded="false" '
        'aria-controls="answer-detail">Full answer</button>\n</div>\n'
        '<div class="result-detail" id="answer-detail">\n'
    )
    if answer:
        out.append(_answer_detail(ctx, answer))
    carry = ctx["carry"]
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">\n'
        for name, value in carry["fields"]
    )
    missing = (
        f'<span class="small carry-missing">Not on the checklist, so not carried over: '
        f"{escape('; '.join(carry['missing']))}.</span>"
        if carry["missing"]
        else ""
    )
    notice = (
        escape(answer["disclaimer"])
        if answer
        else "The screen says what to test next; the clinical judgement is yours."
    )
    out.append(
        f'<form method="post" action="{_checklist_url()}" class="carry no-print" id="carry-form">\n{hidden}'
        '<button type="submit" class="btn btn-sm btn-outline-secondary">Open the full checklist</button>\n'
        f"{missing}\n</form>\n"
        f'<p class="small result-notice"><strong>Not a diagnosis.</strong> {notice}</p>\n</div>\n</div>'
    )
    return "".join(out)


def _answer_detail(ctx: dict[str, Any], answer: dict[str, Any]) -> str:
    out = [
        '<section aria-labelledby="tests-title">'
        '<h3 class="h6" id="tests-title">Tests to order, in order</h3>\n'
    ]
    if answer["tests"]:
        items = "".join(
            f'<li data-test="{escape(t["code"])}">'
            f"<strong>{escape(t['name'][:1].upper() + t['name'][1:])}.</strong> "
            f'<span class="why">{escape(t["why"])}</span> {_ev(t["evidence"], t["evidence_word"])}</li>'
            for t in answer["tests"]
        )
        out.append(f'<ol class="screen-tests">{items}</ol>\n')
    else:
        out.append('<p class="small">None on this screen.</p>')
    out.append(
        '</section>\n<section aria-labelledby="flags-title">'
        '<h3 class="h6" id="flags-title">Red flags found</h3>\n'
    )
    if answer["red_flags"]:
        items = "".join(
            f'<li data-flag="{escape(f["code"])}"><strong>{escape(f["label"])}</strong>'
            + (' <span class="supportive">supportive only</span>' if f["supportive"] else "")
            + f': {escape(f["reason"])} <span class="src">{escape(f["source"])}</span> '
            f"{_ev(f['evidence'], f['evidence_word'])}</li>"
            for f in answer["red_flags"]
        )
        out.append(f'<ul class="screen-flags">{items}</ul>\n')
    else:
        out.append('<p class="small">None recorded. Not assessed is not counted as absent.</p>')
    out.append(
        '</section>\n<section aria-labelledby="message-title">'
        '<h3 class="h6" id="message-title">The answer in full'
        f'</h3><p class="screen-message">{escape(answer["message"])}</p></section>\n'
    )
    if answer["notes"]:
        items = "".join(
            f'<li data-note="{escape(n["code"])}">{escape(n["message"])}</li>' for n in answer["notes"]
        )
        out.append(
            '<section aria-labelledby="notes-title"><h3 class="h6" id="notes-title">Notes</h3>'
            f'<ul class="screen-notes small">{items}</ul></section>\n'
        )
    na = answer["not_assessed"]
    if na:
        items = "; ".join(f'<span data-na="{escape(n["code"])}">{escape(n["label"])}</span>' for n in na)
        out.append(
            '<section class="missing" aria-labelledby="na-title">'
            f'<h3 class="h6" id="na-title">Not assessed ({len(na)})</h3>'
            f'<p class="small mb-0 screen-na">{items}.</p></section>\n'
        )
    policy = ctx["policy"]
    entered_rows = "".join(f"<li>{escape(r['label'])}: {escape(r['value'])}</li>" for r in ctx["entered"])
    out.append(
        f'<p class="small policy">Screen policy: {escape(policy["label"])} (content default). '
        f'<span class="src">{escape(policy["source"])}</span> '
        f"{_ev(policy['evidence'], policy['evidence_word'])}</p>\n"
        f'<p class="versions small">Content version {escape(answer["content_version"])} · screen rules '
        f"{escape(ctx['rules_version'])} · {ctx['today'].isoformat()}</p>\n"
        '<details class="copy-note no-print" id="screen-note"><summary>Copy to note</summary>\n'
        '<label class="form-label small" for="screen-note-text">Short note</label>\n'
        '<textarea id="screen-note-text" class="form-control report-text" rows="6" readonly>'
        f"{escape(ctx['note'])}</textarea>\n"
        '<button type="button" class="btn btn-sm btn-outline-primary mt-1 js-only copy-btn" '
        'data-copy="screen-note-text">Copy note</button>\n'
        '<span class="small ms-2 copy-status" role="status"></span>\n</details>\n'
        '<section class="print-only print-inputs"><h3 class="h6">Inputs, as entered</h3>'
        f"<ul>{entered_rows or '<li>None</li>'}</ul></section>\n"
    )
    return "".join(out)


def live_html(ctx: dict[str, Any]) -> str:
    """The live update: the answer, the status line and each field's message, out of band."""
    messages = "".join(
        f'<p class="field-msg is-error" id="msg-{escape(name)}" hx-swap-oob="true">{escape(text)}</p>\n'
        for name, text in ctx["field_errors"].items()
    )
    return (
        answer_html(ctx)
        + f'\n<span id="live-status" hx-swap-oob="innerHTML">{escape(ctx["status_line"])}</span>\n'
        + messages
    )


_URLS: dict[str, str] = {}


def _checklist_url() -> str:
    if "checklist" not in _URLS:
        _URLS["checklist"] = reverse("checklist:checklist")
    return _URLS["checklist"]


def _page_context(request: HttpRequest, screened: Screened) -> dict[str, Any]:
    rules = screen_rules()
    context = _context(request, screened)
    answer: SafeString = mark_safe(answer_html(context))  # every value escaped in answer_html
    return context | {"items": _items(rules), "answer_html": answer}


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
    return HttpResponse(live_html(_context(request, screened)))


@csrf_exempt
@no_store
@require_http_methods(["POST"])
def screen_fragment(request: HttpRequest) -> HttpResponse:
    """The answer alone, for the live update (htmx)."""
    return _fragment(request, screen_form(read_posted(request), timezone.localdate()))
