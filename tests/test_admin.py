"""The editors' admin: who sees what, history and revert, regression feedback on save."""

import json

import pytest
from django.contrib.auth.models import User

from checklist.content.models import Differential, RegressionCase, Threshold

pytestmark = pytest.mark.django_db

CONTENT_LISTS = [
    "reference",
    "criteriaset",
    "criterion",
    "finding",
    "labfield",
    "threshold",
    "differential",
    "treatment",
    "caution",
    "sitetext",
    "contentrelease",
    "regressioncase",
]


def test_anonymous_is_sent_to_login(client, seeded):
    response = client.get("/admin/checklist/threshold/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_non_staff_user_cannot_enter(client, seeded):
    client.force_login(User.objects.create_user("clinician", password="pw-12345678-x"))
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("model", CONTENT_LISTS)
def test_editor_sees_every_content_list(client, seeded, editor, model):
    client.force_login(editor)
    assert client.get(f"/admin/checklist/{model}/").status_code == 200


def test_editor_cannot_manage_users_or_delete_engine_codes(client, seeded, editor):
    client.force_login(editor)
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403
    threshold = Threshold.objects.get(code="mm_calcium")
    assert client.get(f"/admin/checklist/threshold/{threshold.pk}/delete/").status_code == 403
    assert not editor.has_perm("checklist.delete_criterion")
    assert editor.has_perm("checklist.change_threshold")


def test_superuser_sees_users(client, seeded, superuser):
    client.force_login(superuser)
    assert client.get("/admin/auth/user/").status_code == 200


def test_threshold_change_page_has_editor_help_and_history(client, seeded, editor):
    client.force_login(editor)
    threshold = Threshold.objects.get(code="vegf_plasma_cutoff")
    html = client.get(f"/admin/checklist/threshold/{threshold.pk}/change/").content.decode()
    assert "canonical unit" in html
    assert client.get(f"/admin/checklist/threshold/{threshold.pk}/history/").status_code == 200


def _post_threshold(client, threshold, value, **extra):
    data = {
        "label": threshold.label,
        "comparator": threshold.comparator,
        "value": value,
        "specimen": threshold.specimen,
        "sex": threshold.sex,
        "verified": "on" if threshold.verified else "",
        "note": threshold.note,
        "reference": threshold.reference_id or "",
        "basis": threshold.basis,
        "evidence": threshold.evidence,
        "version": "2",
        "review_status": "reviewed",
        "reviewed_by": "Dr Editor",
        "reviewed_on": "2026-11-25",
        "next_review_due": "2027-11-25",
        **extra,
    }
    return client.post(f"/admin/checklist/threshold/{threshold.pk}/change/", data, follow=True)


def test_editing_a_threshold_that_breaks_a_case_says_which_case_and_how(client, seeded, editor):
    RegressionCase.objects.create(
        slug="plasma-vegf-250",
        name="Plasma VEGF 250 counts as raised",
        case={"labs": {"vegf_pg_ml": 250, "vegf_specimen": "plasma"}},
        expected={"criteria": {"vegf_elevated": "met"}},
        source="Dispenzieri 2012 plasma cut-off",
        author="test",
    )
    client.force_login(editor)
    threshold = Threshold.objects.get(code="vegf_plasma_cutoff")
    response = _post_threshold(client, threshold, 300)
    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Saved to the draft.") for m in messages)
    assert "Publishing would be refused: 1 regression case would change." in messages
    assert "Case 'Plasma VEGF 250 counts as raised' would change: VEGF elevation met -> not met" in messages
    case = RegressionCase.objects.get(slug="plasma-vegf-250")
    assert case.last_passed is False
    assert "VEGF elevation met -> not met" in case.last_result


def test_edit_is_recorded_and_can_be_reverted(client, seeded, editor):
    client.force_login(editor)
    threshold = Threshold.objects.get(code="vegf_plasma_cutoff")
    _post_threshold(client, threshold, 300)
    threshold.refresh_from_db()
    assert threshold.value == 300
    history = threshold.history.order_by("history_date")
    latest = history.last()
    assert latest.history_user == editor
    assert latest.value == 300
    original = history.filter(value=200).last()
    # simple-history's revert: the admin shows the old version and saving it restores it.
    url = f"/admin/checklist/threshold/{threshold.pk}/history/{original.history_id}/"
    assert client.get(url).status_code == 200
    data = {
        "label": original.label,
        "comparator": original.comparator,
        "value": original.value,
        "specimen": original.specimen,
        "sex": original.sex,
        "verified": "on" if original.verified else "",
        "note": original.note,
        "reference": original.reference_id or "",
        "basis": original.basis,
        "evidence": original.evidence,
        "version": original.version,
        "review_status": original.review_status,
        "reviewed_by": original.reviewed_by,
        "reviewed_on": "",
        "next_review_due": str(original.next_review_due or ""),
    }
    client.post(url, data)
    threshold.refresh_from_db()
    assert threshold.value == 200
    html = client.post("/result", {"vegf_pg_ml": "250", "vegf_specimen": "plasma"}).content.decode()
    assert "meets the cut-off" in html


def test_overdue_items_are_flagged_in_the_admin_list(client, seeded, editor):
    Differential.objects.filter(code="cidp").update(next_review_due="2020-01-01")
    client.force_login(editor)
    html = client.get("/admin/checklist/differential/").content.decode()
    assert "OVERDUE" in html
    html = client.get("/admin/checklist/differential/?overdue=yes").content.decode()
    assert "CIDP" in html and "Multiple myeloma" not in html


def test_editor_can_write_a_regression_case_and_sees_its_result(client, seeded, editor):
    client.force_login(editor)
    response = client.post(
        "/admin/checklist/regressioncase/add/",
        {
            "slug": "kappa-caution",
            "name": "Kappa light chain gets the caution",
            "author": "Dr Editor",
            "source": "clinical.md §f cautions",
            "criteria_set": "",
            "case": '{"labs": {"light_chain_type": "kappa"}}',
            "expected": json.dumps(
                {"cautions": ["kappa_light_chain"], "criteria": {"monoclonal_plasma_cell_disorder": "met"}}
            ),
        },
        follow=True,
    )
    assert response.status_code == 200
    case = RegressionCase.objects.get(slug="kappa-caution")
    assert case.last_passed is True
    assert case.created_by == editor


# -- issue 11: values checked where typed, publishing from the admin --------------------


@pytest.mark.parametrize("value", ["-5", "1e308", "20000"])
def test_an_implausible_threshold_is_a_form_error_naming_the_range(client, seeded, editor, value):
    client.force_login(editor)
    threshold = Threshold.objects.get(code="vegf_plasma_cutoff")
    response = _post_threshold(client, threshold, value)
    html = response.content.decode()
    assert "outside the plausible range for this cut-off, 0.01 to 10000 pg/mL" in html
    threshold.refresh_from_db()
    assert threshold.value == 200


def test_a_likely_unit_slip_must_be_confirmed(client, seeded, editor):
    client.force_login(editor)
    threshold = Threshold.objects.get(code="vegf_plasma_cutoff")
    html = _post_threshold(client, threshold, "0.2").content.decode()
    assert "was it typed in ng/mL (0.2 ng/mL = 200 pg/mL)?" in html
    assert "Confirm unusual value" in html
    threshold.refresh_from_db()
    assert threshold.value == 200
    _post_threshold(client, threshold, "0.2", confirm_unusual="on")
    threshold.refresh_from_db()
    assert threshold.value == 0.2


def test_publish_page_shows_the_diff_and_refuses_then_publishes(client, seeded, editor):
    RegressionCase.objects.create(
        slug="plasma-vegf-250",
        name="Plasma VEGF 250 counts as raised",
        case={"labs": {"vegf_pg_ml": 250, "vegf_specimen": "plasma"}},
        expected={"criteria": {"vegf_elevated": "met"}},
        source="Dispenzieri 2012 plasma cut-off",
        author="test",
    )
    client.force_login(editor)
    threshold = Threshold.objects.get(code="vegf_plasma_cutoff")
    _post_threshold(client, threshold, 300)
    url = "/admin/checklist/contentrelease/publish/"
    page = client.get(url)
    html = page.content.decode()
    assert "vegf_plasma_cutoff" in html and "<del>200.0</del>" in html and "<ins>300.0</ins>" in html
    assert "cannot be published as it stands" in html
    reviewed = page.context["form"].initial["reviewed"]
    html = client.post(url, {"note": "300", "reviewed": reviewed}).content.decode()
    assert "Not published; nothing changed." in html
    assert (
        "Case &#x27;Plasma VEGF 250 counts as raised&#x27; would change: VEGF elevation met -&gt; not met"
        in html
    )
    _post_threshold(client, threshold, 240)
    page = client.get(url)
    assert "Valid: the rule book checks out" in page.content.decode()
    response = client.post(
        url, {"note": "Cut-off 240.", "reviewed": page.context["form"].initial["reviewed"]}
    )
    assert response.status_code == 302
    from checklist.content.models import ContentRelease

    live = ContentRelease.objects.live()
    assert live.number == 2 and live.published_by == editor and live.summary == "Cut-off 240."
    assert "VEGF &gt;= 240 pg/mL" in client.get("/criteria").content.decode()


def test_publishing_a_draft_that_moved_since_review_is_refused(client, seeded, editor):
    client.force_login(editor)
    Threshold.objects.filter(code="vegf_plasma_cutoff").update(value=240)
    page = client.get("/admin/checklist/contentrelease/publish/")
    Threshold.objects.filter(code="vegf_plasma_cutoff").update(value=250)
    html = client.post(
        "/admin/checklist/contentrelease/publish/",
        {"note": "x", "reviewed": page.context["form"].initial["reviewed"]},
    ).content.decode()
    assert "The draft changed while you were reviewing it" in html


def test_releases_cannot_be_added_edited_or_deleted_by_hand(client, seeded, editor, superuser):
    from checklist.content.models import ContentRelease

    release = ContentRelease.objects.live()
    for user in (editor, superuser):
        client.force_login(user)
        assert client.get("/admin/checklist/contentrelease/add/").status_code == 403
        assert client.get(f"/admin/checklist/contentrelease/{release.pk}/delete/").status_code == 403
        html = client.get(f"/admin/checklist/contentrelease/{release.pk}/change/").content.decode()
        assert 'name="_save"' not in html


def test_users_without_the_publish_permission_cannot_publish(client, seeded):
    from django.contrib.auth.models import Permission

    user = User.objects.create_user("viewer", password="pw-12345678-x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_contentrelease"))
    client.force_login(user)
    assert client.get("/admin/checklist/contentrelease/publish/").status_code == 403


