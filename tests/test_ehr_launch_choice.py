"""The SMART launch with no target offers Checklist and Follow-up (issue 21, design.md §3.8).

The EHR is faked at the HTTP boundary (tests/test_ehr_follow_up.py's FakeEhr: SMART
configuration, token endpoint, a paging FHIR server); our launch, callback, reads, the
choice page and the two pages run as deployed. The choice opens the filled page from the
record read at the callback: no second authorisation, no second read.
"""

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core import signing
from django.test import Client

from checklist.ehr import smart
from tests.test_ehr_follow_up import SECRET, VISITS, _launch, _selected, _value, ehr  # noqa: F401

pytestmark = pytest.mark.django_db


def _post(client, data):
    """As a browser posts a form: urlencoded (the pages split such a body themselves)."""
    return client.post("/smart/open", urlencode(data), content_type="application/x-www-form-urlencoded")


def _choice(client, ehr):  # noqa: F811
    _redirect, state = _launch(client)
    page = client.get("/smart/callback", {"code": "the-code", "state": state})
    assert page.status_code == 200, page.content[:300]
    html = page.content.decode()
    record = re.search(r'name="record" value="([^"]+)"', html)
    assert record, "the choice page carries the record read"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return html, {"record": record.group(1), "csrfmiddlewaretoken": token.group(1) if token else ""}


def test_no_target_shows_the_choice_after_reading_the_record_once(client, seeded, ehr):  # noqa: F811
    html, _form = _choice(client, ehr)
    assert 'name="open" value="checklist"' in html and 'name="open" value="follow_up"' in html
    assert "Not a diagnosis" in html and 'class="notice"' in html
    # The language switch submits the form (a link would lose the record).
    assert 'form="smart-choice" name="switch_lang" value="ja"' in html
    assert f"({VISITS} dates)" in html
    assert SECRET not in html
    # Two Observation searches: every page of the follow-up's codes, then the checklist's others.
    followup = {"75628-8", "33358-3", "25700-6", "36916-5", "33944-0", "48378-4"}
    asked = [
        frozenset(c.rsplit("|", 1)[-1] for c in parse_qs(urlsplit(u).query)["code"][0].split(","))
        for u in ehr.searches
    ]
    assert asked[0] == followup and all(a == followup for a in asked[:4])  # 181 results, 50 a page
    assert len(asked) == 5 and not asked[4] & followup and "777-3" in asked[4]
    assert all(parse_qs(urlsplit(u).query)["_sort"] == ["-date"] for u in ehr.searches)


def test_choosing_follow_up_opens_the_filled_flowsheet_without_a_second_read(client, seeded, ehr):  # noqa: F811
    _html, form = _choice(client, ehr)
    reads = len(ehr.searches)
    page = _post(client, {**form, "open": "follow_up"})
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0") or "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert 'id="fu-form"' in html and "Filled from the record" in html
    assert _value(html, "visits") == str(VISITS)
    assert _value(html, "v1__vegf_pg_ml") == "1400" and _value(html, f"v{VISITS}__vegf_pg_ml") == "1300"
    assert _selected(html, f"v{VISITS}__vegf_specimen") == "plasma"
    assert "Possible progression: review.</strong> Raised by:" in html
    assert len(ehr.searches) == reads  # nothing read again


