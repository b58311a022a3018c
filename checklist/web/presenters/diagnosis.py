"""The diagnosis result as every output shows it: plain data, no HTML.

``present`` reads the form, the engine's answer and the published content, and gives one
``ResultView``. The checklist page, the live fragment (``/result``), the print view
(``/report``) and the copied notes (``/result/note``) all show that one object: the page and
the fragment through the ``_result*.html`` templates, the print view and the notes through
``checklist.web.report``, which writes them as text. So the four cannot drift.

Every field is a plain string (or a tuple of items), already in the words a clinician
reads: the templates only lay them out, and escape them. Items that carry a claim (a
criterion's reason, a caution, a work-up line) carry their evidence tag of clinical.md §h and
its word, and a reason that applied a content threshold says whether the number is published
(with its source) or an app default: the label is decided here, once, and each partial
(``_result_reason.html``, ``_result_caution.html``, ``_result_workup_item.html``) only lays it
out, the reasons and work-up lines through one chip partial (``_result_ev.html``). The same
label stands beside a differential's reasons (IMWG's thresholds), the extent's reasons and
each risk factor's cut-off. A claim the engine sent no tag for reads as unverified, never as
unlabelled.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import get_language, gettext_noop, ngettext
from django.utils.translation import gettext as _

from checklist.content.rule_book import IN_ENGLISH, Snapshot
from checklist.content.say import Said, say
from checklist.content.words import (
    basis_word,
    criterion_word,
    evidence_word,
    group_word,
    status_headline,
    status_short,
)
from checklist.engine.diagnosis.result import Level, Verdict
from checklist.web.forms import CaseForm
from checklist.web.templatetags.checklist_tags import derived_word

# The headings of the before-treatment section (clinical.md §j), on the page and in the notes.
# Marked for the catalogue here, translated where they are shown (gettext(BEFORE_TREATMENT)).
BEFORE_TREATMENT = gettext_noop("Before treatment (clinical.md §j; not a recommendation)")
MISSING_HEADING = gettext_noop("Still missing")
# clinical.md §j.3 J-K2's wording, never "high risk"; and no score.
RISKS_HEADING = gettext_noop("Factors associated with shorter overall survival in one cohort")
NO_SCORE = gettext_noop("No score is computed: the published points were not found.")
DRUGS_HEADING = gettext_noop("Drug cautions")
# The engine's extent codes (vocabulary.Extent) as the work-up says them ("Extent: limited.").
EXTENT_WORDS = {
    "limited": gettext_noop("limited"),
    "disseminated": gettext_noop("disseminated"),
    "unknown": gettext_noop("unknown"),
}


# --------------------------------------------------------------------------- items


# A tag a reader must not take for a published number: marked in the short note too.
_WEAK = {"unverified", "app_convention"}
APP_DEFAULT = "app_default"


@dataclass(slots=True)
class Reason:
    """One reason a criterion has its status, with its evidence tag (clinical.md §h) and, when
    it applied a content threshold, whether that number is published or an app default
    (``basis``: "published", "app_default" or "" when no threshold was applied)."""

    text: str
    evidence: str = "unverified"
    evidence_word: str = "unverified"
    basis: str = ""
    basis_word: str = ""  # "published threshold, Dispenzieri 2012, Blood" / "app default"
    note: str = "unverified"  # the label in the notes' words: "secondary; app default"
    weak: bool = True  # unverified, an app convention or an app default: the short note marks it
    lang: str = ""  # "en-GB" when the text had no translation in the page's language


@dataclass(slots=True)
class Caution:
    """A caution; ``lead`` when it stands beside the headline (major), where its detail is not
    repeated; with its evidence tag and its source."""

    message: str
    detail: str
    lead: bool = False
    evidence: str = "unverified"
    evidence_word: str = "unverified"
    source: str = ""
    lang: str = ""  # "en-GB" when the message or detail had no translation in the page's language


@dataclass(slots=True)
class WorkUpItem:
    """One line of the before-treatment section (clinical.md §j), with its evidence tag; a risk
    factor read from a threshold also says whether its cut-off is published or an app default
    (``basis`` as for a reason: "published", "app_default", or "" for a finding)."""

    text: str
    evidence: str | None
    evidence_word: str
    source: str
    basis: str = ""
    basis_word: str = ""  # "published threshold" / "app default" (the source stands beside it)
    note: str = ""  # the label in the notes' words: "read: abstract; published threshold"
    lang: str = ""  # "en-GB" when the text had no translation in the page's language


@dataclass(slots=True)
class Criterion:
    code: str
    name: str
    status: str
    word: str  # Met / Not met / Not assessed
    derived: str  # what its line on the form says when only the details decide it
    group: str  # its group, in words
    reasons: tuple[Reason, ...]
    flag: str = ""  # "app default" / "unverified" when a reason rests on one (the short note)


@dataclass(slots=True)
class Chip:
    status: str
    short: str
    name: str
    word: str


@dataclass(slots=True)
class ErrorLine:
    id: str  # the field's element id, for the link
    name: str
    label: str
    message: str


@dataclass(slots=True)
class Warning:
    code: str
    label: str
    message: str


@dataclass(slots=True)
class Differential:
    code: str
    name: str
    href: str
    reasons: str
    items: tuple[Reason, ...] = ()  # each reason with its label (IMWG's thresholds: issue 19)


@dataclass(slots=True)
class Missing:
    code: str
    name: str
    to_settle: str
    lang: str = ""  # of to_settle: "en-GB" when it had no translation in the page's language


@dataclass(slots=True)
class CompareRow:
    status: str
    name: str
    short: str  # the status in a word or two
    explanation: str
    lang: str = ""  # of the explanation


@dataclass(slots=True)
class Link:
    href: str
    text: str
    sep: str  # what stands before it in a run of links ("" for the first)


@dataclass(slots=True)
class Reference:
    short: str
    ident: str  # " (PMID n)", " (doi x)" or ""
    lang: str = ""  # "en-GB" when the short name is read in English (a citation as published)


@dataclass(slots=True)
class Entered:
    label: str
    value: str
    state: str = ""  # a finding's "yes" or "no"; "" for a value (lab, typing, specimen)


@dataclass(slots=True)
class BeforeTreatment:
    """clinical.md §j as the page and the notes show it, read off the engine's answer."""

    extent: str
    extent_reasons: tuple[Reason, ...]  # shown, with their labels, in the treatment section
    to_settle: str
    summary: str  # "Before treatment: 2 work-up items missing, extent unknown"
    missing: tuple[WorkUpItem, ...]
    tests: tuple[str, ...]  # the missing investigations by name, for the short note
    risks: tuple[WorkUpItem, ...]
    factors: tuple[str, ...]  # the risk factors present by name, for the short note (an app
    # default cut-off marked, as a criterion resting on one is)
    drugs: tuple[WorkUpItem, ...]
    missing_heading: str = MISSING_HEADING
    risks_heading: str = RISKS_HEADING
    drugs_heading: str = DRUGS_HEADING
    no_score: str = NO_SCORE