def test_revert_from_the_admin_publishes_the_earlier_release_again(client, seeded, editor):
    from checklist.content import rule_book as content
    from checklist.content.models import ContentRelease
    from checklist.content.publishing import publish

    Threshold.objects.filter(code="vegf_plasma_cutoff").update(value=240)
    assert publish("240").ok
    client.force_login(editor)
    response = client.post(
        "/admin/checklist/contentrelease/",
        {"action": "publish_again", "_selected_action": [ContentRelease.objects.get(number=1).pk]},
    )
    assert response.status_code == 302 and response["Location"].endswith("/1/republish/")
    page = client.get(response["Location"])
    assert "<del>240.0</del>" in page.content.decode()
    response = client.post(
        response["Location"], {"note": "Back to 200.", "reviewed": page.context["form"].initial["reviewed"]}
    )
    assert response.status_code == 302
    live = ContentRelease.objects.live()
    assert live.number == 3 and live.reverts_to == 1
    assert content.snapshot().book.thresholds["vegf_plasma_cutoff"].value == 200


def test_regression_case_is_shown_as_findings_and_labs(client, seeded, editor):
    case = RegressionCase.objects.create(
        slug="c1",
        name="Case one",
        case={"findings": {"polyneuropathy": True, "ascites": False}, "labs": {"vegf_pg_ml": 450}},
        expected={"status": "met", "criteria": {"vegf_elevated": "met"}},
        source="s",
        author="a",
    )
    client.force_login(editor)
    html = client.get(f"/admin/checklist/regressioncase/{case.pk}/change/").content.decode()
    assert "<td>Polyneuropathy (polyradiculoneuropathy)</td><td>present</td>" in html
    assert "<td>Ascites</td><td>absent</td>" in html
    assert "<td>VEGF</td><td>450 pg/mL</td>" in html
    assert "Overall: Meets" in html and "vegf elevated: met" in html


