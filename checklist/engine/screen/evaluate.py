"""The screen's answer (clinical.md §i.4-§i.6): the first matching category, the tests, the notes.

Where an input that is not given decides between categories (an undated test, an
unknown VEGF specimen, confounders not asked about), every possibility is tried,
as clinical.md §f.2 A1 does for a criterion: if all give the same category it
stands; otherwise the answer says which input decides. "Not assessed" is never
taken as "no".
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..i18n import AND, COMMA
from ..message import Joined, Message
from .flags import SEMI, FlagResult, State, choice_word, evaluate_flags, passes, show
from .inputs import ScreenInput
from .rules import CategoryRule, ScreenRules

NOT_DONE, RECENT, STALE, UNDATED = "not_done", "recent", "stale", "undated"
SLASH = Message(" / ")


def _said(template: str, **params: str) -> Message:
    """A rules-data text as a Message, given only the params it names: a text with none keeps a
    literal "%" ("sensitivity 100%") as it stands."""
    return Message(template, **{k: v for k, v in params.items() if f"%({k})s" in template})


@dataclass(frozen=True, slots=True)
class RedFlag:
    code: str
    reason: str
    source: str
    evidence: str
    supportive: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "reason": self.reason,
            "source": self.source,
            "evidence": self.evidence,
            "supportive": self.supportive,
        }


@dataclass(frozen=True, slots=True)
class TestToOrder:
    code: str
    why: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "why": self.why}


@dataclass(frozen=True, slots=True)
class Note:
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class ScreenResult:
    category: str
    message: str
    red_flags: tuple[RedFlag, ...]
    tests: tuple[TestToOrder, ...]
    notes: tuple[Note, ...]
    not_assessed: tuple[str, ...]


def screen_output(result: ScreenResult, *, content_version: str, disclaimer: str) -> dict[str, Any]:
    """The design.md §3.10 output."""
    return {
        "category": result.category,
        "message": result.message,
        "red_flags": [f.as_dict() for f in result.red_flags],
        "tests": [t.as_dict() for t in result.tests],
        "notes": [n.as_dict() for n in result.notes],
        "not_assessed": list(result.not_assessed),
        "content_version": content_version,
        "disclaimer": disclaimer,
    }


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the month's last day when it is shorter (31 Jan + 1 = 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - day 28 exists in every month


def age_of_test(inp: ScreenInput, result_code: str, date_code: str, months: int) -> str:
    """not_done, recent (up to ``months`` months 0 days old), stale, or undated."""
    if not inp.given(result_code):
        return NOT_DONE
    day = inp.dates.get(date_code)
    if day is None:
        return UNDATED
    return RECENT if add_months(day, months) >= inp.today else STALE


@dataclass(frozen=True, slots=True)
class World:
    """One possibility for what was not given; the category is decided in each."""

    vegf_raised: bool
    confounded: bool
    ife: str  # not_done, recent or stale
    vegf: str
    flags: frozenset[str]  # fired, with rf_vegf_raised as this world has it


# The inputs a world can vary, in the order "depends on" names them.
_DIMENSIONS = ("specimen", "confounders", "ife_date", "vegf_date")


def _options(inp: ScreenInput, rules: ScreenRules, flags: Mapping[str, FlagResult]) -> dict[str, list[Any]]:
    vegf = flags["rf_vegf_raised"].state
    conf_codes = [c.code for c in rules.confounders]
    if any(inp.yes(c) for c in conf_codes):
        confounded = [True]
    elif all(inp.no(c) for c in conf_codes):
        confounded = [False]
    else:
        confounded = [True, False]
    months = rules.recency_months
    ife_age = age_of_test(inp, "m_protein_present", "sife_date", months)
    vegf_age = age_of_test(inp, "vegf_pg_ml", "vegf_date", months)
    return {
        "specimen": [True, False] if vegf is State.UNDETERMINED else [vegf is State.FIRED],
        "confounders": confounded,
        "ife_date": [RECENT, STALE] if ife_age == UNDATED else [ife_age],
        "vegf_date": [RECENT, STALE] if vegf_age == UNDATED else [vegf_age],
    }


def _decide(
    inp: ScreenInput, rules: ScreenRules, flags: Mapping[str, FlagResult]
) -> tuple[str | None, tuple[str, ...]]:
    """The category all possible worlds agree on (or None), and the inputs whose value changes it."""
    predicates = _predicates(inp, flags)
    options = _options(inp, rules, flags)
    fired = frozenset(c for c, f in flags.items() if f.state is State.FIRED and c != "rf_vegf_raised")
    outcome: dict[tuple[Any, ...], str] = {}
    for combo in itertools.product(*(options[d] for d in _DIMENSIONS)):
        raised, confounded, ife, vegf = combo
        world = World(raised, confounded, ife, vegf, fired | ({"rf_vegf_raised"} if raised else frozenset()))
        outcome[combo] = next(c.code for c in rules.categories if predicates[c.code](world))
    if len(set(outcome.values())) == 1:
        return next(iter(outcome.values())), ()
    # A dimension decides when changing it alone changes the category.
    decides = tuple(
        d
        for i, d in enumerate(_DIMENSIONS)
        if any(
            outcome[a] != outcome[b]
            for a in outcome
            for b in outcome
            if a[i] != b[i] and all(a[j] == b[j] for j in range(len(_DIMENSIONS)) if j != i)
        )
    )
    return None, decides


def _predicates(inp: ScreenInput, flags: Mapping[str, FlagResult]) -> dict[str, Callable[[World], bool]]:
    mprotein = (
        flags["rf_lambda_mprotein"].state is State.FIRED or flags["rf_mprotein_any"].state is State.FIRED
    )
    found = inp.yes("m_protein_present")
    negative = inp.no("m_protein_present")
    vegf_given = inp.given("vegf_pg_ml")

    def missing(w: World) -> bool:
        return w.ife != RECENT or w.vegf != RECENT

    return {
        "screen_known_poems": lambda w: inp.yes("poems_known"),
        "screen_acute_onset": lambda w: inp.yes("neuropathy_acute_onset"),
        "screen_high_suspicion": lambda w: w.vegf_raised and mprotein and not w.confounded,
        "screen_vegf_raised_confounded": lambda w: w.vegf_raised and w.confounded,
        "screen_test_now_red_flags": lambda w: bool(w.flags) and missing(w),
        "screen_tests_negative": lambda w: (
            vegf_given and not w.vegf_raised and w.vegf == RECENT and negative and w.ife == RECENT
        ),
        "screen_mprotein_needs_vegf": lambda w: found and w.vegf != RECENT,
        "screen_test_now_policy": lambda w: inp.policy == "test_all" and not w.flags and missing(w),
        "screen_no_red_flags": lambda w: inp.policy == "red_flag_only" and not w.flags,
        "screen_depends_on_input": lambda w: False,
        "screen_open_checklist": lambda w: True,
    }


def run_screen(inp: ScreenInput, rules: ScreenRules) -> ScreenResult:
    """The screen's answer for a parsed input (clinical.md §i.5: the first category that matches)."""
    flags = evaluate_flags(inp, rules)
    agreed, decides = _decide(inp, rules, flags)
    by_code = {c.code: c for c in rules.categories}
    category = by_code[agreed or "screen_depends_on_input"]
    red_flags = _red_flags(inp, rules, flags)
    tests = _tests(inp, rules, flags, category)
    message = _message(inp, rules, category, red_flags, tests, _what_decides(inp, rules, decides))
    return ScreenResult(
        category.code, message, red_flags, tests, _notes(inp, rules, flags), _not_assessed(inp, rules)
    )


