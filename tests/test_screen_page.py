"""The CIDP clinic screen through its three doors (design.md §3.10): POST /api/v1/screen,
manage.py screen and the page /screen. They agree on every golden screen case; bad input
is refused naming the field and never 500s; "Open the full checklist" carries every value
that the checklist has a field for.

The golden cases are dated for their own "today" (tests/golden/screen/*.json); the three
doors read the real today, so each case's dates are moved by the days between the two.
The doors are compared with the engine on the moved case; the golden expectation is
checked as well wherever moving the dates keeps the engine's answer (it can differ only
across a month end, where "12 months" is not a whole number of days).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checklist.content.care_rules import care_context, screen_rules
from checklist.engine.screen import screen_json
from checklist.engine.vocabulary import LABS
from tests.test_hostile_input import HOSTILE, assert_errors_shape

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "screen"
RULES = screen_rules()
PAGE_CODES = set(RULES.input_codes)


def _cases():
    for path in sorted(GOLDEN.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        today = dt.date.fromisoformat(doc["today"])
        for case in doc["cases"]:
            yield pytest.param(case, today, id=f"{path.stem}:{case['id']}")


CASES = list(_cases())


def moved(data, days):
    """The case with every date ``days`` later."""
    values = dict(data.get("values") or {})
    for code, value in values.items():
        if code in RULES.inputs and RULES.inputs[code].kind == "date" and isinstance(value, str):
            values[code] = (dt.date.fromisoformat(value) + dt.timedelta(days=days)).isoformat()
    return {**data, "values": values}


def engine(data, today):
    context = care_context()
    return screen_json(
        data, RULES, today=today, content_version=context.content_version, disclaimer=context.disclaimer
    )


def number_text(value):
    text = repr(value) if isinstance(value, float) else str(value)
    return text if "e" not in text else f"{value:.12f}".rstrip("0")


def form_fields(values):
    """A screen input's values as the page's form posts them (design.md §3.4 convention)."""
    form = {}
    for code, value in values.items():
        if value is None or code not in PAGE_CODES:
            continue
        spec = RULES.inputs[code]
        if spec.kind == "finding":
            form[code] = "yes" if value else "no"
        elif spec.kind == "lab":
            if isinstance(value, dict):
                form[code], form[f"{code}__unit"] = number_text(value["value"]), value["unit"]
            else:
                form[code], form[f"{code}__unit"] = number_text(value), LABS[spec.lab].unit
        else:
            form[code] = value
    return form


def run_cli(monkeypatch, *args, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out = io.StringIO()
    code = 0
    try:
        call_command("screen", *args, stdout=out)
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def api(client, data):
    return client.post("/api/v1/screen", json.dumps(data), content_type="application/json")


def page_answer(html):
    """What the page's answer shows, by the codes it marks."""
    found = re.search(r'id="answer"[^>]*data-category="([a-z_]+)"', html)
    return {
        "category": found.group(1) if found else None,
        "red_flags": re.findall(r'data-flag="([a-z_]+)"', html),
        "supportive": re.findall(
            r'data-flag="([a-z_]+)"><strong>[^<]*</strong> <span class="supportive">', html
        ),
        "tests": re.findall(r'data-test="([a-z_]+)"', html),
        "notes": re.findall(r'data-note="([a-z_]+)"', html),
        "not_assessed": re.findall(r'data-na="([a-z_0-9]+)"', html),
    }


