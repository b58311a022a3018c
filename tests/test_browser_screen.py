"""The screen page /screen in a real browser (Debian's Chromium through Playwright).

Laptop 1280x800 and phones 390x844 and 360x800: axe WCAG 2.2 AA in every state (empty,
red flags, no red flags, a field error), the answer in view while filling in, Back and
reload keep the case, "Open the full checklist" carries the values, print is one A4 page,
no JavaScript still answers. Screenshots land in var/screenshots/screen-*.png.

Run: DEBUG=0 .venv/bin/python -m pytest tests/test_browser_screen.py -p no:randomly -n 0 -q
"""

import io
import re

import pytest
from django.core.management import call_command

from tests.browser_helpers import (
    AXE_OPTIONS,
    SCREENSHOTS,
    axe_line,
    chromium_browser,
    screenshot,
    write_result,
)

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

pytestmark = pytest.mark.browser

LIVE_TIMEOUT_MS = 5_000
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 360, "height": 800}
DEVICES = {"laptop": LAPTOP, "phone": PHONE, "phone360": NARROW}


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


def new_page(browser, viewport, **kwargs):
    ctx = browser.new_context(viewport=viewport, **kwargs)
    ctx.set_default_timeout(10_000)
    return ctx, ctx.new_page()


def answer(page, value):
    """Choose Yes / No / Not assessed for a finding, by its label, as a clinician clicks."""
    index = {"yes": 0, "no": 1, "": 2}[value[1]]
    page.click(f"label[for=id_{value[0]}_{index}]")


RED_FLAGS = [
    ("acquired_demyelinating_neuropathy", "yes"),
    ("m_protein_present", "yes"),
    ("extravascular_volume_overload", "yes"),
    ("neuropathy_painful", "yes"),
]


def fill_red_flags(page):
    for pair in RED_FLAGS:
        answer(page, pair)
    page.select_option("select[name=heavy_chain_type]", "IgA")
    page.select_option("select[name=light_chain_type]", "lambda")
    page.fill("input[name=platelets_10e9_l]", "520")
    expect(page.locator("#answer")).to_have_attribute(
        "data-category", "screen_test_now_red_flags", timeout=LIVE_TIMEOUT_MS
    )
    expect(page.locator("#answer [data-flag=rf_thrombocytosis]")).to_have_count(1, timeout=LIVE_TIMEOUT_MS)


_IN_VIEW = """(sel) => {
  const el = document.querySelector(sel);
  if (!el) { return false; }
  const r = el.getBoundingClientRect();
  // Inside the answer, what its own scroll box clips away is not in view either.
  const box = el.closest('#result-col') ? el.closest('#result-col').getBoundingClientRect()
    : {top: 0, bottom: window.innerHeight};
  const top = Math.max(0, box.top), bottom = Math.min(window.innerHeight, box.bottom);
  return r.height > 0 && r.top >= top - 1 && r.bottom <= bottom + 1;
}"""


def in_view(page, selector):
    return page.evaluate(_IN_VIEW, selector)


def not_under_the_bar(page, selector):
    return page.evaluate(
        "(sel) => document.querySelector(sel).getBoundingClientRect().bottom"
        " <= document.getElementById('result-col').getBoundingClientRect().top + 1",
        selector,
    )