def _what_decides(inp: ScreenInput, rules: ScreenRules, decides: tuple[str, ...]) -> str:
    unasked = Joined(COMMA, (Message(c.words) for c in rules.confounders if not inp.given(c.code)))
    words = {
        "specimen": Message("the VEGF specimen (serum or plasma) or the lab's upper limit"),
        "confounders": Message("whether any of these is present: %(items)s", items=unasked),
        "ife_date": Message("the date of the serum immunofixation"),
        "vegf_date": Message("the date of the VEGF"),
    }
    return Joined(SEMI, (words[d] for d in decides))


def _red_flags(inp: ScreenInput, rules: ScreenRules, flags: Mapping[str, FlagResult]) -> tuple[RedFlag, ...]:
    out: list[RedFlag] = []
    conf = [Message(c.words) for c in rules.confounders if inp.yes(c.code)]
    for rule in rules.red_flags:
        f = flags[rule.code]
        if f.state is not State.FIRED:
            continue
        source, evidence = rule.branches.get(f.branch, (rule.source, rule.evidence))
        reason = f.reason
        if rule.code == "rf_vegf_raised":
            if f.branch == "cutoff":
                specimen = inp.choices.get("vegf_specimen", "unknown")
                keys = (
                    [f"vegf_{specimen}"] if specimen in ("plasma", "serum") else ["vegf_plasma", "vegf_serum"]
                )
                source = "; ".join([source, *(rules.thresholds[k].source for k in keys)])
                evidence = "secondary"
            if conf:
                reason = Message(
                    "%(reason)s Confounded: %(items)s can raise VEGF too.",
                    reason=reason,
                    items=Joined(COMMA, conf),
                )
        out.append(RedFlag(rule.code, reason, source, evidence, rule.supportive))
    return tuple(out)


