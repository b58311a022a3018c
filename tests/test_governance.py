"""Governed content (issue 11): drafts, checked publishing, releases, import/export, regression cases."""

import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from checklist.content import rule_book as content
from checklist.content.models import ContentRelease, CriteriaSet, RegressionCase, Threshold, Treatment
from checklist.content.publishing import publish, revert

pytestmark = pytest.mark.django_db

CASE = {"findings": {"polyneuropathy": True, "m_protein_present": True, "skin_plethora": True}}
FORM = {"polyneuropathy": "yes", "m_protein_present": "yes", "skin_plethora": "yes"}
VEGF_450 = {
    "criteria_set": "mayo-2007",
    "findings": {
        "polyneuropathy": True,
        "m_protein_present": True,
        "castleman_disease": False,
        "sclerotic_bone_lesions": False,
        "skin_plethora": True,
    },
    "labs": {"vegf_pg_ml": 450, "vegf_specimen": "plasma"},
}


def _run(command, *args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command(command, *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue() + err.getvalue()


def _vegf_case():
    return RegressionCase.objects.create(
        slug="plasma-vegf-450",
        name="Plasma VEGF 450, Castleman absent",
        case=VEGF_450,
        expected={"status": "met", "criteria": {"vegf_elevated": "met"}},
        source="Dispenzieri 2012 plasma cut-off (PMID 22547581)",
        author="test",
    )


def _set_vegf(value):
    Threshold.objects.filter(code="vegf_plasma_cutoff").update(value=value)


def _evaluate(client, case):
    return client.post("/api/v1/evaluate", json.dumps(case), content_type="application/json").json()


# -- a fresh install serves release 1 --------------------------------------------


def test_fresh_install_publishes_the_seed_as_release_1(client, seeded):
    live = ContentRelease.objects.live()
    assert live.number == 1 and live.records
    assert ContentRelease.objects.published().count() == 1
    assert client.get("/").status_code == 200
    # Running it again (every deploy does) neither reloads nor republishes.
    call_command("load_content", stdout=io.StringIO())
    assert ContentRelease.objects.published().count() == 1


def test_no_published_release_means_content_unavailable(db):
    call_command("loaddata", "checklist_content", "content_pages", verbosity=0)
    with pytest.raises(content.ContentUnavailable):
        content.snapshot()


def test_without_readable_content_pages_say_so_with_503_and_the_admin_still_works(client, db, superuser):
    call_command("loaddata", "checklist_content", "content_pages", verbosity=0)
    for path in ("/", "/criteria", "/about", "/treatments"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert "Temporarily unavailable" in response.content.decode()
    api = client.post("/api/v1/evaluate", json.dumps(CASE), content_type="application/json")
    assert api.status_code == 503 and "unavailable" in api.json()["errors"][0]["message"]
    assert client.get("/healthz").status_code == 503
    client.force_login(superuser)
    assert client.get("/admin/checklist/contentrelease/publish/").status_code == 200
    assert publish("First release.").ok
    assert client.get("/").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_a_database_failure_while_loading_content_is_a_503(client, seeded, monkeypatch):
    from django.db import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(content, "build_snapshot", broken)
    monkeypatch.setattr(content.models.ContentRelease.objects, "published", broken)
    content.invalidate()
    assert client.get("/").status_code == 503


# -- the draft is not served; publishing is ----------------------------------------


def test_a_draft_edit_changes_nothing_public_until_published(client, seeded):
    assert _evaluate(client, VEGF_450)["status"] == "met"
    # 1111, not 1000: the MHLW set's serum cut-off puts 1000 on the criteria page already.
    _set_vegf(1111)
    assert _evaluate(client, VEGF_450)["status"] == "met"
    assert "1111" not in client.get("/criteria").content.decode()
    assert content.snapshot().book.thresholds["vegf_plasma_cutoff"].value == 200
    outcome = publish("VEGF cut-off raised to 1111 pg/mL.")
    assert outcome.ok, outcome.failures
    assert _evaluate(client, VEGF_450)["status"] == "not_met"
    assert "1111" in client.get("/criteria").content.decode()


def test_publishing_is_refused_in_clinical_words_and_changes_nothing(seeded):
    _vegf_case()
    _set_vegf(1000)
    code, out = _run("publish_content", "--note", "raise VEGF")
    assert code == 1
    assert "Not published; nothing changed." in out
    assert (
        "Case 'Plasma VEGF 450, Castleman absent' would change from Meets to Does not meet: "
        "VEGF elevation met -> not met" in out
    )
    assert ContentRelease.objects.published().count() == 1
    assert content.snapshot().book.thresholds["vegf_plasma_cutoff"].value == 200


def test_publishing_names_every_failing_case_and_every_rule_book_error(seeded):
    _vegf_case()
    RegressionCase.objects.create(
        slug="vegf-250",
        name="Plasma VEGF 250 counts",
        case={"labs": {"vegf_pg_ml": 250, "vegf_specimen": "plasma"}},
        expected={"criteria": {"vegf_elevated": "met"}},
        source="x",
        author="t",
    )
    _set_vegf(1000)
    CriteriaSet.objects.filter(slug="mayo-2003").update(major_min=5)
    code, out = _run("publish_content", "--note", "two problems")
    assert code == 1
    assert "Rule book: criteria set mayo-2003 asks for more criteria than it lists" in out
    _book_ok = CriteriaSet.objects.filter(slug="mayo-2003").update(major_min=0)
    code, out = _run("publish_content", "--note", "one problem left")
    assert code == 1
    assert "Case 'Plasma VEGF 450, Castleman absent'" in out
    assert "Case 'Plasma VEGF 250 counts' would change: VEGF elevation met -> not met" in out
    assert "2 of 2 regression cases would change." in out


def test_publish_then_fix_then_publish_gets_the_next_number_and_the_note(client, seeded, editor):
    _vegf_case()
    _set_vegf(1000)
    assert _run("publish_content", "--note", "x")[0] == 1
    _set_vegf(300)
    code, out = _run("publish_content", "--note", "Plasma cut-off 300 pg/mL.", "--user", "editor")
    assert code == 0, out
    release = ContentRelease.objects.live()
    assert release.number == 2
    assert f"Published release 2 ({release.stamp})" in out
    assert release.summary == "Plasma cut-off 300 pg/mL."
    assert release.published_by == editor
    assert _evaluate(client, VEGF_450)["content_version"] == release.stamp
    assert "Plasma cut-off 300 pg/mL." in client.get("/changelog").content.decode()


def test_nothing_to_publish_when_the_draft_is_the_live_release(seeded):
    code, out = _run("publish_content", "--note", "no change")
    assert code == 1
    assert "Nothing to publish" in out


def test_reverting_publishes_an_earlier_release_again_as_a_new_number(client, seeded):
    _set_vegf(300)
    assert publish("300").ok
    assert _evaluate(client, {**VEGF_450, "labs": {"vegf_pg_ml": 250, "vegf_specimen": "plasma"}})["criteria"]
    first = ContentRelease.objects.get(number=1)
    outcome = revert(first, "Back to 200 pg/mL.")
    assert outcome.ok
    assert outcome.release.number == 3 and outcome.release.reverts_to == 1
    assert content.snapshot().book.thresholds["vegf_plasma_cutoff"].value == 200
    # The draft is left as it was: reverting changes what is served, not what is being edited.
    assert Threshold.objects.get(code="vegf_plasma_cutoff").value == 300
    code, out = _run("publish_content", "--note", "again", "--revert-to", "2")
    assert code == 0, out
    assert content.snapshot().book.thresholds["vegf_plasma_cutoff"].value == 300


def test_new_release_is_stamped_on_every_output(client, seeded, monkeypatch):
    Treatment.objects.filter(slug="corticosteroids").update(summary="Edited summary.")
    release = publish("Wording of the corticosteroid summary.").release
    stamp = release.stamp
    assert stamp.startswith(f"{release.version} (")
    api = _evaluate(client, CASE)
    assert api["content_version"] == stamp
    assert client.get("/api/v1/criteria-sets").json()["content_version"] == stamp
    panel = client.post("/result", FORM).content.decode()
    assert f"content version {stamp}" in panel
    assert f"Content version: {stamp}" in client.post("/report", FORM).content.decode()
    assert stamp in client.get("/").content.decode()
    assert release.version in client.get("/changelog").content.decode()
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(CASE)))
    out = io.StringIO()
    call_command("evaluate", "-", stdout=out)
    assert json.loads(out.getvalue())["content_version"] == stamp


def test_an_invalid_draft_is_never_served(client, seeded):
    CriteriaSet.objects.filter(slug="mayo-2007").update(minor_min=9)
    for path in ("/", "/criteria", "/about", "/api/v1/criteria-sets"):
        assert client.get(path).status_code == 200, path
    assert _evaluate(client, CASE)["status"]
    assert not publish("broken").ok


def test_an_unreadable_live_release_falls_back_to_the_previous_one(seeded):
    _set_vegf(300)
    assert publish("300").ok
    ContentRelease.objects.filter(number=2).update(records=[{"model": "checklist.criteriaset"}])
    content.invalidate()
    assert content.snapshot().release_number == 1


def test_the_signal_waits_for_the_commit(seeded, monkeypatch, django_capture_on_commit_callbacks):
    """Bumped inside the transaction, another worker could cache the old release under the new stamp."""
    monkeypatch.setattr(content, "_after_commit", content.transaction.on_commit)
    content.snapshot()
    before = content.current_stamp()
    _set_vegf(300)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert publish("300").ok
        assert content.current_stamp() == before
    assert len(callbacks) == 1
    assert content.current_stamp() != before
    assert content.snapshot().book.thresholds["vegf_plasma_cutoff"].value == 300


def test_the_diff_names_every_changed_word_and_number(seeded):
    from checklist.content.publishing import draft_diff

    _set_vegf(300)
    Treatment.objects.filter(slug="corticosteroids").update(summary="New words.")
    changes = {(c.model, c.key, c.field): (c.old, c.new) for c in draft_diff()}
    assert changes[("threshold", "vegf_plasma_cutoff", "value")] == ("200.0", "300.0")
    assert changes[("treatment", "corticosteroids", "summary")][1] == "New words."
    assert len(changes) == 2


# -- import and export ----------------------------------------------------------------


def test_export_then_import_round_trips_without_loss(seeded, tmp_path):
    path = tmp_path / "content.json"
    call_command("export_content", str(path), stderr=io.StringIO())
    exported = json.loads(path.read_text())
    before = content.content_records()
    assert exported == before
    assert {r["model"] for r in exported} <= content.CONTENT_LABELS
    for model in reversed(content.CONTENT_MODELS):
        model.objects.all().delete()
    assert not CriteriaSet.objects.exists()
    code, out = _run("import_content", str(path))
    assert code == 0, out
    assert content.content_records() == before


def test_export_of_a_published_release(seeded, tmp_path):
    _set_vegf(300)
    path = tmp_path / "r1.json"
    call_command("export_content", str(path), "--release", "1", stderr=io.StringIO())
    values = [
        r["fields"]["value"] for r in json.loads(path.read_text()) if r["model"] == "checklist.threshold"
    ]
    assert 200.0 in values and 300.0 not in values


def test_import_updates_matching_rows_by_natural_key_with_history(seeded, tmp_path, editor):
    path = tmp_path / "content.json"
    call_command("export_content", str(path), stderr=io.StringIO())
    records = json.loads(path.read_text())
    for r in records:
        if r["model"] == "checklist.treatment" and r["fields"]["slug"] == "corticosteroids":
            r["fields"]["summary"] = "Edited on staging."
    path.write_text(json.dumps(records))
    count = Treatment.objects.count()
    code, out = _run("import_content", str(path), "--user", "editor", "--reason", "Reviewed on staging")
    assert code == 0, out
    assert Treatment.objects.count() == count
    treatment = Treatment.objects.get(slug="corticosteroids")
    assert treatment.summary == "Edited on staging."
    latest = treatment.history.latest("history_date")
    assert latest.history_user == editor
    assert latest.history_change_reason == "Reviewed on staging"
    # Import changes the draft only.
    assert all(t["summary"] != "Edited on staging." for t in content.snapshot().treatments)
    assert "Edited on staging." not in json.dumps(ContentRelease.objects.live().records)


def _import_rejected(tmp_path, records, *args):
    path = tmp_path / "in.json"
    path.write_text(records if isinstance(records, str) else json.dumps(records))
    before = content.content_records()
    users = User.objects.count()
    code, out = _run("import_content", str(path), *args)
    assert code == 1
    assert out.startswith("Import rejected: "), out
    assert "Traceback" not in out
    assert content.content_records() == before
    assert User.objects.count() == users
    return out


def test_import_refuses_anything_but_content_and_names_it(seeded, tmp_path):
    out = _import_rejected(
        tmp_path,
        [
            {
                "model": "auth.user",
                "fields": {"username": "mallory", "password": "x", "is_superuser": True, "is_staff": True},
            }
        ],
    )
    assert "auth.user mallory" in out
    assert not User.objects.filter(username="mallory").exists()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{not json", "is not valid JSON"),
        ('{"a": 1}', "must hold a list"),
        ("[1]", "object #1"),
        (
            '[{"model": "checklist.threshold", "fields": {"code": "vegf_plasma_cutoff", "value": "high"}}]',
            "value",
        ),
    ],
)
def test_a_malformed_file_is_rejected_naming_object_and_field(seeded, tmp_path, text, named):
    assert named in _import_rejected(tmp_path, text)


