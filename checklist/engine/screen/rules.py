"""The screen's rules as plain data (clinical.md §i), built from a dict such as fixtures/screen_rules.json.

Thresholds, codes, words and sources are content: the engine only reads them. A seed
that the engine cannot use is refused here, naming what is wrong, rather than
failing later inside a screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..evidence import RulesError as RulesError  # one error for all content, re-exported
from ..evidence import check_tag
from ..vocabulary import LABS

POLICIES = ("test_all", "red_flag_only")
INPUT_KINDS = ("finding", "lab", "choice", "date")
TEST_WHEN = ("always", "if_missing", "if_abnormal")
# The categories the engine can decide (clinical.md §i.5 and two fallbacks of its own);
# the seed gives their order, words and sources.
CATEGORY_CODES = (
    "screen_known_poems",
    "screen_acute_onset",
    "screen_high_suspicion",
    "screen_vegf_raised_confounded",
    "screen_test_now_red_flags",
    "screen_tests_negative",
    "screen_mprotein_needs_vegf",
    "screen_test_now_policy",
    "screen_no_red_flags",
    "screen_depends_on_input",
    "screen_open_checklist",
)
RED_FLAG_CODES = (
    "rf_lambda_mprotein",
    "rf_mprotein_any",
    "rf_thrombocytosis",
    "rf_vegf_raised",
    "rf_systemic_feature",
    "rf_clinical_profile",
    "rf_ncs_profile",
    "rf_ivig_refractory",
)
TEST_CODES = ("serum_ife_flc", "vegf", "fbc", "skeletal_imaging")
THRESHOLD_CODES = ("platelets", "vegf_plasma", "vegf_serum", "median_tli")
MAX_ITEMS = 15


@dataclass(frozen=True, slots=True)
class Threshold:
    lab: str
    comparison: str  # ">" or ">="
    value: float
    unit: str
    source: str
    evidence: str


@dataclass(frozen=True, slots=True)
class InputSpec:
    code: str
    kind: str
    label: str
    help: str
    lab: str = ""
    parent: str = ""
    required: bool = False


@dataclass(frozen=True, slots=True)
class Item:
    item: int
    title: str
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RedFlagRule:
    code: str
    label: str
    source: str
    evidence: str
    supportive: bool
    branches: Mapping[str, tuple[str, str]]  # branch -> (source, evidence)


@dataclass(frozen=True, slots=True)
class Confounder:
    code: str
    words: str
    repeat_after: str


@dataclass(frozen=True, slots=True)
class TestRule:
    code: str
    name: str
    why: str
    evidence: str


@dataclass(frozen=True, slots=True)
class CategoryRule:
    code: str
    message: str
    source: str
    evidence: str
    tests: tuple[tuple[str, str], ...]  # (test code, when)
    extra: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class TriggerOrder:
    code: str
    label: str
    resource_types: tuple[str, ...]
    system: str
    codes: tuple[str, ...]
    needs_cidp_reason: bool
    needs_terminology_editor: bool
    note: str


@dataclass(frozen=True, slots=True)
class CodeList:
    system: str
    codes: tuple[str, ...]
    needs_terminology_editor: bool
    evidence: str
    note: str


@dataclass(frozen=True, slots=True)
class CdsRules:
    hooks: tuple[str, ...]
    trigger_orders: tuple[TriggerOrder, ...]
    cidp_conditions: tuple[CodeList, ...]
    poems_conditions: tuple[CodeList, ...]
    chart_red_flags: Mapping[str, tuple[str, ...]]  # flag -> the only input codes that count (empty: all)
    summaries: Mapping[str, str]
    indicators: Mapping[str, str]
    evidence_lines: tuple[str, ...]
    suggestions: tuple[Mapping[str, Any], ...]
    override_reasons: tuple[Mapping[str, str], ...]


@dataclass(frozen=True, slots=True)
class ScreenRules:
    version: str
    default_policy: str
    policies: Mapping[str, Mapping[str, str]]
    recency_months: int
    recency_source: str
    thresholds: Mapping[str, Threshold]
    items: tuple[Item, ...]
    context_codes: tuple[str, ...]
    inputs: Mapping[str, InputSpec]
    red_flags: tuple[RedFlagRule, ...]
    lambda_light_chains: frozenset[str]
    lambda_excluded_heavy_chains: frozenset[str]
    mprotein_any_heavy_chains: frozenset[str]
    # Typings that do not say which chain (biclonal: light chains not stated, A11): not assessed.
    untyped_light_chains: frozenset[str]
    untyped_heavy_chains: frozenset[str]
    igm_heavy_chains: frozenset[str]
    igm_findings: tuple[str, ...]
    systemic_feature_codes: tuple[str, ...]
    clinical_profile_codes: tuple[str, ...]
    absent_responses_code: str
    cidp_feature_codes: tuple[str, ...]
    confounders: tuple[Confounder, ...]
    confounders_source: str
    tests: tuple[TestRule, ...]
    categories: tuple[CategoryRule, ...]
    notes: Mapping[str, str]
    test_names: Mapping[str, str]
    cds: CdsRules

    @property
    def input_codes(self) -> tuple[str, ...]:
        """Every page input code, in the order the page shows them."""
        return tuple(c for item in self.items for c in item.codes)

    def input_list(self) -> list[dict[str, Any]]:
        """The page's items in order, each code with its label and help (plain data)."""
        return [
            {
                "item": item.item,
                "title": item.title,
                "inputs": [
                    {
                        "code": c,
                        "kind": self.inputs[c].kind,
                        "label": self.inputs[c].label,
                        "help": self.inputs[c].help,
                    }
                    for c in item.codes
                ],
            }
            for item in self.items
        ]


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value)


