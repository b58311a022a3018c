"""A criteria set's own sub-finding lists (issue 9, A9): content an editor owns, published like any other.

Mayo 2003 did not list acrocyanosis, flushing or pericardial effusion; the seed
marks them "not counted in" that set (``Finding.not_in_sets``). The clinical
answers on both sides are golden cases (tests/golden/a9_2003_subfinding_lists.json);
these tests cover the path from the admin to the served answer.
"""

import importlib
import io
import json
import re
from html import unescape

import pytest
from django.apps import apps
from django.core.management import call_command

from checklist.content.models import CriteriaSet, Finding, RegressionCase
from checklist.content.publishing import draft_diff, publish
from checklist.engine.diagnosis.evaluate import evaluate
from checklist.engine.inputs import parse_case

NOT_IN_2003 = {"skin_acrocyanosis", "skin_flushing", "pericardial_effusion"}

# Both mandatory criteria, every other 2003 minor criterion absent, acrocyanosis the only
# skin finding present and the 2003 skin findings absent: Mayo 2003 rests on acrocyanosis.
ACROCYANOSIS_2003 = {
    "criteria_set": "mayo-2003",
    "findings": {
        "polyneuropathy": True,
        "m_protein_present": True,
        "castleman_disease": False,
        "sclerotic_bone_lesions": False,
        "organomegaly": False,
        "extravascular_volume_overload": False,
        "endocrinopathy": False,
        "papilledema": False,
        "skin_acrocyanosis": True,
        **dict.fromkeys(
            (
                "skin_hyperpigmentation",
                "skin_hypertrichosis",
                "skin_hemangiomata",
                "skin_plethora",
                "skin_white_nails",
            ),
            False,
        ),
    },
    "labs": {},
}


def _evaluate(client, case):
    return client.post("/api/v1/evaluate", json.dumps(case), content_type="application/json").json()


def _skin(result):
    return next(c for c in result["criteria"] if c["code"] == "skin_changes")


def _post_finding(client, finding, not_in_sets):
    data = {
        "label": finding.label,
        "help_text": finding.help_text,
        "section": finding.section,
        "order": finding.order,
        "criterion": finding.criterion_id or "",
        "qualifies": "on" if finding.qualifies else "",
        "not_in_sets": [s.pk for s in not_in_sets],
        "version": "3",
        "review_status": "reviewed",
        "reviewed_by": "Dr Editor",
        "reviewed_on": "2026-12-04",
        "next_review_due": "2027-12-04",
    }
    return client.post(f"/admin/checklist/finding/{finding.pk}/change/", data, follow=True)


# -- the engine, on the shipped fixture (no database) -------------------------------------


def test_only_mayo_2003_has_its_own_lists_and_only_where_they_differ(book):
    assert book.sets["mayo-2003"].not_counted == NOT_IN_2003
    assert book.set_lists("mayo-2007") == () and book.set_lists("suichi-2019") == ()
    own = {lst.criterion: lst for lst in book.set_lists("mayo-2003")}
    # Endocrinopathy: no 2007 caveat in 2003; skin and oedema: the narrower 2003 lists.
    assert set(own) == {"endocrinopathy", "skin_changes", "extravascular_volume_overload"}
    assert own["skin_changes"].not_counted == ("skin_acrocyanosis", "skin_flushing")
    assert own["extravascular_volume_overload"].qualifying == (
        "peripheral_edema",
        "pleural_effusion",
        "ascites",
    )
    assert "skin_acrocyanosis" in book.subfinding_list("skin_changes").qualifying  # the current list
    # Read per set: a set's own list where it has one, else the current list.
    assert book.subfinding_list("skin_changes", "mayo-2003") is own["skin_changes"]
    assert book.subfinding_list("organomegaly", "mayo-2003") is book.subfinding_list("organomegaly")
    assert book.subfinding_list("skin_changes", "mayo-2007") is book.subfinding_list("skin_changes")


