"""Content translated beside the English (issue 23): columns, seed, fallback, gate, cache, admin."""

import csv
import json
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation

from checklist.content import rule_book
from checklist.content.models import Criterion, Differential, Finding, Threshold
from checklist.content.publishing import publish, rule_book_problems
from checklist.content.translated_fields import TRANSLATED
from checklist.content.translation_seed import TranslationSeedError, read_seed

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"ja": "ja", "zh-hans": "zh_hans"}


def _page(url):
    response = Client().get(url)
    assert response.status_code == 200, url
    return response.content.decode()


# -- the model: plain columns, English stays in the original field -------------------------


@pytest.mark.django_db
def test_the_migration_adds_only_the_translation_columns():
    with connection.cursor() as cursor:
        columns = {
            c.name for c in connection.introspection.get_table_description(cursor, "checklist_criterion")
        }
        history = {
            c.name
            for c in connection.introspection.get_table_description(cursor, "checklist_historicalcriterion")
        }
    assert {"name", "name_ja", "name_zh_hans", "help_text_ja", "investigations_zh_hans"} <= columns
    assert "name_en_gb" not in columns  # English is the original column, not a copy
    assert not any(c.endswith(("_ja", "_zh_hans")) for c in history)


def test_the_original_field_means_english_whatever_the_active_language(seeded):
    with translation.override("ja"):
        row = Criterion.objects.get(code="polyneuropathy")
        assert row.name == "Polyneuropathy (polyradiculoneuropathy)"
        assert row.name_ja.startswith("多発ニューロパチー")
        # Queries are not rewritten to the active language's column.
        assert Criterion.objects.filter(name="Polyneuropathy (polyradiculoneuropathy)").exists()
        made = Criterion(code="x", name="Typed in English")
        assert made.name == "Typed in English" and made.name_ja is None
        # The records a publish stores keep the English under the original name.
        records = rule_book.content_records()
    fields = next(r["fields"] for r in records if r["fields"].get("code") == "polyneuropathy")
    assert fields["name"] == "Polyneuropathy (polyradiculoneuropathy)"


# -- the seed loader -----------------------------------------------------------------------


def test_load_content_put_the_seed_texts_into_the_draft_and_the_live_release(seeded):
    assert Differential.objects.get(code="multiple_myeloma").name_ja == "多発性骨髄腫"
    assert Finding.objects.get(code="hepatomegaly").label_zh_hans == "肝肿大"
    live = rule_book.snapshot("zh-hans")
    assert next(f for f in live.findings if f["code"] == "hepatomegaly")["label"] == "肝肿大"


def test_every_checklist_text_a_clinician_reads_is_in_the_seed_for_both_languages(seeded):
    texts = read_seed()
    records = rule_book.content_records()
    for language in FOLDERS:
        live = rule_book.snapshot(language)
        for kind in ("criteria", "findings", "labs", "criteria_sets"):
            for record in getattr(live, kind):
                missing = set(record.get("in_english", ())) - {"notes"}
                assert not missing, (language, kind, record.get("code") or record.get("slug"), missing)
    assert len(texts) > 200 and records


def test_seed_texts_keep_every_number_and_tag_of_the_english(seeded):
    records = rule_book.content_records()
    assert rule_book_problems(records)[1] == []
    english = {(r["model"], r["fields"].get("code")): r["fields"] for r in records}
    for folder in FOLDERS.values():
        data = json.loads((ROOT / "fixtures/translations" / folder / "checklist.json").read_text())
        for label, rows in data.items():
            for key, fields in rows.items():
                source = english.get((label, key))
                for name, text in fields.items():
                    assert name in TRANSLATED[label]
                    if source:
                        for tag in re.findall(r"\[[^\]]*\]", source[name]):
                            assert tag in text, (folder, key, name, tag)