def build_rules(data: Mapping[str, Any]) -> ScreenRules:
    """Build the rules from the seed's dict. Raises ``RulesError`` listing every problem."""
    problems: list[str] = []
    try:
        rules = _build(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise RulesError([f"malformed screen rules: {exc!r}"]) from exc
    _check(rules, problems)
    if problems:
        raise RulesError(problems)
    return rules


def _build(data: Mapping[str, Any]) -> ScreenRules:
    thresholds = {
        code: Threshold(
            lab=str(t["lab"]),
            comparison=str(t["comparison"]),
            value=float(t["value"]),
            unit=str(t["unit"]),
            source=str(t["source"]),
            evidence=str(t["evidence"]),
        )
        for code, t in data["thresholds"].items()
    }
    inputs = {
        code: InputSpec(
            code=code,
            kind=str(spec["kind"]),
            label=str(spec["label"]),
            help=str(spec["help"]),
            lab=str(spec.get("lab", "")),
            parent=str(spec.get("parent", "")),
            required=bool(spec.get("required", False)),
        )
        for code, spec in data["inputs"].items()
    }
    red_flags = tuple(
        RedFlagRule(
            code=str(f["code"]),
            label=str(f["label"]),
            source=str(f["source"]),
            evidence=str(f["evidence"]),
            supportive=bool(f["supportive"]),
            branches={
                name: (str(b["source"]), str(b["evidence"])) for name, b in f.get("branches", {}).items()
            },
        )
        for f in data["red_flags"]
    )
    categories = tuple(
        CategoryRule(
            code=str(c["code"]),
            message=str(c["message"]),
            source=str(c["source"]),
            evidence=str(c["evidence"]),
            tests=tuple((str(t["code"]), str(t["when"])) for t in c["tests"]),
            extra={k: str(v) for k, v in c.items() if k.endswith("_words")},
        )
        for c in data["categories"]
    )
    cds = data["cds"]

    def code_lists(raw: Any) -> tuple[CodeList, ...]:
        return tuple(
            CodeList(
                system=str(c["system"]),
                codes=_tuple(c["codes"]),
                needs_terminology_editor=bool(c["needs_terminology_editor"]),
                evidence=str(c["evidence"]),
                note=str(c["note"]),
            )
            for c in raw
        )

    return ScreenRules(
        version=str(data["version"]),
        default_policy=str(data["default_policy"]),
        policies={k: {kk: str(vv) for kk, vv in v.items()} for k, v in data["policies"].items()},
        recency_months=int(data["recency_months"]["value"]),
        recency_source=str(data["recency_months"]["source"]),
        thresholds=thresholds,
        items=tuple(Item(int(i["item"]), str(i["title"]), _tuple(i["codes"])) for i in data["items"]),
        context_codes=_tuple(data["context_codes"]),
        inputs=inputs,
        red_flags=red_flags,
        lambda_light_chains=frozenset(_tuple(data["lambda_light_chains"])),
        lambda_excluded_heavy_chains=frozenset(_tuple(data["lambda_excluded_heavy_chains"])),
        mprotein_any_heavy_chains=frozenset(_tuple(data["mprotein_any_heavy_chains"])),
        untyped_light_chains=frozenset(_tuple(data["untyped_light_chains"])),
        untyped_heavy_chains=frozenset(_tuple(data["untyped_heavy_chains"])),
        igm_heavy_chains=frozenset(_tuple(data["igm_pattern"]["heavy_chains"])),
        igm_findings=_tuple(data["igm_pattern"]["findings"]),
        systemic_feature_codes=_tuple(data["systemic_feature_codes"]),
        clinical_profile_codes=_tuple(data["clinical_profile_codes"]),
        absent_responses_code=str(data["ncs"]["absent_responses_code"]),
        cidp_feature_codes=_tuple(data["ncs"]["cidp_feature_codes"]),
        confounders=tuple(
            Confounder(str(c["code"]), str(c["words"]), str(c["repeat_after"])) for c in data["confounders"]
        ),
        confounders_source=str(data["confounders_source"]),
        tests=tuple(
            TestRule(str(t["code"]), str(t["name"]), str(t["why"]), str(t["evidence"])) for t in data["tests"]
        ),
        categories=categories,
        notes={k: str(v) for k, v in data["notes"].items()},
        test_names={k: str(v) for k, v in data["test_names"].items()},
        cds=CdsRules(
            hooks=_tuple(cds["hooks"]),
            trigger_orders=tuple(
                TriggerOrder(
                    code=str(o["code"]),
                    label=str(o["label"]),
                    resource_types=_tuple(o["resource_types"]),
                    system=str(o["system"]),
                    codes=_tuple(o["codes"]),
                    needs_cidp_reason=bool(o["needs_cidp_reason"]),
                    needs_terminology_editor=bool(o["needs_terminology_editor"]),
                    note=str(o["note"]),
                )
                for o in cds["trigger_orders"]
            ),
            cidp_conditions=code_lists(cds["cidp_conditions"]),
            poems_conditions=code_lists(cds["poems_conditions"]),
            chart_red_flags={k: _tuple(v) for k, v in cds["chart_red_flags"].items()},
            summaries={k: str(v) for k, v in cds["summaries"].items()},
            indicators={k: str(v) for k, v in cds["indicators"].items()},
            evidence_lines=_tuple(cds["evidence_lines"]),
            suggestions=tuple(dict(s) for s in cds["suggestions"]),
            override_reasons=tuple({k: str(v) for k, v in r.items()} for r in cds["override_reasons"]),
        ),
    )


def _check(rules: ScreenRules, problems: list[str]) -> None:
    if rules.default_policy not in POLICIES:
        problems.append(f"default_policy {rules.default_policy!r}: use one of {', '.join(POLICIES)}")
    if len(rules.items) > MAX_ITEMS:
        problems.append(
            f"items: {len(rules.items)} items; the screen has at most {MAX_ITEMS} (clinical.md §i.2)"
        )
    for code in (*rules.input_codes, *rules.context_codes):
        spec = rules.inputs.get(code)
        if spec is None:
            problems.append(f"items: {code!r} has no entry in inputs")
            continue
        if spec.kind not in INPUT_KINDS:
            problems.append(f"inputs.{code}.kind {spec.kind!r}: use one of {', '.join(INPUT_KINDS)}")
        if spec.kind in ("lab", "choice") and spec.lab not in LABS:
            problems.append(f"inputs.{code}.lab {spec.lab!r} is not a lab of the vocabulary")
        if spec.parent and spec.parent not in rules.inputs:
            problems.append(f"inputs.{code}.parent {spec.parent!r} is not an input")
    if len(set(rules.input_codes)) != len(rules.input_codes):
        problems.append("items: an input code is listed twice")
    for code in THRESHOLD_CODES:
        t = rules.thresholds.get(code)
        if t is None:
            problems.append(f"thresholds.{code} is missing")
            continue
        if t.comparison not in (">", ">="):
            problems.append(f"thresholds.{code}.comparison {t.comparison!r}: use > or >=")
        if t.lab not in LABS or t.unit not in LABS[t.lab].allowed_units:
            problems.append(f"thresholds.{code}: unit {t.unit!r} is not a unit of {t.lab!r}")
    if [f.code for f in rules.red_flags] != list(RED_FLAG_CODES):
        problems.append(f"red_flags: give exactly {', '.join(RED_FLAG_CODES)}, in that order")
    if sorted(c.code for c in rules.categories) != sorted(CATEGORY_CODES):
        problems.append(f"categories: give each of {', '.join(CATEGORY_CODES)} once")
    elif rules.categories[-1].code != "screen_open_checklist":
        problems.append("categories: screen_open_checklist matches everything and must come last")
    if [t.code for t in rules.tests] != list(TEST_CODES):
        problems.append(f"tests: give exactly {', '.join(TEST_CODES)}, in the order of clinical.md §i.6")
    for cat in rules.categories:
        for test, when in cat.tests:
            if test not in TEST_CODES or when not in TEST_WHEN:
                problems.append(f"categories.{cat.code}.tests: {test!r} {when!r} is not known")
    tags = [
        *((f"thresholds.{c}", t.evidence) for c, t in rules.thresholds.items()),
        *((f"red_flags.{f.code}", f.evidence) for f in rules.red_flags),
        *(
            (f"red_flags.{f.code}.branches.{b}", e)
            for f in rules.red_flags
            for b, (_s, e) in f.branches.items()
        ),
        *((f"tests.{t.code}", t.evidence) for t in rules.tests),
        *((f"categories.{c.code}", c.evidence) for c in rules.categories),
        *((f"cds.cidp_conditions[{i}]", c.evidence) for i, c in enumerate(rules.cds.cidp_conditions)),
        *((f"cds.poems_conditions[{i}]", c.evidence) for i, c in enumerate(rules.cds.poems_conditions)),
    ]
    for where, tag in tags:
        check_tag(f"{where}.evidence", tag, problems)
    for c in rules.confounders:
        if c.code not in rules.inputs:
            problems.append(f"confounders: {c.code!r} is not an input")
    for order in rules.cds.trigger_orders:
        if not order.codes and not order.needs_terminology_editor:
            problems.append(
                f"cds.trigger_orders.{order.code}: no codes, and not marked for the terminology editor"
            )
