"""Governed content: version stamp on every output, export/import, regression cases."""

import io
import json

import pytest
from django.core.management import call_command

from checklist import content
from checklist.models import ContentRelease, CriteriaSet, RegressionCase, Threshold, Treatment

pytestmark = pytest.mark.django_db

CASE = {"findings": {"polyneuropathy": True, "m_protein_present": True, "skin_plethora": True}}
FORM = {"polyneuropathy": "yes", "m_protein_present": "yes", "skin_plethora": "yes"}


def test_new_release_is_stamped_on_every_output(client, seeded, monkeypatch):
    ContentRelease.objects.create(version="2027.01.1", released_on="2027-01-10", summary="Test release.")
    stamp = "2027.01.1 (2027-01-10)"
    api = client.post("/api/v1/evaluate", json.dumps(CASE), content_type="application/json").json()
    assert api["content_version"] == stamp
    assert client.get("/api/v1/criteria-sets").json()["content_version"] == stamp
    panel = client.post("/result", FORM).content.decode()
    assert f"content version {stamp}" in panel
    assert f"Content version: {stamp}" in client.post("/report", FORM).content.decode()
    assert stamp in client.get("/").content.decode()
    assert "2027.01.1" in client.get("/changelog").content.decode()
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(CASE)))
    out = io.StringIO()
    call_command("evaluate", "-", stdout=out)
    assert json.loads(out.getvalue())["content_version"] == stamp


def test_export_then_import_round_trips_without_loss(seeded, tmp_path):
    path = tmp_path / "content.json"
    call_command("export_content", str(path), stderr=io.StringIO())
    exported = json.loads(path.read_text())
    before = content.content_records()
    # Wipe the content and import it back, as on a fresh production server.
    from django.apps import apps

    for model in reversed(content.CONTENT_MODELS):
        model.objects.all().delete()
    assert not CriteriaSet.objects.exists()
    call_command("import_content", str(path), stdout=io.StringIO())
    after = content.content_records()
    assert (
        json.loads(json.dumps(after, default=str)) == json.loads(json.dumps(before, default=str)) == exported
    )
    assert apps.get_model("checklist", "Membership").objects.count() == 27


def test_import_updates_matching_rows_by_natural_key(seeded, tmp_path):
    path = tmp_path / "content.json"
    call_command("export_content", str(path), stderr=io.StringIO())
    records = json.loads(path.read_text())
    for r in records:
        if r["model"] == "checklist.treatment" and r["fields"]["slug"] == "corticosteroids":
            r["fields"]["summary"] = "Edited on staging."
    path.write_text(json.dumps(records))
    count = Treatment.objects.count()
    call_command("import_content", str(path), stdout=io.StringIO())
    assert Treatment.objects.count() == count
    assert Treatment.objects.get(slug="corticosteroids").summary == "Edited on staging."


def test_import_that_would_break_the_rules_changes_nothing(seeded, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            [
                {
                    "model": "checklist.criteriaset",
                    "fields": {
                        "slug": "mayo-2003",
                        "name": "x",
                        "year": 2003,
                        "rule_text": "x",
                        "major_min": 5,
                        "minor_min": 1,
                    },
                }
            ]
        )
    )
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="asks for more criteria than it lists"):
        call_command("import_content", str(path), stdout=io.StringIO())
    assert CriteriaSet.objects.get(slug="mayo-2003").major_min == 0


def _check_cases():
    out = io.StringIO()
    code = 0
    try:
        call_command("check_cases", stdout=out)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


def test_check_cases_passes_on_the_seed_content_with_the_golden_cases(seeded):
    call_command("load_golden_cases", stdout=io.StringIO())
    assert RegressionCase.objects.filter(from_repository=True).count() >= 200
    code, out = _check_cases()
    assert code == 0, out
    assert " 0 failed" in out


def test_check_cases_fails_naming_the_case_after_an_edit_that_changes_a_result(seeded):
    call_command("load_golden_cases", stdout=io.StringIO())
    Threshold.objects.filter(code="vegf_plasma_cutoff").update(value=201)
    content.invalidate()
    code, out = _check_cases()
    assert code == 1
    assert "FAIL golden-d3-plasma-at-cutoff-200" in out
    assert "criterion vegf_elevated: expected met, got not_met" in out
    assert RegressionCase.objects.get(slug="golden-d3-plasma-at-cutoff-200").last_passed is False
