"""The follow-up page (/follow-up) through Django's test client, without JavaScript: the form
path agrees with the engine on the golden timelines, errors name their field and visit, the
live fragment is no-store, and nothing is stored."""

import json
import re
from pathlib import Path

import pytest
from django.utils import timezone

from checklist.content.care_rules import follow_up_rules
from checklist.content.models import ContentRelease
from checklist.engine.follow_up import evaluate_follow_up, parse_follow_up, to_json
from tests.follow_up_helpers import form_fields

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden" / "follow_up"
CASES = {c["id"]: c for p in sorted(GOLDEN.glob("*.json")) for c in json.loads(p.read_text())["cases"]}
T1 = CASES["fu-h9-t1-complete-responder"]["input"]


def _dates(doc):
    days = [v["date"] for v in doc["visits"]]
    for t in doc.get("treatments") or []:
        days += [t["start"]] + ([t["end"]] if t.get("end") else [])
    return days


def _fits_today(case):
    """The page bounds dates by today (a date in the future is an error); the engine tests use a
    fixed day. Only timelines that are all in the past can go through the page."""
    today = timezone.localdate().isoformat()
    if "rules_override" in case:  # the page reads the published rules, not an editor's variant
        return False
    return "errors" not in case.get("expect", {}) and all(d <= today for d in _dates(case["input"]))


PAST = [pytest.param(c, id=i) for i, c in CASES.items() if _fits_today(c)]


def categories(response):
    return [
        {"date": v.date, "categories": {d.domain: d.category for d in v.domains}, "flag": v.flag}
        for v in response.context["visits"]
    ]


def test_enough_golden_timelines_fit_the_page():
    assert len(PAST) >= 20, len(PAST)
    assert "fu-h9-t1-complete-responder" in [p.id for p in PAST]
    assert any("t5" in p.id for p in PAST) and any("t3" in p.id for p in PAST)


@pytest.mark.parametrize("case", PAST)
def test_page_agrees_with_the_engine_on_golden_timelines(client, seeded, case):
    response = client.post("/follow-up", form_fields(case["input"]))
    assert response.status_code == 200, response.context["problems"]
    got = categories(response)
    want = case["expect"]["visits"]
    assert [g["date"] for g in got] == [w["date"] for w in want]
    for g, w in zip(got, want, strict=True):
        for domain, category in w["categories"].items():
            assert g["categories"][domain] == category, (g["date"], domain)
        assert g["flag"] == w["possible_progression"], g["date"]
    # And the engine, called directly on the same document, says the same.
    engine = to_json(
        evaluate_follow_up(parse_follow_up(case["input"], timezone.localdate()), follow_up_rules())
    )
    assert [{d: r["category"] for d, r in v["domains"].items()} for v in engine["visits"]] == [
        g["categories"] for g in got
    ]


def test_get_is_an_empty_flowsheet_with_the_notice_and_nav(client, seeded):
    html = client.get("/follow-up").content.decode()
    assert "Not a diagnosis" in html
    assert 'href="/follow-up"' in html
    for name in (
        "v1__date",
        "v1__vegf_pg_ml",
        "v1__vegf_pg_ml__unit",
        "v1__vegf_specimen",
        "t1__type",
        "t1__start",
    ):
        assert f'name="{name}"' in html
    assert "No result yet" in html


def test_no_js_post_returns_the_result_with_chart_table_and_note(client, seeded):
    response = client.post("/follow-up", form_fields(T1))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Latest visit 2026-07-10" in html
    assert html.count('<svg class="chart-svg"') == 3  # VEGF, M-protein, FLC ratio
    assert 'id="fu-data-table"' in html and "<caption>" in html
    assert "Rule H-V4" in html and "[unverified]" in html and "[app convention]" in html
    note = response.context["note"]
    assert 8 <= len(note.splitlines()) <= 14
    assert "Not a diagnosis" in note and response.context["content_version"] in note
    # The strict CSP: no inline style attribute and no inline script anywhere on the page.
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_values_are_echoed_as_entered_in_their_unit(client, seeded):
    fields = form_fields(T1) | {"v1__m_protein_g_dl": "6", "v1__m_protein_g_dl__unit": "g/L"}
    response = client.post("/follow-up", fields)
    html = response.content.decode()
    assert 'name="v1__m_protein_g_dl" id="id_v1__m_protein_g_dl" value="6"' in html
    assert '<option value="g/L" selected>' in html
    assert "6 g/L (0.6 g/dL)" in html  # the baseline, as entered and in the canonical unit


def test_a_bad_value_names_its_field_and_visit_and_the_rest_is_evaluated(client, seeded):
    fields = form_fields(T1) | {"v2__vegf_pg_ml": "abc"}
    response = client.post("/follow-up", fields)
    assert response.status_code == 400
    problems = response.context["problems"]
    assert [(p.name, p.where) for p in problems] == [("v2__vegf_pg_ml", "Visit 2, VEGF")]
    html = response.content.decode()
    assert 'href="#id_v2__vegf_pg_ml"' in html and 'aria-invalid="true"' in html
    assert "Latest visit 2026-07-10" in html  # still evaluated without that value


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"v2__date": "2999-01-01"}, "v2__date", "Visit 2, Date"),
        ({"v2__vegf_specimen": ""}, "v2__vegf_specimen", "Visit 2, VEGF specimen"),
        ({"v2__vegf_pg_ml": "60000"}, "v2__vegf_pg_ml", "Visit 2, VEGF"),
        ({"v2__date": "2026-01-05"}, "v2__date", "Visit 2, Date"),  # two visits on one date
        ({"t1__end": "2025-01-01"}, "t1__end", "Treatment 1, end (radiation: last fraction)"),
        ({"v1__onls_total": "13"}, "v1__onls_total", "Visit 1, ONLS (0-12)"),
        ({"v1__flc_ratio_ref_high": ""}, "v1__flc_ratio_ref_low", "Visit 1, FLC ratio range, low (lab)"),
    ],
)
def test_engine_errors_land_on_the_field(client, seeded, change, field, words):
    response = client.post("/follow-up", form_fields(T1) | change)
    assert response.status_code == 400
    named = {(p.name, p.where) for p in response.context["problems"]}
    assert (field, words) in named, named
    assert "Not a diagnosis" in response.content.decode()