def _threshold_record(value):
    t = next(r for r in content.content_records() if r["fields"].get("code") == "vegf_plasma_cutoff")
    t["fields"]["value"] = value
    return [t]


def test_import_runs_full_clean_and_the_plausibility_checks(seeded, tmp_path):
    out = _import_rejected(tmp_path, _threshold_record(-5))
    assert "checklist.threshold vegf_plasma_cutoff value:" in out and "plausible range" in out
    out = _import_rejected(tmp_path, _threshold_record(1e308))
    assert "0.01 to 10000 pg/mL" in out
    out = _import_rejected(tmp_path, _threshold_record(0.2))
    assert "ng/mL" in out and "--confirm-unusual" in out
    record = _threshold_record(200)
    record[0]["fields"]["comparator"] = "about"
    assert "comparator" in _import_rejected(tmp_path, record)


def test_import_that_would_break_the_rules_changes_nothing(seeded, tmp_path):
    record = next(r for r in content.content_records() if r["fields"].get("slug") == "mayo-2003")
    record["fields"]["major_min"] = 5
    out = _import_rejected(tmp_path, [record])
    assert "asks for more criteria than it lists" in out
    assert CriteriaSet.objects.get(slug="mayo-2003").major_min == 0


# -- regression cases -------------------------------------------------------------


