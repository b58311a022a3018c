"""Pages. Thin: bind the form, ask the engine, render. Nothing a clinician enters is stored.

The checklist and report forms are exempt from CSRF on purpose: posting a
case changes nothing on the server (no session, no database write), exactly
like the JSON API, and keeping the page free of per-user tokens is what lets
it be served from cache.
"""

from __future__ import annotations

import functools
import gzip
import json
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, pgettext, pgettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from checklist.content import models, publishing
from checklist.content.rule_book import Snapshot, snapshot
from checklist.content.words import basis_word, evidence_word
from checklist.engine.diagnosis.evaluate import evaluate
from checklist.engine.inputs import display_unit
from checklist.engine.vocabulary import LABS
from checklist.web.forms import CaseForm, choice_word, read_posted, site_units
from checklist.web.presenters.diagnosis import ResultView, present, set_references
from checklist.web.presenters.diagnosis import with_reports as with_notes
from checklist.web.report import plain_text_report, print_inputs, short_report
from checklist.web.templatetags.result_panel import note_body


def live_context(view: ResultView, request: HttpRequest | None = None) -> dict[str, Any]:
    """The live partial's context: the panel, the status line and the field messages."""
    return {
        "view": view,
        "request": request,
        "status_line": view.status_line,
        "field_messages": view.field_messages,
    }


def _evaluate_form(request: HttpRequest, snap: Snapshot) -> tuple[CaseForm, dict[str, Any] | None]:
    """Bind and evaluate. Fields in error are left out; the rest is still evaluated."""
    form = CaseForm(read_posted(request), snapshot=snap)
    form.is_valid()
    result = evaluate(form.case, snap.book) if form.case is not None else None
    return form, result


def _present(
    request: HttpRequest,
    form: CaseForm,
    result: dict[str, Any] | None,
    snap: Snapshot,
    *,
    with_reports: bool = True,
) -> ResultView:
    """What the result shows, from the one presenter. The live result leaves the copy-to-note
    texts out (``with_reports=False``): they are fetched when "Copy to note" is opened."""
    view = present(form, result, snap, today=timezone.localdate(), request=request)
    return with_notes(view, _reports(view)) if with_reports else view


def _reports(view: ResultView) -> dict[str, str]:
    if not view.has_result:
        return {}
    return {"short": short_report(view), "full": plain_text_report(view)}


# The empty checklist is the same for everyone (no CSRF token, no session), so
# it is rendered once per content version; serving the cached bytes costs almost nothing.
_EMPTY_PAGE: dict[tuple[str, str], tuple[bytes, bytes]] = {}


def _page_context(
    request: HttpRequest, form: CaseForm, result: dict[str, Any] | None, snap: Snapshot
) -> dict[str, Any]:
    posted = form.data.get("criteria_set") if form.is_bound else None
    chosen = posted if isinstance(posted, str) and posted in snap.book.sets else snap.book.default_set
    units = form.data.get("units") if form.is_bound else None
    view = _present(request, form, result, snap)
    context_messages = view.field_messages
    return {
        "request": request,
        "form": form,
        "view": view,
        "result": result,
        "entered": form.entered(),
        "status_line": view.status_line,
        "field_messages": context_messages,
        "layout": form.layout,
        "all_groups": form.layout.sets[chosen],
        "chosen_set": chosen,
        "unit_system": units if units in ("SI", "US") else site_units(),
        "set_groups_json": _set_groups_json(form.layout),
        "not_counted_note": form.layout.not_counted_notes.get(chosen, ""),
        "criteria_sets": snap.criteria_sets,
        "values": form.data if form.is_bound else {},
        # Each criterion's status, for the line whose own control is "Not assessed".
        "derived": {c["code"]: c["status"] for c in result["criteria"]} if result else {},
        "field_errors": {m["code"]: m["text"] for m in context_messages if m["kind"] == "error"},
        "warnings_by_code": {m["code"]: m["text"] for m in context_messages if m["kind"] == "warning"},
    }


def _set_groups_json(layout: Any) -> str:
    """Per set: the criteria's grouping and the sub-findings it does not count (with the note
    shown next to them), for the page to follow a change of set without a request."""
    return json.dumps(
        {
            slug: {
                "groups": [
                    {"role": g.role, "title": g.title, "intro": g.intro, "criteria": list(g.criteria)}
                    for g in groups
                ],
                "not_counted": list(layout.not_counted.get(slug, ())),
                "note": layout.not_counted_notes.get(slug, ""),
            }
            for slug, groups in layout.sets.items()
        }
    )


def _empty_checklist(request: HttpRequest, snap: Snapshot) -> HttpResponse:
    """The empty page, plain and gzipped, both rendered once per content version and language."""
    key = (snap.stamp, translation.get_language() or settings.LANGUAGE_CODE)
    pages = _EMPTY_PAGE.get(key)
    if pages is None:
        form = CaseForm(None, snapshot=snap)
        html = render(request, "checklist/checklist.html", _page_context(request, form, None, snap)).content
        # mtime=0 keeps the compressed bytes identical between processes.
        pages = (html, gzip.compress(html, compresslevel=6, mtime=0))
        if len(_EMPTY_PAGE) >= 12:  # per language of the live release, and a few older
            _EMPTY_PAGE.clear()
        _EMPTY_PAGE[key] = pages
    html, compressed = pages
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(compressed)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(html)
    patch_vary_headers(response, ("Accept-Encoding",))
    return response


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def checklist(request: HttpRequest) -> HttpResponse:
    """The checklist page, or (for htmx, and at /result) just its result."""
    return _checklist(request, partial=False)


