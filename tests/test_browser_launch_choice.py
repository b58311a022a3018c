"""The launch-choice page (SMART launch with no target) in a real browser: laptop 1280x800 and
phones 390x844 and 360x800, axe WCAG 2.2 AA clean in English and after the language switch,
both choices open the filled page. Screenshots: var/screenshots/launch-choice-*.png.

The EHR is tests/test_ehr_follow_up.py's FakeEhr behind httpx (the live server runs in this
process); the browser context starts the launch and then comes back to our callback, as from
an EHR that has already authorised.

Run: DEBUG=0 .venv/bin/python -m pytest tests/test_browser_launch_choice.py -p no:randomly -n 0 -q
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command

from tests.browser_helpers import AXE_OPTIONS, axe_line, chromium_browser, screenshot, write_result
from tests.test_ehr_follow_up import FHIR, VISITS, ehr  # noqa: F401

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

pytestmark = pytest.mark.browser

DEVICES = {
    "laptop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
    "phone360": {"width": 360, "height": 800},
}


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def site(browser, live_server, transactional_db, ehr):  # noqa: F811
    call_command("load_content", verbosity=0)
    from checklist.content import rule_book as content

    content.invalidate()
    return live_server.url


def open_choice(browser, site, viewport):
    ctx = browser.new_context(viewport=viewport, reduced_motion="reduce")
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()

    # The launch sets its signed cookie in this context; the EHR's authorisation page is
    # skipped (it is not on this machine): the browser goes back to the callback as it would.
    launch = ctx.request.get(f"{site}/smart/launch?iss={FHIR}&launch=xyz", max_redirects=0)
    assert launch.status == 302
    state = parse_qs(urlsplit(launch.headers["location"]).query)["state"][0]
    page.goto(f"{site}/smart/callback?code=the-code&state={state}")
    expect(page.locator("#smart-choice")).to_be_visible()
    return ctx, page


@pytest.mark.parametrize("device", list(DEVICES))
def test_the_choice_page_is_axe_clean_and_opens_the_follow_up(site, browser, device):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    lines = []
    ctx, page = open_choice(browser, site, DEVICES[device])
    try:
        results = axe.run(page, options=AXE_OPTIONS)
        lines.append(axe_line("/smart/callback (choice)", results))
        assert results.violations_count == 0, results.generate_report()
        assert page.locator(".notice").is_visible()
        # Both choices in view without scrolling, on a phone too.
        for name in ("checklist", "follow_up"):
            box = page.locator(f"button[name=open][value={name}]").bounding_box()
            assert box and box["y"] + box["height"] <= DEVICES[device]["height"], name
            assert box["height"] >= 24 and box["width"] >= 24  # WCAG 2.2 target size
        screenshot(page, f"launch-choice-{device}")
        page.click("button[name=switch_lang][value=ja]")
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        expect(page.locator("#smart-choice")).to_be_visible()
        results = axe.run(page, options=AXE_OPTIONS)
        lines.append(axe_line("/smart/open (choice, ja)", results))
        assert results.violations_count == 0, results.generate_report()
        screenshot(page, f"launch-choice-{device}-ja")
        page.click("button[name=switch_lang][value=en-gb]")
        expect(page.locator("html")).to_have_attribute("lang", "en-GB")
        page.click("button[name=open][value=follow_up]")
        expect(page.locator("#fu-form")).to_be_visible()
        assert page.locator("input[name=visits]").input_value() == str(VISITS)
        screenshot(page, f"launch-choice-{device}-follow-up")
    finally:
        ctx.close()
    write_result(f"axe_launch_choice_{device}.txt", "axe WCAG 2.2 AA, launch choice\n" + "\n".join(lines))


def test_the_checklist_choice_opens_the_prefilled_checklist(site, browser):
    ctx, page = open_choice(browser, site, DEVICES["laptop"])
    try:
        page.click("button[name=open][value=checklist]")
        expect(page.locator("#from-record, .from-record").first).to_be_visible()
        assert page.locator("input[name=vegf_pg_ml]").input_value() == "1300"
        screenshot(page, "launch-choice-laptop-checklist")
        # The opened page's language switch re-opens the record in Japanese (issue 21: it was a
        # link to /smart/open, which answered an error page).
        page.click(".language-switch button[value=ja]")
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        expect(page.locator("#from-record, .from-record").first).to_be_visible()
        assert page.locator("input[name=vegf_pg_ml]").input_value() == "1300"
        screenshot(page, "launch-choice-laptop-checklist-ja")
    finally:
        ctx.close()
