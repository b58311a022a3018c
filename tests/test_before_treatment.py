"""Issue 19 on the page, the print view and both notes: once the chosen set is met, the work-up
still missing (clinical.md §j.1), the extent or what would settle it (§j.2), and the risk
factors present with their hazard ratios and sources (§j.3), each with its evidence tag."""

import html as html_lib

import pytest

pytestmark = pytest.mark.django_db

MET = {
    "polyneuropathy": "yes",
    "m_protein_present": "yes",
    "light_chain_type": "lambda",
    "vegf_pg_ml": "450",
    "vegf_specimen": "plasma",
    "lymphadenopathy": "yes",
    "platelets_10e9_l": "480",
    "age_years": "61",
    "pleural_effusion": "yes",
}
NOT_MET = {k: v for k, v in MET.items() if k != "polyneuropathy"}


def test_a_met_case_shows_the_work_up_extent_and_risk_factors_with_sources(client):
    page = html_lib.unescape(client.post("/result", MET).content.decode())
    assert 'id="before-treatment"' in page
    assert "Extent: unknown." in page
    assert "iliac-crest" in page.lower()
    # Age 61 and a pleural effusion are Wang 2017's factors: each with its HR and source.
    assert "HR 4.07 (95% CI 1.41-11.76)" in page
    assert "HR 3.81 (95% CI 1.23-11.79)" in page
    assert "Wang et al., Leukemia 2017" in page
    assert "read: abstract" in page
    # Never a score and never "high risk" (clinical.md §j.3 J-K2).
    assert "high risk" not in page.lower()


def test_an_unmet_case_has_no_before_treatment_section(client):
    page = client.post("/result", NOT_MET).content.decode()
    assert 'id="before-treatment"' not in page


def test_the_print_view_and_both_notes_carry_the_work_up(client):
    printed = html_lib.unescape(client.post("/report", MET).content.decode())
    assert "Before treatment (clinical.md §j; not a recommendation):" in printed
    assert "HR 4.07" in printed and "Wang et al., Leukemia 2017" in printed
    assert "Extent: unknown." in printed
    notes = html_lib.unescape(client.post("/result/note", MET).content.decode())
    # The short note names each investigation once, cleanly punctuated (clinical.md §j.1).
    assert (
        "Work-up still missing: Whole-body FDG-PET/CT (or low-dose CT); Iliac-crest marrow biopsy "
        "(aspirate and trephine, light-chain staining for clonality); Echocardiogram" in notes
    )
    assert ".;" not in notes
    # §j.3 J-K2's own wording, in the short note as on the page.
    assert (
        "Factors associated with shorter overall survival in one cohort: Age over 50, Pleural effusion."
        in notes
    )
    assert "No score is computed" in printed
    unmet = html_lib.unescape(client.post("/result/note", NOT_MET).content.decode())
    assert "Work-up still missing:" not in unmet


def test_every_value_in_the_before_treatment_section_is_escaped():
    from checklist.web.templatetags.result_panel import _before_treatment

    bad = "<script>alert('x')</script>"
    line = {"evidence": bad, "source": bad}
    result = {
        "extent": {"extent": bad, "reasons": [bad], "to_settle": bad},
        "staging_missing": [{"code": bad, "test": bad, "why": bad, "settles": bad, **line}],
        "risk_factors_present": [{"factor": bad, "value": bad, "hr": bad, **line}],
        "drug_cautions": [{"code": bad, "level": "major", "message": bad, **line}],
    }
    section = _before_treatment(result)
    assert 'id="before-treatment"' in section
    assert "<script>" not in section
    assert section.count("&lt;script&gt;") >= 12


def test_the_page_gives_the_extent_reasons_once(client):
    """The treatment section already gives why the extent is unknown; the work-up section adds
    only what would settle it, so the reason is not read twice."""
    page = html_lib.unescape(client.post("/result", MET).content.decode())
    assert page.count("Marrow not assessed") == 1
