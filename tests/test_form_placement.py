"""Where each finding and lab sits on the checklist form is content an editor owns (issue 10).

``Finding.shown_under`` / ``LabField.shown_under`` name the criterion an item
opens under (blank: under the criterion a finding counts towards, else in its
section's own disclosure after the criteria). These tests cover the seed's
layout (unchanged from when the placement was code), the path from the admin
to the served page, old releases, and export/import.
"""

import importlib
import io
import json
import re

from django.apps import apps
from django.core.management import call_command

from checklist.content import rule_book as content
from checklist.content.models import ContentRelease, Criterion, Finding, LabField
from checklist.content.publishing import draft_diff, publish
from checklist.web.forms import layout_for

# The seed's form as it was when forms.py held the section -> criterion table
# (SECTION_HOME, main at 667cf15): each criterion's line labs and what opens
# beneath it (group title, codes in order), then the disclosures after the criteria.
SEED_ROWS = {
    "polyneuropathy": {
        "line": (),
        "beneath": (
            (
                "Neuropathy",
                (
                    "neuropathy_demyelinating",
                    "neuropathy_axonal_predominant",
                    "neuropathy_acute_onset",
                    "neuropathy_painful",
                    "neuropathy_sensory_predominant",
                    "sensory_ataxia",
                    "tremor",
                    "autonomic_dysfunction",
                    "carpal_tunnel_syndrome",
                    "mononeuropathy_multiplex",
                    "ncs_conduction_block",
                    "ncs_temporal_dispersion",
                    "ncs_sural_sparing",
                    "ivig_refractory",
                ),
            ),
        ),
    },
    "monoclonal_plasma_cell_disorder": {
        "line": (),
        "beneath": (
            ("AL amyloidosis clues", ("macroglossia", "cardiac_amyloid_suspected")),
            (
                "Clone and antibodies",
                (
                    "m_protein_present",
                    "clonal_plasma_cells_on_biopsy",
                    "marrow_clone",
                    "anti_mag_positive",
                    "amyloid_on_biopsy",
                    "jak2_positive",
                ),
            ),
            (
                "Paraprotein",
                (
                    "m_protein_g_dl",
                    "heavy_chain_type",
                    "light_chain_type",
                    "flc_kappa_mg_l",
                    "flc_lambda_mg_l",
                    "flc_ratio",
                ),
            ),
        ),
    },
    "castleman_disease": {"line": (), "beneath": ()},
    "sclerotic_bone_lesions": {"line": (), "beneath": (("Bone", ("lytic_bone_lesions",)),)},
    "vegf_elevated": {
        "line": ("vegf_pg_ml", "vegf_specimen"),
        "beneath": (
            (
                "VEGF confounders",
                (
                    "iron_deficiency_anemia",
                    "copd",
                    "obstructive_sleep_apnea",
                    "active_malignancy",
                    "vasculitis",
                    "recent_acute_illness",
                ),
            ),
            ("VEGF", ("vegf_uln_pg_ml",)),
        ),
    },
    "organomegaly": {
        "line": (),
        "beneath": (("Organomegaly", ("hepatomegaly", "splenomegaly", "lymphadenopathy")),),
    },
    "extravascular_volume_overload": {
        "line": (),
        "beneath": (
            (
                "Extravascular volume",
                ("peripheral_edema", "pleural_effusion", "ascites", "pericardial_effusion"),
            ),
        ),
    },
    "endocrinopathy": {
        "line": (),
        "beneath": (
            (
                "Endocrine",
                (
                    "endo_adrenal_insufficiency",
                    "endo_pituitary",
                    "endo_hyperprolactinemia",
                    "endo_hypogonadism",
                    "endo_gynecomastia",
                    "endo_parathyroid",
                    "endo_diabetes_mellitus",
                    "endo_thyroid_disorder",
                    "erectile_dysfunction",
                ),
            ),
        ),
    },
    "skin_changes": {
        "line": (),
        "beneath": (
            (
                "Skin",
                (
                    "skin_hyperpigmentation",
                    "skin_hypertrichosis",
                    "skin_hemangiomata",
                    "skin_plethora",
                    "skin_acrocyanosis",
                    "skin_flushing",
                    "skin_white_nails",
                    "skin_thickening",
                ),
            ),
        ),
    },
    "papilledema": {"line": (), "beneath": ()},
    "thrombocytosis_polycythemia": {
        "line": ("platelets_10e9_l", "hemoglobin_g_dl"),
        "beneath": (("Blood counts and chemistry", ("hematocrit_pct",)), ("Patient", ("sex",))),
    },
}
SEED_EXTRA = (
    (
        "Other signs (not counted)",
        (
            "clubbing",
            "weight_loss",
            "hyperhidrosis",
            "pulmonary_hypertension",
            "restrictive_lung_disease",
            "thrombotic_diathesis",
            "diarrhea",
            "low_vitamin_b12",
            "fever",
        ),
    ),
    (
        "Blood counts and chemistry",
        (
            "calcium_mg_dl",
            "creatinine_mg_dl",
            "egfr_ml_min_1_73m2",
            "creatinine_clearance_ml_min",
            "albumin_g_dl",
            "vitamin_b12_pg_ml",
        ),
    ),
    ("Patient", ("age_years",)),
    (
        "Other investigations",
        (
            "bm_plasma_cells_pct",
            "bone_lesion_count",
            "mri_focal_lesions_count",
            "csf_protein_mg_dl",
            "proteinuria_g_24h",
            "pasp_mmhg",
            "dlco_pct_pred",
            "median_tli",
        ),
    ),
)

