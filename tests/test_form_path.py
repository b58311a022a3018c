"""The page's one path from posted fields to an evaluation (issue 10), and the result's HTML helpers.

The form posts the same case the API takes; the engine's ``read_case`` reads it, and each
problem comes back naming its code, so it lands on that field while the rest is evaluated.
"""

import gzip
import html

import pytest

from checklist.engine.inputs import read_case
from checklist.engine.vocabulary import LABS
from checklist.web.templatetags import result_panel as tags

pytestmark = pytest.mark.django_db

CASE = {
    "polyneuropathy": "yes",
    "m_protein_present": "yes",
    "sclerotic_bone_lesions": "yes",
    "splenomegaly": "yes",
    "hemoglobin_g_dl": "142",
    "hemoglobin_g_dl__unit": "g/L",
}


def live(client, data, **headers):
    # The whole page: the test client records the context of full templates (not of partials).
    return client.post("/", data, **headers)


def test_read_case_keeps_the_valid_part_and_names_each_problem():
    sets = ("mayo-2007",)
    case, errors = read_case(
        {
            "findings": {"polyneuropathy": True, "not_a_code": True},
            "labs": {"vegf_pg_ml": {"value": 450, "unit": "furlongs"}, "platelets_10e9_l": 480},
        },
        sets,
    )
    assert case.findings == {"polyneuropathy": True}
    assert case.labs == {"platelets_10e9_l": 480.0}
    by_field = {(e.code, e.part): e.field for e in errors}
    assert by_field == {
        ("not_a_code", ""): "findings.not_a_code",
        ("vegf_pg_ml", "unit"): "labs.vegf_pg_ml.unit",
    }


def test_a_bad_unit_lands_on_the_unit_field_and_the_rest_is_still_evaluated(client, seeded):
    response = live(client, {**CASE, "platelets_10e9_l": "480", "platelets_10e9_l__unit": "bushels"})
    form = response.context["form"]
    assert list(form.errors) == ["platelets_10e9_l__unit"]
    assert "Unknown unit" in form.errors["platelets_10e9_l__unit"][0]
    result = response.context["result"]
    assert result["criteria_set"]["slug"] == "mayo-2007"
    assert "monoclonal_plasma_cell_disorder" in result["mandatory_met"]
    assert "hemoglobin_g_dl" in str(form.case.labs)


def test_a_tri_state_value_other_than_yes_no_or_empty_is_refused_without_echoing_it(client, seeded):
    response = live(client, {**CASE, "splenomegaly": "<b>maybe</b>"})
    message = response.context["form"].errors["splenomegaly"][0]
    assert message == "Choose Present, Absent or Not assessed."
    assert "maybe" not in response.content.decode()


def test_overlong_text_is_refused_before_it_is_read(client, seeded):
    response = live(client, {**CASE, "vegf_pg_ml": "9" * 40})
    assert response.context["form"].errors["vegf_pg_ml"] == ["At most 32 characters."]
    # The live result names the field and the limit; it does not repeat what was typed.
    partial = client.post("/result", {**CASE, "vegf_pg_ml": "9" * 40}).content.decode()
    assert "VEGF: At most 32 characters." in partial and "9" * 40 not in partial


def test_a_field_given_twice_is_an_error_in_the_live_result_too(client, seeded):
    body = "polyneuropathy=yes&vegf_pg_ml=450&vegf_pg_ml=4500"
    response = client.post("/", body, content_type="application/x-www-form-urlencoded")
    assert "twice" in response.context["form"].errors["vegf_pg_ml"][0]
    assert "vegf_pg_ml" not in response.context["form"].case.labs


