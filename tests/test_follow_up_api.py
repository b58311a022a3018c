"""POST /api/v1/follow-up and manage.py follow_up (design.md §3.9), and the follow-up rules as
published content: the API, the CLI and the engine agree on every golden timeline.

The golden timelines (tests/golden/follow_up/) were written against a fixed "today" of
2028-12-31; the API and CLI refuse a date in the future, so a timeline reaching past today is
moved back by whole 4-year steps. Four calendar years are exactly 1461 days between 1901 and
2099 (one 29 February in every such step), so every interval in days, weeks and months is
unchanged, and the answer's dates are moved forward again before the comparison.
"""

import io
import json
import re
import sys
from datetime import date

import pytest
from django.core.management import call_command
from django.test import Client

from checklist.content import care_rules
from checklist.content import rule_book as content
from checklist.content.models import ContentRelease, FollowUpRule, FollowUpThreshold
from checklist.content.publishing import publish
from checklist.engine.follow_up import evaluate_follow_up, parse_follow_up, rules_from_dict, to_json

from .test_follow_up_engine import CASES, RULES_DATA, differences

pytestmark = pytest.mark.django_db

DATE = re.compile(r"\b(\d{4})-(\d\d-\d\d)\b")
GOOD = {
    "visits": [
        {"date": "2026-01-05", "values": {"vegf_pg_ml": 800, "vegf_specimen": "plasma"}},
        {"date": "2026-04-10", "values": {"vegf_pg_ml": 380, "vegf_specimen": "plasma"}},
    ],
    "treatments": [{"line": 1, "type": "systemic", "start": "2026-01-10", "end": None}],
}


def post(client, body, content_type="application/json"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/api/v1/follow-up", data=data, content_type=content_type)


def cli(monkeypatch, document):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(document)))
    out = io.StringIO()
    code = 0
    try:
        call_command("follow_up", "-", stdout=out)
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def shift_years(value, years):
    """Every ISO date in a JSON value moved by ``years`` calendar years (see the module doc)."""
    text = json.dumps(value)
    return json.loads(DATE.sub(lambda m: f"{int(m.group(1)) + years}-{m.group(2)}", text))


def in_the_past(document, today):
    """How many years (a multiple of -4) move every date of ``document`` to today or before."""
    years = 0
    while (
        max(m.group(0) for m in DATE.finditer(json.dumps(shift_years(document, years)))) > today.isoformat()
    ):
        years -= 4
    return years


def publish_thresholds(**values):
    for code, value in values.items():
        FollowUpThreshold.objects.filter(code=code).update(value=value)
    outcome = publish("Follow-up thresholds changed (test).")
    assert outcome.ok, outcome.problems + outcome.failures
    return outcome.release


def _as_text(value):
    return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


# --- API, CLI and engine agree on every golden timeline --------------------------------


@pytest.mark.parametrize("case", CASES)
def test_api_cli_and_engine_agree_on_the_golden_timeline(seeded, monkeypatch, case):
    today = care_rules.follow_up_today()
    if case.get("rules_override"):
        publish_thresholds(**{c: _as_text(v) for c, v in case["rules_override"].items()})
    years = in_the_past(case["input"], today)
    document = shift_years(case["input"], years)

    response = post(Client(enforce_csrf_checks=True), document)
    assert response.status_code == 200, response.content[:500]
    assert response["Cache-Control"].startswith("max-age=0, no-cache, no-store")
    api = response.json()
    code, printed = cli(monkeypatch, document)
    assert code == 0
    engine = to_json(evaluate_follow_up(parse_follow_up(document, today), care_rules.follow_up_rules()))
    assert api == printed == engine
    assert api["content_version"] == content.snapshot().book.content_version
    assert differences(case["expect"], shift_years(api, -years)) == []


def test_the_live_rules_are_the_seed_file_as_published(seeded):
    live = care_rules.follow_up_rules()
    seed = rules_from_dict(RULES_DATA)
    assert live.thresholds == seed.thresholds and live.rules == seed.rules
    assert live.version == content.snapshot().book.content_version
    assert care_rules.follow_up_rules() is live  # built once per release


# --- The errors shape, for each bad-input kind of §3.9 ---------------------------------


