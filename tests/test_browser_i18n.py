"""Japanese and Chinese pages in a real browser (design.md §3.12): axe clean, lang right, CJK drawn.

Laptop (1280x800) and phones (390x844, 360x800), the pages whose interface strings are
translated in this first wave. Screenshots: var/screenshots/i18n-<lang>-<page>-<viewport>.png.
"""

import pytest
from django.core.management import call_command

from tests.browser_helpers import AXE_OPTIONS, axe_line, chromium_browser, screenshot

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

VIEWPORTS = {
    "laptop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
    "phone360": {"width": 360, "height": 800},
}
LANGS = {"ja": "ja", "zh-hans": "zh-Hans"}
PAGES = ["criteria", "about", "differentials", "references", "changelog"]


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
def test_translated_pages_pass_axe_with_lang_right(browser, site, lang, viewport):
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport=VIEWPORTS[viewport], locale=lang)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        lines = []
        for name in PAGES:
            page.goto(f"{site}/{lang}/{name}")
            assert page.evaluate("document.documentElement.lang") == LANGS[lang]
            # The review status and the switch are on the page; the font stack reached a CJK face.
            assert page.locator(".translation-status").is_visible()
            assert page.locator(".language-switch a[aria-current]").count() == 1
            family = page.evaluate("getComputedStyle(document.body).fontFamily")
            assert ("Noto Sans CJK JP" if lang == "ja" else "Noto Sans CJK SC") in family
            # Nothing wider than the phone: CJK lines and long codes wrap.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
            results = Axe().run(page, options=AXE_OPTIONS)
            lines.append(axe_line(f"/{lang}/{name}", results))
            if name in ("criteria", "about") and viewport != "phone360":
                screenshot(page, f"i18n-{lang}-{name}-{viewport}")
        assert all(line.endswith(" 0 violations") for line in lines), lines
    finally:
        context.close()


def test_first_visit_with_a_japanese_browser_lands_on_japanese(browser, site):
    context = browser.new_context(viewport=VIEWPORTS["laptop"], locale="ja-JP")
    try:
        page = context.new_page()
        page.goto(f"{site}/about")
        assert page.url.endswith("/ja/about")
        # The switch's English link sticks, though the browser still asks for Japanese.
        page.locator('.language-switch a[hreflang="en-GB"]').click()
        page.wait_for_load_state()
        assert page.url == f"{site}/about"
        page.goto(f"{site}/criteria")
        assert page.url == f"{site}/criteria"
        assert page.evaluate("document.documentElement.lang") == "en-GB"
    finally:
        context.close()


HEADLINE = {"ja": "診断基準を満たす", "zh-hans": "符合诊断标准"}


@pytest.mark.parametrize("viewport", ["laptop", "phone", "phone360"])
@pytest.mark.parametrize("lang", LANGS)
def test_a_case_in_japanese_and_chinese_answer_in_view_axe_clean_print_on_one_page(
    browser, site, lang, viewport
):
    """Issue 23: a clinician fills in the checklist in ja or zh-hans; the answer, in that language,
    is in view (the answer bar on a phone), axe is clean with lang right, nothing overflows, and the
    print view of the case is one A4 page (laptop)."""
    import io

    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect
    from pypdf import PdfReader

    from tests.browser_helpers import fill_case_with_mouse

    context = browser.new_context(viewport=VIEWPORTS[viewport], locale=lang, reduced_motion="reduce")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{site}/{lang}/")
        fill_case_with_mouse(page)
        headline = page.locator("#result .headline")
        expect(headline).to_contain_text(HEADLINE[lang], timeout=10_000)
        assert "Meets the criteria" not in headline.inner_text()
        box = headline.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORTS[viewport]["height"]
        assert page.evaluate("document.documentElement.lang") == LANGS[lang]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        results = Axe().run(page, options=AXE_OPTIONS)
        screenshot(page, f"i18n-{lang}-case-{viewport}")
        assert results.violations_count == 0, axe_line(f"/{lang}/ with a case", results)
        if viewport != "laptop":
            return
        with context.expect_page() as opened:
            page.evaluate(
                "(action) => { const f = document.getElementById('case-form');"
                " f.action = action; f.target = '_blank'; f.submit(); }",
                f"/{lang}/report",
            )
        report = opened.value
        report.wait_for_load_state()
        assert report.evaluate("document.documentElement.lang") == LANGS[lang]
        reader = PdfReader(io.BytesIO(report.pdf(format="A4")))
        text = "\n".join(p.extract_text() for p in reader.pages)
        assert len(reader.pages) == 1, f"{lang} print view: {len(reader.pages)} pages"
        assert HEADLINE[lang] in text.replace("\n", "").replace(" ", "")
    finally:
        context.close()
