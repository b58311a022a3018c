"""The plain-data rule set the engine runs on, and how it is read from content.

Content comes in the shape of a Django fixture with natural keys (a list of
``{"model": "checklist.x", "fields": {...}}``). ``checklist/content.py``
serialises the database into that shape, and the DB-free tests read the
shipped fixture directly, so both paths go through ``from_records`` and
cannot drift apart.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from checklist.engine.diagnosis.result import DrugCaution, SetRef, ThresholdUse
from checklist.engine.evidence import BASES, Basis, Evidence, check_tag
from checklist.engine.i18n import COMMA
from checklist.engine.inputs import display_unit
from checklist.engine.message import Message, join
from checklist.engine.vocabulary import (
    ANY_OF_CRITERIA,
    CRITERIA,
    FINDINGS,
    LABS,
    THRESHOLDS,
    TREATMENT_SLOTS,
    Group,
)

_COMPARATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "gt": (operator.gt, ">"),
    "ge": (operator.ge, ">="),
    "lt": (operator.lt, "<"),
    "le": (operator.le, "<="),
}


class RuleBookError(ValueError):
    """Content is inconsistent with the engine's vocabulary. Lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Threshold:
    code: str
    lab: str
    comparator: str
    value: float
    label: str
    unit: str = ""
    specimen: str = ""
    sex: str = ""
    verified: bool = True
    source: str = ""
    # Content: how strongly the number is sourced, and whether a source publishes it.
    evidence: Evidence = Evidence.UNVERIFIED
    basis: Basis = Basis.APP_DEFAULT
    # §f.3 A10: the number the source also publishes in another unit, ((unit, value), ...);
    # a value entered in that unit meets that number, not a conversion of it. Content.
    published: tuple[tuple[str, float], ...] = ()

    def published_in(self, unit: str) -> float | None:
        for u, v in self.published:
            if u == unit:
                return v
        return None

    def passes(self, x: float) -> bool:
        return _COMPARATORS[self.comparator][0](x, self.value)

    def passes_limit(self, x: Fraction, limit: Fraction) -> bool:
        """This threshold's comparator on exact numbers (§f.3 A10; see compare.py)."""
        return bool(_COMPARATORS[self.comparator][0](x, limit))  # type: ignore[arg-type]

    @property
    def symbol(self) -> str:
        return _COMPARATORS[self.comparator][1]

    def describe(self) -> str:
        """e.g. '>= 200 pg/mL (high-specificity plasma cut-off; Dispenzieri 2012)'."""
        note = "; ".join(x for x in (self.label, self.source) if x)
        flag = "" if self.verified else " [unverified]"
        return f"{self.limit} ({note}){flag}"

    @property
    def limit(self) -> str:
        """e.g. '>= 200 pg/mL'."""
        return f"{self.symbol} {self.value:g}{display_unit(self.unit)}"

    def use(self) -> ThresholdUse:
        """This threshold as a reason cites it: published (with its citation) or the app's default."""
        return ThresholdUse(self.code, self.limit, self.basis, self.evidence, self.source)


@dataclass(frozen=True, slots=True)
class StagingRule:
    """§j.1: one staging item (content), and the inputs that record it."""

    code: str
    labs: tuple[str, ...]  # any one of these given counts as done
    findings: tuple[str, ...]
    test: str  # the investigation by name
    reads: str  # what it reads, when not plain
    settles: str
    evidence: Evidence
    source: str


@dataclass(frozen=True, slots=True)
class RiskFactorRule:
    """§j.3 J-K2: a lab past a threshold, or a finding code recorded present (content)."""

    code: str
    factor: str
    test: Threshold | str
    hr: str
    evidence: Evidence
    source: str


@dataclass(frozen=True, slots=True)
class WorkupRules:
    """What the diagnosis engine reads beside the content tables (fixtures/diagnosis_rules.json)."""

    version: str = ""
    staging: tuple[StagingRule, ...] = ()
    risk_factors: tuple[RiskFactorRule, ...] = ()
    risk_factor_wording: str = ""
    drug_cautions: tuple[DrugCaution, ...] = ()
    # J-E4: what would settle an unknown extent, by what is still missing ("both", "lesion_count",
    # "marrow"): only what is not yet recorded is asked for.
    extent_to_settle: Mapping[str, str] = field(default_factory=dict)
    caution_details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Category:
    """One category of a set that grades a case instead of a single met/not met (MHLW: §j.5).

    Met when every ``requires`` criterion is met and at least ``minor_min`` of the set's minor
    criteria are; ``covered`` marks the categories that count for support (Definite, Probable).
    """

    code: str
    name: str
    requires: tuple[str, ...]
    minor_min: int
    covered: bool