def errors_of(response):
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert set(body) == {"errors"}
    return {e["field"]: e["message"] for e in body["errors"]}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d["visits"][1].update(date="2026-01-05"), "visits[1].date", "also the date of visits[0]"),
        (lambda d: d["treatments"][0].update(end="2026-01-01"), "treatments[0].end", "before the start"),
        (lambda d: d["visits"][1].update(date="2099-01-01"), "visits[1].date", "today"),
        (lambda d: d["treatments"][0].update(start="2099-01-01"), "treatments[0].start", "today"),
        (
            lambda d: d["visits"][0]["values"].update(vegf_pg_ml={"value": 1, "unit": "mg/dL"}),
            "visits[0].values.vegf_pg_ml.unit",
            "ng/mL",
        ),
        (
            lambda d: d["visits"][0]["values"].update(vegf_pgml=3),
            "visits[0].values.vegf_pgml",
            "unknown code",
        ),
        (
            lambda d: d["visits"][1]["values"].pop("vegf_specimen"),
            "visits[1].values.vegf_specimen",
            "required",
        ),
        (lambda d: d["visits"][1].update(date="10/04/2026"), "visits[1].date", "ISO date"),
        (lambda d: d["treatments"][0].update(type="surgery"), "treatments[0].type", "radiation"),
        (lambda d: d.update(visits=[]), "visits", "at least one visit"),
        (lambda d: d.update(patient="x"), "patient", "unknown key"),
    ],
)
def test_bad_input_is_refused_naming_the_field(seeded, monkeypatch, change, field, words):
    document = json.loads(json.dumps(GOOD))
    change(document)
    found = errors_of(post(Client(), document))
    assert field in found, found
    assert words in found[field]
    code, printed = cli(monkeypatch, document)
    assert code == 2
    assert {e["field"]: e["message"] for e in printed["errors"]} == found


def test_body_handling_matches_the_evaluate_api(seeded, settings):
    client = Client(enforce_csrf_checks=True)  # no CSRF token, no session: still answered
    assert post(client, GOOD).status_code == 200
    empty = client.generic("POST", "/api/v1/follow-up", b"", content_type="application/json")
    assert empty.status_code == 400 and empty.json()["errors"][0]["field"] == "(body)"
    assert post(client, "a=1", "application/x-www-form-urlencoded").status_code == 415
    assert errors_of(post(client, b"{oops")) == {"(body)": "malformed JSON: Expecting property name "
                                                "enclosed in double quotes at line 1 column 2."}  # fmt: skip
    got = client.get("/api/v1/follow-up")
    assert (
        got.status_code == 405 and got["Allow"] == "POST" and got.json()["errors"][0]["field"] == "(method)"
    )
    settings.API_MAX_BODY_BYTES = 200
    big = post(client, {**GOOD, "pad": "x" * 400})
    assert big.status_code == 413 and big.json()["errors"][0]["field"] == "(body)"
    assert "sessionid" not in big.cookies and "csrftoken" not in big.cookies


def test_a_key_given_twice_is_an_error(seeded):
    body = b'{"visits": [{"date": "2026-01-05", "date": "2026-01-06"}]}'
    assert "visits.0.date" in " ".join(errors_of(post(Client(), body)))


def test_the_cli_reads_a_file_and_names_an_unreadable_one(seeded, tmp_path):
    path = tmp_path / "timeline.json"
    path.write_text(json.dumps(GOOD))
    out = io.StringIO()
    call_command("follow_up", str(path), stdout=out)
    assert json.loads(out.getvalue())["visits"][1]["domains"]["vegf"]["category"] == "pr"
    with pytest.raises(SystemExit) as exited:
        call_command("follow_up", str(tmp_path / "missing.json"), stdout=(out := io.StringIO()))
    assert exited.value.code == 2
    assert json.loads(out.getvalue())["errors"][0]["field"] == "(file)"


def test_warm_requests_read_no_content_and_write_nothing(seeded, django_assert_num_queries):
    from django.apps import apps

    def counts():
        return {m.__name__: m.objects.count() for m in apps.get_models()}

    before = counts()
    assert post(Client(), GOOD).status_code == 200  # warm the content cache
    with django_assert_num_queries(0):
        for _ in range(3):
            assert post(Client(), GOOD).status_code == 200
    assert counts() == before


# --- The rules are published content ---------------------------------------------------