def test_seed_cases_can_be_archived_but_not_deleted(client, seeded, editor):
    from django.core.management import call_command

    call_command("load_golden_cases", verbosity=0)
    golden = RegressionCase.objects.filter(from_repository=True).first()
    mine = RegressionCase.objects.create(
        slug="mine", name="Mine", case={}, expected={}, source="s", author="a"
    )
    client.force_login(editor)
    assert client.get(f"/admin/checklist/regressioncase/{golden.pk}/delete/").status_code == 403
    # A bulk delete that includes a seed case is refused as a whole, naming it.
    response = client.post(
        "/admin/checklist/regressioncase/",
        {"action": "delete_selected", "_selected_action": [golden.pk, mine.pk]},
    )
    assert "permission to delete" in response.content.decode()
    response = client.post(
        "/admin/checklist/regressioncase/",
        {"action": "delete_selected", "_selected_action": [golden.pk, mine.pk], "post": "yes"},
    )
    assert response.status_code == 403
    assert RegressionCase.objects.filter(pk=golden.pk).exists()
    client.post(
        "/admin/checklist/regressioncase/",
        {"action": "delete_selected", "_selected_action": [mine.pk], "post": "yes"},
    )
    assert not RegressionCase.objects.filter(pk=mine.pk).exists()
    client.post(
        "/admin/checklist/regressioncase/", {"action": "archive_selected", "_selected_action": [golden.pk]}
    )
    golden.refresh_from_db()
    assert golden.archived