def test_checklist_seed_follows_the_glossary():
    """Where the English uses a glossary term, the translation uses the glossary's word.

    Longer terms first, so "minor criteria" is not also read as "criteria"; bracketed tags
    stay English verbatim and are left out; a plural or hyphenated form counts as the term.
    """
    with (ROOT / "locale/glossary.tsv").open(encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f, delimiter="\t"), key=lambda r: -len(r["english"]))
    records = {
        (r["model"], r["fields"].get("code") or r["fields"].get("slug")): r["fields"] for r in _seed_records()
    }
    checked, wrong = 0, []
    for language, folder in FOLDERS.items():
        data = json.loads((ROOT / "fixtures/translations" / folder / "checklist.json").read_text())
        for label, rows_ in data.items():
            for key, fields in rows_.items():
                source = records.get((label, key))
                if source is None:
                    continue
                for name, text in fields.items():
                    english = re.sub(r"\[[^\]]*\]", " ", source[name]).replace("-", " ")
                    for row in rows:
                        if row["english"] in HOMONYMS:
                            continue
                        pattern = rf"\b{re.escape(row['english'].replace('-', ' '))}(?:s|es)?\b"
                        if not re.search(pattern, english, re.IGNORECASE):
                            continue
                        english = re.sub(pattern, " ", english, flags=re.IGNORECASE)
                        term = row[language].split(" (")[0]
                        allowed = (
                            {term, row["english"]}
                            if row[language].endswith(f"({row['english']})")
                            else {term}
                        )
                        if not any(t in text for t in allowed):
                            wrong.append((language, key, name, row["english"], term))
                        checked += 1
    assert not wrong, "\n".join(map(str, wrong))
    assert checked > 100


# Glossary entries for one sense of a common word: "secondary" is the evidence tag (a secondary
# source), not "secondary axonal loss".
HOMONYMS = {"secondary"}


def _seed_records():
    return json.loads((ROOT / "fixtures/checklist_content.json").read_text())


def test_a_seed_file_naming_a_field_that_is_not_translated_is_refused_by_name(tmp_path):
    (tmp_path / "ja").mkdir()
    (tmp_path / "ja" / "checklist.json").write_text(
        json.dumps({"checklist.threshold": {"t": {"value": "100"}}})
    )
    with pytest.raises(TranslationSeedError, match="'value' is not a translated field"):
        read_seed(tmp_path)
    (tmp_path / "ja" / "checklist.json").write_text(json.dumps({"checklist.contentrelease": {"x": {}}}))
    with pytest.raises(TranslationSeedError, match="contentrelease is not translated content"):
        read_seed(tmp_path)


# -- serving: the page's language, English fallback marked ---------------------------------


@pytest.mark.parametrize("prefix", ["ja", "zh-hans"])
def test_checklist_and_differential_read_the_translation(seeded, prefix):
    html = _page(f"/{prefix}/")
    name = "多発ニューロパチー" if prefix == "ja" else "多发性神经病"
    assert name in html and "Polyneuropathy (polyradiculoneuropathy)" not in html
    page = _page(f"/{prefix}/differentials/multiple_myeloma")
    assert ("多発性骨髄腫" if prefix == "ja" else "多发性骨髓瘤") in page
    # Nothing on these fell back: no In-English badge and no lang="en-GB" on the content.
    assert "in-english" not in page
    assert 'name="polyneuropathy"' in html  # codes never change


def test_english_pages_and_the_api_stay_english(seeded):
    assert "Polyneuropathy (polyradiculoneuropathy)" in _page("/")
    response = Client().get("/api/v1/vocabulary", HTTP_ACCEPT_LANGUAGE="ja")
    assert "多発" not in response.content.decode()


def test_an_untranslated_field_falls_back_to_english_and_is_marked(seeded, publish_draft):
    Differential.objects.filter(code="cidp").update(summary_ja="", name_ja=None)
    publish_draft("CIDP Japanese removed to test the fallback.")
    page = _page("/ja/differentials/cidp")
    english = Differential.objects.get(code="cidp")
    assert re.search(r'<h1 class="h3" lang="en-GB">' + re.escape(english.name) + "</h1>", page)
    assert re.search(r'<p class="lead" lang="en-GB">' + re.escape(english.summary[:40]), page)
    assert page.count('class="in-english') >= 2
    # Only where it fell back: the translated sections carry no lang and no badge.
    assert "<div>" in page and english.why_it_matters_ja[:20] in page
    other = _page("/ja/differentials/multiple_myeloma")
    assert "in-english" not in other.split("All differentials")[0]