def test_a_unit_the_lab_does_not_have_names_the_unit(client, seeded):
    response = client.post("/follow-up", form_fields(T1) | {"v1__vegf_pg_ml__unit": "mmol/L"})
    assert ("v1__vegf_pg_ml__unit", "Visit 1, VEGF (unit)") in {
        (p.name, p.where) for p in response.context["problems"]
    }


def test_live_fragment_is_no_store_and_carries_field_messages_out_of_band(client, seeded):
    response = client.post("/follow-up/result", form_fields(T1) | {"v2__vegf_pg_ml": "abc"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert html.startswith('<section id="fu-result"')
    assert 'id="msg-v2__vegf_pg_ml" hx-swap-oob="true"' in html
    assert 'id="fu-live-status" hx-swap-oob="innerHTML"' in html
    assert "<html" not in html
    # Nothing typed goes into a header.
    assert "abc" not in "".join(f"{k}: {v}" for k, v in response.items())


def test_fragment_refuses_get(client, seeded):
    assert client.get("/follow-up/result").status_code == 405


def test_add_and_remove_visit_without_javascript(client, seeded):
    fields = form_fields(T1)
    added = client.post("/follow-up", fields | {"action": "add_visit"})
    assert added.status_code == 200
    assert added.context["columns"] == [1, 2, 3, 4]
    removed = client.post("/follow-up", fields | {"action": "remove_v1"})
    sheet = removed.context["sheet"]
    assert removed.context["columns"] == [1, 2]
    assert sheet.value("v1__date") == "2026-04-10" and sheet.value("v2__date") == "2026-07-10"
    assert sheet.value("v1__vegf_pg_ml") == "380"
    tx = client.post("/follow-up", fields | {"action": "add_treatment"})
    assert [t.n for t in tx.context["tx_rows"]] == [1, 2]


def test_nothing_is_stored_or_logged(client, seeded, caplog):
    before = ContentRelease.objects.count()
    marker = "LabMarker4471"
    fields = form_fields(T1) | {"v1__vegf_lab": marker}
    with caplog.at_level("DEBUG"):
        client.post("/follow-up", fields)
        client.post("/follow-up/result", fields)
    assert ContentRelease.objects.count() == before
    assert marker not in caplog.text
    assert "sessionid" not in client.cookies


def test_hostile_text_is_escaped(client, seeded):
    fields = form_fields(T1) | {"v1__vegf_lab": "<script>x</script>", "v2__vegf_lab": "<b>y</b>"}
    html = client.post("/follow-up", fields).content.decode()
    assert "<script>x" not in html and "<b>y" not in html
    assert "&lt;script&gt;x" in html


def test_checklist_offers_a_follow_up_only_when_met_and_carries_values(client, seeded):
    empty = client.get("/").content.decode()
    assert 'id="start-follow-up" hidden' in empty
    case = {
        "polyneuropathy": "yes",
        "m_protein_present": "yes",
        "light_chain_type": "lambda",
        "vegf_pg_ml": "450",
        "vegf_specimen": "plasma",
        "lymphadenopathy": "yes",
        "platelets_10e9_l": "480",
        "m_protein_g_dl": "0.6",
        "m_protein_g_dl__unit": "g/dL",
    }
    met = client.post("/", case).content.decode()
    assert 'id="start-follow-up">' in met
    carried = client.post("/follow-up", case | {"from_checklist": "1"})
    assert carried.status_code == 200
    sheet = carried.context["sheet"]
    assert sheet.value("v1__vegf_pg_ml") == "450" and sheet.value("v1__vegf_specimen") == "plasma"
    assert sheet.value("v1__sife_result") == "positive"
    assert sheet.value("v1__m_protein_g_dl") == "0.6" and sheet.value("v1__m_protein_g_dl__unit") == "g/dL"
    assert sheet.value("v1__date") == timezone.localdate().isoformat()
    assert carried.context["columns"] == [1, 2]
    assert "carries the checklist" in carried.content.decode()


def test_loinc_codes_for_the_file_come_from_the_mapping_content(client, seeded):
    html = client.get("/follow-up").content.decode()
    raw = re.search(r'data-loinc="([^"]*)"', html).group(1)
    import html as html_lib

    mapping = json.loads(html_lib.unescape(raw))
    assert mapping["vegf_pg_ml"]["code"] == "75628-8"
    assert mapping["m_protein_g_dl"]["code"] == "33358-3"
    assert mapping["flc_ratio"]["code"] == "48378-4"
    assert mapping["sife_result"]["code"] == "25700-6"
    assert "pet_suv_max" not in mapping  # saved with a local code