def _abnormal(inp: ScreenInput, rules: ScreenRules, flags: Mapping[str, FlagResult]) -> bool:
    unconfounded = not any(inp.yes(c.code) for c in rules.confounders)
    return inp.yes("m_protein_present") or (flags["rf_vegf_raised"].state is State.FIRED and unconfounded)


def _tests(
    inp: ScreenInput, rules: ScreenRules, flags: Mapping[str, FlagResult], category: CategoryRule
) -> tuple[TestToOrder, ...]:
    months = rules.recency_months
    missing = {
        "serum_ife_flc": age_of_test(inp, "m_protein_present", "sife_date", months) in (NOT_DONE, STALE),
        "vegf": age_of_test(inp, "vegf_pg_ml", "vegf_date", months) in (NOT_DONE, STALE),
        "fbc": not inp.given("platelets_10e9_l"),
        "skeletal_imaging": False,
    }
    wanted: set[str] = set()
    for code, when in category.tests:
        if (
            when == "always"
            or (when == "if_missing" and missing[code])
            or (when == "if_abnormal" and _abnormal(inp, rules, flags))
        ):
            wanted.add(code)
    return tuple(TestToOrder(t.code, Message(t.why)) for t in rules.tests if t.code in wanted)


def _message(
    inp: ScreenInput,
    rules: ScreenRules,
    category: CategoryRule,
    red_flags: tuple[RedFlag, ...],
    tests: tuple[TestToOrder, ...],
    decides: str,
) -> str:
    names = {t.code: t.name for t in rules.tests}
    listed = [t for t in tests if t.code != "skeletal_imaging"] or list(tests)
    fill: dict[str, str] = {
        "red_flags": Joined(
            SEMI,
            (
                # The source is a citation: it goes in as it is, in English.
                Message("%(label)s (%(source)s)", label=Message(_label(rules, f.code)), source=f.source)
                for f in red_flags
            ),
        )
        if red_flags
        else Message("none"),
        "tests": Joined(
            SEMI,
            (
                Message("(%(n)s) %(name)s", n=str(i), name=Message(names[t.code]))
                for i, t in enumerate(listed, 1)
            ),
        )
        if listed
        else Message("nothing more"),
        "decides": decides,
    }
    if category.code == "screen_vegf_raised_confounded":
        present = [c for c in rules.confounders if inp.yes(c.code)]
        fill["confounders"] = Joined(AND, (Message(c.words) for c in present))
        after = [Message(c.repeat_after) for c in present if c.repeat_after]
        fill["repeat"] = (
            _said(category.extra["repeat_after_words"], after=Joined(SLASH, after))
            if after
            else _said(category.extra["repeat_without_words"])
        )
    return _said(category.message, **fill)