def test_too_many_fields_is_a_400_as_django_would_answer(client, seeded, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{i}=x" for i in range(20))
    response = client.post("/result", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_entered_values_are_listed_in_page_order_as_typed(client, seeded):
    response = live(
        client, {"hemoglobin_g_dl": "142", "hemoglobin_g_dl__unit": "g/L", "polyneuropathy": "yes"}
    )
    entered = response.context["entered"]
    assert [e["code"] for e in entered] == ["polyneuropathy", "hemoglobin_g_dl"]
    assert entered[1]["value"] == "142 g/L"


def test_payload_is_the_api_shape_with_numbers_as_entered(client, seeded):
    response = live(client, {**CASE, "platelets_10e9_l": "480"})
    payload = response.context["form"].payload
    assert payload["labs"]["hemoglobin_g_dl"] == {"value": 142.0, "unit": "g/L"}
    assert payload["labs"]["platelets_10e9_l"] == {"value": 480.0, "unit": "10^9/L"}
    assert payload["findings"]["polyneuropathy"] is True


def test_the_live_result_is_gzipped_for_a_browser_that_asks(client, seeded):
    response = client.post("/result", CASE, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    body = gzip.decompress(response.content).decode()
    assert 'id="result"' in body
    plain = client.post("/result", CASE)
    assert not plain.has_header("Content-Encoding")
    assert plain.content.decode() == body


HOSTILE = "<script>alert(\"x\")</script> & 'q'"


def test_every_result_helper_escapes_what_it_is_given():
    escaped = html.escape(HOSTILE, quote=True)
    criteria = [
        {
            "code": HOSTILE,
            "name": HOSTILE,
            "status": "met",
            "group": "minor",
            "reasons": [HOSTILE],
            "to_settle": HOSTILE,
        }
    ]
    outputs = [
        tags.criteria_items(criteria),
        tags.print_criteria(criteria),
        tags.missing_items(criteria, [HOSTILE]),
        tags.entered_items([{"label": HOSTILE, "value": HOSTILE}]),
        tags.chip_items([{"status": HOSTILE, "short": HOSTILE, "name": HOSTILE}]),
        tags.comparison_rows([{"status": HOSTILE, "name": HOSTILE, "explanation": HOSTILE}]),
        tags.reference_items([{"short": HOSTILE, "pmid": HOSTILE}, {"short": "x", "doi": HOSTILE}]),
    ]
    for out in outputs:
        assert "<script>" not in out and escaped in out, out


def test_differential_links_are_escaped_and_point_at_the_page(seeded):
    out = tags.differential_items([{"code": "cidp", "name": HOSTILE, "reasons": [HOSTILE, "b"]}])
    assert out.startswith('<li><a href="/differentials/cidp">')
    # Each reason escaped, and each followed by its evidence label (issue 19).
    assert "<script>" not in out and f'{html.escape(HOSTILE, quote=True)} <span class="ev ev-' in out
    assert out.count('<span class="ev ev-unverified">') == 2


def test_every_lab_accepts_its_own_canonical_unit_from_the_form(client, seeded):
    # The unit chooser's values must all be readable by the engine: a unit the page offers
    # and the engine refuses would put an error on a field the clinician filled in correctly.
    from checklist.content.rule_book import snapshot
    from checklist.web.forms import layout_for

    layout = layout_for(snapshot())
    for code, item in layout.items.items():
        if item.kind != "number":
            continue
        for unit in item.units:
            lab = LABS[code]
            value = lab.soft_low if lab.soft_low is not None else (lab.minimum or 1)
            response = live(client, {code: str(value), f"{code}__unit": unit})
            assert f"{code}__unit" not in response.context["form"].errors, (code, unit)


# What an SI laboratory reports each lab in (Système International; UK and European lab reports).
SI_REPORTED = {
    "hemoglobin_g_dl": "g/L",
    "hematocrit_pct": "L/L",
    "calcium_mg_dl": "mmol/L",
    "creatinine_mg_dl": "umol/L",
    "albumin_g_dl": "g/L",
    "m_protein_g_dl": "g/L",
    "vitamin_b12_pg_ml": "pmol/L",
    "csf_protein_mg_dl": "g/L",
    "platelets_10e9_l": "10^9/L",
    "vegf_pg_ml": "pg/mL",
}


@pytest.mark.parametrize("code", sorted(SI_REPORTED))
def test_each_lab_offers_its_si_and_us_units_and_the_site_default_picks_one(client, seeded, settings, code):
    settings.LAB_UNITS = "SI"
    page = client.get("/").content.decode()
    chooser = page[page.index(f'id="id_{code}__unit"') :]
    chooser = chooser[: chooser.index("</select>")]
    assert f'data-si="{SI_REPORTED[code]}"' in chooser and f'data-us="{LABS[code].unit}"' in chooser
    selected = chooser[chooser.index(" selected") - 40 : chooser.index(" selected")]
    assert f'value="{SI_REPORTED[code]}"' in selected, selected
    settings.LAB_UNITS = "US"
    from checklist.web import views

    views._EMPTY_PAGE.clear()  # the empty page is rendered once per content version
    page = client.get("/").content.decode()
    chooser = page[page.index(f'id="id_{code}__unit"') :]
    selected = chooser[chooser.index(" selected") - 40 : chooser.index(" selected")]
    assert f'value="{LABS[code].unit}"' in selected, selected


def _derived_label(html: str, code: str) -> str:
    """The criterion line's own note: its text, or "" when hidden."""
    start = html.index(f'<span class="derived" data-code="{code}"')
    tag = html[start : html.index(">", start)]
    text = html[html.index('<span class="derived-text">', start) + 27 : html.index("</span></span>", start)]
    return "" if " hidden" in tag else text


def test_a_line_left_not_assessed_says_when_its_details_decide_it(client, seeded, book):
    # Splenomegaly alone makes organomegaly met; its own line is still "Not assessed".
    html = client.post("/", {"splenomegaly": "yes", "skin_hyperpigmentation": "no"}).content.decode()
    assert _derived_label(html, "organomegaly") == "Met, from the details below"
    assert _derived_label(html, "polyneuropathy") == ""  # nothing decides it
    # Recorded on its own line, the line speaks for itself.
    html = client.post("/", {"splenomegaly": "yes", "organomegaly": "no"}).content.decode()
    assert _derived_label(html, "organomegaly") == ""
    # Every qualifying skin finding absent: not met, from the details.
    absent = dict.fromkeys(book.qualifying("skin_changes"), "no")
    html = client.post("/", absent).content.decode()
    assert _derived_label(html, "skin_changes") == "Not met, from the details below"


def test_the_live_result_carries_each_criterion_status_for_the_lines(client, seeded):
    body = client.post("/result", {"splenomegaly": "yes"}).content.decode()
    assert 'data-code="organomegaly" data-status="met"' in body