@dataclass(slots=True)
class Treatment:
    title: str
    keyed: bool  # the lead pages are keyed to the extent (the set is met)
    reasons: str
    lead: tuple[Link, ...]
    rest: tuple[Link, ...]


@dataclass(slots=True)
class ResultView:
    """The whole result, in the order it reads (issue 10)."""

    status: str  # the verdict's code, or "empty"
    has_result: bool
    errors: tuple[ErrorLine, ...]
    errors_title: str
    headline: str  # the verdict in words, "" before anything is entered
    caveats: str  # ", with 1 major caveat" or ""
    set_name: str
    set_slug: str
    set_version: str
    content_version: str
    major: tuple[Caution, ...]
    minor: tuple[Caution, ...]
    chips: tuple[Chip, ...]
    differentials: tuple[Differential, ...]
    no_differentials: str
    warnings: tuple[Warning, ...]
    missing: tuple[Missing, ...]
    still_needed: tuple[str, ...]  # the missing criteria by name, in the engine's order (notes)
    criteria: tuple[Criterion, ...]
    comparison: tuple[CompareRow, ...]
    before_treatment: BeforeTreatment | None
    treatment: Treatment
    references: tuple[Reference, ...]
    today: str
    staff: bool
    entered: tuple[Entered, ...]
    disclaimer: str
    disclaimer_lang: str  # "en-GB" when the notice has no translation yet
    closing: str  # the report's closing disclaimer (content), for the full note
    status_line: str
    field_messages: tuple[dict[str, str], ...]
    reports: Mapping[str, str] = field(default_factory=dict)  # the notes, when carried
    note_url: str = ""