def _label(rules: ScreenRules, code: str) -> str:
    return next(f.label for f in rules.red_flags if f.code == code)


def _notes(inp: ScreenInput, rules: ScreenRules, flags: Mapping[str, FlagResult]) -> tuple[Note, ...]:
    words = rules.notes
    months = rules.recency_months
    out: list[Note] = []
    heavy = inp.choices.get("heavy_chain_type")
    if (inp.yes("m_protein_present") and heavy in rules.igm_heavy_chains) or any(
        inp.yes(c) for c in rules.igm_findings
    ):
        out.append(Note("igm_anti_mag", _said(words["igm_anti_mag"])))
    fired = [f for f in rules.red_flags if flags[f.code].state is State.FIRED]
    if fired and all(f.supportive for f in fired):
        out.append(Note("supportive_only", _said(words["supportive_only"])))
    vegf = flags["rf_vegf_raised"]
    lab = inp.labs.get("vegf_pg_ml")
    if vegf.state is State.UNDETERMINED and lab is not None:
        out.append(Note("vegf_specimen_decides", vegf.reason))
    if vegf.state is State.FIRED and vegf.branch == "uln" and lab is not None:
        specimen = inp.choices.get("vegf_specimen", "unknown")
        keys = [specimen] if specimen in ("plasma", "serum") else ["plasma", "serum"]
        below = [
            (k, limit) for k in keys for ok, limit in [passes(rules.thresholds[f"vegf_{k}"], lab)] if not ok
        ]
        if below:
            k, limit = below[-1]
            out.append(
                Note(
                    "vegf_borderline",
                    _said(
                        words["vegf_borderline"],
                        value=show(lab.value, lab.unit),
                        specimen=choice_word(k),
                        cutoff=show(limit, lab.unit),
                    ),
                )
            )
    if vegf.state in (State.FIRED, State.UNDETERMINED) and not any(
        inp.yes(c.code) for c in rules.confounders
    ):
        unasked = [Message(c.words) for c in rules.confounders if not inp.given(c.code)]
        if unasked:
            out.append(
                Note(
                    "confounders_not_assessed",
                    _said(words["confounders_not_assessed"], codes=Joined(COMMA, unasked)),
                )
            )
    for name_key, result, date_code in (
        ("serum_ife", "m_protein_present", "sife_date"),
        ("vegf", "vegf_pg_ml", "vegf_date"),
    ):
        age = age_of_test(inp, result, date_code, months)
        test = Message(rules.test_names[name_key])
        if age == UNDATED:
            out.append(
                Note(f"{name_key}_undated", _said(words["test_undated"], test=test, months=str(months)))
            )
        elif age == STALE:
            day = inp.dates[date_code].isoformat()
            out.append(
                Note(f"{name_key}_stale", _said(words["test_stale"], test=test, months=str(months), date=day))
            )
    if not inp.given("m_protein_present"):
        out.append(Note("ask_ife", _said(words["ask_ife"])))
    if not inp.given("vegf_pg_ml"):
        out.append(Note("ask_vegf", _said(words["ask_vegf"])))
    return tuple(out)


def _not_assessed(inp: ScreenInput, rules: ScreenRules) -> tuple[str, ...]:
    """Page codes not given; a detail of a result not given is left out (its result is listed)."""
    out: list[str] = []
    for code in rules.input_codes:
        parent = rules.inputs[code].parent
        if inp.given(code) or (parent and not inp.given(parent)):
            continue
        out.append(code)
    return tuple(out)