def test_an_editors_threshold_change_reaches_the_api_only_once_published(seeded, client, editor):
    # 800 -> 420 pg/mL is a 47.5% fall: stable under the seed's 50% (clinical.md §h.4 H-V5).
    document = json.loads(json.dumps(GOOD))
    document["visits"][1]["values"]["vegf_pg_ml"] = 420
    assert post(Client(), document).json()["visits"][1]["domains"]["vegf"]["category"] == "stable"
    client.force_login(editor)
    row = FollowUpThreshold.objects.get(code="fu_vegf_pr_fall_pct")
    form = {
        "value": "45",
        "unit": row.unit,
        "evidence": row.evidence,
        "source": row.source,
        "note": "Lowered for the test.",
        "version": "2",
        "review_status": "draft",
    }
    response = client.post(f"/admin/checklist/followupthreshold/{row.pk}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    assert row.history.count() == 2
    # Saved to the draft: the live answer has not moved.
    assert post(Client(), document).json()["visits"][1]["domains"]["vegf"]["category"] == "stable"
    outcome = publish("Follow-up PR threshold lowered to 45%.")
    assert outcome.ok, outcome.problems + outcome.failures
    answer = post(Client(), document).json()
    assert answer["visits"][1]["domains"]["vegf"]["category"] == "pr"
    assert answer["content_version"] == outcome.release.stamp


@pytest.mark.parametrize(
    ("code", "value", "words"),
    [
        ("fu_vegf_pr_fall_pct", "fifty", "not a number"),
        ("fu_vegf_pr_fall_pct", "-5", ">= 0"),
        ("fu_vegf_pr_fall_pct", "", "must be a number"),
        ("fu_hem_vgpr_enabled", "50", "true or false"),
    ],
)
def test_a_broken_value_is_refused_at_publishing(seeded, code, value, words):
    live = ContentRelease.objects.live()
    FollowUpThreshold.objects.filter(code=code).update(value=value)
    outcome = publish("A broken follow-up value.")
    assert not outcome.ok
    assert any(
        p.startswith(f"Follow-up rules: thresholds.{code}.value") and words in p for p in outcome.problems
    )
    assert ContentRelease.objects.live() == live
    assert post(Client(), GOOD).status_code == 200


def test_a_missing_rule_source_or_bad_tag_is_refused_at_publishing(seeded):
    FollowUpRule.objects.filter(code="H-V3").delete()
    FollowUpThreshold.objects.filter(code="fu_gcsf_window_days").update(evidence="trust me")
    problems = publish("Broken follow-up content.").problems
    assert "Follow-up rules: rules.H-V3: missing" in problems
    assert any("thresholds.fu_gcsf_window_days.evidence" in p for p in problems)


def test_the_admin_refuses_a_broken_value_where_it_is_typed(seeded, client, editor):
    client.force_login(editor)
    row = FollowUpThreshold.objects.get(code="fu_onls_change_points")
    form = {"value": "one", "unit": row.unit, "evidence": row.evidence, "source": row.source}
    response = client.post(
        f"/admin/checklist/followupthreshold/{row.pk}/change/",
        {**form, "version": "1", "review_status": "draft"},
    )
    assert response.status_code == 200
    assert "not a number" in str(response.context["adminform"].form.errors), response.context[
        "adminform"
    ].form.errors
    assert FollowUpThreshold.objects.get(pk=row.pk).value == "1"


def test_a_live_release_from_before_the_rules_were_content_is_upgraded_by_load_content(seeded):
    records = [r for r in content.content_records() if r["model"] not in care_rules.FOLLOW_UP_MODELS]
    old = ContentRelease.objects.live()
    old.records = records  # as a release published before migration 0011
    old.save()
    FollowUpThreshold.objects.all().delete()
    FollowUpRule.objects.all().delete()
    content.invalidate()
    # Served as unavailable (503, the errors shape), never a 500.
    response = post(Client(raise_request_exception=False), GOOD)
    assert response.status_code == 503 and response.json()["errors"][0]["field"] == "(service)"
    call_command("load_content", stdout=io.StringIO())
    live = ContentRelease.objects.live()
    assert live.number == old.number + 1
    assert [r for r in live.records if r["model"] not in care_rules.FOLLOW_UP_MODELS] == records
    assert FollowUpThreshold.objects.count() == len(RULES_DATA["thresholds"])
    assert post(Client(), GOOD).json()["content_version"] == live.stamp
    call_command("load_content", stdout=io.StringIO())  # again: nothing more to publish
    assert ContentRelease.objects.live() == live


def test_today_is_never_before_the_servers_date():
    assert care_rules.follow_up_today() >= date.today()