@pytest.mark.parametrize("device", list(DEVICES))
def test_axe_and_screenshots_in_every_state(site, browser, device):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    ctx, page = new_page(browser, DEVICES[device])
    lines, failures = [], []
    phone = device != "laptop"

    def check(label):
        page.evaluate("window.scrollTo(0, 0)")
        results = axe.run(page, options=AXE_OPTIONS)
        lines.append(axe_line(f"/screen ({label})", results))
        if results.violations_count:
            failures.append(f"{label}\n{results.generate_report()}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= DEVICES[device]["width"], f"{label}: sideways scroll ({width})"
        screenshot(page, f"screen-{device}-{label}")

    try:
        page.goto(site + "/screen")
        expect(page.locator("#answer .headline")).to_contain_text("Nothing entered yet")
        check("empty")
        answer(page, ("acquired_demyelinating_neuropathy", "yes"))
        expect(page.locator("#answer")).to_have_attribute(
            "data-category", "screen_test_now_policy", timeout=LIVE_TIMEOUT_MS
        )
        expect(page.locator("#answer .headline")).to_contain_text("No POEMS red flags")
        check("no-red-flags")
        fill_red_flags(page)
        check("red-flags")
        if phone:
            page.click(".result-toggle")
            expect(page.locator("#answer-detail")).to_be_visible()
            expect(page.locator("#answer [data-test=vegf]")).to_be_visible()
            check("red-flags-full-answer")
            page.keyboard.press("Escape")
        page.fill("input[name=vegf_pg_ml]", "lots")
        expect(page.locator("#msg-vegf_pg_ml")).to_contain_text("Enter a number", timeout=LIVE_TIMEOUT_MS)
        check("field-error")
    finally:
        ctx.close()
    write_result(f"axe_screen_{device}.txt", f"axe WCAG 2.2 AA, /screen ({device})\n" + "\n".join(lines))
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("device", list(DEVICES))
def test_the_answer_stays_in_view_while_filling_in(site, browser, device):
    ctx, page = new_page(browser, DEVICES[device])
    try:
        page.goto(site + "/screen")
        fill_red_flags(page)
        # The last item, at the bottom of the form: the answer is still on screen.
        page.locator("#id_recent_acute_illness_1").scroll_into_view_if_needed()
        answer(page, ("recent_acute_illness", "no"))
        assert in_view(page, "#answer .headline"), "the headline scrolled away"
        assert in_view(page, "#id_recent_acute_illness_1 + label"), "the field scrolled away"
        if device == "laptop":
            # The side panel shows the tests to order, not just the headline.
            assert in_view(page, "#answer [data-test=vegf]")
        else:
            assert not_under_the_bar(page, "#id_recent_acute_illness_1 + label"), "the field is under the bar"
            bar = page.locator("#result-col").bounding_box()
            assert bar["height"] <= 0.2 * DEVICES[device]["height"], bar
        screenshot(page, f"screen-{device}-filling-in")
    finally:
        ctx.close()


def test_back_and_reload_keep_the_case_and_open_the_full_checklist_carries_it(site, browser):
    ctx, page = new_page(browser, LAPTOP)
    try:
        page.goto(site + "/screen")
        fill_red_flags(page)
        page.fill("input[name=vegf_pg_ml]", "0.45")
        page.select_option("select[name=vegf_pg_ml__unit]", "ng/mL")
        page.select_option("select[name=vegf_specimen]", "plasma")
        page.fill("input[name=vegf_date]", "2026-11-01")
        expect(page.locator("#answer [data-flag=rf_vegf_raised]")).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
        page.reload()
        expect(page.locator("#restored")).to_be_visible()
        assert page.input_value("input[name=platelets_10e9_l]") == "520"
        assert page.is_checked("#id_m_protein_present_0")
        expect(page.locator("#answer [data-flag=rf_thrombocytosis]")).to_have_count(
            1, timeout=LIVE_TIMEOUT_MS
        )

        with page.expect_navigation():
            page.get_by_role("button", name="Open the full checklist").click()
        assert page.url.rstrip("/") == site.rstrip("/")
        expect(page.locator("h1")).to_contain_text("criteria checklist")
        assert page.is_checked("#id_polyneuropathy_0")
        assert page.is_checked("#id_m_protein_present_0")
        assert page.is_checked("#id_extravascular_volume_overload_0")
        assert page.is_checked("#id_neuropathy_painful_0")
        assert page.input_value("input[name=platelets_10e9_l]") == "520"
        assert page.input_value("input[name=vegf_pg_ml]") == "0.45"
        assert page.input_value("select[name=vegf_pg_ml__unit]") == "ng/mL"
        assert page.input_value("select[name=light_chain_type]") == "lambda"
        assert page.input_value("select[name=heavy_chain_type]") == "IgA"
        screenshot(page, "screen-carried-to-checklist")

        page.go_back()
        expect(page.locator("h1")).to_contain_text("Could this neuropathy be POEMS?")
        assert page.input_value("input[name=platelets_10e9_l]") == "520"
        assert page.input_value("input[name=vegf_date]") == "2026-11-01"
        expect(page.locator("#answer [data-flag=rf_vegf_raised]")).to_have_count(1, timeout=LIVE_TIMEOUT_MS)

        # Arriving afresh (the menu) starts an empty screen.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="CIDP clinic screen").click()
        page.wait_for_load_state()
        assert page.input_value("input[name=platelets_10e9_l]") == ""
        expect(page.locator("#restored")).to_be_hidden()
    finally:
        ctx.close()


def test_print_is_one_a4_page_with_the_answer_inputs_and_notice(site, browser):
    from pypdf import PdfReader

    ctx, page = new_page(browser, LAPTOP)
    try:
        page.goto(site + "/screen")
        fill_red_flags(page)
        for pair in [
            ("skin_changes", "no"),
            ("organomegaly", "no"),
            ("ivig_refractory", "yes"),
            ("copd", "no"),
        ]:
            answer(page, pair)
        page.fill("input[name=median_tli]", "0.42")
        expect(page.locator("#answer [data-flag=rf_ncs_profile]")).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
        pdf = page.pdf(format="A4", print_background=False)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "screen-print.pdf").write_bytes(pdf)
        reader = PdfReader(io.BytesIO(pdf))
        text = "\n".join(p.extract_text() for p in reader.pages)
        write_result("print_pages_screen.txt", f"screen print: {len(reader.pages)} A4 page(s), 7 red flags")
        assert len(reader.pages) == 1, text[:3000]
        for expected in (
            "Tests to order",
            "ags found",  # "fl" is one ligature glyph in the PDF's text
            "Inputs, as entered",
            "Platelet count: 520",
            "Not a diagnosis",
            "Content version",
        ):
            assert expected in text, expected
        assert "Not assessed\n" not in text and "Open the full checklist" not in text
        page.emulate_media(media="print")
        screenshot(page, "screen-print", full_page=True)
    finally:
        ctx.close()