def _check_cases():
    return _run("check_cases")


def test_check_cases_passes_on_the_seed_content_with_the_golden_cases(seeded):
    call_command("load_golden_cases", stdout=io.StringIO())
    assert RegressionCase.objects.filter(from_repository=True).count() >= 200
    code, out = _check_cases()
    assert code == 0, out
    assert " 0 failed" in out


def test_the_seed_publishes_with_every_golden_case_passing(seeded):
    call_command("load_golden_cases", stdout=io.StringIO())
    Treatment.objects.filter(slug="corticosteroids").update(summary="Edited.")
    outcome = publish("Wording.")
    assert outcome.ok, outcome.failures[:3]
    assert outcome.cases_run >= 200


def test_check_cases_fails_naming_the_case_after_a_draft_edit(seeded):
    call_command("load_golden_cases", stdout=io.StringIO())
    _set_vegf(201)
    code, out = _check_cases()
    assert code == 1
    assert "FAIL golden-d3-plasma-at-cutoff-200" in out
    assert "would change: VEGF elevation met -> not met" in out
    assert RegressionCase.objects.get(slug="golden-d3-plasma-at-cutoff-200").last_passed is False


def test_archived_cases_do_not_block_publishing(seeded):
    case = _vegf_case()
    _set_vegf(1000)
    assert not publish("x").ok
    case.archived = True
    case.save()
    assert publish("x").ok


