"""Pages and the checklist form, through Django's test client (no JavaScript)."""

import pytest

from checklist.content.models import Differential, Threshold, Treatment

pytestmark = pytest.mark.django_db

FULL_CASE = {
    "polyneuropathy": "yes",
    "m_protein_present": "yes",
    "light_chain_type": "lambda",
    "vegf_pg_ml": "0.45",
    "vegf_pg_ml__unit": "ng/mL",
    "vegf_specimen": "plasma",
    "lymphadenopathy": "yes",
    "platelets_10e9_l": "480",
    "neuropathy_demyelinating": "yes",
}

PUBLIC_PAGES = ["/", "/criteria", "/about", "/treatments", "/references", "/changelog"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_shows_the_notice_and_version(client, seeded, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not a diagnosis" in html
    assert "2026.12.1" in html


def test_each_differential_and_treatment_page_renders(client, seeded):
    for d in Differential.objects.all():
        response = client.get(f"/differentials/{d.code}")
        assert response.status_code == 200 and d.name in response.content.decode()
    for t in Treatment.objects.all():
        response = client.get(f"/treatments/{t.slug}")
        assert response.status_code == 200 and "not a treatment recommendation" in response.content.decode()


def test_unknown_pages_are_404(client, seeded):
    assert client.get("/differentials/not-a-thing").status_code == 404
    assert client.get("/treatments/not-a-thing").status_code == 404


def test_empty_checklist_defaults_every_finding_to_not_assessed(client, seeded):
    html = client.get("/").content.decode()
    assert 'name="polyneuropathy" value="" id="id_polyneuropathy_2" checked' in " ".join(html.split())
    assert "Nothing entered yet" in html


def test_posting_the_form_without_javascript_returns_the_result(client, seeded):
    response = client.post("/", FULL_CASE)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Meets the criteria" in html
    assert "Plasma VEGF 0.45 ng/mL (450 pg/mL)" in html  # as entered, converted in brackets
    assert "/differentials/cidp" in html
    assert "Under each criteria set" in html


def test_result_fragment_is_only_the_panel(client, seeded):
    response = client.post("/result", FULL_CASE)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Meets the criteria" in html
    assert "Not a diagnosis." in html


def test_out_of_range_value_is_an_error_next_to_the_field(client, seeded):
    response = client.post("/", {**FULL_CASE, "vegf_pg_ml": "60", "vegf_pg_ml__unit": "ng/mL"})
    assert response.status_code == 400
    form = response.context["form"]
    assert "plausible range" in form.errors["vegf_pg_ml"][0]


def test_not_a_number_is_an_error(client, seeded):
    response = client.post("/", {**FULL_CASE, "platelets_10e9_l": "lots"})
    assert response.status_code == 400
    assert "Enter a number" in response.context["form"].errors["platelets_10e9_l"][0]


def test_suspicious_value_is_a_warning_and_still_evaluated(client, seeded):
    response = client.post("/result", {**FULL_CASE, "vegf_pg_ml": "0.5", "vegf_pg_ml__unit": "pg/mL"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Check these values" in html
    assert "VEGF</a>: A VEGF below 5 pg/mL is unusual" in html
    # The field's message comes back in the body as an out-of-band swap, never in a header.
    assert '<p class="field-msg is-warning" id="msg-vegf_pg_ml" hx-swap-oob="true">' in html
    assert not any("vegf" in value.lower() for _, value in response.items())


def test_decimal_comma_is_accepted(client, seeded):
    response = client.post("/result", {**FULL_CASE, "vegf_pg_ml": "0,45"})
    assert "Plasma VEGF 0.45 ng/mL (450 pg/mL)" in response.content.decode()


def test_invalid_tri_state_choice_is_rejected(client, seeded):
    response = client.post("/", {**FULL_CASE, "polyneuropathy": "maybe"})
    assert response.status_code == 400


def test_criteria_set_choice_changes_the_rule(client, seeded):
    html = client.post("/result", {**FULL_CASE, "criteria_set": "suichi-2019"}).content.decode()
    assert "under Suichi et al. 2019" in html


def test_print_view_carries_inputs_versions_date_and_disclaimer(client, seeded):
    html = client.post("/report", FULL_CASE).content.decode()
    assert "NOT A DIAGNOSIS" in html
    assert "Content version: 2026.12.1" in html
    assert "Criteria set: Mayo (Dispenzieri) 2007-2023" in html
    assert "VEGF: 0.45 ng/mL" in html  # as entered (clinical.md §f.2 A7)
    assert "Date: 20" in html


def test_copied_report_has_no_identifiers_beyond_what_was_entered(client, seeded):
    import html as html_lib

    body = html_lib.unescape(client.post("/result/note", FULL_CASE).content.decode())
    report = body.split('id="report-full"', 1)[1].split("</textarea>", 1)[0]
    assert "Platelets: 480 x10^9/L" in report
    assert "Mayo (Dispenzieri) 2003" in report  # the comparison across sets
    for word in ("name", "NHS", "MRN", "date of birth"):
        assert word not in report


def test_edited_threshold_shows_once_published(client, seeded, publish_draft):
    case = {"platelets_10e9_l": "480", "hemoglobin_g_dl": "14"}
    assert "Platelets 480 x10^9/L &gt; 450" in client.post("/result", case).content.decode()
    threshold = Threshold.objects.get(code="platelets_thrombocytosis")
    threshold.value = 500
    threshold.save()
    assert "not above 500" not in client.post("/result", case).content.decode()  # only the draft changed
    publish_draft()
    html = client.post("/result", case).content.decode()
    assert "not above 500" in html


def test_edited_label_shows_once_published(client, seeded, publish_draft):
    from checklist.content.models import Finding

    finding = Finding.objects.get(code="hepatomegaly")
    finding.label = "Enlarged liver (edited)"
    finding.save()
    publish_draft()
    assert "Enlarged liver (edited)" in client.get("/").content.decode()


def test_warm_pages_issue_no_content_queries(client, seeded, django_assert_num_queries):
    client.get("/")
    with django_assert_num_queries(0):
        client.get("/")
        client.post("/result", FULL_CASE)
        client.get("/api/v1/vocabulary")


def test_healthz_checks_the_database(client, seeded):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["database"] == "ok"


def test_about_page_flags_overdue_reviews(client, seeded, publish_draft):
    Differential.objects.filter(code="cidp").update(next_review_due="2020-01-01")
    publish_draft()
    html = client.get("/about").content.decode()
    assert "Reviews overdue" in html and "review was due 2020-01-01" in html


def test_an_edit_in_another_worker_process_reaches_this_one(
    client, seeded, settings, publish_draft, monkeypatch
):
    """Without a shared cache, workers learn of an edit through the stamp file."""
    from pathlib import Path

    from checklist.content import rule_book as content
    from checklist.content.models import Finding

    client.get("/")
    stamp = content.current_stamp()
    # Another worker publishes: a new release, and it bumps the stamp file, not our memory.
    Finding.objects.filter(code="splenomegaly").update(label="Spleen enlarged (other worker)")
    monkeypatch.setattr(content, "_after_commit", lambda func: None)
    publish_draft()
    assert "Spleen enlarged (other worker)" not in client.get("/").content.decode()
    content._bump_file(Path(settings.CONTENT_STAMP_FILE))
    assert content.current_stamp() != stamp
    assert "Spleen enlarged (other worker)" in client.get("/").content.decode()


def test_checklist_page_gzipped_once_and_decompresses_to_the_same_page(client, seeded):
    import gzip

    plain = client.get("/")
    packed = client.get("/", HTTP_ACCEPT_ENCODING="gzip, br")
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content) / 5


def test_form_group_words_and_minimums_come_from_content(client, seeded, publish_draft):
    from checklist.content.models import CriteriaSet, Criterion

    Criterion.objects.filter(code="endocrinopathy").update(help_text="Endocrine help from the editors.")
    CriteriaSet.objects.filter(slug="mayo-2007").update(minor_min=2)
    publish_draft()
    html = client.get("/").content.decode()
    assert "Endocrine help from the editors." in html
    assert "Mayo (Dispenzieri) 2007-2023: at least 2 needed." in html


def test_healthz_is_503_when_the_database_is_unreachable(client, db, monkeypatch):
    from django.db import OperationalError, connection

    def broken():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error" and response.json()["database"] == "unreachable"


def test_criteria_page_marks_an_overdue_set(client, seeded, publish_draft):
    from checklist.content.models import CriteriaSet

    assert "(overdue)" not in client.get("/criteria").content.decode()
    CriteriaSet.objects.filter(slug="suichi-2019").update(next_review_due="2020-01-01")
    publish_draft()
    assert "(overdue)" in client.get("/criteria").content.decode()


def test_log_lines_are_json_on_stdout_and_never_carry_the_request(settings):
    import io
    import json
    import logging

    from django.test import RequestFactory

    from poemsaid.logging import JsonFormatter, ScrubFilter

    console = settings.LOGGING["handlers"]["console"]
    assert console["stream"] == "ext://sys.stdout"
    assert console["formatter"] == "json" and console["filters"] == ["scrub"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ScrubFilter())
    logger = logging.getLogger("test.poemsaid.json")
    logger.addHandler(handler)
    try:
        request = RequestFactory().post("/", {"vegf_pg_ml": "4321.5"})
        logger.warning("Bad Request: %s", request.path, extra={"request": request})
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue().strip()
    record = json.loads(line)
    assert record["message"] == "Bad Request: /" and record["http"] == "POST /"
    assert "4321.5" not in line


def test_criteria_thresholds_read_as_clinical_rules_with_units(client, seeded):
    html = client.get("/criteria").content.decode()
    # The platelet cut-off reads with its lab's name and unit, not as a code and a float.
    assert "Platelets &gt; 450 x10^9/L" in html
    assert "450.0" not in html and "umol" not in html


def test_references_page_names_its_list_once(client, seeded):
    html = client.get("/references").content.decode()
    assert html.count(">References</h") == 1


def test_treatment_page_states_it_is_not_a_recommendation_once(client, seeded):
    html = client.get("/treatments/corticosteroids").content.decode()
    assert html.count("not a treatment recommendation") == 1


def test_report_names_a_value_left_out_instead_of_reading_it_as_not_measured(client, seeded):
    case = {
        "polyneuropathy": "yes",
        "m_protein_present": "yes",
        "vegf_pg_ml": "-5",
        "vegf_specimen": "plasma",
    }
    html = client.post("/report", case).content.decode()
    assert "LEFT OUT, fix and re-run: VEGF" in html and "plausible range" in html
    # The short note on the page carries it too (the copy-to-note text).
    page = client.post("/", case).content.decode()
    assert page.count("LEFT OUT, fix and re-run: VEGF") >= 2  # short and full notes


def test_report_without_errors_has_no_left_out_line(client, seeded):
    case = {
        "polyneuropathy": "yes",
        "m_protein_present": "yes",
        "lymphadenopathy": "yes",
        "vegf_pg_ml": "450",
        "vegf_specimen": "plasma",
    }
    html = client.post("/report", case).content.decode()
    assert "Meets the criteria" in html
    assert "LEFT OUT" not in html


@pytest.mark.parametrize(
    ("vegf", "specimen", "word"),
    [("450", "plasma", "published threshold"), ("2000", "serum", "app default")],
    ids=["ev-plasma-vegf-published", "ev-serum-vegf-app-default"],  # tests/golden/evidence_tags.json
)
def test_print_view_and_note_tell_a_published_threshold_from_an_app_default(
    client, seeded, vegf, specimen, word
):
    import html as html_lib

    case = {
        "criteria_set": "mayo-2007",
        "polyneuropathy": "yes",
        "m_protein_present": "yes",
        "vegf_pg_ml": vegf,
        "vegf_pg_ml__unit": "pg/mL",
        "vegf_specimen": specimen,
    }
    printed = html_lib.unescape(client.post("/report", case).content.decode())
    note = html_lib.unescape(client.post("/result/note", case).content.decode())
    full = note.split('id="report-full"', 1)[1].split("</textarea>", 1)[0]
    vegf_line = next(line for line in full.splitlines() if "VEGF" in line and "cut-off" in line)
    assert word in vegf_line, vegf_line
    assert vegf_line.strip() in printed
    other = "app default" if word == "published threshold" else "published threshold"
    assert other not in vegf_line, vegf_line


@pytest.mark.parametrize(
    ("basis", "word"),
    [("published", "published threshold"), ("app_default", "app default")],
    # The published side is the golden case of that name (tests/golden/evidence_tags.json).
    ids=["ev-risk-factors-cut-off-published", "age-cut-off-edited-to-app-default"],
)
def test_print_view_and_note_mark_a_risk_factors_cut_off_as_published_or_app_default(
    client, seeded, monkeypatch, tmp_path, basis, word
):
    """Issue 19: a risk factor's cut-off says where its number comes from, on the page, in the
    print view and in the notes. The seed's factors are all published (Wang 2017), so the app
    default side edits the content as an editor would: the rules file, not the code."""
    import html as html_lib
    import json

    from checklist.content import diagnosis_rules as rules_module
    from checklist.content import rule_book

    rules = json.loads(rules_module.RULES_FILE.read_text(encoding="utf-8"))
    age = next(f for f in rules["risk_factors"] if f["code"] == "age_over_50")
    age["threshold"]["basis"] = basis
    edited = tmp_path / "diagnosis_rules.json"
    edited.write_text(json.dumps(rules), encoding="utf-8")
    monkeypatch.setattr(rules_module, "RULES_FILE", edited)
    rules_module.diagnosis_rules.cache_clear()
    rule_book.invalidate()
    try:
        case = {
            "criteria_set": "mayo-2007",
            "polyneuropathy": "yes",
            "m_protein_present": "yes",
            "lymphadenopathy": "yes",
            "vegf_pg_ml": "450",
            "vegf_specimen": "plasma",
            "age_years": "61",
        }
        other = "app default" if word == "published threshold" else "published threshold"
        page = client.post("/result", case).content.decode()
        risks = page.split('<ul class="small risks">', 1)[1].split("</ul>", 1)[0]
        assert f'<span class="ev basis-{basis}">{word}</span>' in risks, risks
        assert "(cut-off &gt; 50 years)" in risks
        printed = html_lib.unescape(client.post("/report", case).content.decode())
        note = html_lib.unescape(client.post("/result/note", case).content.decode())
        full = note.split('id="report-full"', 1)[1].split("</textarea>", 1)[0]
        short = note.split('id="report-short"', 1)[1].split("</textarea>", 1)[0]
        line = next(x for x in full.splitlines() if x.startswith("- Age over 50: 61 years"))
        assert "(cut-off > 50 years)" in line and f"[read: abstract; {word}]" in line, line
        assert other not in line, line
        assert line in printed
        factors = next(x for x in short.splitlines() if x.startswith("Factors associated"))
        assert ("Age over 50 [app default]" in factors) == (basis == "app_default"), factors
    finally:
        rules_module.diagnosis_rules.cache_clear()
        rule_book.invalidate()


def test_print_view_groups_the_findings_and_keeps_every_value(client, seeded):
    """The print view sets the inputs apart from the note: recorded findings in two run-in lists
    (present, absent), each value on its own line; nothing not assessed appears."""
    import re

    case = {
        "polyneuropathy": "yes",
        "m_protein_present": "yes",
        "lymphadenopathy": "no",
        "splenomegaly": "",
        "vegf_pg_ml": "450",
        "vegf_specimen": "plasma",
    }
    html = client.post("/report", case).content.decode()
    pre = re.search(r'<pre class="report-pre">(.*?)</pre>', html, re.S).group(1)
    assert "Result: " in pre and "Inputs, as entered" not in pre
    inputs = html.split('id="report-inputs-title"', 1)[1]
    present = re.search(r"<strong>Present:</strong> (.*?)\.</p>", inputs).group(1)
    absent = re.search(r"<strong>Absent:</strong> (.*?)\.</p>", inputs).group(1)
    assert "Polyneuropathy" in present and "Lymphadenopathy" not in present
    assert absent == "Lymphadenopathy"
    assert "<li>VEGF: 450 pg/mL</li>" in inputs and "Splenomegaly" not in inputs
    # The copied full note keeps one line per input, as before.
    page = client.post("/", case).content.decode()
    assert "- Lymphadenopathy: absent" in page
