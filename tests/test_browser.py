"""Real-browser tests: Debian's Chromium driven by Playwright against the live server.

Covers the accessibility and front-end bars of the design (§4-§5): keyboard-only
completion, live result, the no-JavaScript path, axe on every page, phone
layout, the "copy to note" text, no third-party requests and a clean CSP.

Run: .venv/bin/python -m pytest tests/test_browser.py -p no:randomly -q -s
Figures for the closing note land in bench/results/ (keyboard_walk.txt, axe.txt).
"""

import re
import time

import pytest
from django.core.management import call_command

from tests.browser_helpers import (
    AXE_OPTIONS,
    CASE_FINDINGS,
    CASE_NUMBERS,
    CASE_SELECTS,
    DESKTOP,
    PHONE,
    VIEWPORTS,
    axe_line,
    chromium_browser,
    fill_case_with_mouse,
    focus_with_keyboard,
    focused_description,
    reveal,
    screenshot,
    set_finding,
    write_result,
)

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

pytestmark = pytest.mark.browser

# Live updates wait 250 ms (debounce) plus a round trip; leave room on a busy machine.
LIVE_TIMEOUT_MS = 5_000


@pytest.fixture(scope="module")
def browser():
    """One Chromium for this module."""
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def site(browser, live_server, transactional_db):
    """The live server's base URL, with the seed content loaded and published (release 1)."""
    call_command("load_content", verbosity=0)
    from checklist.content import rule_book as content

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
    from checklist.content import models

    paths = ["/", "/criteria", "/about", "/treatments", "/differentials"]
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
    """The print view for a case without JavaScript's window.print(): POST /report in a new tab."""
    with page.context.expect_page() as new_page:
        page.evaluate(
            "() => { const f = document.getElementById('case-form');"
            " const [a, t] = [f.action, f.target]; f.action = '/report'; f.target = '_blank';"
            " f.submit(); f.action = a; f.target = t; }"
        )
    report = new_page.value
    report.wait_for_load_state()
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
    page.click("#case-form details.more summary >> nth=0")
    yield "/ (a disclosure open)", page
    fill_case_with_mouse(page)
    expect(page.locator("#result")).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    yield "/ (result)", page
    phone = bool(page.viewport_size and page.viewport_size["width"] < 992)
    if phone:
        page.click(".result-toggle")
        yield "/ (phone: full result open)", page
    page.locator("#result details.res-block summary >> nth=0").click()
    yield "/ (criteria with reasons open)", page
    page.locator("details.copy-note summary").click()
    expect(page.locator("#report-short")).to_be_visible()
    yield "/ (result, copy to note open)", page
    if phone:
        page.click(".result-toggle")
    vegf = page.locator("input[name=vegf_pg_ml]")
    vegf.fill("-5")
    expect(page.locator(".error-summary")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    yield "/ (field error)", page
    vegf.fill("0.5")
    expect(page.locator("#msg-vegf_pg_ml.is-warning")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    yield "/ (unit warning)", page
    vegf.fill(CASE_NUMBERS["vegf_pg_ml"])
    expect(page.locator("#msg-vegf_pg_ml")).to_be_hidden(timeout=LIVE_TIMEOUT_MS)
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
    presses += 2

    def present(name):
        nonlocal presses
        # Tabbing into a radio group lands on its checked option ("Not assessed", the
        # last); ArrowDown wraps round to "Present".
        presses += focus_with_keyboard(page, f"input[type=radio][name={name}]:checked")
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

    present("polyneuropathy")
    present("monoclonal_plasma_cell_disorder")
    # Open "More" under the clone with Enter, and record the light chain inside it.
    presses += focus_with_keyboard(page, "#row-monoclonal_plasma_cell_disorder details.more > summary")
    page.keyboard.press("Enter")
    presses += 1
    choose("light_chain_type", "lambda")
    number("vegf_pg_ml", CASE_NUMBERS["vegf_pg_ml"])
    choose("vegf_specimen", "plasma")
    present("organomegaly")
    result = page.locator("#result")
    expect(result).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    secs = time.perf_counter() - start

    assert page.input_value("select[name=light_chain_type]") == "lambda"
    assert page.input_value("select[name=vegf_specimen]") == "plasma"
    assert page.input_value("input[name=vegf_pg_ml]") == "450"
    assert page.is_checked("input[name=polyneuropathy][value=yes]")
    assert page.is_checked("input[name=organomegaly][value=yes]")
    expect(page.locator("#live-status")).to_have_text(re.compile(r"^Meets the criteria, "))

    # 55 presses today (189 before the compact page): a return towards the long form fails.
    assert presses <= 70, presses
    write_result(
        "keyboard_walk.txt",
        f"keyboard walk: {presses} key presses, {secs:.2f}s (headless Chromium, live server; "
        "polyneuropathy, monoclonal disorder, lambda, plasma VEGF 450 pg/mL, organomegaly "
        "-> Meets the criteria)",
    )


# 2. The answer: live, in view, never blank ---------------------------------------------


def test_live_update_without_navigation(site, page):
    navigations = []
    page.goto(site + "/")
    page.on(
        "framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None
    )
    url = page.url
    result = page.locator("#result")
    expect(result).to_contain_text("Nothing entered yet")
    set_finding(page, "polyneuropathy", "yes")
    expect(result).to_contain_text("Incomplete", timeout=LIVE_TIMEOUT_MS)
    # The P chip of the at-a-glance row follows the form.
    expect(page.locator(".chip.status-met")).to_have_count(1)
    fill_case_with_mouse(page)
    expect(result).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    assert page.url == url
    assert navigations == []


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_answer_stays_in_view_while_filling_in(site, browser, device):
    ctx = browser.new_context(viewport=VIEWPORTS[device])
    try:
        page = ctx.new_page()
        page.goto(site + "/")
        headline = page.locator("#result .headline")
        height = VIEWPORTS[device]["height"]
        steps = [
            ("polyneuropathy", "yes"),
            ("m_protein_present", "yes"),
            ("lymphadenopathy", "yes"),
            ("neuropathy_demyelinating", "yes"),
            ("thrombocytosis_polycythemia", "yes"),
        ]
        for name, value in steps:
            set_finding(page, name, value)
            # Sampled once the live update has settled: a single sample taken while htmx swaps
            # the panel (or the browser scrolls the clicked label into view) is flaky. The
            # layout must hold within 2 s, so a layout that hides the answer still fails.
            box = field = None
            for _ in range(40):
                page.wait_for_function("() => !document.querySelector('.htmx-request')")
                box = headline.bounding_box()
                field = page.locator(f"#id_{name}_0").bounding_box()
                if (
                    box is not None
                    and field is not None
                    and box["y"] >= 0
                    and box["y"] + box["height"] <= height
                    and not (box["y"] <= field["y"] <= box["y"] + box["height"])
                ):
                    break
                page.wait_for_timeout(50)
            assert box is not None and field is not None
            assert box["y"] >= 0 and box["y"] + box["height"] <= height, (name, box)
            # The field being filled is not hidden under the answer either.
            assert not (box["y"] <= field["y"] <= box["y"] + box["height"]), (name, box, field)
        page.locator("input[name=vegf_pg_ml]").fill("450")
        page.select_option("select[name=vegf_specimen]", "plasma")
        expect(headline).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
        expect(page.locator("#result .chip.status-met")).not_to_have_count(0)
        box = headline.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height
        screenshot(page, f"{device}-filling-in")
    finally:
        ctx.close()


def test_a_bad_value_never_blanks_the_answer(site, page):
    page.goto(site + "/")
    fill_case_with_mouse(page)
    result = page.locator("#result")
    expect(result).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    vegf = page.locator("input[name=vegf_pg_ml]")
    vegf.fill("-5")
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    link = summary.locator("a[href='#id_vegf_pg_ml']")
    expect(link).to_contain_text("VEGF")
    # Evaluated without VEGF: the criteria already met are still shown as met.
    expect(result).to_contain_text("Incomplete")
    expect(page.locator(".chip.status-met")).not_to_have_count(0)
    expect(page.locator("#msg-vegf_pg_ml")).to_contain_text("plausible range")
    expect(vegf).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#live-status")).to_contain_text("1 value to fix")
    screenshot(page, "laptop-error-summary")
    link.click()
    assert page.evaluate("document.activeElement.id") == "id_vegf_pg_ml"
    vegf.fill("450")
    expect(summary).to_have_count(0, timeout=LIVE_TIMEOUT_MS)
    expect(result).to_contain_text("Meets the criteria")
    assert vegf.get_attribute("aria-invalid") is None


def test_unit_warning_comes_back_in_the_body(site, page):
    responses = []
    page.on("response", lambda r: responses.append(r) if r.url.endswith("/result") else None)
    page.goto(site + "/")
    fill_case_with_mouse(page)
    page.locator("input[name=vegf_pg_ml]").fill("0.5")
    warning = page.locator("#msg-vegf_pg_ml.is-warning")
    expect(warning).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(warning).to_contain_text("ng/mL")
    assert responses
    for response in responses:
        for name, value in response.headers.items():
            assert "vegf" not in value.lower() and "0.5" not in value, (name, value)


def test_live_status_is_one_short_line(site, page):
    page.goto(site + "/")
    fill_case_with_mouse(page)
    status = page.locator("#live-status")
    expect(status).to_have_text(re.compile("Meets the criteria"), timeout=LIVE_TIMEOUT_MS)
    words = len(status.inner_text().split())
    # Exactly one live region, and it is not the result panel.
    assert page.locator("[aria-live]").count() == 1
    assert page.locator("#result").get_attribute("aria-live") is None
    page.locator("input[name=vegf_pg_ml]").fill("-5")
    expect(status).to_contain_text("to fix", timeout=LIVE_TIMEOUT_MS)
    error_words = len(status.inner_text().split())
    write_result(
        "live_status.txt",
        f"live status words: {words} (met case), {error_words} (with one value to fix)",
    )
    assert words <= 12 and error_words <= 16


# 3. Short form; the set decides its groups ----------------------------------------------


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_default_page_height(site, browser, device):
    ctx = browser.new_context(viewport=VIEWPORTS[device])
    try:
        page = ctx.new_page()
        page.goto(site + "/")
        height = page.evaluate("document.documentElement.scrollHeight")
        screenshot(page, f"{device}-default", full_page=True)
        write_result(f"page_height_{device}.txt", f"default page height at {device}: {height} px")
        # The bar is 3,500 px; the page is 1,280 (laptop) and 2,093 (phone) today, so a
        # regression well inside 3,500 still fails here.
        assert height < {"laptop": 1600, "phone": 2600}[device], height
        # Touch targets of the segmented control: at least 24 x 24 px.
        for label in page.locator(".crit-line > .seg > .seg-btn").all():
            box = label.bounding_box()
            assert box and box["width"] >= 24 and box["height"] >= 24, box
    finally:
        ctx.close()


@pytest.mark.parametrize("criteria_set", ["mayo-2007", "suichi-2019"])
def test_phone_bar_is_one_headline_and_one_row_of_letters(site, browser, criteria_set):
    """Collapsed, the phone's answer bar takes at most 10% of the screen, and opens in place."""
    ctx = browser.new_context(viewport=PHONE)
    try:
        page = ctx.new_page()
        page.goto(site + "/")
        page.select_option("select[name=criteria_set]", criteria_set)
        fill_case_with_mouse(page, CASE_FINDINGS, CASE_SELECTS, CASE_NUMBERS)
        expect(page.locator("#result .headline")).not_to_contain_text(
            "Nothing entered", timeout=LIVE_TIMEOUT_MS
        )
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        bar = page.locator(".result-col").bounding_box()
        assert bar is not None
        write_result(
            f"phone_bar_{criteria_set}.txt", f"collapsed phone bar, {criteria_set}: {bar['height']:.0f} px"
        )
        assert bar["height"] <= 0.10 * PHONE["height"], bar
        assert bar["y"] + bar["height"] <= PHONE["height"] + 1
        # The letters and the set's other major criteria sit on one row.
        tops = {
            round(c["y"])
            for c in page.evaluate(
                "() => [...document.querySelectorAll('#result .chip')]"
                ".map(c => c.getBoundingClientRect().toJSON())"
            )
        }
        assert len(tops) == 1, tops
        # ... and the whole row fits the width, so no criterion's state is scrolled out of sight.
        overflow = page.evaluate(
            "() => { const r = document.querySelector('#result .chips');"
            " return r.scrollWidth - r.clientWidth; }"
        )
        assert overflow <= 0, overflow
        screenshot(page, f"phone-bar-{criteria_set}")
        page.locator(".result-toggle").click()
        expect(page.locator(".result-col")).to_have_class(re.compile("expanded"))
        expect(page.locator("#result-detail")).to_be_visible()
        screenshot(page, f"phone-bar-{criteria_set}-expanded")
    finally:
        ctx.close()


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_a_line_left_not_assessed_shows_what_its_details_decide(site, browser, device):
    """Splenomegaly ticked under Organomegaly: the line itself says "Met, from the details below"
    while its own control is "Not assessed"; recording the line itself replaces the note."""
    from axe_playwright_python.sync_playwright import Axe

    ctx = browser.new_context(viewport=VIEWPORTS[device])
    try:
        page = ctx.new_page()
        page.goto(site + "/")
        note = page.locator('.derived[data-code="organomegaly"] .derived-text')
        expect(note).to_be_hidden()
        set_finding(page, "splenomegaly", "yes")
        expect(note).to_have_text("Met, from the details below", timeout=LIVE_TIMEOUT_MS)
        expect(note).to_be_visible()
        results = Axe().run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, results.generate_report()
        page.locator('label[for="id_organomegaly_0"]').scroll_into_view_if_needed()
        screenshot(page, f"{device}-derived-note")
        set_finding(page, "organomegaly", "no")
        expect(note).to_be_hidden(timeout=LIVE_TIMEOUT_MS)
        set_finding(page, "organomegaly", "")
        expect(note).to_have_text("Met, from the details below", timeout=LIVE_TIMEOUT_MS)
    finally:
        ctx.close()


def test_switching_the_set_changes_the_groups(site, page):
    page.goto(site + "/")
    mandatory = page.locator("#part-mandatory")
    expect(mandatory.locator("#row-vegf_elevated")).to_have_count(0)
    page.select_option("select[name=criteria_set]", "suichi-2019")
    expect(mandatory.locator("#row-vegf_elevated")).to_have_count(1)
    expect(page.locator("#part-minor .part-intro")).to_contain_text("at least 2 needed")
    expect(page.locator("#part-none")).to_be_visible()
    expect(page.locator("#part-none #row-castleman_disease")).to_have_count(1)
    expect(page.locator("#result")).to_contain_text("Suichi", timeout=LIVE_TIMEOUT_MS)


NOT_IN_2003 = ("skin_acrocyanosis", "skin_flushing", "pericardial_effusion")
NOT_COUNTED_2003 = "Not counted in Mayo (Dispenzieri) 2003"


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_switching_to_mayo_2003_marks_what_it_does_not_count(site, browser, device):
    """The note follows the set on the page (no request), is read with the finding, and passes axe."""
    from axe_playwright_python.sync_playwright import Axe

    ctx = browser.new_context(viewport=VIEWPORTS[device])
    ctx.set_default_timeout(10_000)
    try:
        page = ctx.new_page()
        requests = []
        page.goto(site + "/")
        for code in NOT_IN_2003:
            reveal(page, f"#id_{code}_0")
        notes = page.locator(".not-counted")
        expect(notes).to_have_count(3)
        for i in range(3):
            expect(notes.nth(i)).to_be_hidden()

        page.on("request", lambda r: requests.append(r.url) if "/result" not in r.url else None)
        page.select_option("select[name=criteria_set]", "mayo-2003")
        for code in NOT_IN_2003:
            note = page.locator(f'.not-counted[data-code="{code}"]')
            expect(note).to_be_visible()
            expect(note).to_contain_text(NOT_COUNTED_2003)
        # Read with the finding's name (the fieldset's legend), and only where 2003 left it out.
        named = re.compile(rf"^Acrocyanosis\s*:\s*{re.escape(NOT_COUNTED_2003)}$")
        expect(page.get_by_role("group", name=named)).to_have_count(1)
        expect(page.locator("#row-skin_changes .not-counted:visible")).to_have_count(2)
        expect(page.locator("#row-extravascular_volume_overload .not-counted:visible")).to_have_count(1)
        expect(page.locator("#result .headline .under")).to_contain_text("2003", timeout=LIVE_TIMEOUT_MS)
        results = Axe().run(page, options=AXE_OPTIONS)
        assert not results.violations_count, results.generate_report()
        page.locator("#row-skin_changes").scroll_into_view_if_needed()
        screenshot(page, f"{device}-mayo-2003-not-counted")
        page.locator("#row-extravascular_volume_overload").scroll_into_view_if_needed()
        screenshot(page, f"{device}-mayo-2003-not-counted-volume")

        page.select_option("select[name=criteria_set]", "mayo-2007")
        for i in range(3):
            expect(notes.nth(i)).to_be_hidden()
        expect(page.get_by_role("group", name="Acrocyanosis", exact=True)).to_have_count(1)
        # The live answer follows too (its headline names the set), before the screenshot.
        expect(page.locator("#result .headline .under")).to_contain_text("2007-2023", timeout=LIVE_TIMEOUT_MS)
        page.locator("#row-skin_changes").scroll_into_view_if_needed()
        screenshot(page, f"{device}-mayo-2007-counted")
        assert requests == [], requests  # the live answer's own post aside, nothing was fetched
    finally:
        ctx.close()


def test_disclosures_open_when_they_hold_a_value_and_units_flip(site, page):
    page.goto(site + "/")
    assert page.locator("#row-polyneuropathy details.more").get_attribute("open") is None
    expect(page.locator("select[name=hemoglobin_g_dl__unit]")).to_have_value("g/L")
    page.select_option("select[name=units]", "US")
    expect(page.locator("select[name=hemoglobin_g_dl__unit]")).to_have_value("g/dL")
    set_finding(page, "neuropathy_demyelinating", "yes")
    expect(page.locator("#result")).to_contain_text("CIDP", timeout=LIVE_TIMEOUT_MS)
    page.reload()
    expect(page.locator("#row-polyneuropathy details.more")).to_have_attribute("open", "")
    expect(page.locator("select[name=hemoglobin_g_dl__unit]")).to_have_value("g/dL")


# 4. Back and reload keep the case -------------------------------------------------------


def test_back_and_reload_keep_the_case(site, page):
    page.goto(site + "/")
    fill_case_with_mouse(page)
    set_finding(page, "neuropathy_demyelinating", "yes")
    result = page.locator("#result")
    expect(result).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    page.locator("#result a[href='/differentials/cidp']").click()
    page.wait_for_url("**/differentials/cidp")
    page.go_back()
    expect(page.locator("input[name=vegf_pg_ml]")).to_have_value("450")
    expect(page.locator("input[name=platelets_10e9_l]")).to_have_value("480")
    expect(result).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    expect(result).not_to_contain_text("Nothing entered yet")
    page.reload()
    expect(page.locator("input[name=vegf_pg_ml]")).to_have_value("450")
    expect(result).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    # "Clear the form" forgets it.
    page.click("a.clear-form")
    page.wait_for_load_state()
    expect(page.locator("input[name=vegf_pg_ml]")).to_have_value("")
    expect(result).to_contain_text("Nothing entered yet")


def test_arriving_afresh_starts_a_new_case_and_a_link_out_of_the_result_keeps_it(site, page):
    """Back/reload keep the case (above); so does a link out of the result, however the
    clinician comes back. Arriving from the menu otherwise starts empty: the next patient
    never inherits the last one's findings without being told."""
    page.goto(site + "/")
    fill_case_with_mouse(page)
    expect(page.locator("#result")).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#restored")).to_be_hidden()
    page.locator(".nav-links a", has_text="Criteria").click()
    page.wait_for_url("**/criteria")
    page.locator(".nav-links a", has_text="Checklist").click()
    page.wait_for_url(site + "/")
    expect(page.locator("input[name=vegf_pg_ml]")).to_have_value("")
    expect(page.locator("#result")).to_contain_text("Nothing entered yet")
    # Out of the result and back by the menu: the case is kept, and the page says so.
    fill_case_with_mouse(page)
    set_finding(page, "neuropathy_demyelinating", "yes")
    expect(page.locator("#result a[href='/differentials/cidp']")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    page.locator("#result a[href='/differentials/cidp']").click()
    page.wait_for_url("**/differentials/cidp")
    page.locator(".nav-links a", has_text="Checklist").click()
    page.wait_for_url(site + "/")
    expect(page.locator("input[name=vegf_pg_ml]")).to_have_value("450")
    expect(page.locator("#restored")).to_be_visible()
    expect(page.locator("#result")).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)


def test_a_failed_update_marks_the_answer_out_of_date(site, page):
    page.goto(site + "/")
    fill_case_with_mouse(page)
    result = page.locator("#result")
    expect(result).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    page.route("**/result", lambda route: route.fulfill(status=503, body="unavailable"))
    set_finding(page, "polyneuropathy", "no")
    expect(page.locator(".stale-warning")).to_contain_text("Could not update", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#live-status")).to_have_text("Could not update the answer")
    screenshot(page, "laptop-failed-update")
    page.unroute("**/result")
    page.route("**/result", lambda route: route.abort())  # the network drops
    set_finding(page, "polyneuropathy", "yes")
    expect(page.locator(".stale-warning")).to_have_count(1)
    page.unroute("**/result")
    set_finding(page, "polyneuropathy", "no")  # the next change that gets through replaces it
    expect(page.locator(".stale-warning")).to_have_count(0, timeout=LIVE_TIMEOUT_MS)
    expect(result).to_contain_text("Does not meet the criteria")
    screenshot(page, "laptop-after-failed-update")


def test_the_phone_sheet_keeps_focus_inside_and_closes_on_escape(site, browser):
    ctx = browser.new_context(viewport=VIEWPORTS["phone"])
    try:
        page = ctx.new_page()
        page.goto(site + "/")
        toggle = page.locator(".result-toggle")
        toggle.click()
        expect(page.locator("#result-col")).to_have_class(re.compile("expanded"))
        assert page.evaluate("document.querySelector('.form-col').inert") is True
        page.keyboard.press("Escape")
        expect(page.locator("#result-col")).not_to_have_class(re.compile("expanded"))
        expect(page.locator(".result-toggle")).to_be_focused()
        assert page.evaluate("document.querySelector('.form-col').inert") is False
    finally:
        ctx.close()


# 5. Without JavaScript ------------------------------------------------------------------


def test_no_javascript_form_submits_and_returns_result(site, browser):
    ctx = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(site + "/")
        expect(page.locator("html")).not_to_have_class("has-js")
        expect(page.locator("#result")).to_contain_text("Nothing entered yet")
        fill_case_with_mouse(page)
        expect(page.locator("#result")).to_contain_text("Nothing entered yet")
        with page.expect_navigation():
            page.get_by_role("button", name="Show result").click()
        expect(page.locator("#result")).to_contain_text("Meets the criteria")
        expect(page.locator(".copy-btn").first).to_be_hidden()
        assert page.input_value("input[name=vegf_pg_ml]") == "450"
        assert page.is_checked("input[name=lymphadenopathy][value=yes]")
        page.fill("input[name=vegf_pg_ml]", "999999")
        with page.expect_navigation():
            page.get_by_role("button", name="Show result").click()
        expect(page.locator("#msg-vegf_pg_ml")).to_contain_text("outside the plausible range")
        expect(page.locator(".error-summary a[href='#id_vegf_pg_ml']")).to_be_visible()
        expect(page.locator("#result .headline")).to_contain_text("Incomplete")
    finally:
        ctx.close()


# 6. axe on every page and state, laptop and phone -----------------------------------------


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_axe_every_page_has_no_violations(site, browser, device):
    from axe_playwright_python.sync_playwright import Axe

    ctx = browser.new_context(viewport=VIEWPORTS[device])
    ctx.set_default_timeout(10_000)
    axe = Axe()
    lines, failures = [], []
    try:
        page = ctx.new_page()
        for label, shown in visit_every_page(page, site):
            results = axe.run(shown, options=AXE_OPTIONS)
            lines.append(axe_line(label, results))
            if results.violations_count:
                failures.append(f"{label}\n{results.generate_report()}")
    finally:
        ctx.close()
    summary = "\n".join(lines)
    write_result(f"axe_{device}.txt", f"axe WCAG 2.2 AA per page and state ({device})\n" + summary)
    assert len(lines) >= 30, summary
    assert not failures, "\n\n".join(failures)


# 7. Layout: notice visible, no sideways scroll ------------------------------------------


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-375", "desktop-1366"])
def test_layout_notice_visible_and_no_horizontal_scroll(site, browser, viewport):
    # Bootstrap scrolls smoothly unless reduced motion is asked for, so a scrollTo(0, 0)
    # right after a field was filled (Playwright scrolls it into view) could still be
    # under way when the notice was measured under load. Ask for reduced motion, scroll
    # instantly and wait until the page is at the top: the check itself is unchanged.
    ctx = browser.new_context(viewport=viewport, reduced_motion="reduce")
    problems, checked = [], 0
    try:
        page = ctx.new_page()
        for label, shown in visit_every_page(page, site):
            checked += 1
            shown.evaluate("window.scrollTo({top: 0, left: 0, behavior: 'instant'})")
            shown.wait_for_function(
                "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() =>"
                " r(window.scrollY === 0 && window.scrollX === 0))))"
            )
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
    assert checked >= 30
    assert not problems, "\n".join(problems)


# 8. Print and copy to note --------------------------------------------------------------


def test_print_is_the_report_on_at_most_two_pages(site, page):
    import io

    from pypdf import PdfReader

    page.goto(site + "/")
    fill_case_with_mouse(page)
    set_finding(page, "neuropathy_demyelinating", "yes")
    expect(page.locator("#result")).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    pdf = page.pdf(format="A4", print_background=False)
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    write_result(
        "print_pages.txt", f"print: {len(reader.pages)} A4 page(s) for the classic case with a CIDP flag"
    )
    assert len(reader.pages) <= 2
    for expected in (
        "Meets the criteria",
        "Inputs, as entered",
        "VEGF: 450 pg/mL",
        "content version",
        "Not a diagnosis",
    ):
        assert expected in text, expected
    # The form itself is not printed.
    assert "Not assessed" not in text


def test_print_view_is_one_a4_page_with_the_work_up(site, page):
    """Issue 19: the print view (/report) of a met case, work-up and inputs included, on one A4 page."""
    import io

    from pypdf import PdfReader

    page.goto(site + "/")
    fill_case_with_mouse(page)
    expect(page.locator("#result")).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    report = open_print_view(page)
    reader = PdfReader(io.BytesIO(report.pdf(format="A4", print_background=False)))
    text = "\n".join(p.extract_text() for p in reader.pages)
    write_result("print_view_pages.txt", f"print view: {len(reader.pages)} A4 page(s) for the classic case")
    report.close()
    assert len(reader.pages) == 1
    for expected in (
        "Meets the criteria",
        "Before treatment",
        "Still missing",
        "Present:",
        "VEGF: 450 pg/mL",
    ):
        assert expected in text, expected
    assert "NOT A DIAGNOSIS" in text


def test_copy_to_note_short_and_full(site, page):
    from checklist.content.rule_book import snapshot

    page.goto(site + "/")
    fill_case_with_mouse(page)
    expect(page.locator("#result")).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
    page.locator("details.copy-note summary").click()
    short = page.locator("#report-short").input_value()
    full = page.locator("#report-full").input_value()
    snap = snapshot()
    assert len(short.splitlines()) <= 12, short
    assert "NOT A DIAGNOSIS" in short and "Result: Meets the criteria" in short
    assert snap.book.content_version in short
    assert "Inputs, as entered" in full and "450 pg/mL" in full and "lambda" in full
    write_result(
        "copy_note.txt", f"short note: {len(short.splitlines())} lines; full: {len(full.splitlines())} lines"
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator(".copy-btn[data-copy=report-short]").click()
    expect(page.locator(".copy-status")).not_to_be_empty()


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_the_results_disclosures_stay_open_and_the_open_note_follows_the_case(site, browser, device):
    """A new result replaces the panel on every change; what the clinician opened stays
    open, and an open note is fetched again for the case as it now stands."""
    ctx = browser.new_context(viewport=VIEWPORTS[device])
    try:
        page = ctx.new_page()
        page.goto(site + "/")
        fill_case_with_mouse(page)
        expect(page.locator("#result")).to_contain_text("Meets the criteria", timeout=LIVE_TIMEOUT_MS)
        if device == "phone":
            page.click(".result-toggle")  # the bar opens into the full result
        page.locator("#res-criteria summary").click()
        page.locator("#copy-note summary").click()
        expect(page.locator("#report-full")).to_have_value(re.compile("VEGF: 450 pg/mL"))
        if device == "phone":
            page.click(".result-toggle")  # back to the form
        page.fill("input[name=vegf_pg_ml]", "520")
        expect(page.locator("#report-full")).to_have_value(
            re.compile("VEGF: 520 pg/mL"), timeout=LIVE_TIMEOUT_MS
        )
        expect(page.locator("#res-criteria")).to_have_attribute("open", "")
        expect(page.locator("#res-compare")).not_to_have_attribute("open", "")
        expect(page.locator("#copy-note")).to_have_attribute("open", "")
        if device == "phone":
            page.click(".result-toggle")
        page.locator("#copy-note summary").scroll_into_view_if_needed()
        screenshot(page, f"{device}-result-note-open")
    finally:
        ctx.close()


# 9. Same origin only, strict CSP ----------------------------------------------------------


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
    expect(page.locator("#msg-vegf_pg_ml.is-warning")).to_be_visible(timeout=LIVE_TIMEOUT_MS)

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


@pytest.mark.parametrize("width", [360, 390])
def test_phone_with_a_result_has_no_unreachable_scroll_region_and_no_chip_off_the_edge(site, browser, width):
    """Issue 20's phone fixes: with a result showing, axe finds nothing (scrollable-region-focusable
    was reported before) and every chip of the answer bar lies inside the screen."""
    from axe_playwright_python.sync_playwright import Axe

    viewport = {"width": width, "height": 800}
    ctx = browser.new_context(viewport=viewport)
    try:
        page = ctx.new_page()
        page.goto(site + "/")
        fill_case_with_mouse(page, CASE_FINDINGS, CASE_SELECTS, CASE_NUMBERS)
        expect(page.locator("#result .headline")).not_to_contain_text(
            "Nothing entered", timeout=LIVE_TIMEOUT_MS
        )
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        rights = page.evaluate(
            "() => [...document.querySelectorAll('#result .chip')].map(c => c.getBoundingClientRect().right)"
        )
        assert rights and max(rights) <= width, rights
        screenshot(page, f"phone-{width}-result")
        results = Axe().run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, results.generate_report()
        page.locator(".result-toggle").click()
        expect(page.locator(".result-col")).to_have_class(re.compile("expanded"))
        screenshot(page, f"phone-{width}-result-expanded")
        results = Axe().run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, results.generate_report()
    finally:
        ctx.close()


# A laptop and the two phone widths of the brief (the phone of VIEWPORTS is 375 px wide).
BEFORE_TREATMENT_VIEWPORTS = {
    "laptop": DESKTOP,
    "phone-390": {"width": 390, "height": 844},
    "phone-360": {"width": 360, "height": 800},
}


@pytest.mark.parametrize("device", list(BEFORE_TREATMENT_VIEWPORTS))
def test_a_met_case_shows_before_treatment_without_pushing_the_answer_away(site, browser, device):
    """Issue 19: the 'Before treatment' disclosure under a met result; the headline stays in
    view with it open, each risk factor's cut-off says it is a published threshold, the
    extent's reasons and the myeloma flag's IMWG reason carry their labels, no label runs off
    a phone's edge, and axe is clean with the section open (screenshots
    before-treatment-<device>, -risks and -treatment)."""
    from axe_playwright_python.sync_playwright import Axe

    viewport = BEFORE_TREATMENT_VIEWPORTS[device]
    ctx = browser.new_context(viewport=viewport, reduced_motion="reduce")
    try:
        page = ctx.new_page()
        page.goto(site + "/")
        # The brief's case, aged 61 (Wang 2017's age factor, cut-off > 50 years), with a calcium
        # over IMWG's 2.75 mmol/L (the page starts in SI units): the myeloma flag then applies a
        # published threshold.
        numbers = {**CASE_NUMBERS, "age_years": "61", "calcium_mg_dl": "2.9"}
        fill_case_with_mouse(page, CASE_FINDINGS, CASE_SELECTS, numbers)
        expect(page.locator("#result .headline")).to_contain_text("Meets", timeout=LIVE_TIMEOUT_MS)
        expect(page.locator("#before-treatment .risks")).to_contain_text(
            "Age over 50", timeout=LIVE_TIMEOUT_MS
        )
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        if device != "laptop":
            page.locator(".result-toggle").click()
            expect(page.locator(".result-col")).to_have_class(re.compile("expanded"))
        section = page.locator("#before-treatment")
        section.locator("summary").click()
        expect(section.locator(".workup")).to_be_visible()
        expect(section).to_contain_text("iliac-crest")
        # Retried until a late swap of the result has settled: a one-shot bounding box taken while
        # htmx replaced the panel read None once in CI.
        expect(page.locator("#result .headline")).to_be_in_viewport(ratio=1)
        screenshot(page, f"before-treatment-{device}")
        # The age factor: its cut-off, and a published threshold beside its evidence tag.
        age = section.locator(".risks li", has_text="Age over 50")
        expect(age).to_contain_text("cut-off > 50 years")
        expect(age.locator(".basis-published")).to_have_text("published threshold")
        expect(age.locator(".ev-read_abstract")).to_be_visible()
        assert age.locator(".basis-app_default").count() == 0
        age.scroll_into_view_if_needed()
        expect(age.locator(".basis-published")).to_be_in_viewport()
        screenshot(page, f"before-treatment-{device}-risks")
        results = Axe().run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, results.generate_report()
        # The extent's reasons (treatment section) and the myeloma flag's reason, labelled.
        extent = page.locator("#result .extent-reasons li")
        expect(extent.first.locator(".ev").first).to_be_visible()
        assert extent.count() >= 1 and extent.locator(".ev-read_abstract").count() == extent.count()
        flag = page.locator("#result .differentials li", has_text="Multiple myeloma")
        expect(flag.locator(".basis-published")).to_contain_text("published threshold")
        rights = page.evaluate(
            "() => [...document.querySelectorAll('#result .ev')].map(e => e.getBoundingClientRect().right)"
        )
        assert rights and max(rights) <= viewport["width"], max(rights)
        page.locator("#treatment-title").scroll_into_view_if_needed()
        screenshot(page, f"before-treatment-{device}-treatment")
        results = Axe().run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, results.generate_report()
    finally:
        ctx.close()


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_a_met_case_labels_each_reason_with_its_evidence(site, browser, device):
    """Issue 19: every criterion reason carries a small evidence label, a published threshold
    can be told from an app default at a glance, and axe is clean with the reasons open."""
    from axe_playwright_python.sync_playwright import Axe

    ctx = browser.new_context(viewport=VIEWPORTS[device], reduced_motion="reduce")
    try:
        page = ctx.new_page()
        page.goto(site + "/")
        fill_case_with_mouse(page, CASE_FINDINGS, CASE_SELECTS, CASE_NUMBERS)
        expect(page.locator("#result .headline")).to_contain_text("Meets", timeout=LIVE_TIMEOUT_MS)
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        if device == "phone":
            page.locator(".result-toggle").click()
            expect(page.locator(".result-col")).to_have_class(re.compile("expanded"))
        reasons = page.locator("#result summary", has_text="Criteria, with reasons")
        reasons.click()
        block = page.locator("#result details:has(> summary:has-text('Criteria, with reasons'))")
        chips = block.locator(".ev")
        expect(chips.first).to_be_visible()
        words = " ".join(chips.all_inner_texts())
        # The case's VEGF is plasma 450 pg/mL: its threshold is a published one, named as such.
        assert "published" in words, words
        reasons.scroll_into_view_if_needed()
        screenshot(page, f"labels-{device}")
        results = Axe().run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, results.generate_report()
    finally:
        ctx.close()