# -- staff keep the case on the checklist page as a regression case -----------------------

CHECKLIST_FORM = {
    "polyneuropathy": "yes",
    "m_protein_present": "yes",
    "castleman_disease": "no",
    "sclerotic_bone_lesions": "no",
    "skin_plethora": "yes",
    "vegf_pg_ml": "450",
    "vegf_specimen": "plasma",
    "criteria_set": "mayo-2007",
}


def test_the_save_case_button_is_shown_to_staff_only(client, seeded, editor):
    assert "Save as a regression case" not in client.post("/result", CHECKLIST_FORM).content.decode()
    assert "Save as a regression case" not in client.get("/").content.decode()
    client.force_login(editor)
    assert "Save as a regression case" in client.post("/result", CHECKLIST_FORM).content.decode()


def test_staff_save_the_current_case_with_its_answer_as_expectation(client, seeded, editor):
    client.force_login(editor)
    response = client.post(
        "/regression-cases/new",
        {**CHECKLIST_FORM, "regression_case_name": "Plasma VEGF 450, Castleman absent"},
    )
    case = RegressionCase.objects.get(name="Plasma VEGF 450, Castleman absent")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/checklist/regressioncase/{case.pk}/change/"
    assert case.created_by == editor and case.criteria_set == "mayo-2007"
    assert case.case["labs"]["vegf_pg_ml"] == {"value": 450.0, "unit": "pg/mL"}
    assert case.case["findings"]["castleman_disease"] is False
    assert case.expected["status"] == "met"
    assert case.expected["criteria"]["vegf_elevated"] == "met"
    # The saved case guards the next publish, in clinical words.
    _set_vegf(1000)
    outcome = publish("x")
    assert any(
        f.startswith("Case 'Plasma VEGF 450, Castleman absent' would change from Meets to Does not meet")
        for f in outcome.failures
    )
    hx = client.post("/regression-cases/new", CHECKLIST_FORM, HTTP_HX_REQUEST="true")
    assert hx.status_code == 204 and hx["HX-Redirect"].startswith("/admin/checklist/regressioncase/")