# --------------------------------------------------------------------------- caches

# Content codes to their page address: reverse() costs ~20 us, and the codes are few.
_DIFFERENTIAL_URLS: dict[str, str] = {}
_TREATMENT_URLS: dict[str, str] = {}


def _differential_url(code: str) -> str:
    url = _DIFFERENTIAL_URLS.get(code)
    if url is None:
        url = _DIFFERENTIAL_URLS[code] = reverse("checklist:differential", args=[code])
    return url


def _treatment_url(slug: str) -> str:
    url = _TREATMENT_URLS.get(slug)
    if url is None:
        url = _TREATMENT_URLS[slug] = reverse("checklist:treatment", args=[slug])
    return url


_NOTE_URL: list[str] = []


def note_url() -> str:
    if not _NOTE_URL:
        _NOTE_URL.append(reverse("checklist:note"))
    return _NOTE_URL[0]


# --------------------------------------------------------------------------- pieces


def date_text(day: datetime.date) -> str:
    """The date in the active language's way: ISO in English, as the notes always gave it
    (unambiguous in a referral letter), 2026年12月7日 in Japanese and Chinese (the locale's
    DATE_FORMAT, as Django formats it)."""
    if (translation.get_language() or "en").startswith("en"):
        return day.isoformat()
    return formats.date_format(day, "DATE_FORMAT")


def reason(text: str, ev: Mapping[str, Any] | None, language: str | None = None) -> Reason:
    """A reason with its label: the engine's tag (the weakest of the thresholds it applied) and,
    if it applied any, "app default" when one of them is, else "published threshold" with the
    sources (clinical.md §h; issue 19). Its words in ``language`` (content.say), English when it
    has no translation there (and marked so)."""
    said = say(text, language)
    if not ev:
        return Reason(said, lang=said.lang)
    tag = ev.get("evidence") or "unverified"
    word = evidence_word(tag)
    thresholds = ev.get("thresholds") or ()
    basis = label = ""
    if thresholds:
        if any(t.get("basis") == APP_DEFAULT for t in thresholds):
            basis = APP_DEFAULT
            label = basis_word(basis)
        else:
            basis = "published"
            sources = ", ".join(dict.fromkeys(t["source"] for t in thresholds if t.get("source")))
            label = basis_word(basis) + (f", {sources}" if sources else "")
    note = f"{word}; {label}" if label else word
    return Reason(said, tag, word, basis, label, note, tag in _WEAK or basis == APP_DEFAULT, said.lang)


def _flag(reasons: tuple[Reason, ...]) -> str:
    if any(r.evidence == "unverified" for r in reasons):
        return evidence_word("unverified")
    if any(r.basis == "app_default" for r in reasons):
        return basis_word(APP_DEFAULT)
    if any(r.evidence == "app_convention" for r in reasons):
        return evidence_word("app_convention")
    return ""


def _reasons(c: Mapping[str, Any], language: str | None = None) -> tuple[Reason, ...]:
    """The reasons of a criterion, a differential or the extent, each with its label."""
    tags = c.get("reason_evidence") or ()
    return tuple(
        reason(r, tags[i] if i < len(tags) else None, language) for i, r in enumerate(c.get("reasons") or ())
    )


def _sentences(texts: Iterable[str], language: str | None) -> str:
    """Reasons run together, as the English joins them; with no space between Japanese or
    Chinese sentences, which end in 。 already."""
    said = [say(t, language) for t in texts]
    sep = " " if all(t.lang or not language or language.startswith("en") for t in said) else ""
    return sep.join(said)