def test_a_release_published_before_translations_is_served_in_english_marked(seeded):
    records = [
        {**r, "fields": {k: v for k, v in r["fields"].items() if not k.endswith(("_ja", "_zh_hans"))}}
        for r in rule_book.content_records()
    ]
    localized = rule_book.localize_records(records, "ja")
    crit = next(r["fields"] for r in localized if r["fields"].get("code") == "polyneuropathy")
    assert crit["name"] == "Polyneuropathy (polyradiculoneuropathy)" and "name" in crit["in_english"]


def test_each_language_has_its_own_cached_snapshot_and_warm_pages_query_nothing(
    client, seeded, django_assert_num_queries
):
    for prefix in ("", "/ja", "/zh-hans"):
        client.get(prefix + "/")
    english, ja, zh = rule_book.snapshot(), rule_book.snapshot("ja"), rule_book.snapshot("zh-hans")
    assert len({english.stamp, ja.stamp, zh.stamp}) == 3
    assert ja.release_number == english.release_number == zh.release_number
    assert ja.book.content_version == english.book.content_version
    with django_assert_num_queries(0):
        for prefix in ("", "/ja", "/zh-hans"):
            client.get(prefix + "/")
            client.post(prefix + "/result", {"polyneuropathy": "yes"})
        assert rule_book.snapshot("ja") is ja


def test_a_publish_reaches_every_language(seeded, publish_draft):
    rule_book.snapshot("ja")
    Finding.objects.filter(code="hepatomegaly").update(label_ja="肝腫大 (編集)")
    publish_draft("Japanese label edited.")
    assert "肝腫大 (編集)" in _page("/ja/")


# -- the publishing gate -------------------------------------------------------------------


def test_the_gate_refuses_a_translated_number_that_differs_and_publishes_one_that_matches(seeded):
    Threshold.objects.filter(code="vegf_serum_mhlw").update(label_ja="MHLWの基準、血清VEGF 100 pg/mL以上")
    Threshold.objects.filter(code="vegf_serum_mhlw").update(
        label="MHLW criterion, serum VEGF 1000 pg/mL or more",
        label_zh_hans="MHLW标准，血清VEGF 1000 pg/mL或以上",
    )
    refused = publish("Japanese label with a wrong number.")
    assert not refused.ok
    assert any("vegf_serum_mhlw" in p and "ja" in p and "missing 1000" in p for p in refused.problems)
    Threshold.objects.filter(code="vegf_serum_mhlw").update(
        label_ja="MHLWの基準、血清VEGF １,０００ pg/mL以上"
    )
    accepted = publish("Japanese label with the right number.")
    assert accepted.ok, accepted.problems


# -- the admin -----------------------------------------------------------------------------


def test_admin_shows_the_translations_beside_the_english_without_a_cdn(client, seeded, superuser):
    client.force_login(superuser)
    row = Criterion.objects.get(code="polyneuropathy")
    html = client.get(f"/admin/checklist/criterion/{row.pk}/change/").content.decode()
    for name in ("name", "name_ja", "name_zh_hans", "help_text_ja", "investigations_zh_hans"):
        assert f'name="{name}"' in html
    # One row: the English, then the Japanese, then the Chinese.
    assert html.index('name="name"') < html.index('name="name_ja"') < html.index('name="name_zh_hans"')
    assert "多発ニューロパチー" in html
    scripts = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert scripts and all(not s.startswith(("http:", "https:", "//")) for s in scripts), scripts


def test_admin_saves_a_translation(client, seeded, superuser):
    client.force_login(superuser)
    row = Differential.objects.get(code="cidp")
    url = f"/admin/checklist/differential/{row.pk}/change/"
    response = client.get(url)
    form = response.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data["references"] = [r.pk for r in row.references.all()]
    data["name_zh_hans"] = "CIDP (已编辑)"
    data = {k: v for k, v in data.items() if not isinstance(v, list) or k == "references"}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Differential.objects.get(code="cidp").name_zh_hans == "CIDP (已编辑)"


def test_an_untranslated_checklist_label_is_marked_and_the_translated_ones_are_not(seeded, publish_draft):
    Finding.objects.filter(code="hepatomegaly").update(label_ja=None)
    publish_draft("Japanese label removed to test the fallback on the form.")
    html = _page("/ja/")
    assert re.search(r'<span lang="en-GB">Hepatomegaly</span><span class="in-english', html)
    assert html.count('class="in-english') == 1  # every other checklist text is translated
    assert '<span lang="en-GB">脾腫' not in html and "脾腫" in html
