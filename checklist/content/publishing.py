"""Publishing: the draft becomes the live release only after every check passes (design.md §3.7).

Publish = build the records from the draft -> validate the rule book and every
value's plausibility -> run every (non-archived) regression case against the
draft -> refuse, naming each failure in clinical words and changing nothing,
or save the next release and signal every worker after commit. Reverting is
publishing an older release's records again, through the same checks.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from checklist.content import rule_book as content
from checklist.content.care_rules import follow_up_problems
from checklist.content.diagnosis_rules import diagnosis_rules
from checklist.content.models import ContentRelease, RegressionCase
from checklist.content.plausibility import check_threshold
from checklist.content.translation_check import translation_problems
from checklist.engine.diagnosis.book import from_records
from checklist.engine.diagnosis.evaluate import evaluate
from checklist.engine.diagnosis.golden import differences
from checklist.engine.diagnosis.rulebook import RuleBook, RuleBookError
from checklist.engine.diagnosis.words import criterion_word, verdict_verb
from checklist.engine.inputs import InputError, parse_case


@dataclass
class Outcome:
    """What publishing did: the new release, or every reason it refused."""

    release: ContentRelease | None = None
    problems: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    cases_run: int = 0

    @property
    def ok(self) -> bool:
        return self.release is not None


# -- checks ---------------------------------------------------------------


def rule_book_problems(records: Sequence[Mapping[str, Any]]) -> tuple[RuleBook | None, list[str]]:
    """The rule book built from ``records`` and every problem found in it (values included)."""
    # The follow-up rules (clinical.md §h) are in the same release: one that does not build
    # would leave the follow-up without an answer, so it is refused like a broken rule book.
    problems: list[str] = follow_up_problems(records)
    for record in records:
        if record["model"] == "checklist.threshold":
            f = record["fields"]
            check = check_threshold(f["code"], f["lab"], f["value"])
            problems.extend(f"Threshold {f['code']}: {e}" for e in check.errors)
    # A translation may change the words, never a threshold or number (design.md §3.12).
    problems.extend(translation_problems(records))
    try:
        book = from_records(records, diagnosis_rules())
    except RuleBookError as exc:
        return None, [*exc.problems, *problems]
    return book, problems


def _words(code: str, mapping: Mapping[str, str]) -> str:
    return mapping.get(code, code.replace("_", " "))


def describe_change(
    name: str, expected: Mapping[str, Any], result: Mapping[str, Any], book: RuleBook
) -> str | None:
    """One regression case's departure from its expectation, in clinical words (None: passes)."""
    parts: list[str] = []
    statuses = {c["code"]: c["status"] for c in result["criteria"]}
    for code, want in expected.get("criteria", {}).items():
        got = statuses.get(code)
        if got != want:
            got_word = criterion_word(got) if got else "not in this set"
            parts.append(f"{_words(code, book.criterion_names)} {criterion_word(want)} -> {got_word}")
    if "missing" in expected and sorted(expected["missing"]) != sorted(result["missing"]):
        parts.append(
            "still to assess would be "
            + (", ".join(_words(c, book.criterion_names) for c in result["missing"]) or "nothing")
        )
    fired = {d["code"] for d in result["differentials"]}
    for code in expected.get("differentials", []):
        if code not in fired:
            parts.append(f"{_words(code, book.differential_names)} would no longer be flagged")
    for code in expected.get("not_differentials", []):
        if code in fired:
            parts.append(f"{_words(code, book.differential_names)} would now be flagged")
    shown = {c["code"] for c in result["cautions"]}
    for code in expected.get("cautions", []):
        if code not in shown:
            parts.append(f"caution '{code.replace('_', ' ')}' would no longer show")
    for code in expected.get("not_cautions", []):
        if code in shown:
            parts.append(f"caution '{code.replace('_', ' ')}' would now show")
    want_status = str(expected.get("status") or "")
    status_changed = bool(want_status) and want_status != result["status"]
    if not parts and not status_changed:
        return None
    head = f"Case '{name}' would change"
    if status_changed:
        got_status = result["status"]
        head += f" from {verdict_verb(want_status)} to {verdict_verb(got_status)}"
    return head + (": " + "; ".join(parts) if parts else "")