def test_the_same_case_is_read_per_set_in_one_comparison(book):
    result = evaluate(parse_case({**ACROCYANOSIS_2003, "compare": True}, book.sets), book)
    assert _skin(result)["status"] == "not_met"
    by_set = {row["criteria_set"]: row for row in result["comparison"]}
    assert by_set["mayo-2003"]["status"] == "not_met"
    # Mayo 2007 counts acrocyanosis: its blockers name the other major criteria, not the skin.
    assert "minor" not in by_set["mayo-2007"]["explanation"]


# -- content: the seed, the admin, publishing ---------------------------------------------


def test_the_seed_leaves_the_three_findings_out_of_mayo_2003_only(seeded):
    left_out = set(Finding.objects.filter(not_in_sets__isnull=False).values_list("code", flat=True))
    assert left_out == NOT_IN_2003
    assert set(
        CriteriaSet.objects.get(slug="mayo-2003").findings_not_counted.values_list("code", flat=True)
    ) == (NOT_IN_2003)
    notes = CriteriaSet.objects.get(slug="mayo-2003").notes
    assert "Blood 2003;101(7):2496-2506" in notes and "ASH-SAP" in notes


def test_an_editor_counting_acrocyanosis_in_2003_changes_answers_only_after_publishing(
    client, seeded, editor
):
    assert _evaluate(client, ACROCYANOSIS_2003)["status"] == "not_met"
    page = client.get("/criteria").content.decode()
    assert "not counted in this set: Acrocyanosis, Flushing" in page

    client.force_login(editor)
    acrocyanosis = Finding.objects.get(code="skin_acrocyanosis")
    response = _post_finding(client, acrocyanosis, [])
    assert any(str(m).startswith("Saved to the draft.") for m in response.context["messages"])
    assert not acrocyanosis.not_in_sets.exists()
    # Recorded in the finding's history, with the editor, and named in the draft's diff.
    latest = acrocyanosis.history.order_by("history_date").last()
    assert latest.history_user == editor and not latest.not_in_sets.exists()
    assert any(c.key == "skin_acrocyanosis" and c.field == "not_in_sets" for c in draft_diff())

    # The draft is not served: the 2003 answer and the page are unchanged.
    assert _evaluate(client, ACROCYANOSIS_2003)["status"] == "not_met"
    assert "not counted in this set: Acrocyanosis, Flushing" in client.get("/criteria").content.decode()

    outcome = publish("Acrocyanosis counted under Mayo 2003.")
    assert outcome.ok, outcome.problems + outcome.failures
    result = _evaluate(client, ACROCYANOSIS_2003)
    assert result["status"] == "met"
    assert _skin(result)["reasons"] == ["Present: Acrocyanosis."]
    page = client.get("/criteria").content.decode()
    assert "not counted in this set: Flushing" in page
    assert "not counted in this set: Acrocyanosis" not in page


def test_publishing_that_change_is_refused_while_the_golden_cases_guard_it(seeded):
    call_command("load_golden_cases", stdout=io.StringIO())
    Finding.objects.get(code="skin_acrocyanosis").not_in_sets.clear()
    outcome = publish("Acrocyanosis counted under Mayo 2003.")
    assert not outcome.ok
    assert any("a9-2003-acrocyanosis-alone-does-not-meet-skin-changes" in f for f in outcome.failures), (
        outcome.failures
    )
    assert RegressionCase.objects.filter(slug__startswith="golden-a9-").count() >= 10


@pytest.mark.parametrize(
    ("codes", "problem"),
    [
        (["m_protein_present"], "finding m_protein_present is left out of criteria set mayo-2003"),
        (
            [
                "skin_hyperpigmentation",
                "skin_hypertrichosis",
                "skin_hemangiomata",
                "skin_plethora",
                "skin_white_nails",
            ],
            "criteria set mayo-2003 counts skin_changes but none of its sub-findings",
        ),
    ],
)
def test_a_list_the_engine_cannot_use_is_refused_at_publishing(seeded, codes, problem):
    mayo_2003 = CriteriaSet.objects.get(slug="mayo-2003")
    mayo_2003.findings_not_counted.add(*Finding.objects.filter(code__in=codes))
    outcome = publish("Narrower lists.")
    assert not outcome.ok
    assert any(problem in p for p in outcome.problems), outcome.problems