@dataclass(frozen=True, slots=True)
class CriteriaSetRule:
    slug: str
    name: str
    version: str
    year: int
    mandatory: tuple[str, ...]
    major: tuple[str, ...]
    minor: tuple[str, ...]
    major_min: int
    minor_min: int
    apply_endocrine_caveat: bool = True
    is_default: bool = False
    is_historical: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    # Sub-findings this set does not count towards their criterion (content:
    # ``Finding.not_in_sets``), e.g. acrocyanosis, absent from the 2003 skin list.
    not_counted: frozenset[str] = frozenset()
    # Off: a draft behind its content flag (``flag``); the API, CLI and form refuse it.
    enabled: bool = True
    # A graded set (content ``CriteriaSet.categories``): categories in order, best first.
    categories: tuple[Category, ...] = ()
    # Caution codes that exclude a graded case from support, and the words said beside it.
    excluded_by: tuple[str, ...] = ()
    exclusion_note: str = ""
    # criterion -> the threshold it is read from alone, on that threshold's specimen only
    # (content ``Membership.threshold``): another specimen is never converted (§j.5 J-M2).
    specimen_rules: Mapping[str, Threshold] = field(default_factory=dict)

    @property
    def flag(self) -> str:
        """The content flag that switches this set on, e.g. criteria_set_mhlw_jp_enabled."""
        return "criteria_set_" + self.slug.replace("-", "_") + "_enabled"

    def role(self, code: str) -> Group | None:
        if code in self.mandatory:
            return Group.MANDATORY
        if code in self.major:
            return Group.MAJOR
        if code in self.minor:
            return Group.MINOR
        return None

    @property
    def codes(self) -> tuple[str, ...]:
        return self.mandatory + self.major + self.minor


@dataclass(frozen=True, slots=True)
class SubfindingList:
    """One criterion's sub-findings as one criteria set counts them, precomputed for the engine."""

    criterion: str
    # Present, any one meets the criterion.
    qualifying: tuple[str, ...]
    # Present alone, they do not meet it (the 2007 diabetes/thyroid caveat); empty without the caveat.
    non_qualifying: tuple[str, ...]
    # Sub-findings of the criterion this set does not count at all, and the set's name for the reason.
    not_counted: tuple[str, ...]
    set_name: str
    # Every sub-finding code of the criterion: nothing of these entered is the fast path.
    codes: frozenset[str]
    not_assessed: str


