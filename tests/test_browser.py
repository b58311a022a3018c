"""Real-browser tests: Debian's Chromium driven by Playwright against the live server.

Covers the accessibility and front-end bars of the design (§4-§5): keyboard-only
completion, live result, the no-JavaScript path, axe on every page, phone
layout, the "copy to note" text, no third-party requests and a clean CSP.

Run: .venv/bin/python -m pytest tests/test_browser.py -p no:randomly -q -s
Figures for the closing note land in bench/results/ (keyboard_walk.txt, axe.txt).
"""

import os
import time

import pytest
from django.core.management import call_command

from tests.browser_helpers import (
    CASE_NUMBERS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    axe_line,
    fill_case_with_mouse,
    focus_with_keyboard,
    focused_description,
    write_result,
)

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

pytestmark = pytest.mark.browser

# Live updates wait 250 ms (debounce) plus a round trip; leave room on a busy machine.
LIVE_TIMEOUT_MS = 5_000


@pytest.fixture(scope="module")
def browser():
    """One Chromium for this module (module scope: Playwright's event loop must not outlive it)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    # Playwright's sync API keeps an asyncio loop registered on this thread, which
    # makes Django refuse ORM calls (loaddata, flush) from the test thread.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = playwright_sync.sync_playwright().start()
    chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()
        pw.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(browser, live_server, transactional_db):
    """The live server's base URL, with the seed content loaded and published (release 1)."""
    call_command("load_content", verbosity=0)
    from checklist import content

    content.invalidate()
    return live_server.url


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport=DESKTOP)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


def content_paths():
    """Every public page, from the loaded content (so a new treatment page is covered too)."""
    from checklist import models

    paths = ["/", "/criteria", "/about", "/treatments"]
    paths += [
        f"/treatments/{slug}"
        for slug in models.Treatment.objects.order_by("pk").values_list("slug", flat=True)
    ]
    paths += [
        f"/differentials/{code}"
        for code in models.Differential.objects.order_by("pk").values_list("code", flat=True)
    ]
    paths += ["/references", "/changelog"]
    return paths


def open_print_view(page):
    """Press the "Print view" button; the report opens in a new tab (POST /report)."""
    with page.context.expect_page() as new_page:
        page.get_by_role("button", name="Print view").click()
    report = new_page.value
    report.wait_for_load_state()
    assert report.url.endswith("/report"), report.url
    return report