def run_case_on(case: RegressionCase, book: RuleBook) -> str | None:
    """Run one regression case against ``book``; the clinical description of a failure, or None."""
    data: Any = dict(case.case) if isinstance(case.case, dict) else case.case
    if isinstance(data, dict) and case.criteria_set:
        data["criteria_set"] = case.criteria_set
    try:
        result = evaluate(parse_case(data, book.sets, drafts=book.draft_messages), book)
    except InputError as exc:
        return f"Case '{case.name}' would no longer be accepted: {exc}"
    expected = case.expected if isinstance(case.expected, dict) else {}
    # Pass or fail is the engine's golden comparison (every expectation key, unknown keys
    # refused), so publishing checks exactly what the golden tests check. describe_change
    # only words the common departures clinically; the rest are named as the engine names them.
    try:
        diffs = differences(expected, result)
    except (AttributeError, TypeError) as exc:
        return f"Case '{case.name}' has a malformed expectation ({type(exc).__name__})"
    if not diffs:
        return None
    try:
        worded = describe_change(case.name, expected, result, book)
    except (AttributeError, TypeError):
        worded = None
    return worded or f"Case '{case.name}' would change: " + "; ".join(diffs)


def case_failures(book: RuleBook) -> tuple[int, list[str]]:
    cases = list(RegressionCase.objects.filter(archived=False))
    failures = [msg for case in cases if (msg := run_case_on(case, book)) is not None]
    return len(cases), failures


def check_records(records: Sequence[Mapping[str, Any]]) -> Outcome:
    """Every reason ``records`` cannot be published; an Outcome with no release either way."""
    book, problems = rule_book_problems(records)
    outcome = Outcome(problems=problems)
    if book is not None:
        outcome.cases_run, outcome.failures = case_failures(book)
    return outcome


# -- publishing -------------------------------------------------------------


def _next_version(number: int, today: datetime.date) -> str:
    version = f"{today:%Y.%m}.{number}"
    while ContentRelease.objects.filter(version=version).exists():
        version += "a"
    return version


# The content rows that are public pages, and how the changelog names one: "treatment/<slug>".
PAGE_MODELS: dict[str, tuple[str, str, str]] = {
    # model -> (page kind, key field, title field)
    "checklist.treatment": ("treatment", "slug", "name"),
    "checklist.differential": ("differential", "code", "name"),
    "checklist.sitetext": ("text", "key", "title"),
}