@dataclass(frozen=True, slots=True)
class RuleBook:
    content_version: str
    sets: Mapping[str, CriteriaSetRule]
    default_set: str
    criterion_names: Mapping[str, str]
    investigations: Mapping[str, str]
    # criterion code -> ((finding code, qualifies), ...)
    subfindings: Mapping[str, tuple[tuple[str, bool], ...]]
    finding_labels: Mapping[str, str]
    thresholds: Mapping[str, Threshold]
    differential_names: Mapping[str, str]
    caution_messages: Mapping[str, str]
    disclaimer: str
    # Content: each criterion's and caution's evidence tag, and each caution's reference.
    criterion_evidence: Mapping[str, Evidence] = field(default_factory=dict)
    caution_evidence: Mapping[str, Evidence] = field(default_factory=dict)
    caution_sources: Mapping[str, str] = field(default_factory=dict)
    workup: WorkupRules = field(default_factory=WorkupRules)
    # Treatment pages to show first for each disease extent, then "supportive"
    # pages after any of them (clinical.md §f.2 A8). Content: an editor maps them.
    treatment_pages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Sets switched off by their content flag: validated, never evaluated, refused by name.
    drafts: Mapping[str, CriteriaSetRule] = field(default_factory=dict)
    _lists: Mapping[str, SubfindingList] = field(default_factory=dict, repr=False, compare=False)
    _set_lists: Mapping[str, tuple[SubfindingList, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # For a set with own lists: criterion -> the list it counts (its own, else the current one).
    _lists_by_set: Mapping[str, Mapping[str, SubfindingList]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _rows: Mapping[str, tuple[tuple[Group, str, str], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _set_refs: Mapping[str, SetRef] = field(default_factory=dict, repr=False, compare=False)

    def rows(self, slug: str) -> tuple[tuple[Group, str, str], ...]:
        """(group, criterion code, the set's name for it), in output order."""
        return self._rows[slug]

    @property
    def draft_messages(self) -> dict[str, str]:
        """slug -> why a request naming this draft set is refused (parse_case's ``drafts``)."""
        return {
            slug: f"{slug!r} ({rule.name}) is a draft criteria set and is switched off: an editor "
            f"turns it on with the content flag {rule.flag} once its wording is checked."
            for slug, rule in self.drafts.items()
        }

    def set_ref(self, slug: str) -> SetRef:
        return self._set_refs[slug]

    def label(self, finding: str) -> str:
        return self.finding_labels.get(finding) or self.criterion_names.get(finding) or finding

    def qualifying(self, criterion: str) -> tuple[str, ...]:
        """Sub-findings that meet ``criterion`` under the current lists (the caveat applied)."""
        found = self._lists.get(criterion)
        return found.qualifying if found is not None else ()

    def subfinding_list(self, criterion: str, slug: str = "") -> SubfindingList | None:
        """An any-of criterion's sub-findings as set ``slug`` counts them (blank: the current lists)."""
        return self._lists_by_set.get(slug, self._lists).get(criterion)

    def set_lists(self, slug: str) -> tuple[SubfindingList, ...]:
        """The lists of set ``slug`` that differ from the current ones (most sets: none)."""
        return self._set_lists.get(slug, ())

    def _list(
        self, criterion: str, subs: tuple[tuple[str, bool], ...], rule: CriteriaSetRule | None
    ) -> SubfindingList:
        """``criterion`` as ``rule`` counts it (None: the current lists, caveat applied, none left out)."""
        skip = rule.not_counted if rule is not None else frozenset()
        caveat = rule.apply_endocrine_caveat if rule is not None else True
        counted = [(f, q) for f, q in subs if f not in skip]
        qualifying = tuple(f for f, q in counted if q or not caveat)
        return SubfindingList(
            criterion=criterion,
            qualifying=qualifying,
            non_qualifying=tuple(f for f, q in counted if not (q or not caveat)),
            not_counted=tuple(f for f, _q in subs if f in skip),
            set_name=rule.name if rule is not None else "",
            codes=frozenset(f for f, _q in subs),
            not_assessed=Message(
                "Not assessed: %(names)s.", names=join(COMMA, [self.label(f) for f in qualifying])
            ),
        )

    def __post_init__(self) -> None:
        # Precomputed once per content version: the engine reads these for every case.
        # The current lists (the 2007 caveat applied, nothing left out) are derived once
        # per case; a set keeps its own list only for the criteria where it differs, so
        # only those are derived again for that set (derive.criteria_for).
        lists = {c: self._list(c, subs, None) for c, subs in self.subfindings.items() if c in ANY_OF_CRITERIA}
        object.__setattr__(self, "_lists", lists)
        set_lists: dict[str, tuple[SubfindingList, ...]] = {}
        for slug, rule in self.sets.items():
            own = []
            for criterion in rule.codes:
                subs = self.subfindings.get(criterion)
                if not subs or criterion not in ANY_OF_CRITERIA:
                    continue
                mine = self._list(criterion, subs, rule)
                base = lists[criterion]
                if (mine.qualifying, mine.non_qualifying) != (base.qualifying, base.non_qualifying):
                    own.append(mine)
            if own:
                set_lists[slug] = tuple(own)
        object.__setattr__(self, "_set_lists", set_lists)
        object.__setattr__(
            self,
            "_lists_by_set",
            {slug: {**lists, **{own.criterion: own for own in mine}} for slug, mine in set_lists.items()},
        )
        rows = {}
        for slug, rule in self.sets.items():
            rows[slug] = tuple(
                (group, code, rule.labels.get(code) or self.criterion_names.get(code, code))
                for group, codes in (
                    (Group.MANDATORY, rule.mandatory),
                    (Group.MAJOR, rule.major),
                    (Group.MINOR, rule.minor),
                )
                for code in codes
            )
        object.__setattr__(self, "_rows", rows)
        object.__setattr__(
            self, "_set_refs", {s: SetRef(r.slug, r.name, r.version) for s, r in self.sets.items()}
        )


def _key(value: Any) -> str | None:
    """A natural foreign key is serialised as a one-item list; unwrap it."""
    if isinstance(value, list | tuple):
        return str(value[0]) if value else None
    return None if value is None else str(value)


def from_records(
    records: Iterable[Mapping[str, Any]],
    *,
    differential_codes: Iterable[str],
    caution_codes: Iterable[str],
    workup: WorkupRules | None = None,
    published_units: Mapping[str, tuple[tuple[str, float], ...]] | None = None,
) -> RuleBook:
    """Build a RuleBook from fixture-shaped records. Raises RuleBookError if inconsistent."""
    by_model: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        by_model.setdefault(str(record["model"]).lower(), []).append(record["fields"])

    problems: list[str] = []
    refs = {f["key"]: f["short"] for f in by_model.get("checklist.reference", [])}

    criteria = sorted(by_model.get("checklist.criterion", []), key=lambda f: f.get("order", 0))
    criterion_names = {f["code"]: f["name"] for f in criteria}
    criterion_evidence = {
        f["code"]: _evidence(f"criterion {f['code']}", f.get("evidence"), problems) for f in criteria
    }
    investigations = {f["code"]: f.get("investigations", "") for f in criteria}
    for code in CRITERIA:
        if code not in criterion_names:
            problems.append(f"criterion {code} is missing from content")
    for code in criterion_names:
        if code not in CRITERIA:
            problems.append(f"criterion {code} is not in the engine vocabulary")

    finding_labels: dict[str, str] = {}
    sub: dict[str, list[tuple[str, bool]]] = {}
    not_counted: dict[str, set[str]] = {}  # set slug -> sub-findings it does not count
    for f in sorted(by_model.get("checklist.finding", []), key=lambda f: f.get("order", 0)):
        code = f["code"]
        if code not in FINDINGS:
            problems.append(f"finding {code} is not in the engine vocabulary")
        finding_labels[code] = f["label"]
        criterion = _key(f.get("criterion"))
        if criterion:
            sub.setdefault(criterion, []).append((code, bool(f.get("qualifies", True))))
        for slug in f.get("not_in_sets") or ():
            not_counted.setdefault(_key(slug) or "", set()).add(code)
            if criterion not in ANY_OF_CRITERIA:
                # Only an any-of list can be narrowed; elsewhere the mark would do nothing.
                problems.append(
                    f"finding {code} is left out of criteria set {_key(slug)}, but only the "
                    "sub-findings of " + ", ".join(ANY_OF_CRITERIA) + " can be"
                )

    thresholds: dict[str, Threshold] = {}
    for f in by_model.get("checklist.threshold", []):
        source = refs.get(_key(f.get("reference")) or "", "")
        basis = f.get("basis")
        if basis is None:
            # A release published before the field: only a verified, cited number counts as published.
            basis = Basis.PUBLISHED if f.get("verified") and source else Basis.APP_DEFAULT
        elif basis not in BASES:
            problems.append(f"threshold {f['code']}: basis {basis!r}; use one of {', '.join(BASES)}")
            basis = Basis.APP_DEFAULT
        if basis == Basis.PUBLISHED and not source:
            problems.append(f"threshold {f['code']} is marked published but names no reference")
        thresholds[f["code"]] = Threshold(
            code=f["code"],
            lab=f["lab"],
            comparator=f["comparator"],
            value=float(f["value"]),
            label=f.get("label", ""),
            unit=_unit_of(f["lab"]),
            specimen=f.get("specimen", ""),
            sex=f.get("sex", ""),
            verified=bool(f.get("verified", False)),
            source=source,
            evidence=_evidence(f"threshold {f['code']}", f.get("evidence"), problems),
            basis=Basis(basis),
            published=(published_units or {}).get(f["code"], ()),
        )
        if f["comparator"] not in _COMPARATORS:
            problems.append(f"threshold {f['code']} has unknown comparator {f['comparator']}")
    for code in THRESHOLDS:
        if code not in thresholds:
            problems.append(f"threshold {code} is missing from content")
    for code in (published_units or {}).keys() - thresholds.keys():
        problems.append(f"a per-unit published value names threshold {code}, which is not in content")

    members: dict[str, dict[str, list[str]]] = {}
    labels: dict[str, dict[str, str]] = {}
    specimen_rules: dict[str, dict[str, Threshold]] = {}
    for f in by_model.get("checklist.membership", []):
        slug = _key(f["criteria_set"]) or ""
        code = _key(f["criterion"]) or ""
        members.setdefault(slug, {}).setdefault(f["role"], []).append(code)
        if f.get("label"):
            labels.setdefault(slug, {})[code] = f["label"]
        own = _key(f.get("threshold"))
        if own:
            found = thresholds.get(own)
            if found is None:
                problems.append(f"criteria set {slug} reads {code} from unknown threshold {own}")
            elif not found.specimen:
                problems.append(
                    f"criteria set {slug} reads {code} from threshold {own}, which names no specimen"
                )
            elif code != "vegf_elevated" or found.lab != "vegf_pg_ml":
                # The one kind of specimen rule the engine has (derive.specimen_only).
                problems.append(
                    f"criteria set {slug}: only vegf_elevated can be read from its own VEGF threshold"
                )
            else:
                specimen_rules.setdefault(slug, {})[code] = found

    order = {code: i for i, code in enumerate(CRITERIA)}
    sets: dict[str, CriteriaSetRule] = {}
    drafts: dict[str, CriteriaSetRule] = {}
    caution_codes = tuple(caution_codes)
    default_set = ""
    for f in sorted(by_model.get("checklist.criteriaset", []), key=lambda f: f.get("order", 0)):
        slug = f["slug"]
        roles = members.get(slug, {})

        def pick(role: str, roles: dict[str, list[str]] = roles) -> tuple[str, ...]:
            return tuple(sorted(roles.get(role, []), key=lambda c: order.get(c, 99)))

        rule = CriteriaSetRule(
            slug=slug,
            name=f["name"],
            version=str(f.get("version", "")),
            year=int(f.get("year", 0)),
            mandatory=pick(Group.MANDATORY),
            major=pick(Group.MAJOR),
            minor=pick(Group.MINOR),
            major_min=int(f.get("major_min", 0)),
            minor_min=int(f.get("minor_min", 0)),
            apply_endocrine_caveat=bool(f.get("apply_endocrine_caveat", True)),
            is_default=bool(f.get("is_default", False)),
            is_historical=bool(f.get("is_historical", False)),
            labels=labels.get(slug, {}),
            not_counted=frozenset(not_counted.get(slug, ())),
            enabled=bool(f.get("enabled", True)),
            categories=_categories(slug, f.get("categories") or [], problems),
            excluded_by=tuple(str(x) for x in f.get("excluded_by") or ()),
            exclusion_note=str(f.get("exclusion_note", "")),
            specimen_rules=specimen_rules.get(slug, {}),
        )
        for category in rule.categories:
            for code in category.requires:
                if code not in rule.codes:
                    problems.append(
                        f"criteria set {slug}: category {category.code} requires {code}, not in the set"
                    )
            if category.minor_min > len(rule.minor):
                problems.append(
                    f"criteria set {slug}: category {category.code} asks for more minor criteria "
                    "than it lists"
                )
        if rule.categories and not any(cat.covered for cat in rule.categories):
            problems.append(f"criteria set {slug} has categories but none is covered")
        for code in rule.excluded_by:
            if code not in caution_codes:
                problems.append(f"criteria set {slug} is excluded by unknown caution {code}")
        if not rule.enabled and rule.is_default:
            problems.append(f"criteria set {slug} is the default but is switched off ({rule.flag})")
        for code in rule.codes:
            subs = sub.get(code, [])
            if subs and all(f in rule.not_counted for f, _q in subs):
                problems.append(f"criteria set {slug} counts {code} but none of its sub-findings")
        if rule.major_min > len(rule.major) or rule.minor_min > len(rule.minor):
            problems.append(f"criteria set {slug} asks for more criteria than it lists")
        for code in rule.codes:
            if code not in CRITERIA:
                problems.append(f"criteria set {slug} uses unknown criterion {code}")
        if not rule.enabled:
            drafts[slug] = rule
            continue
        sets[slug] = rule
        if rule.is_default:
            if default_set:
                problems.append("more than one default criteria set")
            default_set = slug
    for slug in not_counted.keys() - sets.keys() - drafts.keys():
        problems.append(f"findings are left out of criteria set {slug}, which is not in content")
    if not sets:
        problems.append("no criteria set in content")
    elif not default_set:
        problems.append("no default criteria set")

    differential_names = {f["code"]: f["name"] for f in by_model.get("checklist.differential", [])}
    for code in differential_codes:
        if code not in differential_names:
            problems.append(f"differential {code} is missing from content")
    caution_rows = by_model.get("checklist.caution", [])
    caution_messages = {f["code"]: f["message"] for f in caution_rows}
    caution_evidence = {
        f["code"]: _evidence(f"caution {f['code']}", f.get("evidence"), problems) for f in caution_rows
    }
    caution_sources = {f["code"]: refs.get(_key(f.get("reference")) or "", "") for f in caution_rows}
    for code in caution_codes:
        if code not in caution_messages:
            problems.append(f"caution {code} is missing from content")

    treatment_pages: dict[str, list[str]] = {}
    for f in sorted(
        by_model.get("checklist.treatmentbyextent", []),
        key=lambda f: (f.get("order", 0), _key(f.get("treatment")) or ""),
    ):
        slot = str(f["extent"])
        if slot not in TREATMENT_SLOTS:
            problems.append(f"treatment mapping uses unknown extent {slot}")
        page = _key(f.get("treatment"))
        if page:
            treatment_pages.setdefault(slot, []).append(page)

    texts = {f["key"]: f["body"] for f in by_model.get("checklist.sitetext", [])}
    releases = sorted(
        by_model.get("checklist.contentrelease", []),
        key=lambda f: (str(f.get("released_on", "")), str(f["version"])),
    )
    content_version = (
        f"{releases[-1]['version']} ({releases[-1].get('released_on', '')})" if releases else "unreleased"
    )
    if problems:
        raise RuleBookError(problems)
    return RuleBook(
        content_version=content_version,
        sets=sets,
        default_set=default_set,
        criterion_names=criterion_names,
        investigations=investigations,
        subfindings={k: tuple(v) for k, v in sub.items()},
        finding_labels=finding_labels,
        thresholds=thresholds,
        differential_names=differential_names,
        caution_messages=caution_messages,
        disclaimer=texts.get("notice", "Not a diagnosis."),
        treatment_pages={k: tuple(v) for k, v in treatment_pages.items()},
        drafts=drafts,
        criterion_evidence=criterion_evidence,
        caution_evidence=caution_evidence,
        caution_sources=caution_sources,
        workup=workup or WorkupRules(),
    )


def _categories(slug: str, raw: Any, problems: list[str]) -> tuple[Category, ...]:
    """A graded set's categories from content (``CriteriaSet.categories``, a JSON list)."""
    out: list[Category] = []
    if not isinstance(raw, list):
        problems.append(f"criteria set {slug}: categories must be a list")
        return ()
    for item in raw:
        try:
            out.append(
                Category(
                    code=str(item["code"]),
                    name=str(item["name"]),
                    requires=tuple(str(c) for c in item.get("requires", ())),
                    minor_min=int(item.get("minor_min", 0)),
                    covered=bool(item.get("covered", False)),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.append(f"criteria set {slug}: a category needs a code, a name, requires and minor_min")
    return tuple(out)


def _evidence(where: str, tag: object, problems: list[str]) -> Evidence:
    """A record's evidence tag; a release published before the field has none: unverified."""
    if tag is None:
        return Evidence.UNVERIFIED
    if not check_tag(where, tag, problems):
        return Evidence.UNVERIFIED
    return Evidence(str(tag))


def _unit_of(lab: str) -> str:
    found = LABS.get(lab)
    return found.unit if found else ""
