"""clinical.md §f.3 A14: the treatment and VEGF pages corrected, and the release that ships them.

A fresh clone (``make setup`` runs ``load_content``) serves the seed as release 1; its changelog
lists every page the corrections changed, each with its review dates as published.
"""

import json
import re

import pytest
from django.core.management import call_command

from checklist.content import publishing
from checklist.content.models import ContentRelease, Treatment
from tests.conftest import ROOT

PAGES = json.loads((ROOT / "fixtures" / "content_pages.json").read_text(encoding="utf-8"))
CONTENT = json.loads((ROOT / "fixtures" / "checklist_content.json").read_text(encoding="utf-8"))


def one(model, **where):
    (found,) = [
        r["fields"]
        for r in PAGES
        if r["model"] == model and all(r["fields"][k] == v for k, v in where.items())
    ]
    return found


def text_only(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


SEED_RELEASE = next(r["fields"] for r in CONTENT if r["model"] == "checklist.contentrelease")


# ------------------------------------------------------------------ the words (§f.3 A14)


def test_lenalidomide_cites_the_primary_trials_and_marks_them_unverified():
    body = one("checklist.treatment", slug="systemic-chemotherapy")["body"]
    lines = {
        key: next(x for x in body.splitlines() if key in x)
        for key in ("NCT01816620", "124(21):36", "32009091")
    }
    for line in lines.values():
        assert "[unverified" in line
    assert "59.6% at 24 weeks" in lines["32009091"]
    # The review's figures are no longer cited as if they were the trial's.
    assert "(quoted in Leukemia 2019)" not in body


def test_the_new_references_carry_only_the_identifiers_the_spec_gives():
    li = one("checklist.reference", key="li-2015-ash-len-dex")
    assert (li["pmid"], li["doi"], li["verified"]) == ("", "", False) and "NCT01816620" in li["citation"]
    japan = one("checklist.reference", key="intern-med-2020-len-dex")
    assert (japan["pmid"], japan["doi"], japan["verified"]) == ("32009091", "", False)
    for key in ("len-dex-2014-blood-ash", "hematology-amst-dara-elo"):
        ref = one("checklist.reference", key=key)
        assert (ref["pmid"], ref["doi"], ref["verified"]) == ("", "", False)
    page = one("checklist.treatment", slug="systemic-chemotherapy")
    for key in (
        "li-2015-ash-len-dex",
        "len-dex-2014-blood-ash",
        "intern-med-2020-len-dex",
        "hematology-amst-dara-elo",
    ):
        assert [key] in page["references"]


def test_daratumumab_is_salvage_data_only_with_the_refractory_series():
    body = one("checklist.treatment", slug="systemic-chemotherapy")["body"]
    assert "salvage data only; there are no upfront comparative data" in body
    series = next(x for x in body.splitlines() if "8 patients with refractory disease" in x)
    for figure in (
        "13 regimens",
        "VEGF response 54%",
        "haematological response 8%",
        "neurological response 15%",
    ):
        assert figure in series
    assert "11 months" in series and "[secondary: abstract only]" in series
    principles = one("checklist.treatment", slug="treatment-principles")["body"]
    assert "salvage use only; there are no upfront comparative data" in principles


def test_the_vegf_page_describes_the_serum_cut_off_honestly():
    tests = one("checklist.differential", code="other_vegf_elevation")["tests"]
    assert (
        "The serum cut-off is not standardised: your laboratory's upper limit, when entered, decides" in tests
    )
    assert "1920 pg/mL for serum as its own default" in tests and "[secondary]" in tests


def test_radiation_page_says_slow_recovery_is_not_progression():
    body = one("checklist.treatment", slug="radiation-therapy")["body"]
    assert "Slow neurological recovery alone is not progression" in body
    assert "6-12 months" in body and "VEGF and PET" in body


def test_thromboprophylaxis_is_worded_as_the_sources_give_it():
    body = one("checklist.treatment", slug="supportive-care")["body"]
    assert "the authors suggest antiplatelet prophylaxis" in body and "retrospective" in body
    assert "advise antiplatelet prophylaxis" not in body
    assert "aspirin or low-molecular-weight heparin, chosen by the patient's thrombotic risk" in body


# ------------------------------------------------------------------ the release


def test_the_seed_release_lists_each_changed_page():
    pages = {p["page"] for p in SEED_RELEASE["pages"]}
    assert pages == {
        "treatment/systemic-chemotherapy",
        "treatment/treatment-principles",
        "treatment/radiation-therapy",
        "treatment/supportive-care",
        "differential/other_vegf_elevation",
        "text/about",
    }
    for page in pages:
        kind, key = page.split("/")
        model, field = {
            "treatment": ("checklist.treatment", "slug"),
            "differential": ("checklist.differential", "code"),
            "text": ("checklist.sitetext", "key"),
        }[kind]
        fields = one(model, **{field: key})
        assert fields["next_review_due"] == "2027-03-07" and fields["review_status"] == "needs_review"


@pytest.mark.django_db(transaction=True)
def test_a_fresh_clone_serves_the_release_and_its_changelog_lists_each_page_with_its_review_date(client):
    # What `make setup` does on an empty database (a fresh clone's).
    call_command("flush", interactive=False, verbosity=0)
    assert not ContentRelease.objects.exists()
    call_command("load_content", verbosity=0)
    live = ContentRelease.objects.live()
    assert live is not None and live.number == 1 and live.version == "2026.12.1"
    html = client.get("/changelog").content.decode()
    items = re.findall(r'<li data-page="([^"]+)">(.*?)</li>', html, re.S)
    assert {page for page, _ in items} == {p["page"] for p in SEED_RELEASE["pages"]}
    for page, item in items:
        line = next(p["line"] for p in SEED_RELEASE["pages"] if p["page"] == page)
        text = text_only(item)
        assert text_only(line).replace("'", "&#x27;") in text
        assert "next review due 2027-03-07" in text and "not yet reviewed by a clinician" in text
    assert "/treatments/systemic-chemotherapy" in html
    # The corrected page is what is served.
    page = client.get("/treatments/systemic-chemotherapy").content.decode()
    assert "NCT01816620" in page and "[unverified" in page and "next review due 2027-03-07" in page


@pytest.mark.django_db
def test_an_editors_next_release_lists_the_pages_it_changed(seeded, client):
    page = Treatment.objects.get(slug="radiation-therapy")
    page.body += "\n\nA new paragraph."
    page.save()
    outcome = publishing.publish("Radiation page: a paragraph added.")
    assert outcome.ok, outcome.problems + outcome.failures
    assert outcome.release.pages == [{"page": "treatment/radiation-therapy", "line": "Changed: body."}]
    (entry,) = publishing.page_changelog(outcome.release)
    assert entry["title"] == "Radiation therapy" and entry["next_review_due"] == "2027-03-07"
    assert 'data-page="treatment/radiation-therapy"' in client.get("/changelog").content.decode()
