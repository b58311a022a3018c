"""The CIDP clinic screen's answer as plain data (no HTML): ``present`` gives the
``ScreenView`` that the page, the live fragment (``/screen/result``), the print view (the
page's print-only parts) and the copied note all show. Its markup is
``templates/checklist/_screen_answer*.html`` (Jinja2, ``checklist.web.jinja``), rendered by
``checklist.web.screen``; the note is written here as text, from the same view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from checklist.content.care_rules import CareContext
from checklist.content.say import say
from checklist.content.words import evidence_word
from checklist.engine.inputs import display_unit
from checklist.engine.screen import ScreenRules
from checklist.engine.screen.flags import CHOICE_WORDS
from checklist.engine.vocabulary import LABS
from checklist.web.forms import unit_field

YES, NO = "yes", "no"

# The screen's one required answer (clinical.md §i.2 item 1): without it there is no screen.
CONTEXT_CODE = "acquired_demyelinating_neuropathy"

# "Open the full checklist": the checklist field each screen code fills (design.md §3.4: the
# checklist's fields are the engine codes). Most codes are the same on both pages; the
# screen's context answer is a demyelinating polyneuropathy, which the checklist records
# as two findings. Codes the checklist has no field for are listed on the page beside the
# button (``Carry.missing``), never dropped silently.
CHECKLIST_FIELDS: Mapping[str, tuple[str, ...]] = {
    CONTEXT_CODE: ("polyneuropathy", "neuropathy_demyelinating"),
}

# Longer than this, the first sentence is cut at its colon (the flags are listed below it):
# the answer bar on a phone has room for about two lines.
HEADLINE_MAX = 90


@dataclass(frozen=True, slots=True)
class Screened:
    """What the form gave: the values as posted, field messages, and the engine's output."""

    values: dict[str, str]  # field name -> text as posted (the form echoes it)
    field_errors: dict[str, str]  # field name -> message
    output: dict[str, Any] | None  # the design.md §3.10 output, or None (no screen yet)
    given: bool  # anything entered at all


@dataclass(frozen=True, slots=True)
class Flag:
    code: str
    label: str
    supportive: bool
    reason: str
    source: str
    evidence: str
    evidence_word: str


@dataclass(frozen=True, slots=True)
class Test:
    code: str
    name: str  # as the rules word it
    title: str  # the name with a capital, as the list shows it
    why: str
    evidence: str
    evidence_word: str


@dataclass(frozen=True, slots=True)
class Note:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Labelled:
    """A code and its label (a field not assessed)."""

    code: str
    label: str


@dataclass(frozen=True, slots=True)
class Answer:
    category: str
    headline: str
    message: str
    red_flags: list[Flag]
    tests: list[Test]
    notes: list[Note]
    not_assessed: list[Labelled]
    content_version: str
    disclaimer: str


@dataclass(frozen=True, slots=True)
class FieldError:
    name: str  # the form field (a lab's unit is ``<code>__unit``)
    anchor: str  # the field's block on the page, ``f-<code>``
    label: str
    message: str


@dataclass(frozen=True, slots=True)
class Entered:
    code: str
    label: str
    value: str  # as entered, with its unit


@dataclass(frozen=True, slots=True)
class Carry:
    """The hidden fields of "Open the full checklist", and what the checklist has no field for."""

    fields: list[tuple[str, str]]
    missing: list[str]


@dataclass(frozen=True, slots=True)
class Policy:
    code: str
    label: str
    source: str
    evidence: str
    evidence_word: str


@dataclass(frozen=True, slots=True)
class ScreenView:
    answer: Answer | None  # None: no screen yet (nothing entered, or the first question not Yes)
    given: bool
    errors: list[FieldError]
    messages: list[tuple[str, str]]  # field name -> its message, beside the field
    carry: Carry
    policy: Policy
    entered: list[Entered]
    note: str  # the short note to copy
    status_line: str  # for the live region
    content_version: str
    rules_version: str
    today: str  # ISO date
    checklist_url: str


def present(
    screened: Screened,
    rules: ScreenRules,
    context: CareContext,
    today: dt.date,
    checklist_fields: set[str],
    checklist_url: str,
) -> ScreenView:
    answer = _answer(screened, rules, context.disclaimer)
    labels = {code: _(spec.label) for code, spec in rules.inputs.items()}
    policy = rules.policies.get(rules.default_policy, {})
    rows = entered(screened, rules)
    return ScreenView(
        answer=answer,
        given=screened.given,
        errors=[
            FieldError(
                name=name,
                anchor=name.removesuffix("__unit"),
                label=labels.get(name.removesuffix("__unit"), name),
                message=message,
            )
            for name, message in screened.field_errors.items()
        ],
        messages=list(screened.field_errors.items()),
        carry=carried_over(screened, rules, rows, checklist_fields),
        policy=Policy(
            code=rules.default_policy,
            label=_(policy["label"]) if "label" in policy else rules.default_policy,
            source=policy.get("source", ""),
            evidence=policy.get("evidence", ""),
            evidence_word=evidence_word(policy.get("evidence", "")),
        ),
        entered=rows,
        note=note_text(answer, rules, today, context),
        status_line=_status_line(answer, screened.field_errors),
        content_version=context.content_version,
        rules_version=rules.version,
        today=today.isoformat(),
        checklist_url=checklist_url,
    )