@pytest.mark.parametrize(("case", "golden_today"), CASES)
def test_api_cli_and_page_agree_on_every_golden_case(seeded, monkeypatch, case, golden_today):
    today = timezone.localdate()
    data = moved(case["input"], (today - golden_today).days)
    want = engine(data, today)
    assert "errors" not in want, want

    response = api(Client(), data)
    assert response.status_code == 200, response.content[:300]
    assert "no-store" in response["Cache-Control"]
    assert response.json() == want

    code, out = run_cli(monkeypatch, "-", stdin=json.dumps(data))
    assert code == 0 and out == want

    # The page shows the content default policy and has no field for the caller-only
    # context codes (poems_known): it is compared with the engine on what it can post.
    on_page = {k: v for k, v in data["values"].items() if k in PAGE_CODES}
    page_want = engine({"values": on_page}, today)
    fragment = Client().post("/screen/result", form_fields(on_page))
    assert fragment.status_code == 200
    assert "no-store" in fragment["Cache-Control"]
    shown = page_answer(fragment.content.decode())
    assert shown == {
        "category": page_want["category"],
        "red_flags": [f["code"] for f in page_want["red_flags"]],
        "supportive": [f["code"] for f in page_want["red_flags"] if f["supportive"]],
        "tests": [t["code"] for t in page_want["tests"]],
        "notes": [n["code"] for n in page_want["notes"]],
        "not_assessed": page_want["not_assessed"],
    }
    # Without JavaScript: the whole page, posted, shows the same answer.
    full = Client().post("/screen", form_fields(on_page))
    assert full.status_code == 200
    assert page_answer(full.content.decode()) == shown

    # The golden expectation itself, wherever moving the dates kept the engine's answer.
    if engine(case["input"], golden_today)["category"] == want["category"]:
        assert want["category"] == case["expect"]["category"]
        assert [f["code"] for f in want["red_flags"]] == case["expect"]["red_flags"]


def test_every_golden_case_is_compared(seeded):
    assert len(CASES) >= 79


# --- Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_json_is_400_with_the_errors_shape(seeded, body):
    response = Client().post("/api/v1/screen", body, content_type="application/json")
    assert_errors_shape(response)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"values": {"acquired_demyelinating_neuropathy": True, "copd": "yes"}}, "values.copd"),
        ({"values": {"acquired_demyelinating_neuropathy": True, "zzz": 1}}, "values.zzz"),
        ({"values": {}}, "values.acquired_demyelinating_neuropathy"),
        ({"values": {"acquired_demyelinating_neuropathy": True}, "screen_policy": "all"}, "screen_policy"),
        (
            {
                "values": {
                    "acquired_demyelinating_neuropathy": True,
                    "platelets_10e9_l": {"value": 1, "unit": "kg"},
                }
            },
            "values.platelets_10e9_l.unit",
        ),
        (
            {
                "values": {
                    "acquired_demyelinating_neuropathy": True,
                    "vegf_pg_ml": 10,
                    "vegf_date": "2999-01-01",
                }
            },
            "values.vegf_date",
        ),
        ({"values": [1]}, "values"),
        ({"valeus": {}}, "valeus"),
    ],
)
def test_bad_input_names_the_field_in_api_and_cli(seeded, monkeypatch, body, field):
    response = api(Client(), body)
    errors = assert_errors_shape(response)
    assert field in [e["field"] for e in errors], errors
    code, out = run_cli(monkeypatch, "-", stdin=json.dumps(body))
    assert code == 2 and out == response.json()


def test_api_body_handling_is_the_evaluate_apis(seeded, settings):
    client = Client()
    assert_errors_shape(client.post("/api/v1/screen", b"", content_type="application/json"), 400)
    assert_errors_shape(client.post("/api/v1/screen", b"{}", content_type="text/plain"), 415)
    settings.API_MAX_BODY_BYTES = 100
    big = json.dumps({"values": {"acquired_demyelinating_neuropathy": True}, "x": "y" * 200})
    assert_errors_shape(client.post("/api/v1/screen", big, content_type="application/json"), 413)
    response = client.get("/api/v1/screen")
    assert_errors_shape(response, 405)
    assert response["Allow"] == "POST"
    # No CSRF token, no session: a client that enforces CSRF still gets an answer.
    strict = Client(enforce_csrf_checks=True)
    ok = api(strict, {"values": {"acquired_demyelinating_neuropathy": True}})
    assert ok.status_code == 200 and "Set-Cookie" not in ok