def criteria(items: Iterable[Mapping[str, Any]], language: str | None = None) -> tuple[Criterion, ...]:
    out = []
    for c in items:
        reasons = _reasons(c, language)
        out.append(
            Criterion(
                c["code"],
                c["name"],
                c["status"],
                criterion_word(c["status"]),
                derived_word(c["status"]),
                group_word(c["group"]),
                reasons,
                _flag(reasons),
            )
        )
    return tuple(out)


def chips(items: Iterable[Mapping[str, str]]) -> tuple[Chip, ...]:
    return tuple(Chip(c["status"], c["short"], c["name"], criterion_word(c["status"])) for c in items)


def entered(items: Iterable[Mapping[str, str]]) -> tuple[Entered, ...]:
    return tuple(Entered(e["label"], e["value"], e.get("state", "")) for e in items)


def differentials(
    items: Iterable[Mapping[str, Any]], language: str | None = None
) -> tuple[Differential, ...]:
    return tuple(
        Differential(
            d["code"],
            d["name"],
            _differential_url(d["code"]),
            _sentences(d["reasons"], language),
            _reasons(d, language),
        )
        for d in items
    )


def missing(
    items: Iterable[Mapping[str, Any]], codes: Iterable[str], language: str | None = None
) -> tuple[Missing, ...]:
    """The criteria still needed, in the set's order."""
    wanted = set(codes)
    out = []
    for c in items:
        if c["code"] in wanted:
            settle = say(c.get("to_settle") or "", language)
            out.append(Missing(c["code"], c["name"], settle, settle.lang))
    return tuple(out)


def comparison(rows: Iterable[Mapping[str, Any]], language: str | None = None) -> tuple[CompareRow, ...]:
    out = []
    for r in rows:
        explanation = say(r["explanation"], language)
        out.append(
            CompareRow(r["status"], r["name"], status_short(r["status"]), explanation, explanation.lang)
        )
    return tuple(out)


def references(refs: Iterable[Mapping[str, Any]]) -> tuple[Reference, ...]:
    return tuple(
        Reference(
            r["short"],
            f" (PMID {r['pmid']})" if r.get("pmid") else f" (doi {r['doi']})" if r.get("doi") else "",
            "en-GB" if {"short"} & {*r.get("in_english", ()), *r.get("kept_english", ())} else "",
        )
        for r in refs
    )


def links(pages: Iterable[Mapping[str, Any]]) -> tuple[Link, ...]:
    return tuple(
        Link(_treatment_url(str(p["slug"])), str(p["name"]), " · " if i else "") for i, p in enumerate(pages)
    )


def cautions(
    items: Iterable[Mapping[str, Any]], lead: bool = False, language: str | None = None
) -> tuple[Caution, ...]:
    out = []
    for c in items:
        tag = c.get("evidence") or "unverified"
        message, detail = say(c["message"], language), say(c.get("detail") or "", language)
        lang = message.lang or (detail.lang if detail else "")
        out.append(Caution(message, detail, lead, tag, evidence_word(tag), c.get("source") or "", lang))
    return tuple(out)


def _workup(text: Said, item: Mapping[str, Any]) -> WorkUpItem:
    word = evidence_word(item["evidence"])
    return WorkUpItem(text, item["evidence"], word, item["source"], note=word, lang=text.lang)


def _settles(why: Said, settles: Said) -> Said:
    """A work-up line: why it matters, then what it settles, in the interface's own words around
    the engine's; marked English if either engine text is."""
    return Said(f"{why} " + _("Settles: %(what)s") % {"what": settles}, why.lang or settles.lang)


def _joined(*said: Said) -> Said:
    """Parts already in the page's language, run together: marked English if any part is."""
    return Said("".join(said), next((s.lang for s in said if s.lang), ""))