ROW = re.compile(r'<div class="crit-row" id="row-([a-z0-9_]+)"')
EXTRA = re.compile(r'<details class="more extra-more"[^>]*><summary>([^<]+?) <span')
NAME = re.compile(r'name="([a-z0-9_]+)"')


def _layout(snap):
    layout = layout_for(snap)
    rows = {
        code: {
            "line": tuple(i.code for i in row.inline),
            "beneath": tuple((g.title, g.codes) for g in row.more),
        }
        for code, row in layout.rows.items()
    }
    return rows, tuple((g.title, g.codes) for g in layout.extra)


def _placement(html):
    """Each field on the rendered form -> the criterion row it sits in, or 'after: <disclosure>'."""
    form = html[html.index('id="case-form"') : html.index('class="actions"')]
    marks = sorted(
        [(m.start(), m.group(1)) for m in ROW.finditer(form)]
        + [(m.start(), "after: " + m.group(1)) for m in EXTRA.finditer(form)]
    )
    where = {}
    for (start, label), (end, _next) in zip(marks, [*marks[1:], (len(form), "")], strict=True):
        for name in NAME.findall(form[start:end]):
            if not name.endswith("__unit"):
                where.setdefault(name, label)
    return where


def _seed_placement():
    where = {}
    for code, row in SEED_ROWS.items():
        where[code] = code
        for c in (*row["line"], *(c for _title, codes in row["beneath"] for c in codes)):
            where[c] = code
    for title, codes in SEED_EXTRA:
        where.update(dict.fromkeys(codes, f"after: {title}"))
    return where


def _admin_data(item, shown_under, **extra):
    data = {
        "label": item.label,
        "help_text": item.help_text,
        "section": item.section,
        "order": item.order,
        "shown_under": shown_under.pk if shown_under else "",
        "version": "3",
        "review_status": "reviewed",
        "reviewed_by": "Dr Editor",
        "reviewed_on": "2026-12-04",
        "next_review_due": "2027-12-04",
        **extra,
    }
    return data


def test_the_seed_form_is_laid_out_as_before_the_placement_was_content(client, seeded):
    assert _layout(content.snapshot()) == (SEED_ROWS, SEED_EXTRA)
    # The rendered page: every field in the same criterion row or disclosure, in the same order.
    html = client.get("/").content.decode()
    assert _placement(html) == _seed_placement()
    fields = [n for n in NAME.findall(html) if n in _seed_placement()]
    row_order = list(dict.fromkeys(fields))
    expected = [
        c
        for code in (m.group(1) for m in ROW.finditer(html))
        for c in dict.fromkeys(
            (
                code,  # the row: its line, what opens beneath it, then its line's labs
                *(c for _t, codes in SEED_ROWS[code]["beneath"] for c in codes),
                *SEED_ROWS[code]["line"],
            )
        )
    ] + [c for _t, codes in SEED_EXTRA for c in codes]
    assert row_order == expected