def test_release_list_says_how_the_draft_stands(client, seeded, editor):
    from checklist.content.models import CriteriaSet

    client.force_login(editor)
    url = "/admin/checklist/contentrelease/"
    assert "The draft is the same as the live release." in client.get(url).content.decode()
    Threshold.objects.filter(code="vegf_plasma_cutoff").update(value=240)
    assert "differs from the live release in 1 place;" in client.get(url).content.decode()
    CriteriaSet.objects.filter(slug="mayo-2003").update(major_min=5)
    html = client.get(url).content.decode()
    assert "The draft is invalid and cannot be published: criteria set mayo-2003 asks for more" in html


def test_an_invalid_draft_breaks_neither_the_admin_nor_the_public_pages(client, seeded, editor):
    from django.core.management import call_command

    from checklist.content.models import CriteriaSet

    call_command("load_golden_cases", verbosity=0)
    RegressionCase.objects.filter(from_repository=True).update(archived=True)
    CriteriaSet.objects.filter(slug="mayo-2007").update(minor_min=9)
    mayo = CriteriaSet.objects.get(slug="mayo-2007")
    client.force_login(editor)
    for url in (
        "/admin/",
        "/admin/checklist/criteriaset/",
        f"/admin/checklist/criteriaset/{mayo.pk}/change/",
        "/admin/checklist/contentrelease/",
        "/admin/checklist/contentrelease/publish/",
        "/admin/checklist/regressioncase/",
    ):
        assert client.get(url).status_code == 200, url
    threshold = Threshold.objects.get(code="vegf_plasma_cutoff")
    messages = [str(m) for m in _post_threshold(client, threshold, 240).context["messages"]]
    assert any(m.startswith("The draft is invalid and cannot be published:") for m in messages)
    for url in ("/", "/criteria", "/about", "/api/v1/criteria-sets"):
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_editors_can_reach_every_content_model():
    """A new content model without an Editors permission is content nobody can correct."""
    from checklist.content.permissions import EDITOR_PERMISSIONS
    from checklist.content.rule_book import content_models

    names = {m._meta.model_name for m in content_models()}
    assert names - set(EDITOR_PERMISSIONS) == set()


def test_an_editor_can_change_the_treatment_by_extent_mapping(client, editor):
    client.force_login(editor)
    assert client.get("/admin/checklist/treatmentbyextent/").status_code == 200