def test_export_and_import_carry_the_lists(seeded, tmp_path):
    path = tmp_path / "content.json"
    call_command("export_content", str(path), stderr=io.StringIO())
    exported = {
        r["fields"]["code"]: r["fields"]
        for r in json.loads(path.read_text())
        if r["model"] == "checklist.finding"
    }
    assert exported["skin_flushing"]["not_in_sets"] == [["mayo-2003"]]
    assert exported["skin_plethora"]["not_in_sets"] == []
    Finding.objects.get(code="skin_flushing").not_in_sets.clear()
    call_command("import_content", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert Finding.objects.get(code="skin_flushing").not_in_sets.filter(slug="mayo-2003").exists()


def test_databases_seeded_before_the_field_get_the_2003_lists_once_in_the_draft(seeded):
    migration = importlib.import_module("checklist.migrations.0007_mayo_2003_subfinding_lists")
    mayo_2003 = CriteriaSet.objects.get(slug="mayo-2003")
    mayo_2003.findings_not_counted.clear()
    migration.forwards(apps, None)
    assert set(mayo_2003.findings_not_counted.values_list("code", flat=True)) == NOT_IN_2003
    # An editor's own choice is left alone.
    mayo_2003.findings_not_counted.set(Finding.objects.filter(code="skin_flushing"))
    migration.forwards(apps, None)
    assert set(mayo_2003.findings_not_counted.values_list("code", flat=True)) == {"skin_flushing"}


# -- the form: what the chosen set does not count is said next to the item ---------------

NOTE = re.compile(
    r'<span class="not-counted" data-code="([a-z_]+)"( hidden)?>'
    r'<span class="visually-hidden">: </span><span class="not-counted-text">([^<]*)</span>'
)


def _notes(html):
    return {code: (not hidden, text) for code, hidden, text in NOTE.findall(html)}


def _set_data(html):
    raw = re.search(r'data-set-groups="([^"]*)"', html).group(1)
    return json.loads(unescape(raw))


def test_the_form_says_which_sub_findings_the_chosen_set_does_not_count(client, seeded, publish_draft):
    page = client.get("/").content.decode()
    # Under the default set every sub-finding counts: the notes are there, hidden and empty.
    assert _notes(page) == dict.fromkeys(NOT_IN_2003, (False, ""))
    # The page switches sets without a request: each set's list and note travel with its groups.
    data = _set_data(page)
    assert set(data["mayo-2003"]["not_counted"]) == NOT_IN_2003
    assert data["mayo-2003"]["note"] == "Not counted in Mayo (Dispenzieri) 2003"
    assert data["mayo-2007"]["not_counted"] == [] and data["suichi-2019"]["not_counted"] == []
    assert [g["role"] for g in data["mayo-2007"]["groups"]] == ["mandatory", "major", "minor", "none"]

    # The whole page posted with the 2003 set (no JavaScript): the notes show, in the legend.
    page = client.post("/", {"criteria_set": "mayo-2003"}).content.decode()
    assert _notes(page) == dict.fromkeys(NOT_IN_2003, (True, "Not counted in Mayo (Dispenzieri) 2003"))
    assert re.search(r"<legend[^>]*>Acrocyanosis<span class=\"not-counted\"", page)
    assert _notes(client.post("/", {"criteria_set": "suichi-2019"}).content.decode()) == dict.fromkeys(
        NOT_IN_2003, (False, "")
    )

    # Content decides: once acrocyanosis counts in 2003 again and that is published, no note.
    Finding.objects.get(code="skin_acrocyanosis").not_in_sets.clear()
    publish_draft("Acrocyanosis counted under Mayo 2003.")
    page = client.post("/", {"criteria_set": "mayo-2003"}).content.decode()
    assert _notes(page) == dict.fromkeys(
        NOT_IN_2003 - {"skin_acrocyanosis"}, (True, "Not counted in Mayo (Dispenzieri) 2003")
    )