def test_the_seed_places_every_item_it_does_not_count_towards_a_criterion(seeded):
    # Linked findings need no placement (they sit under their criterion); the rest is content.
    placed = set(Finding.objects.filter(shown_under__isnull=False).values_list("code", flat=True))
    linked = set(Finding.objects.filter(criterion__isnull=False).values_list("code", flat=True))
    assert placed.isdisjoint(linked)
    assert {"lytic_bone_lesions", "erectile_dysfunction", "skin_thickening", "tremor"} <= placed
    assert not Finding.objects.filter(section="other", shown_under__isnull=False).exists()
    assert set(LabField.objects.filter(shown_under__isnull=False).values_list("code", flat=True)) == {
        "vegf_pg_ml",
        "vegf_specimen",
        "vegf_uln_pg_ml",
        "platelets_10e9_l",
        "hemoglobin_g_dl",
        "hematocrit_pct",
        "sex",
        "m_protein_g_dl",
        "heavy_chain_type",
        "light_chain_type",
        "flc_kappa_mg_l",
        "flc_lambda_mg_l",
        "flc_ratio",
    }


def test_an_editor_moves_items_in_the_draft_and_the_page_follows_only_after_publishing(
    client, seeded, editor
):
    before = _placement(client.get("/").content.decode())
    assert before["erectile_dysfunction"] == "endocrinopathy"
    assert before["skin_acrocyanosis"] == "skin_changes"
    assert before["sex"] == "thrombocytosis_polycythemia"

    client.force_login(editor)
    neuropathy = Criterion.objects.get(code="polyneuropathy")
    volume = Criterion.objects.get(code="extravascular_volume_overload")
    # An unlinked finding to another criterion (erectile dysfunction as an autonomic sign) ...
    ed = Finding.objects.get(code="erectile_dysfunction")
    data = _admin_data(ed, neuropathy, qualifies="on" if ed.qualifies else "")
    response = client.post(f"/admin/checklist/finding/{ed.pk}/change/", data, follow=True)
    assert any(str(m).startswith("Saved to the draft.") for m in response.context["messages"])
    # ... a finding that counts towards skin changes, shown elsewhere (it still counts there) ...
    acro = Finding.objects.get(code="skin_acrocyanosis")
    data = _admin_data(
        acro,
        volume,
        criterion=acro.criterion_id,
        qualifies="on",
        not_in_sets=list(acro.not_in_sets.values_list("pk", flat=True)),
    )
    client.post(f"/admin/checklist/finding/{acro.pk}/change/", data, follow=True)
    # ... and a lab taken out from under its criterion: its section's disclosure after the criteria.
    sex = LabField.objects.get(code="sex")
    client.post(f"/admin/checklist/labfield/{sex.pk}/change/", _admin_data(sex, None), follow=True)

    ed.refresh_from_db()
    assert ed.shown_under == neuropathy
    latest = ed.history.order_by("history_date").last()
    assert latest.history_user == editor and latest.shown_under_id == neuropathy.pk
    changed = {(c.key, c.field) for c in draft_diff()}
    assert {
        ("erectile_dysfunction", "shown_under"),
        ("skin_acrocyanosis", "shown_under"),
        ("sex", "shown_under"),
    } <= changed

    # The draft is not served.
    assert _placement(client.get("/").content.decode()) == before

    outcome = publish("Erectile dysfunction under neuropathy; acrocyanosis under volume; sex on its own.")
    assert outcome.ok, outcome.problems + outcome.failures
    html = client.get("/").content.decode()
    after = _placement(html)
    assert after["erectile_dysfunction"] == "polyneuropathy"
    assert after["skin_acrocyanosis"] == "extravascular_volume_overload"
    assert after["sex"] == "after: Patient"
    moved = {"erectile_dysfunction", "skin_acrocyanosis", "sex"}
    assert {c: w for c, w in after.items() if c not in moved} == {
        c: w for c, w in before.items() if c not in moved
    }
    # Grouped by section beneath the new criterion, titled now that there are two groups.
    row = html[html.index('id="row-polyneuropathy"') : html.index('id="row-monoclonal_plasma_cell_disorder"')]
    assert '<h3 class="sub-title">Endocrine</h3>' in row and '<h3 class="sub-title">Neuropathy</h3>' in row
    # Where it is shown does not change what it counts towards.
    result = client.post(
        "/api/v1/evaluate",
        json.dumps({"findings": {"skin_acrocyanosis": True}}),
        content_type="application/json",
    ).json()
    assert next(c for c in result["criteria"] if c["code"] == "skin_changes")["status"] == "met"