def test_cli_reads_a_file_and_refuses_a_missing_one(seeded, monkeypatch, tmp_path):
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps({"values": {"acquired_demyelinating_neuropathy": True, "ivig_refractory": True}})
    )
    code, out = run_cli(monkeypatch, str(path))
    assert code == 0 and out["category"] == "screen_test_now_red_flags"
    code, out = run_cli(monkeypatch, str(tmp_path / "none.json"))
    assert code == 2 and out["errors"][0]["field"] == "(file)"
    code, out = run_cli(monkeypatch, "-", stdin="{nope")
    assert code == 2 and out["errors"][0]["field"] == "(body)"


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_values = st.dictionaries(st.sampled_from(sorted(RULES.inputs)) | st.text(max_size=6), _json, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=_values, policy=st.none() | st.sampled_from(["test_all", "red_flag_only", "x"]) | _json)
def test_any_screen_document_is_200_or_400_never_500(seeded, values, policy):
    body = {"values": {"acquired_demyelinating_neuropathy": True, **values}, "screen_policy": policy}
    response = Client().post(
        "/api/v1/screen", json.dumps(body, ensure_ascii=True), content_type="application/json"
    )
    if response.status_code != 200:
        assert_errors_shape(response)


_form_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40) | st.sampled_from(
    ["yes", "no", "", "1e400", "NaN", "1,200", "-5", "0,45", "2999-01-01", "lambda", "furlongs"]
)
_form = st.dictionaries(
    st.sampled_from(
        sorted(RULES.inputs) + [f"{c}__unit" for c in RULES.inputs if RULES.inputs[c].kind == "lab"]
    ),
    _form_text,
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=_form)
def test_any_form_post_is_answered_never_500(seeded, form):
    data = {"acquired_demyelinating_neuropathy": "yes", **form}
    fragment = Client().post("/screen/result", data)
    assert fragment.status_code == 200
    page = Client().post("/screen", data)
    assert page.status_code in (200, 400)


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({"platelets_10e9_l": "lots"}, "platelets_10e9_l", "Enter a number"),
        ({"platelets_10e9_l": "1,200"}, "platelets_10e9_l", "thousands separator"),
        ({"platelets_10e9_l": "99999"}, "platelets_10e9_l", "plausible range"),
        (
            {"platelets_10e9_l": "450", "platelets_10e9_l__unit": "kg"},
            "platelets_10e9_l__unit",
            "Unknown unit",
        ),
        ({"copd": "maybe"}, "copd", "Choose Yes, No or Not assessed"),
        ({"vegf_pg_ml": "100", "vegf_date": "2999-01-01"}, "vegf_date", "future"),
        ({"vegf_specimen": "urine", "vegf_pg_ml": "100"}, "vegf_specimen", "not allowed"),
        (
            {"light_chain_type": "lambda"},
            "light_chain_type",
            "Given without \u201cM-protein on immunofixation",
        ),
        ({"median_tli": "x" * 40}, "median_tli", "At most 32 characters"),
    ],
)
def test_a_bad_form_value_names_its_field_and_the_rest_is_still_screened(seeded, form, field, words):
    data = {"acquired_demyelinating_neuropathy": "yes", "ivig_refractory": "yes", **form}
    fragment = Client().post("/screen/result", data).content.decode()
    message = re.search(
        rf'<p class="field-msg is-error" id="msg-{re.escape(field)}"[^>]*>([^<]*)</p>', fragment
    )
    assert message, fragment[:2000]
    assert words in message.group(1).replace("&#x27;", "'")
    # The rest of the case is still screened.
    assert 'data-flag="rf_ivig_refractory"' in fragment
    page = Client().post("/screen", data)
    assert page.status_code == 400
    html = page.content.decode()
    assert f'href="#f-{field.removesuffix("__unit")}"' in html  # the error summary links to the field
    assert 'data-flag="rf_ivig_refractory"' in html


def test_without_the_context_answer_there_is_no_screen_and_it_says_why(seeded):
    html = Client().post("/screen", {"platelets_10e9_l": "520"}).content.decode()
    assert "data-category" not in html
    assert "Answer Yes to the first question" in html
    assert re.search(r'id="msg-acquired_demyelinating_neuropathy">This screen is for', html)
    html = Client().post("/screen", {"acquired_demyelinating_neuropathy": "no"}).content.decode()
    assert "data-category" not in html


# --- The page ----------------------------------------------------------------------------