def _checklist(request: HttpRequest, partial: bool) -> HttpResponse:
    """The partial carries the field messages as out-of-band swaps in the body:
    nothing a clinician typed ever goes into a response header.
    """
    snap = snapshot(get_language())
    if request.method != "POST":
        return _empty_checklist(request, snap)
    form, result = _evaluate_form(request, snap)
    if partial or getattr(request, "htmx", False):
        view = _present(request, form, result, snap, with_reports=False)
        # A plain context, not a RequestContext: the partial reads nothing the context
        # processors add, and skipping them is measurable on a per-click request.
        return HttpResponse(get_template("checklist/checklist.html#live").render(live_context(view, request)))
    status = 400 if form.errors else 200
    return render(
        request, "checklist/checklist.html", _page_context(request, form, result, snap), status=status
    )


def no_store(view: Any) -> Any:
    """``never_cache`` as a constant header: Django's parses and rebuilds Cache-Control and
    formats an Expires date on every response, ~35 us on the per-click live result."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = view(request, *args, **kwargs)
        response["Cache-Control"] = NEVER_CACHE
        return response

    return wrapped


# What django.utils.cache.add_never_cache_headers writes.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


@csrf_exempt
@no_store
@require_http_methods(["POST"])
def result_fragment(request: HttpRequest) -> HttpResponse:
    """The result alone: the same view as the page, asked for its partial."""
    return _checklist(request, partial=True)


@csrf_exempt
@no_store
@require_http_methods(["POST"])
def note(request: HttpRequest) -> HttpResponse:
    """The copy-to-note texts for the posted case, fetched when "Copy to note" is opened.

    They are left out of the live result: two plain-text reports on every click,
    for a note copied once at the end.
    """
    page_language = translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(_note_language(request)):
        snap = snapshot(get_language())
        form, result = _evaluate_form(request, snap)
        reports = _reports(present(form, result, snap, today=timezone.localdate()))
        note_language = translation.get_language() or settings.LANGUAGE_CODE
    return HttpResponse(note_body(reports, page_language=page_language, note_language=note_language))


def _note_language(request: HttpRequest) -> str | None:
    """The note's language: the page's, or English when asked (``?note_lang=en``: a referral
    letter to a clinic that reads English). Any other value keeps the page's language."""
    if request.GET.get("note_lang") == "en":
        return settings.LANGUAGE_CODE
    return translation.get_language()


@csrf_exempt
@never_cache
@require_http_methods(["POST"])
def report(request: HttpRequest) -> HttpResponse:
    """Print view of the current case (posted, so nothing lands in a URL or an access log)."""
    with translation.override(_note_language(request)):
        snap = snapshot(get_language())
        form, result = _evaluate_form(request, snap)
        view = _present(request, form, result, snap)
        context: dict[str, Any] = {"form": form, "view": view, "result": result, "reports": view.reports}
        if result is not None:
            context["print_body"] = plain_text_report(view, inputs=False)
            context["print_inputs"] = print_inputs(view)
    return render(request, "checklist/report.html", context, status=200 if not form.errors else 400)


@require_GET
def criteria(request: HttpRequest) -> HttpResponse:
    snap = snapshot(get_language())
    sets = []
    # Sets off by their content flag are shown after the others, marked as drafts.
    rules = {**snap.book.sets, **snap.book.drafts}
    # Criteria whose name is served in English (no translation): their lists are marked lang="en-GB".
    english = {c["code"] for c in snap.criteria if "name" in c.get("in_english", ())}
    for s in (*snap.criteria_sets, *snap.draft_sets):
        rule = rules[s["slug"]]
        sets.append(
            {
                **s,
                "rule": rule,
                "groups": [
                    (
                        "mandatory",
                        _("Mandatory (all required)"),
                        [_crit_label(snap, rule, c) for c in rule.mandatory],
                        None,
                        bool(english & set(rule.mandatory)),
                    ),
                    (
                        "major",
                        _("Other major"),
                        [_crit_label(snap, rule, c) for c in rule.major],
                        rule.major_min,
                        bool(english & set(rule.major)),
                    ),
                    (
                        "minor",
                        # A set's group of findings, not the caution level that shares the English word.
                        pgettext("group of a set", "Minor"),
                        [_crit_label(snap, rule, c) for c in rule.minor],
                        rule.minor_min,
                        bool(english & set(rule.minor)),
                    ),
                ],
                "refs": set_references(snap, s),
                "overdue": models.is_overdue(s.get("next_review_due")),
                "draft": not rule.enabled,
                "categories": [
                    (c, [_crit_label(snap, rule, r) for r in c.requires], bool(english & set(c.requires)))
                    for c in rule.categories
                ],
            }
        )
    return render(request, "checklist/criteria.html", {"sets": sets, "thresholds": _thresholds(snap)})


