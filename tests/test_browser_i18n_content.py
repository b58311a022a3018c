"""Translated content in a real browser (issue 23): the checklist and a differential in ja and zh-hans.

Laptop (1366x768) and phone (390x844): the content reads in the page's language, the page's
lang is right, nothing that was translated is marked English, and axe (WCAG 2.2 AA) is clean.
Screenshots: screens/content-<lang>-<page>-<viewport>.png (not committed).
"""

from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser_helpers import AXE_OPTIONS, axe_line, chromium_browser

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parent.parent / "screens"
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
LANGS = {"ja": "ja", "zh-hans": "zh-Hans"}
# A criterion's name and a differential's title, as the seed translations write them.
WORDS = {
    "ja": {"criterion": "多発ニューロパチー", "differential": "多発性骨髄腫"},
    "zh-hans": {"criterion": "多发性神经病", "differential": "多发性骨髓瘤"},
}


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
@pytest.mark.parametrize("lang", LANGS)
def test_checklist_and_differential_content_is_translated_and_axe_clean(browser, site, lang, viewport):
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport=VIEWPORTS[viewport], locale=lang)
    context.set_default_timeout(15_000)
    page = context.new_page()
    SCREENS.mkdir(exist_ok=True)
    try:
        lines = []
        for name, path in (("checklist", "/"), ("differential", "/differentials/multiple_myeloma")):
            page.goto(f"{site}/{lang}{path}")
            assert page.evaluate("document.documentElement.lang") == LANGS[lang]
            if name == "checklist":
                legend = page.locator("#row-polyneuropathy legend").first
                assert WORDS[lang]["criterion"] in legend.inner_text()
                assert "Polyneuropathy" not in legend.inner_text()
                # Tick a criterion: the live result answers in the page's language too.
                page.locator("label[for='id_polyneuropathy_0']").first.click()
                page.wait_for_timeout(600)
            else:
                assert WORDS[lang]["differential"] in page.locator("h1").inner_text()
            # Translated content carries no English mark; the page's own lang applies.
            assert (
                page.locator("main h1[lang='en-GB'], main .crit-row legend span[lang='en-GB']").count() == 0
            )
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
            results = Axe().run(page, options=AXE_OPTIONS)
            lines.append(axe_line(f"/{lang}{path}", results))
            page.screenshot(path=str(SCREENS / f"content-{lang}-{name}-{viewport}.png"))
        assert all(line.endswith(" 0 violations") for line in lines), lines
    finally:
        context.close()
