"""Properties of the engine (hypothesis), DB-free, on the seed content.

Cases are well formed by construction: any subset of finding codes as
true/false, labs inside their plausibility range (or an allowed choice), any
criteria set. The properties follow from design.md §3.3 and clinical.md §f:

- the output keeps its contract, and its status follows from the criteria it lists;
- the rule is monotone: a criterion recorded present never lowers the answer,
  one recorded absent never raises it;
- "not assessed" sits between "absent" and "present", never beside them: a
  criterion with nothing assessed is unknown, one with everything assessed is not;
- only met criteria count: filling in unknown criteria keeps "met" met and
  "not_met" not met, and "incomplete" becomes "met" once `missing` is met;
- `missing` lists only unknown criteria, and only when incomplete;
- every lab value outside its plausibility range is refused, naming the lab.
"""

import json
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from checklist.api.openapi import EVALUATION
from checklist.engine.diagnosis.evaluate import evaluate
from checklist.engine.inputs import InputError, parse_case
from checklist.engine.vocabulary import (
    CRITERIA,
    ENDOCRINE_SUB_FINDINGS,
    FINDINGS,
    LABS,
    SUB_FINDINGS,
    LabKind,
)

# Examples per property come from the Hypothesis profile (tests/conftest.py): 100 by
# default (Hypothesis' own default; was 200 here), 1,000 with HYPOTHESIS_PROFILE=ci-deep.
SETTINGS = settings(
    deadline=None,
    # `book` is session-scoped; the function-scoped fixtures are conftest's autouse
    # ones (password hasher, content cache), which the pure engine never touches.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

RANK = {"not_met": 0, "incomplete": 1, "met": 2}
# The contract keys of design.md §3.3, as the published OpenAPI schema requires them
# (schemathesis checks live responses against the same schema).
CONTRACT_KEYS = set(EVALUATION["required"])
CRITERION_CODES = sorted(CRITERIA)
SUB_CODES = sorted(SUB_FINDINGS)
NUMERIC_LABS = sorted(code for code, lab in LABS.items() if lab.kind is not LabKind.CATEGORY)
CATEGORY_LABS = sorted(code for code, lab in LABS.items() if lab.kind is LabKind.CATEGORY)


# --- strategies -------------------------------------------------------------------------


# Strategies are built once and reused: building them afresh for every example (a new
# sampled_from, one_of and dictionaries per draw) cost more than the engine runs they feed.
# The values drawn are the same either way.
_IN_RANGE_CACHE = {}


def _in_range(code, book):
    """A value inside the lab's plausibility range, often right at a content threshold."""
    key = (code, id(book))
    if key not in _IN_RANGE_CACHE:
        _IN_RANGE_CACHE[key] = _build_in_range(code, book)
    return _IN_RANGE_CACHE[key]


def _build_in_range(code, book):
    lab = LABS[code]
    if lab.kind is LabKind.CATEGORY:
        return st.sampled_from(lab.choices)
    if lab.kind is LabKind.INTEGER:
        return st.integers(int(lab.minimum), int(lab.maximum))
    edges = []
    for t in book.thresholds.values():
        if t.lab == code:
            for x in (t.value, math.nextafter(t.value, -math.inf), math.nextafter(t.value, math.inf)):
                if lab.minimum <= x <= lab.maximum:
                    edges.append(x)
    anywhere = st.floats(lab.minimum, lab.maximum, allow_nan=False, allow_infinity=False)
    return st.one_of(anywhere, st.sampled_from(edges)) if edges else anywhere


# Criterion flags lean towards "present" so that every status turns up often.
_FLAG = st.sampled_from([None, None, True, True, False])
_SUB_FINDINGS = st.dictionaries(st.sampled_from(SUB_CODES), st.booleans(), max_size=20)
_LAB_CODES = st.sets(st.sampled_from(sorted(LABS)), max_size=12)
_SET_CACHE = {}


@st.composite
def _case_data(draw, book):
    findings = {}
    for code in CRITERION_CODES:
        value = draw(_FLAG)
        if value is not None:
            findings[code] = value
    findings.update(draw(_SUB_FINDINGS))
    labs = {}
    for code in draw(_LAB_CODES):
        labs[code] = draw(_in_range(code, book))
    data = {"findings": findings, "labs": labs}
    if id(book) not in _SET_CACHE:
        _SET_CACHE[id(book)] = st.sampled_from([None, *sorted(book.sets)])
    criteria_set = draw(_SET_CACHE[id(book)])
    if criteria_set is not None:
        data["criteria_set"] = criteria_set
    if draw(st.booleans()):
        data["compare"] = True
    return data


_CASE_CACHE = {}


def case_data(book):
    """A well-formed case as decoded JSON (the API's input shape)."""
    if id(book) not in _CASE_CACHE:
        _CASE_CACHE[id(book)] = _case_data(book)
    return _CASE_CACHE[id(book)]


def run(book, data):
    return evaluate(parse_case(data, book.sets), book)


def with_findings(data, **findings):
    return {**data, "findings": {**data["findings"], **findings}}


def without_finding(data, code):
    return {**data, "findings": {k: v for k, v in data["findings"].items() if k != code}}


def rule_of(book, data):
    return book.sets[data.get("criteria_set") or book.default_set]


def statuses(result):
    return {c["code"]: c["status"] for c in result["criteria"]}


def settle_as_met(book, data, codes):
    """Record every criterion in ``codes`` as present.

    For endocrinopathy the explicit flag is ignored once any endocrine
    sub-finding is given (clinical.md §f D6), so the unassessed sub-findings
    are recorded present instead: that is what "met" means for it then.
    """
    findings = dict(data["findings"])
    for code in codes:
        findings[code] = True
        if code == "endocrinopathy":
            for sub, _qualifies in book.subfindings.get(code, ()):
                if sub in findings:
                    for other, _ in book.subfindings[code]:
                        findings.setdefault(other, True)
                    break
    return {**data, "findings": findings}


# --- (a) contract ---------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_evaluate_keeps_the_output_contract(book, data):
    case = data.draw(case_data(book))
    result = run(book, case)
    rule = rule_of(book, case)

    assert set(result) >= CONTRACT_KEYS
    json.dumps(result)  # plain JSON, nothing else
    assert result["status"] in RANK
    assert result["meets_criteria"] is (result["status"] == "met")
    assert result["criteria_set"]["slug"] == rule.slug

    # The criteria listed are exactly the set's, in its order and groups.
    assert [c["code"] for c in result["criteria"]] == list(rule.codes)
    for c in result["criteria"]:
        assert c["group"] == rule.role(c["code"]).value
        assert c["status"] in ("met", "not_met", "unknown")
        assert c["reasons"], c  # every answer says why

    s = statuses(result)
    assert result["mandatory_met"] == [c for c in rule.mandatory if s[c] == "met"]
    assert result["major_met"] == [c for c in rule.major if s[c] == "met"]
    assert result["minor_met"] == [c for c in rule.minor if s[c] == "met"]

    # The status follows from the criteria shown (design.md §3.3), recomputed here.
    def reachable(codes, minimum):
        return sum(s[c] != "not_met" for c in codes) >= minimum

    def reached(codes, minimum):
        return sum(s[c] == "met" for c in codes) >= minimum

    if (
        all(s[c] == "met" for c in rule.mandatory)
        and reached(rule.major, rule.major_min)
        and reached(rule.minor, rule.minor_min)
    ):
        expected = "met"
    elif (
        any(s[c] == "not_met" for c in rule.mandatory)
        or not reachable(rule.major, rule.major_min)
        or not reachable(rule.minor, rule.minor_min)
    ):
        expected = "not_met"
    else:
        expected = "incomplete"
    assert result["status"] == expected


@SETTINGS
@given(data=st.data())
def test_comparison_agrees_with_each_set_evaluated_alone(book, data):
    case = {**data.draw(case_data(book)), "compare": True}
    rows = {row["criteria_set"]: row for row in run(book, case)["comparison"]}
    assert list(rows) == list(book.sets)
    for slug, row in rows.items():
        alone = run(book, {**case, "criteria_set": slug, "compare": False})
        assert row["status"] == alone["status"]
        assert row["meets_criteria"] is alone["meets_criteria"]
        assert row["missing"] == alone["missing"]


# --- (d) missing ----------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_missing_lists_only_unknown_criteria_and_only_when_incomplete(book, data):
    result = run(book, data.draw(case_data(book)))
    s = statuses(result)
    missing = result["missing"]
    assert len(missing) == len(set(missing))
    assert set(missing) <= {code for code, status in s.items() if status == "unknown"}
    if result["status"] == "incomplete":
        assert missing, "an incomplete answer must say what is missing"
    else:
        assert missing == []


# --- (b) monotonicity -------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_recording_a_criterion_present_never_lowers_the_answer(book, data):
    case = data.draw(case_data(book))
    before = run(book, case)["status"]
    for code in CRITERION_CODES:
        after = run(book, with_findings(case, **{code: True}))["status"]
        assert RANK[after] >= RANK[before], (code, before, after)
        if before == "met":
            assert after == "met", code


@SETTINGS
@given(data=st.data())
def test_recording_a_criterion_absent_never_raises_the_answer(book, data):
    case = data.draw(case_data(book))
    before = run(book, case)["status"]
    for code in CRITERION_CODES:
        after = run(book, with_findings(case, **{code: False}))["status"]
        assert RANK[after] <= RANK[before], (code, before, after)


@SETTINGS
@given(data=st.data())
def test_a_met_case_stays_met_with_one_more_criterion(book, data):
    """As the brief puts it: from "met", one more criterion recorded present is still "met"."""
    case = data.draw(st.one_of(case_data(book), met_case_data(book)))
    assume(run(book, case)["status"] == "met")
    rule = rule_of(book, case)
    code = data.draw(st.sampled_from(rule.codes))
    assert run(book, with_findings(case, **{code: True}))["status"] == "met"


# --- (c) tri-state ----------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_not_assessed_sits_between_absent_and_present(book, data):
    case = data.draw(case_data(book))
    code = data.draw(st.sampled_from(sorted(FINDINGS)))
    endocrine = {f for f, _ in book.subfindings.get("endocrinopathy", ())}
    # D6: giving any endocrine sub-finding switches off an explicit endocrinopathy
    # flag, so there "not assessed" and "assessed" differ in a second way too.
    assume(not (code in endocrine and "endocrinopathy" in case["findings"]))
    unknown = without_finding(case, code)
    absent = run(book, with_findings(unknown, **{code: False}))
    present = run(book, with_findings(unknown, **{code: True}))
    neither = run(book, unknown)
    assert RANK[absent["status"]] <= RANK[neither["status"]] <= RANK[present["status"]], code
    # And criterion by criterion: absent <= not assessed <= present, so an
    # unknown criterion never reads as met when absent nor as not met when present.
    order = {"not_met": 0, "unknown": 1, "met": 2}
    a, n, p = statuses(absent), statuses(neither), statuses(present)
    for criterion in n:
        assert order[a[criterion]] <= order[n[criterion]] <= order[p[criterion]], (code, criterion)


# The labs each derived criterion reads (clinical.md §f D1, D3, D8). Findings come
# from the content's sub-finding lists; the criterion's own code is its explicit flag.
LAB_INPUTS = {
    "monoclonal_plasma_cell_disorder": ("light_chain_type", "heavy_chain_type"),
    "vegf_elevated": ("vegf_pg_ml",),
    "thrombocytosis_polycythemia": ("platelets_10e9_l", "hemoglobin_g_dl", "hematocrit_pct"),
}


def finding_inputs(book, code):
    return {code, *(f for f, _ in book.subfindings.get(code, ()))}


@SETTINGS
@given(data=st.data())
def test_a_criterion_with_nothing_assessed_is_unknown(book, data):
    """Not assessed is not absent: with none of its inputs given, a criterion is unknown."""
    case = data.draw(case_data(book))
    result = run(book, case)
    for code, status in statuses(result).items():
        given_inputs = finding_inputs(book, code) & set(case["findings"])
        given_inputs |= set(LAB_INPUTS.get(code, ())) & set(case["labs"])
        if not given_inputs:
            assert status == "unknown", code


@SETTINGS
@given(data=st.data())
def test_a_fully_assessed_criterion_is_never_unknown(book, data):
    """Absent is not "not assessed": once every input of a criterion is given, it is met or not met."""
    case = data.draw(case_data(book))
    code = data.draw(st.sampled_from(CRITERION_CODES))
    findings = dict(case["findings"])
    labs = dict(case["labs"])
    subs = [f for f, _ in book.subfindings.get(code, ())]
    for f in subs or [code]:
        findings[f] = data.draw(st.booleans(), label=f)
    if code == "vegf_elevated":
        labs["vegf_pg_ml"] = data.draw(_in_range("vegf_pg_ml", book))
    if code == "thrombocytosis_polycythemia":
        labs["platelets_10e9_l"] = data.draw(_in_range("platelets_10e9_l", book))
        labs["hemoglobin_g_dl"] = data.draw(_in_range("hemoglobin_g_dl", book))
    slug = data.draw(st.sampled_from([s for s, rule in book.sets.items() if code in rule.codes]))
    result = run(book, {"findings": findings, "labs": labs, "criteria_set": slug})
    assert statuses(result)[code] != "unknown", (code, slug)


@SETTINGS
@given(data=st.data())
def test_an_explicit_flag_decides_its_criterion(book, data):
    """§f: an explicit criterion flag wins, except endocrinopathy once an endo_* finding is given (D6)."""
    case = data.draw(case_data(book))
    code = data.draw(st.sampled_from(CRITERION_CODES))
    value = data.draw(st.booleans())
    assume(not (code == "endocrinopathy" and set(ENDOCRINE_SUB_FINDINGS) & set(case["findings"])))
    slug = data.draw(st.sampled_from([s for s, rule in book.sets.items() if code in rule.codes]))
    result = run(book, {**with_findings(case, **{code: value}), "criteria_set": slug})
    assert statuses(result)[code] == ("met" if value else "not_met")


@SETTINGS
@given(data=st.data())
def test_endocrine_findings_override_the_explicit_endocrinopathy_flag(book, data):
    """§f D6: with any endo_* sub-finding given, the explicit flag changes nothing."""
    case = data.draw(case_data(book))
    sub = data.draw(st.sampled_from(ENDOCRINE_SUB_FINDINGS))
    case = with_findings(case, **{sub: case["findings"].get(sub, data.draw(st.booleans()))})
    bare = without_finding(case, "endocrinopathy")
    answers = [run(book, c) for c in (bare, with_findings(bare, endocrinopathy=True))]
    answers.append(run(book, with_findings(bare, endocrinopathy=False)))
    first = answers[0]
    for other in answers[1:]:
        assert other["status"] == first["status"]
        assert statuses(other) == statuses(first)
        assert other["missing"] == first["missing"]


@st.composite
def met_case_data(draw, book):
    """A case made to meet its set: the mandatory criteria and just enough of the others
    recorded present, everything else as drawn (so plenty stays unknown)."""
    case = draw(case_data(book))
    rule = rule_of(book, case)
    chosen = [
        *rule.mandatory,
        *draw(st.permutations(rule.major))[: rule.major_min],
        *draw(st.permutations(rule.minor))[: rule.minor_min],
    ]
    return settle_as_met(book, case, chosen)


@SETTINGS
@given(data=st.data())
def test_filling_in_unknown_criteria_keeps_met_met(book, data):
    case = data.draw(met_case_data(book))
    result = run(book, case)
    assert result["status"] == "met"
    unknown = [code for code, status in statuses(result).items() if status == "unknown"]
    assume(unknown)
    filled = {code: data.draw(st.booleans(), label=code) for code in unknown}
    assert run(book, with_findings(case, **filled))["status"] == "met"


@SETTINGS
@given(data=st.data())
def test_filling_in_unknown_criteria_keeps_not_met_not_met(book, data):
    case = data.draw(case_data(book))
    result = run(book, case)
    assume(result["status"] == "not_met")
    unknown = [code for code, status in statuses(result).items() if status == "unknown"]
    filled = {code: data.draw(st.booleans(), label=code) for code in unknown}
    assert run(book, with_findings(case, **filled))["status"] == "not_met"
    # Even the most favourable filling-in cannot rescue it.
    assert run(book, settle_as_met(book, case, unknown))["status"] == "not_met"


@SETTINGS
@given(data=st.data())
def test_incomplete_becomes_met_once_the_missing_criteria_are_met(book, data):
    case = data.draw(case_data(book))
    result = run(book, case)
    assume(result["status"] == "incomplete")
    settled = run(book, settle_as_met(book, case, result["missing"]))
    assert settled["status"] == "met", (result["missing"], settled["missing"])


# --- (e) plausibility ranges ---------------------------------------------------------------


def _outside(lab):
    finite = {"allow_nan": False, "allow_infinity": False}
    below = st.floats(max_value=lab.minimum, exclude_max=True, **finite)
    above = st.floats(min_value=lab.maximum, exclude_min=True, **finite)
    return st.one_of(below, above)


@SETTINGS
@given(data=st.data())
def test_lab_value_outside_its_range_is_refused_naming_the_lab(book, data):
    code = data.draw(st.sampled_from(NUMERIC_LABS))
    lab = LABS[code]
    value = data.draw(_outside(lab))
    with pytest.raises(InputError) as info:
        parse_case({"labs": {code: value}}, book.sets)
    errors = {e.field: e.message for e in info.value.errors}
    assert f"labs.{code}" in errors
    assert "plausible range" in errors[f"labs.{code}"]


@SETTINGS
@given(data=st.data())
def test_lab_value_with_a_unit_outside_the_range_is_refused_naming_the_lab(book, data):
    code = data.draw(st.sampled_from([c for c in NUMERIC_LABS if LABS[c].units]))
    lab = LABS[code]
    unit = data.draw(st.sampled_from(sorted(lab.units)))
    factor = lab.units[unit]
    # Outside the range once converted, by a clear margin over rounding.
    below = st.floats(max_value=lab.minimum / factor * 0.999 - 1e-9, allow_nan=False, allow_infinity=False)
    above = st.floats(min_value=lab.maximum / factor * 1.001 + 1e-9, allow_nan=False, allow_infinity=False)
    value = data.draw(st.one_of(below, above))
    with pytest.raises(InputError) as info:
        parse_case({"labs": {code: {"value": value, "unit": unit}}}, book.sets)
    assert f"labs.{code}" in {e.field for e in info.value.errors}


@SETTINGS
@given(data=st.data())
def test_category_outside_its_choices_is_refused_naming_the_lab(book, data):
    code = data.draw(st.sampled_from(CATEGORY_LABS))
    value = data.draw(st.text(max_size=12).filter(lambda v: v not in LABS[code].choices))
    with pytest.raises(InputError) as info:
        parse_case({"labs": {code: value}}, book.sets)
    assert f"labs.{code}" in {e.field for e in info.value.errors}


@SETTINGS
@given(data=st.data())
def test_lab_value_inside_its_range_is_accepted(book, data):
    code = data.draw(st.sampled_from(sorted(LABS)))
    value = data.draw(_in_range(code, book))
    case = parse_case({"labs": {code: value}}, book.sets)
    assert case.labs[code] == value
