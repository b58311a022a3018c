"""The editors' admin: who sees what, history and revert, regression feedback on save."""

import json

import pytest
from django.contrib.auth.models import User

from checklist.models import Differential, RegressionCase, Threshold

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


def _post_threshold(client, threshold, value):
    data = {
        "label": threshold.label,
        "comparator": threshold.comparator,
        "value": value,
        "specimen": threshold.specimen,
        "sex": threshold.sex,
        "verified": "on" if threshold.verified else "",
        "note": threshold.note,
        "reference": threshold.reference_id or "",
        "version": "2",
        "review_status": "reviewed",
        "reviewed_by": "Dr Editor",
        "reviewed_on": "2026-11-25",
        "next_review_due": "2027-11-25",
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
    assert any("Plasma VEGF 250 counts as raised" in m and "expected met, got not_met" in m for m in messages)
    case = RegressionCase.objects.get(slug="plasma-vegf-250")
    assert case.last_passed is False
    assert "vegf_elevated" in case.last_result


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
