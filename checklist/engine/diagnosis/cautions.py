"""Cautions: one registry entry per code, with its trigger and level side by side.

A caution qualifies the headline; it never changes the status. Major
cautions travel with the headline (clinical.md §f.2 A2). The words are
content (``Caution.message``); when a caution fires and how heavy it is
are here. A trigger returns None when the caution does not fire, else its
detail ("" when the message says it all).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from checklist.engine.diagnosis.context import Context
from checklist.engine.diagnosis.derive import S_MET
from checklist.engine.diagnosis.imwg import defining_events
from checklist.engine.diagnosis.result import Caution, Evidence, Level
from checklist.engine.i18n import COMMA, sentences
from checklist.engine.message import Message, join

MAJOR, MINOR = Level.MAJOR, Level.MINOR


@dataclass(frozen=True, slots=True)
class CautionRule:
    code: str
    level: Level
    trigger: Callable[[Context], str | None]
    # For a caution whose weight depends on the case; otherwise ``level`` always.
    level_of: Callable[[Context], Level] | None = None


def _noted(code: str) -> Callable[[Context], str | None]:
    """A caution the derivation noted where it found the fact (its detail names the values)."""

    def trigger(ctx: Context) -> str | None:
        return ctx.notes.get(code)

    return trigger


def _conflicting(ctx: Context) -> str | None:
    """An explicit flag its findings contradict, read in the chosen set's own sub-finding lists."""
    found = ctx.chosen.conflicts
    return sentences(list(found.values())) if found else None


# §f.3 A11: with two clones the POEMS clone cannot be told from a bystander. The words are
# content (fixtures/diagnosis_rules.json, ``caution_details``).
BICLONAL_KAPPA = "kappa_light_chain_biclonal"


def _kappa(ctx: Context) -> str | None:
    """§f.3 A11: a kappa clone anywhere, including a biclonal typing whose light chains are not given."""
    labs = ctx.case.labs
    light = labs.get("light_chain_type")
    if light == "kappa":
        return ""
    biclonal = light in ("kappa_and_lambda", "biclonal") or (
        labs.get("heavy_chain_type") == "biclonal" and light in (None, "unknown")
    )
    if biclonal:
        return ctx.book.workup.caution_details.get(BICLONAL_KAPPA, "")
    return None


def _igm(ctx: Context) -> str | None:
    return "" if ctx.case.labs.get("heavy_chain_type") == "IgM" else None


def _myeloma_events(ctx: Context) -> str | None:
    """§f.2 A3: any IMWG myeloma-defining event with a monoclonal disorder present."""
    if not ctx.clone:
        return None
    events = defining_events(ctx.case, ctx.book, ctx.derived.flc_ratio)
    return sentences(events) if events else None


def _older_rules(ctx: Context) -> str | None:
    """§f.2 A5: met under a superseded set, not under the current one, whichever set was chosen."""
    if ctx.default.met:
        return None
    older = [o.rule.name for o in ctx.historical if o.met]
    if not older:
        return None
    current = ctx.default.rule.name
    why = sentences(ctx.default.blockers)
    return Message(
        "Met under: %(older)s. Not met under %(current)s (the current rule): %(why)s",
        older=join(COMMA, older),
        current=current,
        why=why,
    )


def _node_counted_twice(ctx: Context) -> str | None:
    """A Castleman node may also be the "lymphadenopathy" that makes organomegaly, the only minor one."""
    results, rule, findings = ctx.chosen.results, ctx.chosen.rule, ctx.case.findings
    organ = results.get("organomegaly")
    if (
        organ is None
        or organ.status is not S_MET
        or results["castleman_disease"].status is not S_MET
        or "organomegaly" in findings
    ):
        return None
    through = [f for f in ctx.book.qualifying("organomegaly") if findings.get(f) is True]
    only_minor = [c for c in rule.minor if results[c].status is S_MET] == ["organomegaly"]
    return "" if through == ["lymphadenopathy"] and only_minor else None


def _diabetes_thyroid_only(ctx: Context) -> str | None:
    # The 2007 caveat's caution; a set that predates the caveat does not apply it.
    if not ctx.chosen.rule.apply_endocrine_caveat:
        return None
    return ctx.notes.get("endocrinopathy_diabetes_thyroid_only")


def _caveat_not_applied(ctx: Context) -> str | None:
    rule = ctx.chosen.rule
    if (
        not rule.apply_endocrine_caveat
        and "endocrinopathy" in rule.codes
        and ctx.chosen.results["endocrinopathy"].status is S_MET
        and ctx.derived.criteria["endocrinopathy"].status is not S_MET
    ):
        return ""
    return None


def _vegf_level(ctx: Context) -> Level:
    """Major when the verdict rests on a low-specificity VEGF: met, VEGF the only other major criterion."""
    chosen = ctx.chosen
    if not chosen.met or chosen.results["vegf_elevated"].status is not S_MET:
        return MINOR
    if "vegf_elevated" not in chosen.rule.codes:
        return MINOR
    others = [c for c in chosen.rule.major if c != "vegf_elevated" and chosen.results[c].status is S_MET]
    return MINOR if others else MAJOR


RULES: tuple[CautionRule, ...] = (
    CautionRule("kappa_light_chain", MAJOR, _kappa),
    CautionRule("igm_heavy_chain", MAJOR, _igm),
    CautionRule("myeloma_defining_events", MAJOR, _myeloma_events),
    CautionRule("met_only_under_older_rules", MAJOR, _older_rules),
    CautionRule("conflicting_input", MAJOR, _conflicting),
    CautionRule("castleman_node_double_counted", MAJOR, _node_counted_twice),
    CautionRule("borderline_vegf", MINOR, _noted("borderline_vegf"), level_of=_vegf_level),
    CautionRule("borderline_platelets", MINOR, _noted("borderline_platelets")),
    CautionRule("endocrinopathy_diabetes_thyroid_only", MINOR, _diabetes_thyroid_only),
    CautionRule("endocrine_caveat_not_applied", MINOR, _caveat_not_applied),
)

CAUTIONS: tuple[str, ...] = tuple(r.code for r in RULES)
LEVELS: dict[str, Level] = {r.code: r.level for r in RULES}


def cautions(ctx: Context) -> tuple[Caution, ...]:
    """The cautions that fire, major first, each in registry order."""
    major: list[Caution] = []
    minor: list[Caution] = []
    book = ctx.book
    messages, tags, sources = book.caution_messages, book.caution_evidence, book.caution_sources
    for rule in RULES:
        detail = rule.trigger(ctx)
        if detail is None:
            continue
        level = rule.level if rule.level_of is None else rule.level_of(ctx)
        (major if level is MAJOR else minor).append(
            Caution(
                rule.code,
                level,
                messages[rule.code],
                detail or None,
                tags.get(rule.code, Evidence.UNVERIFIED),
                sources.get(rule.code, ""),
            )
        )
    return (*major, *minor)