def _risk(r: Mapping[str, Any], language: str | None = None) -> WorkUpItem:
    """A risk factor with its cut-off, and whether that number is published or the app's default
    (issue 19: told apart at a glance); a factor read from a finding has no cut-off."""
    limit = r.get("limit") or ""
    cut = " " + _("(cut-off %(limit)s)") % {"limit": limit} if limit else ""
    factor, value = say(r["factor"], language), say(r["value"], language)
    item = _workup(_joined(factor, Said(": "), value, Said(f"{cut}; {r['hr']}")), r)
    basis = r.get("basis") or ""
    if basis:
        item.basis, item.basis_word = basis, basis_word(basis)
        item.note = f"{item.evidence_word}; {item.basis_word}"
    return item


def before_treatment(result: Mapping[str, Any], language: str | None = None) -> BeforeTreatment | None:
    """The §j section, or None when the engine sent nothing for it (it sends the work-up only
    once the chosen set is met, so whether to show it is the engine's answer, not the page's)."""
    extent = result.get("extent") or {}
    missing = result.get("staging_missing") or []
    risks = result.get("risk_factors_present") or []
    drugs = result.get("drug_cautions") or []
    if not (extent or missing or risks or drugs):
        return None
    code = str(extent.get("extent", "unknown"))
    word = _(EXTENT_WORDS[code]) if code in EXTENT_WORDS else code
    n = len(missing)
    return BeforeTreatment(
        extent=word,
        extent_reasons=_reasons(extent, language),
        to_settle=say(extent.get("to_settle") or "", language),
        summary=ngettext(
            "Before treatment: %(num)d work-up item missing, extent %(extent)s",
            "Before treatment: %(num)d work-up items missing, extent %(extent)s",
            n,
        )
        % {"num": n, "extent": word},
        missing=tuple(
            _workup(_settles(say(m["why"], language), say(m["settles"], language)), m) for m in missing
        ),
        tests=tuple(say(m["test"], language) for m in missing),
        risks=tuple(_risk(r, language) for r in risks),
        factors=tuple(
            say(r["factor"], language)
            + (f" [{basis_word(APP_DEFAULT)}]" if r.get("basis") == APP_DEFAULT else "")
            for r in risks
        ),
        drugs=tuple(
            _workup(
                _joined(
                    Said(_("Major:") + " " if d["level"] == Level.MAJOR else ""), say(d["message"], language)
                ),
                d,
            )
            for d in drugs
        ),
        missing_heading=_(MISSING_HEADING),
        risks_heading=_(RISKS_HEADING),
        drugs_heading=_(DRUGS_HEADING),
        no_score=_(NO_SCORE),
    )


def treatment(plan: Mapping[str, Any], language: str | None = None) -> Treatment:
    """Treatment pages, keyed to disease extent when the set is met (clinical.md §f.2 A8)."""
    if plan.get("met") and plan.get("lead"):
        extent = plan.get("extent")
        title = (
            _("Treatment options discussed in the literature for limited disease")
            if extent == "limited"
            else _("Treatment options discussed in the literature for disseminated disease")
            if extent == "disseminated"
            else _("Treatment options discussed in the literature (disease extent not known yet)")
        )
        return Treatment(
            title,
            True,
            _sentences(plan.get("reasons") or [], language),
            links(plan["lead"]),
            links(plan.get("rest") or []),
        )
    title = (
        _("Treatment options discussed in the literature")
        if plan.get("met")
        else _("If POEMS is confirmed: treatment options")
    )
    return Treatment(title, False, "", (), links(plan.get("rest") or []))


