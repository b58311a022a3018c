"""Once the chosen set is met: the work-up before treatment (clinical.md §j.1-§j.4, §j.6).

Shown only when the chosen set is met; empty otherwise. Nothing here is a score
or a recommendation: the staging items say what is still missing and what it
would settle (J-W1), the extent is A8's (J-E1-J-E4, treatment.py), the risk
factors are those one cohort associated with shorter overall survival, each
with its hazard ratio (J-K1, J-K2, J-K4), and the drug cautions carry a level
(J-D1-J-D6).

The words, numbers, hazard ratios and sources are content: the seed is
fixtures/diagnosis_rules.json, read by the content room and handed to the engine
through ``book.from_records`` (``rules_from_dict`` here checks it), so this module
holds the logic only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from checklist.engine.diagnosis.compare import crosses
from checklist.engine.diagnosis.result import (
    Basis,
    DrugCaution,
    Evidence,
    Extent,
    Level,
    RiskFactor,
    StagingItem,
    Treatment,
)
from checklist.engine.diagnosis.rulebook import RiskFactorRule, StagingRule, Threshold, WorkupRules
from checklist.engine.evidence import BASES, RulesError, check_tag
from checklist.engine.inputs import Case
from checklist.engine.message import Message
from checklist.engine.vocabulary import FINDINGS, LABS

_COMPARATORS = ("gt", "ge", "lt", "le")
_PRESENT = Message("present")


def _text(where: str, value: object, problems: list[str]) -> str:
    if isinstance(value, str) and value.strip():
        return value
    problems.append(f"{where}: needs text")
    return ""


def _words(where: str, value: object, problems: list[str]) -> str:
    """Text a clinician reads (not a code or a citation): a Message, so the page can translate it."""
    text = _text(where, value, problems)
    return Message(text) if text else text


def _tag(where: str, value: object, problems: list[str]) -> Evidence:
    return Evidence(str(value)) if check_tag(where, value, problems) else Evidence.UNVERIFIED


def _codes(where: str, values: object, known: Collection[str], problems: list[str]) -> tuple[str, ...]:
    if not isinstance(values, list):
        problems.append(f"{where}: needs a list of codes")
        return ()
    for code in values:
        if code not in known:
            problems.append(f"{where}: {code!r} is not in the engine vocabulary")
    return tuple(str(c) for c in values)


def _staging(i: int, f: Mapping[str, Any], problems: list[str]) -> StagingRule:
    where = f"staging item {f.get('code', i)}"
    labs = _codes(f"{where} labs", f.get("labs", []), LABS, problems)
    findings = _codes(f"{where} findings", f.get("findings", []), FINDINGS, problems)
    if not labs and not findings:
        problems.append(f"{where}: names no lab or finding that records it")
    return StagingRule(
        code=_text(f"{where} code", f.get("code"), problems),
        labs=labs,
        findings=findings,
        test=_words(f"{where} test", f.get("test"), problems),
        reads=Message(str(f.get("reads", ""))),
        settles=_words(f"{where} settles", f.get("settles"), problems),
        evidence=_tag(where, f.get("evidence"), problems),
        source=_text(f"{where} source", f.get("source"), problems),
    )


def _factor(i: int, f: Mapping[str, Any], problems: list[str]) -> RiskFactorRule:
    code = str(f.get("code", i))
    where = f"risk factor {code}"
    test: Threshold | str = ""
    if "finding" in f:
        test = str(f["finding"])
        if test not in FINDINGS:
            problems.append(f"{where}: finding {test!r} is not in the engine vocabulary")
    elif isinstance(f.get("threshold"), Mapping):
        t = f["threshold"]
        lab, comparator, basis = t.get("lab"), t.get("comparator"), t.get("basis")
        if lab not in LABS:
            problems.append(f"{where}: lab {lab!r} is not in the engine vocabulary")
        if comparator not in _COMPARATORS:
            problems.append(f"{where}: comparator {comparator!r}; use one of {', '.join(_COMPARATORS)}")
        if basis not in BASES:
            problems.append(f"{where}: basis {basis!r}; use one of {', '.join(BASES)}")
        value = t.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where}: threshold value {value!r} is not a number")
            value = 0
        if lab in LABS and comparator in _COMPARATORS and basis in BASES:
            test = Threshold(
                code,
                str(lab),
                str(comparator),
                float(value),
                label="",
                unit=LABS[str(lab)].unit,
                source=_text(f"{where} threshold source", t.get("source"), problems),
                evidence=_tag(f"{where} threshold", t.get("evidence"), problems),
                basis=Basis(str(basis)),
            )
    else:
        problems.append(f"{where}: needs a finding or a threshold")
    return RiskFactorRule(
        code=code,
        factor=_words(f"{where} factor", f.get("factor"), problems),
        test=test,
        hr=_text(f"{where} hr", f.get("hr"), problems),
        evidence=_tag(where, f.get("evidence"), problems),
        source=_text(f"{where} source", f.get("source"), problems),
    )


def _drug(i: int, f: Mapping[str, Any], problems: list[str]) -> DrugCaution:
    code = str(f.get("code", i))
    where = f"drug caution {code}"
    level = f.get("level")
    if level not in (Level.MAJOR.value, Level.MINOR.value):
        problems.append(f"{where}: level {level!r}; use major or minor")
        level = Level.MINOR.value
    return DrugCaution(
        code,
        Level(str(level)),
        _words(f"{where} message", f.get("message"), problems),
        _tag(where, f.get("evidence"), problems),
        _text(f"{where} source", f.get("source"), problems),
    )


# J-E4: the extent needs the lesion count and the marrow biopsy; one text for each case of
# what is still missing.
_TO_SETTLE_KEYS = ("both", "lesion_count", "marrow")


def _to_settle(value: object, problems: list[str]) -> dict[str, str]:
    if not isinstance(value, Mapping):
        problems.append(f"extent_to_settle: needs {{{', '.join(_TO_SETTLE_KEYS)}: text}}")
        return {}
    return {key: _words(f"extent_to_settle {key}", value.get(key), problems) for key in _TO_SETTLE_KEYS}


def rules_from_dict(data: Mapping[str, Any]) -> tuple[WorkupRules, dict[str, tuple[tuple[str, float], ...]]]:
    """The work-up rules and the per-unit published thresholds; RulesError lists every problem."""
    problems: list[str] = []
    staging = tuple(_staging(i, f, problems) for i, f in enumerate(data.get("staging", [])))
    factors = tuple(_factor(i, f, problems) for i, f in enumerate(data.get("risk_factors", [])))
    drugs = tuple(_drug(i, f, problems) for i, f in enumerate(data.get("drug_cautions", [])))
    details = data.get("caution_details", {})
    if not isinstance(details, Mapping) or not all(isinstance(v, str) for v in details.values()):
        problems.append("caution_details: needs {name: text}")
        details = {}
    published: dict[str, tuple[tuple[str, float], ...]] = {}
    for code, rows in (data.get("published_unit_thresholds") or {}).items():
        pairs = []
        for row in rows:
            where = f"published threshold {code} in {row.get('unit')!r}"
            value = row.get("value")
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{where}: value {value!r} is not a number")
                continue
            check_tag(where, row.get("evidence"), problems)
            _text(f"{where} source", row.get("source"), problems)
            pairs.append((str(row.get("unit")), float(value)))
        published[str(code)] = tuple(pairs)
    rules = WorkupRules(
        version=_text("version", data.get("version"), problems),
        staging=staging,
        risk_factors=factors,
        risk_factor_wording=_words("risk_factor_wording", data.get("risk_factor_wording"), problems),
        drug_cautions=drugs,
        extent_to_settle=_to_settle(data.get("extent_to_settle"), problems),
        caution_details={k: Message(v) for k, v in details.items()},
    )
    if problems:
        raise RulesError(problems)
    return rules, published


def staging_missing(case: Case, rules: WorkupRules) -> tuple[StagingItem, ...]:
    """J-W1: each staging item not yet recorded, with why and what it would settle."""
    out = []
    for item in rules.staging:
        done = any(lab in case.labs for lab in item.labs) or any(f in case.findings for f in item.findings)
        if not done:
            if item.reads:
                why = Message("%(test)s: %(reads)s.", test=item.test, reads=item.reads)
            else:
                why = Message("%(test)s.", test=item.test)
            out.append(StagingItem(item.code, item.test, why, item.settles, item.evidence, item.source))
    return tuple(out)


def _present(case: Case, f: RiskFactorRule) -> str | None:
    """The value as entered when the factor is present, else None (not assessed is never absent)."""
    if isinstance(f.test, str):
        return _PRESENT if case.findings.get(f.test) is True else None
    return case.show(f.test.lab) if crosses(f.test, case, f.test.lab) else None


def risk_factors_present(case: Case, rules: WorkupRules) -> tuple[RiskFactor, ...]:
    """J-K2: the factors present, each with its hazard ratio and source; never a score."""
    out = []
    for f in rules.risk_factors:
        shown = _present(case, f)
        if shown is not None:
            # A value as entered is trimmed; the word "present" stays a Message.
            value = shown if isinstance(shown, Message) else shown.strip()
            limit, basis = ("", None) if isinstance(f.test, str) else (f.test.limit, f.test.basis)
            out.append(
                RiskFactor(
                    f.code,
                    f.factor,
                    value,
                    f.hr,
                    Message("%(factor)s: %(wording)s.", factor=f.factor, wording=rules.risk_factor_wording),
                    f.evidence,
                    f.source,
                    limit,
                    basis,
                )
            )
    return tuple(out)


def extent_to_settle(t: Treatment, case: Case, rules: WorkupRules) -> str | None:
    """J-E4: what would settle an unknown extent, asking only for what is not yet recorded:
    the lesion count (PET-CT) and the iliac-crest marrow biopsy (A8). With both recorded and
    the extent still unknown (no sclerotic lesion), no test is left to ask for; the extent's
    reasons say why."""
    if t.extent is not Extent.UNKNOWN:
        return None
    # Read as treatment() reads them: a value left out (None) is not assessed, never recorded.
    count = case.labs.get("bone_lesion_count") is None
    marrow = case.findings.get("marrow_clone") is None
    key = "both" if count and marrow else "lesion_count" if count else "marrow" if marrow else ""
    return rules.extent_to_settle.get(key) or None