def visit_every_page(page, site):
    """Go to each page in turn; yield (label, page showing it).

    Ends with the result state of / (a full case entered) and the print view.
    """
    for path in content_paths():
        response = page.goto(site + path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        yield path, page
    page.goto(site + "/")
    fill_case_with_mouse(page)
    expect(page.locator("#result")).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    yield "/ (result)", page
    page.locator("details.copy-note summary").click()
    expect(page.locator("#report-text")).to_be_visible()
    yield "/ (result, copy to note open)", page
    vegf = page.locator("input[name=vegf_pg_ml]")
    vegf.fill("999999")
    expect(page.locator("#live-error-vegf_pg_ml")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    yield "/ (field error)", page
    vegf.fill("0.5")
    expect(page.locator("#warning-vegf_pg_ml")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    yield "/ (unit warning)", page
    vegf.fill(CASE_NUMBERS["vegf_pg_ml"])
    expect(page.locator("#warning-vegf_pg_ml")).to_be_hidden(timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#result")).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    report = open_print_view(page)
    expect(report.locator("pre.report-pre")).to_contain_text("Result: Meets the criteria")
    yield "/report (print view)", report
    report.close()


# 1. Keyboard only ---------------------------------------------------------------------


def test_keyboard_only_walk_completes_a_case(site, page):
    page.goto(site + "/")
    expect(page.locator("#result")).to_contain_text("Nothing entered yet")
    presses = 0
    start = time.perf_counter()

    # The skip link comes first and takes the focus to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')"), focused_description(page)
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")

    def radio(name, arrows):
        nonlocal presses
        # Tabbing into a radio group lands on its checked option ("Not assessed");
        # the arrow keys move through the group and select.
        presses += focus_with_keyboard(page, f"input[type=radio][name={name}]")
        for _ in range(arrows):
            page.keyboard.press("ArrowDown")
            presses += 1

    def choose(name, typed):
        nonlocal presses
        presses += focus_with_keyboard(page, f"select[name={name}]")
        page.keyboard.type(typed)  # type-ahead on a closed <select>
        presses += len(typed)

    def number(name, value):
        nonlocal presses
        presses += focus_with_keyboard(page, f"input[name={name}]")
        page.keyboard.type(value)
        presses += len(value)

    radio("polyneuropathy", 1)  # Not assessed -> Present
    radio("m_protein_present", 1)
    choose("light_chain_type", "lambda")
    number("vegf_pg_ml", CASE_NUMBERS["vegf_pg_ml"])
    radio("lymphadenopathy", 1)
    number("platelets_10e9_l", CASE_NUMBERS["platelets_10e9_l"])
    # Back up with Shift+Tab to record the VEGF specimen, as one would on noticing it was skipped.
    choose("vegf_specimen", "plasma")
    # And submit from the keyboard: the button refreshes the panel in place and focuses it.
    presses += focus_with_keyboard(page, "#case-form button[type=submit]:not([formaction])")
    page.keyboard.press("Enter")
    result = page.locator("#result")
    expect(result).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    secs = time.perf_counter() - start

    # The values went in through the keyboard, as intended.
    assert page.input_value("select[name=light_chain_type]") == "lambda"
    assert page.input_value("select[name=vegf_specimen]") == "plasma"
    assert page.input_value("input[name=vegf_pg_ml]") == "450"
    assert page.is_checked("input[name=polyneuropathy][value=yes]")
    assert page.is_checked("input[name=lymphadenopathy][value=yes]")
    assert result.get_attribute("aria-live") == "polite"
    assert page.evaluate("document.activeElement.id") == "result"
    expect(page.locator("#overall-status")).to_contain_text("Mayo")

    print(f"keyboard walk: {secs:.2f}s")
    write_result(
        "keyboard_walk.txt",
        f"keyboard walk: {secs:.2f}s ({presses} key presses, headless Chromium, live server; "
        "polyneuropathy, M-protein, lambda, plasma VEGF 450 pg/mL, lymphadenopathy, platelets 480 "
        "-> Meets the criteria)",
    )


# 2. Live update and field messages ----------------------------------------------------


def test_live_update_without_navigation(site, page):
    navigations = []
    page.goto(site + "/")
    page.on(
        "framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None
    )
    url = page.url
    result = page.locator("#result")
    expect(result).to_contain_text("Nothing entered yet")

    page.check("input[name=polyneuropathy][value=yes]")
    expect(result).to_contain_text("Incomplete", timeout=LIVE_TIMEOUT_MS)
    expect(result).not_to_contain_text("Nothing entered yet")
    # The P chip of the at-a-glance row follows the form.
    expect(page.locator(".letter-chip.status-met")).to_have_count(1)

    fill_case_with_mouse(page)
    expect(result).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    assert page.url == url
    assert navigations == []


def test_live_field_error_and_unit_warning(site, page):
    page.goto(site + "/")
    fill_case_with_mouse(page)
    result = page.locator("#result")
    expect(result).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    vegf = page.locator("input[name=vegf_pg_ml]")
    item = page.locator(".item[data-code=vegf_pg_ml]")

    vegf.fill("999999")
    error = item.locator(".live-error")
    expect(error).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(error).to_contain_text("outside the plausible range")
    expect(vegf).to_have_attribute("aria-invalid", "true")
    # The message is announced with the field, next to the help text.
    described = (vegf.get_attribute("aria-describedby") or "").split()
    assert error.get_attribute("id") in described
    assert "id_vegf_pg_ml_helptext" in described  # the help text stays attached
    expect(result).to_contain_text("Some values need fixing")

    vegf.fill("0.5")
    warning = page.locator("#warning-vegf_pg_ml")
    expect(warning).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(warning).to_contain_text("ng/mL")
    expect(item.locator(".live-error")).to_have_count(0)
    assert vegf.get_attribute("aria-invalid") is None
    assert (vegf.get_attribute("aria-describedby") or "").split() == [
        "id_vegf_pg_ml_helptext",
        "warning-vegf_pg_ml",
    ]

    vegf.fill("450")
    expect(warning).to_be_hidden(timeout=LIVE_TIMEOUT_MS)
    expect(result).to_contain_text("Meets the criteria")
    assert (vegf.get_attribute("aria-describedby") or "").split() == ["id_vegf_pg_ml_helptext"]


# 3. Without JavaScript ------------------------------------------------------------------


def test_no_javascript_form_submits_and_returns_result(site, browser):
    ctx = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(site + "/")
        expect(page.locator("html")).not_to_have_class("has-js")
        expect(page.locator("#result")).to_contain_text("Nothing entered yet")
        fill_case_with_mouse(page)
        # Nothing updates live without JavaScript.
        expect(page.locator("#result")).to_contain_text("Nothing entered yet")
        with page.expect_navigation():
            page.get_by_role("button", name="Show result").click()
        expect(page.locator("#result")).to_contain_text("Meets the criteria")
        # The JS-only copy button stays hidden without JavaScript.
        expect(page.locator("#copy-report")).to_be_hidden()
        # The form comes back with what was entered.
        assert page.input_value("input[name=vegf_pg_ml]") == "450"
        assert page.input_value("select[name=light_chain_type]") == "lambda"
        assert page.is_checked("input[name=lymphadenopathy][value=yes]")

        # A bad value comes back with its message next to the field.
        page.fill("input[name=vegf_pg_ml]", "999999")
        with page.expect_navigation():
            page.get_by_role("button", name="Show result").click()
        expect(page.locator(".item[data-code=vegf_pg_ml]")).to_contain_text("outside the plausible range")
        expect(page.locator("#result")).to_contain_text("Some values need fixing")
    finally:
        ctx.close()


# 4. axe on every page -------------------------------------------------------------------


def test_axe_every_page_has_no_violations(site, page):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    lines, failures = [], []
    for label, shown in visit_every_page(page, site):
        results = axe.run(shown)
        lines.append(axe_line(label, results))
        if results.violations_count:
            failures.append(f"{label}\n{results.generate_report()}")
    summary = "\n".join(lines)
    print("\naxe result per page (axe-core, 1366x768):\n" + summary)
    write_result("axe.txt", "axe result per page (axe-core default rules, Chromium 1366x768)\n" + summary)
    # 6 fixed pages + 8 treatments + 10 differentials, then / with a result, copy note open,
    # a field error and a unit warning, and the print view.
    assert len(lines) >= 29, summary
    assert not failures, "\n\n".join(failures)


# 5. Phone and desktop layout ------------------------------------------------------------


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-360", "desktop-1366"])
def test_layout_notice_visible_and_no_horizontal_scroll(site, browser, viewport):
    ctx = browser.new_context(viewport=viewport)
    problems, checked = [], 0
    try:
        page = ctx.new_page()
        for label, shown in visit_every_page(page, site):
            checked += 1
            shown.evaluate("window.scrollTo(0, 0)")
            width = shown.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                problems.append(f"{label}: scrollWidth {width} > {viewport['width']}")
            notice = shown.locator("aside.notice")
            box = notice.bounding_box()
            if not notice.is_visible() or box is None:
                problems.append(f"{label}: notice not visible")
                continue
            if "not a diagnosis" not in notice.inner_text().lower():
                problems.append(f"{label}: notice does not say 'Not a diagnosis'")
            top, bottom = box["y"], box["y"] + box["height"]
            if not (top >= 0 and bottom <= viewport["height"]):
                problems.append(f"{label}: notice spans y={top:.0f}-{bottom:.0f}, outside the viewport")
    finally:
        ctx.close()
    assert checked >= 29
    assert not problems, "\n".join(problems)


# 6. Copy to note ------------------------------------------------------------------------


def test_copy_to_note_text(site, page):
    from checklist.content import snapshot

    page.goto(site + "/")
    fill_case_with_mouse(page)
    expect(page.locator("#result")).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    details = page.locator("details.copy-note")
    area = page.locator("#report-text")
    expect(area).to_be_hidden()
    details.locator("summary").click()
    expect(area).to_be_visible()
    text = area.input_value()
    snap = snapshot()
    default = next(s for s in snap.criteria_sets if s["slug"] == snap.book.default_set)
    assert "NOT A DIAGNOSIS" in text
    assert f"Content version: {snap.book.content_version}" in text
    assert f"Criteria set: {default['name']} ({default['slug']}, version {default['version']})" in text
    assert "Result: Meets the criteria" in text
    assert "450" in text and "lambda" in text
    # The copy button is there with JavaScript and copies the text (or says how to).
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#copy-report").click()
    expect(page.locator("#copy-status")).not_to_be_empty()


# 7. Same origin only --------------------------------------------------------------------


def test_no_requests_to_other_origins(site, page):
    urls = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto(site + "/")
    fill_case_with_mouse(page)
    expect(page.locator("#result")).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    assert any(u.endswith(".css") for u in urls) and any(u.endswith(".js") for u in urls), urls
    assert any(u == site + "/result" for u in urls), urls  # the live update happened
    foreign = [u for u in urls if not (u == site or u.startswith(site + "/"))]
    assert not foreign, foreign


# 8. Content Security Policy -------------------------------------------------------------

_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_no_csp_errors_in_console(site, page):
    messages, errors = [], []
    page.on("console", lambda msg: messages.append((msg.type, msg.text)))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(_CSP_LISTENER)
    response = page.goto(site + "/")
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, policy
    fill_case_with_mouse(page)
    expect(page.locator("#result")).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    page.locator("details.copy-note summary").click()
    page.fill("input[name=vegf_pg_ml]", "0.5")
    expect(page.locator("#warning-vegf_pg_ml")).to_be_visible(timeout=LIVE_TIMEOUT_MS)

    def csp_console():
        return [t for kind, t in messages if "Content Security Policy" in t or "Content-Security-Policy" in t]

    assert csp_console() == [], csp_console()
    assert page.evaluate("window.__cspViolations") == []
    assert errors == []

    # The listener works: an inline script is refused and reported.
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = '1';"
        " document.head.appendChild(s); }"
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    assert csp_console(), messages