def test_saving_a_case_needs_staff_and_a_csrf_token(seeded, editor):
    from django.test import Client

    anonymous = Client()
    response = anonymous.post("/regression-cases/new", CHECKLIST_FORM)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    assert strict.post("/regression-cases/new", CHECKLIST_FORM).status_code == 403
    assert not RegressionCase.objects.exists()


def test_the_diff_names_rows_of_a_model_without_a_code():
    from checklist.content.publishing import diff

    old = [
        {"model": "checklist.x", "fields": {"treatment": ["asct"], "extent": "limited", "note": "Old words."}}
    ]
    new = [
        {
            "model": "checklist.x",
            "fields": {"treatment": ["asct"], "extent": "limited", "note": "New words."},
        },
        {
            "model": "checklist.x",
            "fields": {"treatment": ["asct"], "extent": "disseminated", "note": "Some words."},
        },
    ]
    changes = [(c.kind, c.key, c.field, c.new) for c in diff(old, new)]
    assert ("changed", "limited / asct", "note", "New words.") in changes
    assert ("added", "disseminated / asct", "", "") in changes
    assert len(changes) == 2


def test_publishing_checks_every_expectation_key_not_only_statuses(seeded):
    """A draft that keeps every status but changes what a case's reason says (here the
    cut-off quoted) is refused: publishing runs the same comparison as the golden tests."""
    RegressionCase.objects.create(
        slug="vegf-450-reason",
        name="Plasma VEGF 450 quotes the 200 cut-off",
        case=VEGF_450,
        expected={"status": "met", "reasons_contain": {"vegf_elevated": ["200 pg/mL"]}},
        source="Dispenzieri 2012 plasma cut-off (PMID 22547581)",
        author="test",
    )
    _set_vegf(300)  # 450 still meets it: status and criteria unchanged
    code, out = _run("publish_content", "--note", "raise VEGF a little")
    assert code == 1, out
    assert "Plasma VEGF 450 quotes the 200 cut-off" in out and "200 pg/mL" in out
    assert ContentRelease.objects.published().count() == 1