def test_a_release_published_before_the_field_is_served_with_the_layout_it_had(client, seeded):
    records = content.content_records()
    for record in records:
        record["fields"].pop("shown_under", None)
    # As if an editor had moved nothing since: the old release is read, never rewritten.
    outcome = publish("Before shown_under.", records=records)
    assert outcome.ok, outcome.problems + outcome.failures
    assert "shown_under" not in json.dumps(ContentRelease.objects.live().records)
    assert _layout(content.snapshot()) == (SEED_ROWS, SEED_EXTRA)
    assert _placement(client.get("/").content.decode()) == _seed_placement()


def test_a_criterion_missing_from_a_release_never_hides_an_item(seeded):
    records = content.content_records()
    for record in records:
        if record["fields"].get("code") == "lytic_bone_lesions":
            record["fields"]["shown_under"] = ["no_such_criterion"]
    rows, extra = _layout(content.snapshot_of(records, stamp="missing-criterion"))
    assert ("Bone", ("lytic_bone_lesions",)) in extra
    assert rows["sclerotic_bone_lesions"]["beneath"] == ()


def test_export_and_import_carry_the_placement(seeded, tmp_path):
    path = tmp_path / "content.json"
    call_command("export_content", str(path), stderr=io.StringIO())
    exported = {
        r["fields"]["code"]: r["fields"]
        for r in json.loads(path.read_text())
        if r["model"] in ("checklist.finding", "checklist.labfield")
    }
    assert exported["lytic_bone_lesions"]["shown_under"] == ["sclerotic_bone_lesions"]
    assert exported["sex"]["shown_under"] == ["thrombocytosis_polycythemia"]
    assert exported["clubbing"]["shown_under"] is None
    Finding.objects.filter(code="lytic_bone_lesions").update(shown_under=None)
    LabField.objects.filter(code="sex").update(shown_under=None)
    call_command("import_content", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert Finding.objects.get(code="lytic_bone_lesions").shown_under.code == "sclerotic_bone_lesions"
    assert LabField.objects.get(code="sex").shown_under.code == "thrombocytosis_polycythemia"


def test_an_export_made_before_the_field_imports_with_its_old_placement(seeded, tmp_path):
    path = tmp_path / "old.json"
    call_command("export_content", str(path), stderr=io.StringIO())
    records = json.loads(path.read_text())
    for r in records:
        r["fields"].pop("shown_under", None)  # as exported before migration 0008
    path.write_text(json.dumps(records))
    Finding.objects.filter(code="lytic_bone_lesions").update(shown_under=None)
    LabField.objects.filter(code="sex").update(shown_under=None)
    call_command("import_content", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert Finding.objects.get(code="lytic_bone_lesions").shown_under.code == "sclerotic_bone_lesions"
    assert LabField.objects.get(code="sex").shown_under.code == "thrombocytosis_polycythemia"
    assert Finding.objects.get(code="clubbing").shown_under is None


def test_databases_seeded_before_the_field_get_the_placement_once_in_the_draft(seeded):
    migration = importlib.import_module("checklist.migrations.0009_shown_under_placement")
    seeded_homes = {
        (m, code): home
        for m in (Finding, LabField)
        for code, home in m.objects.values_list("code", "shown_under__code")
    }
    Finding.objects.update(shown_under=None)
    LabField.objects.update(shown_under=None)
    migration.forwards(apps, None)
    homes = {
        (m, code): home
        for m in (Finding, LabField)
        for code, home in m.objects.values_list("code", "shown_under__code")
    }
    assert homes == seeded_homes