def _pages_of(records: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for r in records:
        kind = PAGE_MODELS.get(r["model"])
        if kind is not None:
            out[f"{kind[0]}/{r['fields'][kind[1]]}"] = r["fields"]
    return out


def changed_pages(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One changelog line per page that differs between two record lists (added pages too)."""
    before, after = _pages_of(old), _pages_of(new)
    lines = []
    for page, fields in after.items():
        was = before.get(page)
        if was == fields:
            continue
        changed = sorted(k for k in fields.keys() | (was or {}).keys() if (was or {}).get(k) != fields.get(k))
        line = (
            "New page."
            if was is None
            else "Changed: " + ", ".join(f.replace("_", " ") for f in changed) + "."
        )
        lines.append({"page": page, "line": line})
    return lines


def page_changelog(release: ContentRelease) -> list[dict[str, Any]]:
    """The release's page lines, each with the page's title, version and review dates as published in it."""
    pages = _pages_of(release.records or [])
    out = []
    for entry in release.pages or []:
        page = str(entry.get("page", ""))
        fields = pages.get(page, {})
        kind = page.partition("/")[0]
        title_field = next((t for k, _key, t in PAGE_MODELS.values() if k == kind), "name")
        out.append(
            {
                "page": page,
                "kind": kind,
                "key": page.partition("/")[2],
                "title": fields.get(title_field) or page,
                "line": str(entry.get("line", "")),
                "version": fields.get("version", ""),
                "review_status": fields.get("review_status", ""),
                "reviewed_on": fields.get("reviewed_on") or "",
                "next_review_due": fields.get("next_review_due") or "",
                "in_release": bool(fields),
            }
        )
    return out


def publish(
    note: str,
    user: Any = None,
    *,
    records: list[dict[str, Any]] | None = None,
    reverts_to: int | None = None,
    pages: Sequence[Mapping[str, str]] = (),
) -> Outcome:
    """Publish the draft (or the given records) if every check passes; otherwise change nothing.

    ``pages`` are the editor's changelog lines, one per changed page; any other page that
    differs from the live release gets a line naming the fields that changed, so the
    changelog lists every changed page with its review dates.
    """
    note = note.strip()
    if not note:
        return Outcome(problems=["A note saying what changed is required."])
    with transaction.atomic():
        # One publisher at a time: the row lock serialises release numbers.
        list(ContentRelease.objects.select_for_update().filter(number__isnull=False).values("pk")[:1])
        records = content.content_records() if records is None else records
        live = ContentRelease.objects.live()
        if reverts_to is None and live is not None and live.records == records:
            return Outcome(problems=["Nothing to publish: the draft is the same as the live release."])
        outcome = check_records(records)
        if outcome.problems or outcome.failures:
            return outcome
        today = timezone.localdate()
        number = (ContentRelease.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        # The seed's changelog entry (a release row without records, with its page lines)
        # becomes the next release: release 1 on a fresh install, or the next one after the
        # seed is loaded again (load_content --force) into a database already serving.
        placeholder = None
        if reverts_to is None:
            placeholder = ContentRelease.objects.filter(number__isnull=True).order_by("pk").first()
        if placeholder is not None:
            release = placeholder
            if number > 1 and note not in release.summary:
                release.summary = f"{release.summary}\n\n{note}" if release.summary else note
            release.summary = release.summary or note
        else:
            release = ContentRelease(version=_next_version(number, today), released_on=today, summary=note)
        given = [*(release.pages or []), *(dict(p) for p in pages)]
        listed = {str(p.get("page")) for p in given}
        found = changed_pages(live.records or [] if live else [], records) if live is not None else []
        release.pages = [*given, *(p for p in found if p["page"] not in listed)]
        release.number = number
        release.records = records
        release.published_by = user if getattr(user, "pk", None) else None
        release.published_at = timezone.now()
        release.reverts_to = reverts_to
        try:
            with transaction.atomic():
                release.save()
        except IntegrityError:
            return Outcome(
                problems=["Another release was published at the same moment. Review again and retry."]
            )
        content.invalidate()
        outcome.release = release
    return outcome


def revert(to: ContentRelease, note: str, user: Any = None) -> Outcome:
    """Publish an older release's content again, as a new release number."""
    if to.records is None:
        return Outcome(problems=[f"{to} holds no published content to go back to."])
    return publish(
        note or f"Back to release {to.number}.", user, records=list(to.records), reverts_to=to.number
    )


def publish_seed() -> Outcome:
    """A fresh install serves at once: the loaded seed becomes release 1 (if nothing is published)."""
    if ContentRelease.objects.published().exists():
        return Outcome(release=ContentRelease.objects.live())
    return publish("Seed content as shipped with the application.")


# -- diff -------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    kind: str  # "added", "removed", "changed"
    model: str
    key: str
    field: str = ""
    old: str = ""
    new: str = ""


def _key_of(record: Mapping[str, Any]) -> str:
    """A row's stable name: its code, slug or key, else the rows it links (natural keys)."""
    f = record["fields"]
    for name in ("code", "slug", "key", "loinc_code"):
        if name in f:
            return str(f[name])
    if record["model"] == "checklist.membership":
        return f"{_plain(f.get('criteria_set'))} / {_plain(f.get('criterion'))}"
    # A model without a code (a mapping table, say): the rows it links and its short
    # one-word values name it; a change to those shows as one row removed, one added.
    parts = [
        _plain(v)
        for _name, v in sorted(f.items())
        if (isinstance(v, list) and v and not isinstance(v[0], list))
        or (isinstance(v, str) and v and len(v) <= 60 and " " not in v)
    ]
    return " / ".join(parts) or _plain(record.get("pk", "")) or repr(sorted(f.items()))[:80]


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def diff(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> list[Change]:
    """Every changed word and number between two record lists, added and removed rows included."""
    from django.apps import apps

    def index(records: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
        return {(r["model"], _key_of(r)): r["fields"] for r in records}

    def label(model: str) -> str:
        try:
            return str(apps.get_model(model)._meta.verbose_name)
        except LookupError:
            return model

    before, after = index(old), index(new)
    changes: list[Change] = []
    for key in sorted(before.keys() | after.keys()):
        model, name = key
        if key not in before:
            changes.append(Change("added", label(model), name))
            continue
        if key not in after:
            changes.append(Change("removed", label(model), name))
            continue
        a, b = before[key], after[key]
        for f in sorted(a.keys() | b.keys()):
            if a.get(f) != b.get(f):
                changes.append(Change("changed", label(model), name, f, _plain(a.get(f)), _plain(b.get(f))))
    return changes


def draft_diff() -> list[Change]:
    """The draft against the live release (everything is 'added' before the first release)."""
    live = ContentRelease.objects.live()
    return diff(live.records or [] if live else [], content.content_records())
