"""The SMART pages in Japanese and Chinese (issue 23): the record's section on the checklist
and the follow-up, the launch choice and the launch error show no English left untranslated
(tests.i18n_pages.untranslated). What the record mapping says of a value (a lab's name, why a
value was not filled) is English from checklist/ehr/fhir_map.py and declared so."""

import re

import pytest

from tests.i18n_pages import untranslated
from tests.test_ehr_follow_up import ehr  # noqa: F401
from tests.test_ehr_launch_choice import _choice, _post

pytestmark = pytest.mark.django_db
LANGUAGES = ("ja", "zh-hans")


def _section(html: str) -> str:
    found = re.search(r'<section class="alert alert-info from-record".*?</section>', html, re.S)
    assert found, "the page shows what was read from the record"
    return found.group(0)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_checklist_opened_from_the_record_is_translated(client, seeded, ehr, language):  # noqa: F811
    choice, form = _choice(client, ehr)
    page = _post(client, {**form, "lang": language, "open": "checklist"})
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<html lang="{"zh-Hans" if language == "zh-hans" else "ja"}">' in html
    assert untranslated(html) == []
    assert "LOINC" in _section(html)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_follow_up_from_the_record_says_what_it_read_in_the_language(client, seeded, ehr, language):  # noqa: F811
    _html, form = _choice(client, ehr)
    page = _post(client, {**form, "lang": language, "open": "follow_up"})
    assert page.status_code == 200
    assert untranslated(_section(page.content.decode())) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_launch_choice_and_its_error_are_translated(client, seeded, ehr, language):  # noqa: F811
    _html, form = _choice(client, ehr)
    switched = _post(client, {**form, "switch_lang": language})
    assert switched.status_code == 200
    assert untranslated(switched.content.decode()) == []
    page = _post(client, {**form, "lang": language, "open": "elsewhere"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "checklist, follow_up" in html  # the codes a caller may use stay as they are
    assert untranslated(html) == []


def test_the_launch_error_stays_english_in_english(client, seeded):
    response = client.get("/smart/callback", {"code": "abc", "state": "forged"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "The launch from the EHR did not complete" in html
    assert "This launch has expired or was not started here. Launch the app again from the EHR." in html