def major_cautions(result: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The cautions that lead, beside the headline. A caution without a level is minor
    (clinical.md §f.2 A2): only named ones lead."""
    return [c for c in (result or {}).get("cautions", []) if c.get("level") == Level.MAJOR]


# --------------------------------------------------------------------------- the whole


def shape(ctx: Mapping[str, Any]) -> ResultView:
    """The result view from its parts (what ``parts`` gathers; a test may hand them in)."""
    result: Mapping[str, Any] | None = ctx.get("result")
    errors = tuple(
        ErrorLine(e.get("id", ""), e.get("name", ""), e.get("label", ""), e.get("message", ""))
        for e in ctx.get("errors") or []
    )
    n_errors = len(errors)
    major = ctx.get("major_cautions") or []
    request: HttpRequest | None = ctx.get("request")
    # Only a signed-in request can be staff: without a session cookie the lazy user
    # (a session read and an auth lookup) is never loaded.
    staff = bool(
        request is not None and settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_staff
    )
    today: datetime.date | None = ctx.get("today")
    reports = ctx.get("reports") or {}
    chosen = (result or {}).get("criteria_set") or {}
    rows = (result or {}).get("criteria") or []
    # The engine's texts in the page's language (i18n_patterns activates it): content.say.
    language = get_language()
    return ResultView(
        status=result["status"] if result else "empty",
        has_result=bool(result),
        errors=errors,
        errors_title=ngettext(
            "%(num)d value left out: fix to include", "%(num)d values left out: fix to include", n_errors
        )
        % {"num": n_errors},
        headline=status_headline(result["status"]) if result else "",
        caveats=ngettext(", with %(num)d major caveat", ", with %(num)d major caveats", len(major))
        % {"num": len(major)}
        if major
        else "",
        set_name=chosen.get("name", ""),
        set_slug=chosen.get("slug", ""),
        set_version=str(chosen.get("version", "")),
        content_version=str((result or {}).get("content_version", "")),
        major=cautions(major, lead=True, language=language),
        minor=cautions(ctx.get("minor_cautions") or [], language=language),
        chips=chips(ctx.get("chips") or []),
        differentials=differentials((result or {}).get("differentials") or [], language),
        no_differentials=(ctx.get("no_differentials") or {}).get("body") or "",
        warnings=tuple(Warning(w["code"], w["label"], w["message"]) for w in ctx.get("warnings") or []),
        missing=missing(rows, (result or {}).get("missing") or [], language),
        still_needed=tuple(ctx.get("still_needed") or ()),
        criteria=criteria(rows, language),
        comparison=comparison((result or {}).get("comparison") or [], language),
        before_treatment=before_treatment(result, language) if result else None,
        treatment=treatment(ctx.get("treatment") or {}, language),
        references=references(ctx.get("set_refs") or []),
        today=date_text(today) if today else "",
        staff=staff,
        entered=entered(ctx.get("entered") or []),
        # The result's disclaimer is the English notice (the engine's, as the API gives it);
        # the page says the same notice in its language, from the localised snapshot.
        disclaimer=((ctx.get("notice") or {}).get("body") or (result or {}).get("disclaimer") or "")
        if result
        else "",
        disclaimer_lang="en-GB" if result and "body" in (ctx.get("notice") or {}).get(IN_ENGLISH, ()) else "",
        closing=ctx.get("closing") or "",
        status_line=ctx.get("status_line") or "",
        field_messages=tuple(ctx.get("field_messages") or ()),
        reports=reports,
        note_url="" if reports else note_url(),
    )


def present(
    form: CaseForm,
    result: dict[str, Any] | None,
    snap: Snapshot,
    *,
    today: datetime.date,
    request: HttpRequest | None = None,
) -> ResultView:
    """The one path from an evaluated form to what every output shows."""
    return shape(parts(request, form, result, snap, today))


def with_reports(view: ResultView, reports: Mapping[str, str]) -> ResultView:
    """The view carrying its notes (the page without JavaScript, and the print view)."""
    return replace(view, reports=reports, note_url="" if reports else view.note_url)


def parts(
    request: HttpRequest | None,
    form: CaseForm,
    result: dict[str, Any] | None,
    snap: Snapshot,
    today: datetime.date,
) -> dict[str, Any]:
    """The pieces of the result read off the form, the engine's answer and the content."""
    chosen = (result or {}).get("criteria_set", {}).get("slug") or snap.book.default_set
    major = major_cautions(result)
    minor = [c for c in (result or {}).get("cautions", []) if c not in major]
    labels = {code: item.label for code, item in form.layout.items.items()}
    warnings = [
        {"code": code, "label": labels.get(code, code), "message": message}
        for code, message in form.warnings.items()
    ]
    errors = form.error_list() if form.is_bound else []
    names = snap.book.criterion_names
    closing = snap.texts.get("report_disclaimer")
    return {
        "request": request,
        "result": result,
        "errors": errors,
        "warnings": warnings,
        "field_messages": field_messages(form),
        "major_cautions": major,
        "minor_cautions": minor,
        "chips": _chips(result, snap, chosen),
        "status_line": _status_line(result, major, errors, warnings),
        "entered": form.entered(),
        "today": today,
        "no_differentials": snap.texts.get("no_differentials"),
        "treatment": _treatment(result, snap),
        "set_refs": set_references(snap, next((s for s in snap.criteria_sets if s["slug"] == chosen), {})),
        "still_needed": [names[c] for c in result["missing"]] if result else [],
        "closing": closing["body"] if closing else "",
        "notice": snap.texts.get("notice"),
    }


def set_references(snap: Snapshot, item: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [snap.references[r[0]] for r in item.get("references", []) if r[0] in snap.references]


def field_messages(form: CaseForm) -> list[dict[str, str]]:
    """One message per field for its message slot: errors first, else the warning."""
    if not form.is_bound:
        return []
    out: dict[str, dict[str, str]] = {}
    for name, messages in form.errors.items():
        if name == "__all__":
            continue
        code = name.removesuffix("__unit")
        out.setdefault(code, {"code": code, "kind": "error", "text": " ".join(str(m) for m in messages)})
    for code, message in form.warnings.items():
        out.setdefault(code, {"code": code, "kind": "warning", "text": message})
    return list(out.values())


def _status_line(
    result: Mapping[str, Any] | None, major: list[Any], errors: list[Any], warnings: list[Any]
) -> str:
    """The one short line screen readers hear after each change (a unit-slip warning too:
    otherwise only sighted users learn that "0.5" was probably ng/mL)."""
    if result is None:
        return ""
    parts = [status_headline(result["status"]), result["criteria_set"]["name"]]
    if major:
        parts.append(
            ngettext("%(num)d major caveat", "%(num)d major caveats", len(major)) % {"num": len(major)}
        )
    if errors:
        parts.append(
            ngettext("%(num)d value to fix", "%(num)d values to fix", len(errors)) % {"num": len(errors)}
        )
    if warnings:
        parts.append(
            ngettext("%(num)d value to check", "%(num)d values to check", len(warnings))
            % {"num": len(warnings)}
        )
    return ", ".join(parts)


def _chips(result: Mapping[str, Any] | None, snap: Snapshot, chosen: str) -> list[dict[str, str]]:
    """P, O, E, M, S, then the set's other major criteria: each met, not met or not assessed."""
    status = {c["code"]: c["status"] for c in result["criteria"]} if result else {}
    rule = snap.book.sets[chosen]
    wanted = set(rule.mandatory) | set(rule.major)
    lettered, others = [], []
    for criterion in snap.criteria:
        code = criterion["code"]
        chip = {
            "code": code,
            "short": criterion.get("letter") or criterion.get("short_name") or criterion["name"].split()[0],
            "name": criterion["name"],
            "status": status.get(code, "unknown"),
        }
        if criterion.get("letter"):
            lettered.append(chip)
        elif code in wanted:
            others.append(chip)
    lettered.sort(key=lambda x: "POEMS".index(x["short"]) if x["short"] in "POEMS" else 9)
    return lettered + others


def _treatment(result: Mapping[str, Any] | None, snap: Snapshot) -> dict[str, Any]:
    """Treatment pages keyed to disease extent when the set is met (clinical.md §f.2 A8)."""
    pages = {t["slug"]: t for t in snap.treatments}
    plan = (result or {}).get("treatment") or None
    if result is None or result.get("status") != Verdict.MET or not isinstance(plan, dict):
        return {
            "met": bool(result and result.get("status") == Verdict.MET),
            "extent": "",
            "lead": [],
            "rest": snap.treatments,
            "reasons": [],
        }
    lead = [pages[s] for s in plan.get("pages", []) if s in pages]
    rest = [t for t in snap.treatments if t not in lead]
    return {
        "met": True,
        "extent": plan.get("extent", "unknown"),
        "lead": lead,
        "rest": rest,
        "reasons": plan.get("reasons", []),
    }