def test_copy_to_note(site, browser):
    ctx, page = new_page(browser, LAPTOP, permissions=["clipboard-read", "clipboard-write"])
    try:
        page.goto(site + "/screen")
        fill_red_flags(page)
        page.locator("#screen-note summary").click()
        note = page.input_value("#screen-note-text")
        assert 5 <= len(note.strip().splitlines()) <= 7
        assert "Not a diagnosis" in note and "Red flags: " in note
        page.click("#screen-note .copy-btn")
        expect(page.locator("#screen-note .copy-status")).to_have_text(re.compile("Copied|Ctrl"))
        # The open note stays open and follows the case.
        answer(page, ("ivig_refractory", "yes"))
        expect(page.locator("#answer [data-flag=rf_ivig_refractory]")).to_have_count(
            1, timeout=LIVE_TIMEOUT_MS
        )
        expect(page.locator("#screen-note")).to_have_attribute("open", "")
        assert "No response to IVIG" in page.input_value("#screen-note-text")
    finally:
        ctx.close()


def test_without_javascript_the_form_posts_and_the_answer_comes_back(site, browser):
    ctx, page = new_page(browser, LAPTOP, java_script_enabled=False)
    try:
        page.goto(site + "/screen")
        expect(page.locator("#answer .headline")).to_contain_text("Nothing entered yet")
        for pair in RED_FLAGS[:2]:
            answer(page, pair)
        page.select_option("select[name=light_chain_type]", "lambda")
        page.select_option("select[name=heavy_chain_type]", "IgG")
        with page.expect_navigation():
            page.get_by_role("button", name="Show the answer").click()
        expect(page.locator("#answer")).to_have_attribute("data-category", "screen_test_now_red_flags")
        expect(page.locator("#answer [data-flag=rf_lambda_mprotein]")).to_be_visible()
        assert page.is_checked("#id_m_protein_present_0")
        with page.expect_navigation():
            page.get_by_role("button", name="Open the full checklist").click()
        assert page.is_checked("#id_polyneuropathy_0")
        assert page.input_value("select[name=light_chain_type]") == "lambda"
    finally:
        ctx.close()


def test_no_csp_errors_on_the_screen(site, browser):
    from tests.test_browser import _CSP_LISTENER

    ctx, page = new_page(browser, LAPTOP)
    messages, errors = [], []
    page.on("console", lambda m: messages.append(m.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(_CSP_LISTENER)
    try:
        response = page.goto(site + "/screen")
        assert "script-src 'self'" in response.headers.get("content-security-policy", "")
        fill_red_flags(page)
        page.locator("#screen-note summary").click()
        assert [m for m in messages if "Content Security Policy" in m or "Content-Security-Policy" in m] == []
        assert page.evaluate("window.__cspViolations") == []
        assert errors == []
    finally:
        ctx.close()
