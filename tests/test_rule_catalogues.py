"""The app catalogues of the engine's texts (checklist/locale/): complete, numbers kept, glossary used."""

import csv
import gettext
import re
from pathlib import Path

import polib
import pytest

from checklist.content.msgids import CATALOGUES, msgids
from checklist.content.translation_check import catalogue_problems

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "locale" / "glossary.tsv"
_PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _po(language):
    return polib.pofile(str(CATALOGUES[language]))


@pytest.mark.parametrize("language", CATALOGUES)
def test_every_engine_text_is_translated_and_none_is_fuzzy(language):
    po = _po(language)
    assert {e.msgid for e in po} == set(msgids())
    assert [e.msgid for e in po if not e.msgstr.strip()] == []
    assert [e.msgid for e in po if "fuzzy" in e.flags or e.obsolete] == []
    assert "NOT reviewed by a clinician" in po.header and "draft" in po.header


@pytest.mark.parametrize("language", CATALOGUES)
def test_the_compiled_catalogue_is_what_django_reads(language):
    # make setup's compilemessages walks checklist/locale too; the .mo holds every entry.
    mo = CATALOGUES[language].with_suffix(".mo")
    with mo.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    wrong = [e.msgid for e in _po(language) if compiled.gettext(e.msgid) != e.msgstr]
    assert wrong == []


@pytest.mark.parametrize("language", CATALOGUES)
def test_placeholders_numbers_and_comparators_are_kept(language):
    pairs = [(e.msgid, e.msgstr) for e in _po(language)]
    assert catalogue_problems(pairs) == []
    for msgid, msgstr in pairs:
        assert sorted(_PLACEHOLDER.findall(msgid)) == sorted(_PLACEHOLDER.findall(msgstr)), msgid
        for sign in ("<=", ">=", "<", ">", "[unverified]", "[secondary]", "§"):
            assert msgid.count(sign) == msgstr.count(sign), (msgid, sign)


def _glossary_misses(language, source, text):
    """As tests/test_translations_ja_pages.py reads the glossary: the longer term first, masked
    (plasma cell is not the specimen plasma), hyphens as spaces, a plural as its singular; a term
    whose translation ends with the English abbreviation in brackets may stay that abbreviation."""
    with GLOSSARY.open(encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f, delimiter="\t"), key=lambda r: -len(r["english"]))
    plain = _PLACEHOLDER.sub(" ", source).replace("-", " ")
    misses = []
    for row in rows:
        pattern = re.compile(rf"\b{re.escape(row['english'].replace('-', ' '))}(?:e?s)?\b", re.IGNORECASE)
        if not pattern.search(plain):
            continue
        plain = pattern.sub(" ", plain)
        term = row[language].split(" (")[0]
        allowed = {term, row["english"]} if row[language].endswith(f"({row['english']})") else {term}
        if not any(t in text for t in allowed):
            misses.append(f"{row['english']} -> {term}")
    return misses


@pytest.mark.parametrize("language", CATALOGUES)
def test_glossary_terms_are_followed(language):
    bad = {e.msgid: m for e in _po(language) if (m := _glossary_misses(language, e.msgid, e.msgstr))}
    assert bad == {}
    used = sum(1 for e in _po(language) if _glossary_misses(language, e.msgid, "") != [])
    assert used >= 40  # the check reads real terms, not none


def test_the_checks_can_fail():
    misses = _glossary_misses("ja", "Clonal plasma cells on biopsy.", "生検で血漿")
    assert misses == ["plasma cell -> 形質細胞"]
    assert _glossary_misses("zh-hans", "plasma VEGF", "血清VEGF") == ["plasma -> 血浆"]
    assert catalogue_problems([("Acute onset (nadir within 4 weeks).", "急性発症（3週以内）")]) != []
