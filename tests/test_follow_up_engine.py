"""The follow-up engine (clinical.md §h, design.md §3.9): golden timelines, properties, bad input.

Pure engine, no database: the rules are built from fixtures/follow_up_rules.json.
"""

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checklist.engine.follow_up import evaluate_follow_up, parse_follow_up, rules_from_dict, to_json
from checklist.engine.follow_up.rules import RulesError
from checklist.engine.inputs import InputError

ROOT = Path(__file__).resolve().parent.parent
RULES_DATA = json.loads((ROOT / "fixtures" / "follow_up_rules.json").read_text(encoding="utf-8"))
RULES = rules_from_dict(RULES_DATA)
TODAY = date(2028, 12, 31)
GOLDEN = Path(__file__).parent / "golden" / "follow_up"
CASES = [
    pytest.param(case, id=case["id"])
    for path in sorted(GOLDEN.glob("*.json"))
    for case in json.loads(path.read_text(encoding="utf-8"))["cases"]
]


def run(document, rules=RULES):
    return to_json(evaluate_follow_up(parse_follow_up(document, TODAY), rules))


def differences(expect, answer):
    """Every way ``answer`` departs from the expectation of one timeline, in words."""
    out = []
    got_visits = answer["visits"]
    if len(got_visits) != len(expect["visits"]):
        return [f"{len(got_visits)} visits, expected {len(expect['visits'])}"]
    for want, got in zip(expect["visits"], got_visits, strict=True):
        day = want["date"]
        if got["date"] != day:
            out.append(f"{day}: got date {got['date']}")
        for domain, category in want["categories"].items():
            if got["domains"][domain]["category"] != category:
                r = got["domains"][domain]
                out.append(f"{day} {domain}: {r['category']} ({r['rule']}: {r['reason']}), expected {category}")
        if got["possible_progression"] != want["possible_progression"]:
            out.append(f"{day}: possible_progression {got['possible_progression']!r}, expected {want['possible_progression']!r}")
        for domain, rule in want.get("rules", {}).items():
            if got["domains"][domain]["rule"] != rule:
                out.append(f"{day} {domain}: rule {got['domains'][domain]['rule']}, expected {rule}")
        for domain, pct in want.get("change_pct", {}).items():
            if got["domains"][domain]["change_pct"] != pct:
                out.append(f"{day} {domain}: change_pct {got['domains'][domain]['change_pct']}, expected {pct}")
        for domain, cautions in want.get("cautions", {}).items():
            have = [[c["code"], c["level"]] for c in got["domains"][domain]["cautions"]]
            for c in cautions:
                if c not in have:
                    out.append(f"{day} {domain}: caution {c} missing (have {have})")
        for domain, cautions in want.get("no_cautions", {}).items():
            have = [c["code"] for c in got["domains"][domain]["cautions"]]
            for c in cautions:
                if c in have:
                    out.append(f"{day} {domain}: caution {c} should not be there")
        if "triggers" in want:
            have = [[t["domain"], t["rule"]] for t in got["progression_triggers"]]
            if have != want["triggers"]:
                out.append(f"{day}: triggers {have}, expected {want['triggers']}")
        for key in ("baseline", "nadir"):
            for domain, (when, value) in want.get(key, {}).items():
                point = got["domains"][domain][key]
                if point is None or [point["date"], point["value"]] != [when, value]:
                    out.append(f"{day} {domain}: {key} {point}, expected {when} {value}")
        for domain, words in want.get("reason_contains", {}).items():
            if words not in got["domains"][domain]["reason"]:
                out.append(f"{day} {domain}: reason {got['domains'][domain]['reason']!r} lacks {words!r}")
    return out


def test_golden_timelines_are_sourced_unique_and_cover_the_browser_three():
    ids = [p.values[0]["id"] for p in CASES]
    assert len(ids) == len(set(ids))
    assert all("clinical.md §h" in p.values[0]["source"] for p in CASES)
    assert {"fu-complete-responder", "fu-vegf-only-relapse", "fu-specimen-change"} <= set(ids)
    assert sum(i.startswith("fu-h9-t") for i in ids) == 12


@pytest.mark.parametrize("case", CASES)
def test_golden_timeline(case):
    rules = RULES
    if case.get("rules_override"):
        data = json.loads(json.dumps(RULES_DATA))
        for code, value in case["rules_override"].items():
            data["thresholds"][code]["value"] = value
        rules = rules_from_dict(data)
    assert differences(case["expect"], run(case["input"], rules)) == []


def test_the_golden_check_can_fail():
    case = next(p.values[0] for p in CASES if p.values[0]["id"] == "fu-h9-t3-vegf-progression-boundary")
    answer = run(case["input"])
    answer["visits"][3]["domains"]["vegf"]["category"] = "pr"
    answer["visits"][3]["possible_progression"] = False
    assert len(differences(case["expect"], answer)) == 2
