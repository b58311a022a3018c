"""The result's reasons in Japanese in a real browser (issue 23): laptop and phone, lang right, axe clean.

Screenshots: var/screenshots/reasons-ja-<viewport>.png.
"""

import pytest
from django.core.management import call_command

from tests.browser_helpers import (
    AXE_OPTIONS,
    VIEWPORTS,
    axe_line,
    chromium_browser,
    fill_case_with_mouse,
    screenshot,
)

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

LIVE_TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def site(browser, live_server, transactional_db):
    call_command("load_content", verbosity=0)
    from checklist.content import rule_book as content

    content.invalidate()
    return live_server.url


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_reasons_show_in_japanese_with_lang_set_and_axe_clean(browser, site, viewport):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="ja")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{site}/ja/")
        fill_case_with_mouse(page)
        headline = page.locator("#result .headline")
        expect(headline).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        toggle = page.locator(".result-toggle")
        if toggle.is_visible():  # the phone's bar opens into the full result
            toggle.click()
        page.wait_for_selector("#res-criteria", state="attached", timeout=LIVE_TIMEOUT_MS)
        page.evaluate("document.getElementById('res-criteria').open = true")
        reason = page.locator("#res-criteria .reasons li", has_text="臨床医が「あり」と記録。").first
        expect(reason).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        # The reason reads as Japanese (the page's lang), the English words of ours do not remain.
        assert page.evaluate("document.documentElement.lang") == "ja"
        assert reason.evaluate("el => !el.closest('[lang=\"en-GB\"]')")
        assert page.locator("#res-criteria", has_text="Recorded by the clinician").count() == 0
        platelets = page.locator("#res-criteria .reasons li", has_text="血小板 480 x10^9/L").first
        expect(platelets).to_be_visible()
        # A content text the catalogues lack stays English and says so to a screen reader.
        english = page.locator('#result [lang="en-GB"]')
        if english.count():
            assert english.first.evaluate("el => el.lang") == "en-GB"
        screenshot(page, f"reasons-ja-{viewport}")
        results = Axe().run(page, options=AXE_OPTIONS)
        line = axe_line(f"/ja/ result ({viewport})", results)
        assert line.endswith(" 0 violations"), line
    finally:
        context.close()