def test_choosing_the_checklist_opens_it_filled_with_the_newest_values(client, seeded, ehr):  # noqa: F811
    _html, form = _choice(client, ehr)
    reads = len(ehr.searches)
    page = _post(client, {**form, "open": "checklist"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Pre-filled from the record" in html
    assert _value(html, "vegf_pg_ml") == "1300"  # the newest VEGF only
    assert _selected(html, "vegf_pg_ml__unit") == "pg/mL"
    assert len(ehr.searches) == reads


def test_the_language_switch_keeps_the_choice_and_the_page_opens_in_that_language(client, seeded, ehr):  # noqa: F811
    _html, form = _choice(client, ehr)
    japanese = _post(client, {**form, "switch_lang": "ja"})
    assert japanese.status_code == 200
    jhtml = japanese.content.decode()
    assert '<html lang="ja">' in jhtml and 'name="open" value="follow_up"' in jhtml
    assert "カルテから開く" in jhtml and "経過観察" in jhtml  # the page's words, translated
    assert 'name="lang" value="ja"' in jhtml
    again = re.search(r'name="record" value="([^"]+)"', jhtml).group(1)
    page = _post(client, {**form, "record": again, "lang": "ja", "open": "follow_up"})
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="ja">' in html and _value(html, "visits") == str(VISITS)


def test_a_forged_expired_or_unknown_choice_is_refused_with_a_message(client, seeded, ehr, monkeypatch):  # noqa: F811
    _html, form = _choice(client, ehr)
    forged = signing.dumps({"checklist": {"post": {"vegf_pg_ml": "9999"}, "record": []}}, salt="other")
    page = _post(client, {**form, "record": forged, "open": "checklist"})
    assert page.status_code == 400 and "Launch the app again" in page.content.decode()
    page = _post(client, {**form, "open": "elsewhere"})
    assert page.status_code == 400 and "checklist, follow_up" in page.content.decode()
    page = _post(client, {**form, "switch_lang": "xx"})
    assert page.status_code == 400 and "ja" in page.content.decode()
    monkeypatch.setattr(smart, "LAUNCH_MAX_AGE_SECONDS", -1)
    page = _post(client, {**form, "open": "checklist"})
    assert page.status_code == 400 and "expired" in page.content.decode()
    again = client.get("/smart/open")
    assert (
        again.status_code == 405
        and again["Allow"] == "POST"
        and "launch the app again" in again.content.decode()
    )


def test_the_choice_is_csrf_protected(seeded, ehr):  # noqa: F811
    # Another site cannot post a record of its own launch into a clinician's browser.
    browser = Client(enforce_csrf_checks=True)
    _html, form = _choice(browser, ehr)
    assert form["csrfmiddlewaretoken"]
    assert _post(browser, {**form, "open": "checklist"}).status_code == 200
    stranger = Client(enforce_csrf_checks=True)
    assert _post(stranger, {"record": form["record"], "open": "checklist"}).status_code == 403


def test_target_and_app_context_stay_direct_routes(client, seeded, ehr):  # noqa: F811
    _redirect, state = _launch(client, target="checklist")
    html = client.get("/smart/callback", {"code": "the-code", "state": state}).content.decode()
    assert "Pre-filled from the record" in html and "smart-choice" not in html
    ehr.app_context = "follow_up"
    _redirect, state = _launch(client)
    html = client.get("/smart/callback", {"code": "the-code", "state": state}).content.decode()
    assert 'id="fu-form"' in html and "smart-choice" not in html


@pytest.mark.parametrize("choice", ["follow_up", "checklist"])
def test_an_opened_page_switches_language_by_re_opening_the_record(client, seeded, ehr, choice):  # noqa: F811
    """Issue 21: the language switch on a page opened from a launch led to an error page (a
    link to /smart/open is a GET with no record). It now re-opens the signed record."""
    _html, form = _choice(client, ehr)
    reads = len(ehr.searches)
    html = _post(client, {**form, "open": choice}).content.decode()
    switch = html[html.index('aria-label="Language"') :]
    switch = switch[: switch.index("</nav>")]
    assert 'href="/smart/' not in switch and 'form="reopen-record" name="lang" value="ja"' in switch
    assert 'rel="alternate"' not in html  # no alternate address to give for a launched page
    carried = re.search(
        r'id="reopen-record".*?name="record" value="([^"]+)".*?name="open" value="(\w+)"', html
    )
    assert carried and carried.group(2) == choice
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    page = _post(
        client, {"csrfmiddlewaretoken": token, "record": carried.group(1), "open": choice, "lang": "ja"}
    )
    assert page.status_code == 200
    japanese = page.content.decode()
    assert '<html lang="ja">' in japanese
    if choice == "follow_up":
        assert _value(japanese, "visits") == str(VISITS)
    else:
        assert _value(japanese, "vegf_pg_ml") == "1300"
    assert len(ehr.searches) == reads  # re-opened from what was read, not read again


@pytest.mark.parametrize("target", ["follow_up", "checklist"])
def test_a_page_rendered_at_the_callback_switches_language_by_re_opening_the_record(
    client,
    seeded,
    ehr,  # noqa: F811
    target,
):
    """A launch with a target renders its page at /smart/callback, a one-time address: no
    language link may point back at it; the switch re-opens what was read."""
    _redirect, state = _launch(client, target=target)
    page = client.get("/smart/callback", {"code": "the-code", "state": state})
    html = page.content.decode()
    assert page.status_code == 200 and 'href="/smart/' not in html
    reads = len(ehr.searches)
    reopen = r'id="reopen-record".*?name="record" value="([^"]+)".*?name="open" value="(\w+)"'
    carried = re.search(reopen, html)
    assert carried and carried.group(2) == target
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    again = {"csrfmiddlewaretoken": token, "record": carried.group(1), "open": target, "lang": "zh-hans"}
    chinese = _post(client, again).content.decode()
    assert '<html lang="zh-Hans">' in chinese
    name = "visits" if target == "follow_up" else "vegf_pg_ml"
    assert _value(chinese, name) == _value(html, name) and _value(html, name)
    assert len(ehr.searches) == reads