def test_the_empty_page_has_the_items_tri_state_and_the_policy(seeded):
    response = Client().get("/screen")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Could this neuropathy be POEMS?" in html
    assert html.count('class="part sitem"') == len(RULES.items) <= 15
    # Every finding starts at "Not assessed", never at "No".
    for code, spec in RULES.inputs.items():
        if code in PAGE_CODES and spec.kind == "finding":
            assert re.search(rf'name="{code}" value="" id="id_{code}_2" checked', html), code
            assert not re.search(rf'name="{code}" value="no" id="id_{code}_1" checked', html), code
    policy = RULES.policies[RULES.default_policy]
    assert f"Screen policy: {policy['label']} (content default)" not in html  # shown with an answer
    answered = Client().post("/screen", {"acquired_demyelinating_neuropathy": "yes"}).content.decode()
    assert f"Screen policy: {policy['label']} (content default)" in answered
    # Units where the item has them.
    assert 'name="platelets_10e9_l__unit"' in html and 'name="vegf_pg_ml__unit"' in html
    assert 'href="/screen"' in Client().get("/").content.decode()  # nav and the checklist's link


def test_the_answer_names_tests_with_why_flags_with_sources_and_marks_supportive(seeded):
    data = {
        "acquired_demyelinating_neuropathy": "yes",
        "m_protein_present": "yes",
        "heavy_chain_type": "IgA",
        "light_chain_type": "lambda",
        "neuropathy_painful": "yes",
        "vegf_pg_ml": "600",
        "vegf_specimen": "serum",
        "vegf_uln_pg_ml": "300",
        "iron_deficiency_anemia": "yes",
    }
    html = Client().post("/screen/result", data).content.decode()
    want = engine({"values": _json_values(data)}, timezone.localdate())
    for flag in want["red_flags"]:
        assert flag["source"].replace(">", "&gt;") in html
    assert '<span class="supportive">supportive only</span>' in html
    for test in want["tests"]:
        assert test["code"] in html
    assert "VEGF, with the specimen stated" in html
    assert "low-iron anaemia" in html  # the confounder, in the message
    assert 'class="ev ev-' in html


def _json_values(form):
    out = {}
    for code, raw in form.items():
        kind = RULES.inputs[code].kind
        out[code] = (raw == "yes") if kind == "finding" else float(raw) if kind == "lab" else raw
    return out