def headline(message: str, n_flags: int) -> str:
    """The message's first sentence, or its lead and the number of red flags: the answer bar's line.
    A Japanese or Chinese message ends its sentences with 。 and its lead with ："""
    if "\u3002" in message:
        head = message.split("\u3002", 1)[0] + "\u3002"
        # A CJK character is about two Latin ones wide: the bar holds half as many.
        if len(head) > HEADLINE_MAX // 2 and "\uff1a" in head:
            lead = head.split("\uff1a", 1)[0]
            return (
                _("%(lead)s: %(num)s found.") % {"lead": lead, "num": n_flags} if n_flags else f"{lead}\u3002"
            )
        return head
    head = message.split(". ", 1)[0].rstrip(".") + "."
    if len(head) > HEADLINE_MAX and ": " in head:
        lead = head.split(": ", 1)[0]
        return _("%(lead)s: %(num)s found.") % {"lead": lead, "num": n_flags} if n_flags else f"{lead}."
    return head


def _say(text: str) -> str:
    """An engine text in the page's language (English where the catalogues have none)."""
    return str(say(text, get_language()))


def _answer(screened: Screened, rules: ScreenRules, disclaimer: str) -> Answer | None:
    out = screened.output
    if out is None:
        return None
    tests = {t.code: t for t in rules.tests}
    flags = {f.code: f for f in rules.red_flags}
    labels = {code: _(spec.label) for code, spec in rules.inputs.items()}
    shown_tests = []
    for t in out["tests"]:
        rule = tests[t["code"]]
        name = _(rule.name)
        shown_tests.append(
            Test(
                code=t["code"],
                name=name,
                title=name[:1].upper() + name[1:],
                why=_say(t["why"]),
                evidence=rule.evidence,
                evidence_word=evidence_word(rule.evidence),
            )
        )
    message = _say(out["message"])
    return Answer(
        category=out["category"],
        headline=headline(message, len(out["red_flags"])),
        message=message,
        red_flags=[
            Flag(
                code=f["code"],
                label=_(flags[f["code"]].label),
                supportive=bool(f["supportive"]),
                reason=_say(f["reason"]),
                source=f["source"],
                evidence=f["evidence"],
                evidence_word=evidence_word(f["evidence"]),
            )
            for f in out["red_flags"]
        ],
        tests=shown_tests,
        notes=[Note(code=n["code"], message=_say(n["message"])) for n in out["notes"]],
        not_assessed=[Labelled(code=c, label=labels.get(c, c)) for c in out["not_assessed"]],
        content_version=out["content_version"],
        disclaimer=disclaimer,
    )


def entered(screened: Screened, rules: ScreenRules) -> list[Entered]:
    """What was entered, as entered, in page order (for the print view and the carry-over list)."""
    rows = []
    for code in rules.input_codes:
        raw = screened.values.get(code)
        if not raw or code in screened.field_errors or unit_field(code) in screened.field_errors:
            continue
        spec = rules.inputs[code]
        if spec.kind == "finding":
            shown = {YES: _("yes"), NO: _("no")}.get(raw, "")
            if not shown:
                continue
        elif spec.kind == "lab":
            unit = screened.values.get(unit_field(code)) or LABS[spec.lab].unit
            shown = f"{raw} {display_unit(unit).strip()}".strip()
        elif spec.kind == "choice" and raw in CHOICE_WORDS:
            shown = _(CHOICE_WORDS[raw])
        else:
            shown = raw.replace("_", " ")
        rows.append(Entered(code=code, label=_(spec.label), value=shown))
    return rows


def carried_over(
    screened: Screened, rules: ScreenRules, rows: list[Entered], checklist_fields: set[str]
) -> Carry:
    fields: list[tuple[str, str]] = []
    missing: list[str] = []
    for row in rows:
        code = row.code
        targets = tuple(t for t in CHECKLIST_FIELDS.get(code, (code,)) if t in checklist_fields)
        if not targets:
            missing.append(_(rules.inputs[code].label))
            continue
        for target in targets:
            fields.append((target, screened.values[code]))
            unit = screened.values.get(unit_field(code))
            if rules.inputs[code].kind == "lab" and unit:
                fields.append((unit_field(target), unit))
    return Carry(fields=fields, missing=missing)


def note_text(answer: Answer | None, rules: ScreenRules, today: dt.date, context: CareContext) -> str:
    """The short note to copy (about six lines): answer, flags, tests, gaps, versions, notice."""
    if answer is None:
        return ""
    semi, comma = _("; "), _(", ")
    flags = semi.join(
        _("%(label)s (supportive)") % {"label": f.label} if f.supportive else f.label
        for f in answer.red_flags
    )
    tests = semi.join(f"({i}) {t.name}" for i, t in enumerate(answer.tests, 1))
    gaps = comma.join(n.label for n in answer.not_assessed)
    lines = [
        _("POEMS screen for a CIDP clinic patient, %(date)s: %(headline)s")
        % {"date": today.isoformat(), "headline": answer.headline},
        _("Red flags: %(flags)s.") % {"flags": flags or _("none recorded")},
        _("Tests to order: %(tests)s.") % {"tests": tests or _("none on this screen")},
        _("Not assessed: %(items)s.") % {"items": gaps or _("nothing")},
        _("POEMSaid content %(content)s, screen rules %(rules)s.")
        % {"content": context.content_version, "rules": rules.version},
        _("Not a diagnosis.") + " " + context.disclaimer,
    ]
    return "\n".join(lines)


def _status_line(answer: Answer | None, errors: dict[str, str]) -> str:
    if answer is None:
        return ""
    parts = [answer.headline]
    n = len(answer.red_flags)
    parts.append(ngettext("%(num)d red flag", "%(num)d red flags", n) % {"num": n})
    if errors:
        k = len(errors)
        parts.append(ngettext("%(num)d value to fix", "%(num)d values to fix", k) % {"num": k})
    return _(", ").join(parts)
