"""The shipped seed content loads, validates and covers the engine's whole vocabulary."""

import pytest
from django.apps import apps

from checklist.content import rule_book as content
from checklist.content.models import (
    Caution,
    CriteriaSet,
    Criterion,
    Differential,
    Finding,
    LabField,
    Membership,
    Reference,
    SiteText,
    Threshold,
    Treatment,
)
from checklist.engine.diagnosis.cautions import CAUTIONS
from checklist.engine.diagnosis.differentials import DIFFERENTIALS
from checklist.engine.vocabulary import CRITERIA, FINDINGS, LABS, THRESHOLDS
from tests.conftest import build_book

pytestmark = pytest.mark.django_db


def test_every_seed_object_passes_full_clean(seeded):
    checked = 0
    for model in apps.get_app_config("checklist").get_models():
        if model.__name__.startswith("Historical"):
            continue
        for obj in model.objects.all():
            obj.full_clean()
            checked += 1
    assert checked > 200


def test_seed_covers_the_whole_vocabulary(seeded):
    assert set(Criterion.objects.values_list("code", flat=True)) == set(CRITERIA)
    assert set(Finding.objects.values_list("code", flat=True)) == set(FINDINGS)
    assert set(LabField.objects.values_list("code", flat=True)) == set(LABS)
    assert set(Differential.objects.values_list("code", flat=True)) == set(DIFFERENTIALS)
    assert set(Caution.objects.values_list("code", flat=True)) == set(CAUTIONS)
    assert set(THRESHOLDS) <= set(Threshold.objects.values_list("code", flat=True))


def test_seed_has_the_three_criteria_sets_with_mayo_2007_default(seeded):
    assert set(CriteriaSet.objects.filter(enabled=True).values_list("slug", flat=True)) == {
        "mayo-2007",
        "mayo-2003",
        "suichi-2019",
    }
    # The fourth, MHLW (clinical.md §j.5), ships switched off by its content flag.
    assert set(CriteriaSet.objects.filter(enabled=False).values_list("slug", flat=True)) == {"mhlw-jp"}
    assert CriteriaSet.objects.get(is_default=True).slug == "mayo-2007"
    assert Membership.objects.filter(criteria_set__slug="mayo-2007", role="major").count() == 3
    assert Membership.objects.filter(criteria_set__slug="mayo-2007", role="minor").count() == 6


def test_the_seven_treatment_options_and_notice_exist(seeded):
    slugs = set(Treatment.objects.values_list("slug", flat=True))
    assert {
        "radiation-therapy",
        "systemic-chemotherapy",
        "high-dose-chemotherapy-asct",
        "corticosteroids",
        "hormone-replacement",
        "physical-therapy",
        "supportive-care",
    } <= slugs
    assert "diagnos" in SiteText.objects.get(key="notice").body.lower()


def test_every_reference_has_an_identifier_or_says_why_not(seeded):
    for ref in Reference.objects.all():
        assert ref.pmid or ref.doi or ref.url or "PMC" in ref.citation or not ref.verified, ref.key


def test_database_content_builds_the_same_rulebook_as_the_fixture_files(seeded, book):
    from_db = build_book(content.content_records())
    assert from_db.sets == book.sets
    assert from_db.thresholds == book.thresholds
    assert from_db.subfindings == book.subfindings