_SYMBOLS = dict(models.Threshold.Comparator.choices)
# The threshold's sex, as the criteria page says it (the model's labels stay English for the admin).
_SEXES = {"M": pgettext_lazy("sex of a cut-off", "Male"), "F": pgettext_lazy("sex of a cut-off", "Female")}


def _thresholds(snap: Snapshot) -> list[dict[str, Any]]:
    """The live release's thresholds, never the draft's. Keys mirror the model's display methods."""
    labels = {lab["code"]: lab["label"] for lab in snap.labs}
    english_labels = {lab["code"] for lab in snap.labs if "label" in lab.get("in_english", ())}
    out = []
    for t in snap.thresholds:
        ref = t.get("reference")
        lab = LABS.get(t["lab"])
        # The tags as the engine reads them (a release older than the fields gets the engine's default).
        rule = snap.book.thresholds.get(t["code"])
        out.append(
            {
                **t,
                "basis": rule.basis.value if rule else "",
                "basis_word": basis_word(rule.basis) if rule else "",
                "evidence": rule.evidence.value if rule else "",
                "evidence_word": evidence_word(rule.evidence) if rule else "",
                "get_comparator_display": _SYMBOLS.get(t["comparator"], t["comparator"]),
                "get_sex_display": _SEXES.get(t.get("sex", ""), ""),
                # The specimen's word in the page's language ("serum" is stored and matched).
                "specimen_display": choice_word(t["specimen"]) if t.get("specimen") else "",
                "reference": snap.references.get(ref[0]) if ref else None,
                # A clinician reads "Platelets > 450 x10^9/L", not "platelets_10e9_l > 450.0".
                "lab_label": labels.get(t["lab"], t["lab"]),
                "in_english": (
                    *t.get("in_english", ()),
                    *(("lab_label",) if t["lab"] in english_labels else ()),
                ),
                "value_display": f"{t['value']:g}",
                "unit": display_unit(lab.unit) if lab else "",  # the engine's unit wording
            }
        )
    return out


def _crit_label(snap: Snapshot, rule: Any, code: str) -> str:
    return rule.labels.get(code) or snap.book.criterion_names[code]


def _page(pages: tuple[dict[str, Any], ...], key: str, value: str) -> dict[str, Any]:
    page = next((p for p in pages if p[key] == value), None)
    if page is None:
        raise Http404("No such page")
    return page


@require_GET
def differential(request: HttpRequest, code: str) -> HttpResponse:
    snap = snapshot(get_language())
    page = _page(snap.differentials, "code", code)
    refs = set_references(snap, page)
    return render(
        request,
        "checklist/differential.html",
        {"page": page, "refs": refs, "differentials": snap.differentials},
    )


@require_GET
def differentials(request: HttpRequest) -> HttpResponse:
    return render(
        request, "checklist/differentials.html", {"differentials": snapshot(get_language()).differentials}
    )


@require_GET
def treatments(request: HttpRequest) -> HttpResponse:
    return render(request, "checklist/treatments.html", {"treatments": snapshot(get_language()).treatments})


@require_GET
def treatment(request: HttpRequest, slug: str) -> HttpResponse:
    snap = snapshot(get_language())
    page = _page(snap.treatments, "slug", slug)
    refs = set_references(snap, page)
    return render(
        request, "checklist/treatment.html", {"page": page, "refs": refs, "treatments": snap.treatments}
    )


@require_GET
def references(request: HttpRequest) -> HttpResponse:
    refs = sorted(snapshot(get_language()).references.values(), key=lambda r: r["short"])
    return render(request, "checklist/references.html", {"refs": refs})


@require_GET
def about(request: HttpRequest) -> HttpResponse:
    snap = snapshot(get_language())
    overdue = []
    # From the live release: the public page describes what is served, not the draft.
    for kind, items, name in (
        ("criteria set", snap.criteria_sets, "name"),
        ("criterion", snap.criteria, "name"),
        ("threshold", snap.thresholds, "label"),
        ("differential", snap.differentials, "name"),
        ("treatment", snap.treatments, "name"),
    ):
        for item in items:
            if models.is_overdue(item.get("next_review_due")):
                english = ("name",) if name in item.get("in_english", ()) else ()
                overdue.append(
                    {"kind": kind, "name": item[name], "due": item["next_review_due"], "in_english": english}
                )
    return render(
        request,
        "checklist/about.html",
        {
            "intended_use": snap.texts.get("intended_use"),
            "about": snap.texts.get("about"),
            "release": snap.release,
            "sets": snap.criteria_sets,
            "overdue": overdue,
        },
    )


@require_GET
def changelog(request: HttpRequest) -> HttpResponse:
    published = models.ContentRelease.objects.published()
    releases = [{"release": r, "pages": publishing.page_changelog(r)} for r in published]
    return render(request, "checklist/changelog.html", {"releases": releases})


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)
