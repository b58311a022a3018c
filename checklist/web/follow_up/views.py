"""``/follow-up``: thin views. Posted fields -> the §3.9 document -> the engine's parse ->
evaluate -> the presenter -> templates. Nothing a clinician enters is stored or logged.

Exempt from CSRF for the checklist's reason (checklist/web/views.py): posting a timeline
changes nothing on the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from checklist.content.care_rules import care_context, follow_up_rules, follow_up_today
from checklist.content.rule_book import snapshot
from checklist.content.say import say
from checklist.engine.follow_up import evaluate_follow_up, parse_follow_up
from checklist.engine.follow_up.inputs import Timeline
from checklist.engine.follow_up.result import FollowUpResult
from checklist.engine.inputs import InputError
from checklist.web.forms import read_posted, site_units
from checklist.web.views import no_store

from .forms import FieldProblem, Flowsheet, edit, field_of, from_checklist, read_flowsheet, without
from .presenter import loinc_map, present

TEMPLATE = "checklist/follow_up.html"


def evaluate_sheet(
    data: Mapping[str, str], today: date
) -> tuple[Flowsheet, Timeline | None, FollowUpResult | None, list[FieldProblem]]:
    """Read and evaluate. A value the engine refuses is named on its field and left out, and the
    rest is still evaluated (as on the checklist); a refused visit date leaves that visit out."""
    sheet = read_flowsheet(data)
    problems = list(sheet.problems)
    rules = follow_up_rules()
    for _ in range(4):  # each pass removes what was refused; a second refusal is rare
        if not sheet.document["visits"]:
            return sheet, None, None, problems
        try:
            timeline = parse_follow_up(sheet.document, today)
        except InputError as refused:
            names = []
            for e in refused.errors:
                name, words = field_of(sheet, e.field)
                # The engine's refusal in the page's language (English where it has no translation).
                problems.append(FieldProblem(name, words, str(say(e.message, translation.get_language()))))
                names.append(e.field)
            without(sheet, names)
            continue
        return sheet, timeline, evaluate_follow_up(timeline, rules), problems
    return sheet, None, None, problems


def _plain(posted: Any) -> dict[str, str]:
    """The posted fields, one value each (a QueryDict's last, as Django reads a field)."""
    if not posted:
        return {}
    return {str(k): str(v) for k, v in posted.items()}


def _unit_system(data: Mapping[str, str]) -> str:
    units = data.get("units", "")
    return units if units in ("SI", "US") else site_units()


def _context(request: HttpRequest, data: Mapping[str, str]) -> dict[str, Any]:
    today = timezone.localdate()
    # The same bound as the API and CLI: a date is refused only if it is in the future everywhere.
    sheet, timeline, result, problems = evaluate_sheet(data, follow_up_today())
    language = translation.get_language() or settings.LANGUAGE_CODE
    # The note in English when asked (a referral letter; the control under the note), else the page's.
    note_language = settings.LANGUAGE_CODE if data.get("note_lang") == "en" else language
    context = present(
        sheet,
        timeline,
        result,
        follow_up_rules(),
        care_context(),
        problems,
        today,
        _unit_system(data),
        note_language=note_language,
        # The release's disclaimer in the page's language (the engine's JSON keeps the English).
        disclaimer=snapshot(language).book.disclaimer,
    )
    context["request"] = request
    return context


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def follow_up(request: HttpRequest) -> HttpResponse:
    """The page; a POST without JavaScript comes back with the result (or with a visit added
    or removed, when one of those buttons sent it)."""
    posted = read_posted(request) if request.method == "POST" else None
    data = _plain(posted)
    carried = False
    if data.get("from_checklist") == "1":
        data = from_checklist(data, timezone.localdate().isoformat())
        carried = True
    action = data.get("action", "")
    if action:
        data = edit(data, action)
    if getattr(request, "htmx", False) and request.method == "POST":
        return _fragment(request, data)
    context = _context(request, data)
    context["carried"] = carried
    context["loinc_json"] = loinc_map(snapshot().loinc)
    context["posted"] = request.method == "POST"
    status = 400 if context["problems"] and not carried and not action else 200
    return render(request, TEMPLATE, context, status=status)


def _fragment(request: HttpRequest, data: Mapping[str, str]) -> HttpResponse:
    context = _context(request, data)
    return HttpResponse(get_template(f"{TEMPLATE}#live").render(context))


@csrf_exempt
@no_store
@require_http_methods(["POST"])
def follow_up_result(request: HttpRequest) -> HttpResponse:
    """The result alone, for the live update (htmx): no-store, like POST /result."""
    return _fragment(request, _plain(read_posted(request)))