def test_copy_to_note_is_about_six_lines_with_versions_and_the_notice(seeded):
    html = (
        Client()
        .post("/screen/result", {"acquired_demyelinating_neuropathy": "yes", "platelets_10e9_l": "520"})
        .content.decode()
    )
    note = re.search(r'<textarea id="screen-note-text"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    lines = note.strip().splitlines()
    assert 5 <= len(lines) <= 7
    context = care_context()
    assert context.content_version in note and RULES.version in note
    assert "Not a diagnosis" in note
    assert "High platelet count" in note


class _FormState(HTMLParser):
    """The values a rendered form holds: checked radios, text inputs, selected options."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.select = form_id, False, None
        self.state: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") == "radio":
                if "checked" in a:
                    self.state[a["name"]] = a.get("value") or ""
            else:
                self.state[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and "selected" in a:
            self.state[self.select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        if tag == "form":
            self.inside = False


def form_state(html, form_id):
    parser = _FormState(form_id)
    parser.feed(html)
    return parser.state


FULL_SCREEN = {
    "acquired_demyelinating_neuropathy": "yes",
    "neuropathy_acute_onset": "no",
    "m_protein_present": "yes",
    "heavy_chain_type": "IgG",
    "light_chain_type": "lambda",
    "anti_mag_positive": "no",
    "sife_date": "2026-11-01",
    "vegf_pg_ml": "0.45",
    "vegf_pg_ml__unit": "ng/mL",
    "vegf_specimen": "plasma",
    "vegf_uln_pg_ml": "96.2",
    "vegf_uln_pg_ml__unit": "pg/mL",
    "vegf_date": "2026-11-01",
    "platelets_10e9_l": "520",
    "platelets_10e9_l__unit": "10^3/uL",
    "extravascular_volume_overload": "yes",
    "skin_changes": "no",
    "organomegaly": "yes",
    "endocrinopathy": "no",
    "papilledema": "yes",
    "sclerotic_bone_lesions": "no",
    "neuropathy_painful": "yes",
    "muscle_atrophy": "yes",
    "distal_dominant_weakness": "no",
    "median_tli": "0.42",
    "ncs_conduction_block": "no",
    "ncs_temporal_dispersion": "no",
    "ncs_sural_sparing": "no",
    "lower_limb_responses_absent": "yes",
    "ivig_refractory": "yes",
    "iron_deficiency_anemia": "no",
    "copd": "no",
    "obstructive_sleep_apnea": "yes",
    "active_malignancy": "no",
    "vasculitis": "no",
    "recent_acute_illness": "no",
}
# The screen's codes the checklist has no field for (clinical.md §i.2 "new" codes).
NO_COUNTERPART = {
    "sife_date",
    "vegf_date",
    "muscle_atrophy",
    "distal_dominant_weakness",
    "lower_limb_responses_absent",
}


def test_open_the_full_checklist_carries_every_value_that_has_a_field(seeded):
    assert set(FULL_SCREEN) >= PAGE_CODES  # every page input is given
    html = Client().post("/screen", FULL_SCREEN).content.decode()
    assert html.count('id="carry-form"') == 1
    hidden = form_state(html, "carry-form")
    checklist = Client().post("/", hidden)
    assert checklist.status_code == 200, checklist.content[:500]
    arrived = form_state(checklist.content.decode(), "case-form")
    for code, value in FULL_SCREEN.items():
        base = code.removesuffix("__unit")
        if base in NO_COUNTERPART:
            assert base not in arrived
            continue
        if base == "acquired_demyelinating_neuropathy":
            # A demyelinating polyneuropathy, as the checklist records it.
            assert arrived["polyneuropathy"] == "yes" and arrived["neuropathy_demyelinating"] == "yes"
            continue
        assert arrived.get(code) == value, (code, arrived.get(code), value)
    # The values that do not travel are named beside the button.
    missing = re.search(r'class="small carry-missing">([^<]*)<', html).group(1)
    for code in NO_COUNTERPART:
        assert RULES.inputs[code].label in missing
    # The checklist reads the carried case as the screen did: VEGF 0.45 ng/mL, plasma.
    assert "VEGF" in checklist.content.decode()


def test_carry_over_list_is_the_codes_without_a_checklist_field(seeded):
    from checklist.content.rule_book import snapshot
    from checklist.web.forms import layout_for
    from checklist.web.screen import CHECKLIST_FIELDS

    fields = set(layout_for(snapshot()).items)
    without = {c for c in PAGE_CODES if not any(t in fields for t in CHECKLIST_FIELDS.get(c, (c,)))}
    assert without == NO_COUNTERPART


# --- OpenAPI -----------------------------------------------------------------------------


def test_openapi_describes_the_screen(seeded):
    doc = Client().get("/api/v1/openapi.json").json()
    op = doc["paths"]["/api/v1/screen"]["post"]
    assert set(op["responses"]) == {"200", "400", "413", "415"}
    schemas = doc["components"]["schemas"]
    assert set(schemas["ScreenInput"]["properties"]["values"]["properties"]) == set(RULES.inputs)
    out = api(Client(), {"values": {"acquired_demyelinating_neuropathy": True}}).json()
    assert list(out) == schemas["ScreenResult"]["required"]


def test_hostile_text_is_escaped_in_every_part_of_the_answer(seeded):
    bad = '"><script>zqx7</script>'
    data = {
        "acquired_demyelinating_neuropathy": "yes",
        "m_protein_present": "yes",
        "light_chain_type": bad,
        "heavy_chain_type": "IgG",
        "vegf_pg_ml": "450",
        "vegf_pg_ml__unit": bad,
        "vegf_specimen": bad[:30],
        "sife_date": bad,
        "platelets_10e9_l": bad,
        "skin_changes": bad,
    }
    for path in ("/screen/result", "/screen"):
        html = Client().post(path, data).content.decode()
        assert "<script>zqx7" not in html, path
        assert "&lt;script&gt;zqx7" in html, path  # the messages quote it, escaped
        assert 'data-category="screen_' in html  # and the rest is still screened
    # A value that is accepted travels escaped into the carry-over and the print list.
    html = (
        Client()
        .post("/screen", {"acquired_demyelinating_neuropathy": "yes", "vegf_pg_ml": "450"})
        .content.decode()
    )
    assert '<input type="hidden" name="vegf_pg_ml" value="450">' in html
