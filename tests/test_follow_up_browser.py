"""The follow-up page in a real browser (Debian's Chromium through Playwright): three §h.9
timelines entered by hand on a laptop and two phones; the chart shows; axe WCAG 2.2 AA in
every state; Back and reload keep the case; a saved file opens again; print is one A4 page.

Screenshots: var/screenshots/follow-up-*.png.
"""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser_helpers import AXE_OPTIONS, axe_line, chromium_browser, screenshot
from tests.follow_up_helpers import form_fields

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

pytestmark = pytest.mark.browser

GOLDEN = Path(__file__).parent / "golden" / "follow_up" / "h9_worked_examples.json"
CASES = {c["id"]: c for c in json.loads(GOLDEN.read_text())["cases"]}
TIMELINES = {
    "responder": "fu-h9-t1-complete-responder",
    "vegf-relapse": "fu-h9-t3-vegf-progression-boundary",
    "specimen-change": "fu-h9-t5-specimen-change",
}
VIEWPORTS = {
    "laptop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
    "phone360": {"width": 360, "height": 780},
}
LIVE_MS = 8_000


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


def enter_by_hand(page, document):
    """Type the timeline into the flowsheet as a clinician would: add the columns, then each value."""
    fields = form_fields(document)
    for _ in range(int(fields["visits"]) - 1):
        page.click("#fu-add-visit")
    for _ in range(int(fields["treatments"]) - 1):
        page.click("#fu-add-tx")
    # Units first, so that each value is typed into a field showing its unit.
    for name, value in sorted(fields.items(), key=lambda kv: not kv[0].endswith("__unit")):
        if name in ("visits", "treatments"):
            continue
        field = page.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def settle(page):
    """Wait until no live update is in flight (a late answer would replace the chart mid-step)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    page.wait_for_timeout(400)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def latest_letters(page):
    return page.locator("#fu-result .fu-chip").all_inner_texts()


def axe_clean(page, label, lines):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    lines.append(axe_line(label, results))
    targets = [n["target"] for v in results.response["violations"] for n in v["nodes"]]
    assert results.violations_count == 0, (axe_line(label, results), targets)


EXPECT_LATEST = {
    # (the latest visit's VEGF category, its flag), from the golden expectation of each timeline.
    name: CASES[cid]["expect"]["visits"][-1]
    for name, cid in TIMELINES.items()
}


@pytest.mark.parametrize("device", list(VIEWPORTS))
@pytest.mark.parametrize("timeline", list(TIMELINES))
def test_three_timelines_by_hand(site, browser, timeline, device, tmp_path):
    ctx = browser.new_context(viewport=VIEWPORTS[device], accept_downloads=True, reduced_motion="reduce")
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    errors = []
    page.on(
        "console",
        lambda m: (
            errors.append(f"{m.text[:60]} at {m.location}") if "Content Security Policy" in m.text else None
        ),
    )
    lines = []
    try:
        page.goto(site + "/follow-up")
        axe_clean(page, f"{timeline}/{device} empty", lines)
        enter_by_hand(page, CASES[TIMELINES[timeline]]["input"])
        want = EXPECT_LATEST[timeline]
        date = want["date"]
        expect(page.locator("#fu-headline")).to_contain_text(f"Latest visit {date}", timeout=LIVE_MS)
        category = want["categories"]["vegf"]
        expect(page.locator("#fu-result .fu-chip").first).to_have_class(f"chip fu-chip cat-{category}")
        if want["possible_progression"] is True:
            expect(page.locator("#fu-headline")).to_contain_text("possible progression: review")
        phone = device != "laptop"
        if phone:
            screenshot(page, f"follow-up-{timeline}-{device}-bar")
            page.click("#fu-result-col .result-toggle")
            expect(page.locator("#fu-result-col")).to_have_class("result-col expanded")
        settle(page)
        chart = page.locator("#chart-vegf svg")
        chart.scroll_into_view_if_needed()
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box and box["width"] > 250 and box["height"] > 100, box
        screenshot(page, f"follow-up-{timeline}-{device}")
        axe_clean(page, f"{timeline}/{device} result", lines)
        if phone:
            page.keyboard.press("Escape")
            expect(page.locator("#fu-result-col")).not_to_have_class("result-col expanded")
        # The detail per visit and the note open; axe again.
        page.evaluate(
            "() => { document.getElementById('fu-per-visit').open = true;"
            " document.getElementById('fu-note').open = true; }"
        )
        axe_clean(page, f"{timeline}/{device} detail open", lines)
        note = page.locator("#fu-note-text").input_value()
        assert "Not a diagnosis" in note and 8 <= len(note.splitlines()) <= 14

        # Reload and Back keep the case (sessionStorage only).
        vegf_last = page.locator('[name="v2__vegf_pg_ml"]').input_value()
        page.reload()
        expect(page.locator("#fu-restored")).to_be_visible()
        expect(page.locator('[name="v2__vegf_pg_ml"]')).to_have_value(vegf_last)
        expect(page.locator("#fu-headline")).to_contain_text(f"Latest visit {date}", timeout=LIVE_MS)
        page.goto(site + "/criteria")
        page.go_back()
        expect(page.locator('[name="v2__vegf_pg_ml"]')).to_have_value(vegf_last)
        expect(page.locator("#fu-headline")).to_contain_text(f"Latest visit {date}", timeout=LIVE_MS)

        if device == "laptop":
            # Save to file, then open it on a fresh page: the same flowsheet and answer.
            with page.expect_download() as saved:
                page.click("#fu-save")
            path = tmp_path / "follow-up.json"
            saved.value.save_as(path)
            bundle = json.loads(path.read_text())
            assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
            systems = {e["resource"]["code"]["coding"][0]["system"] for e in bundle["entry"]}
            assert "http://loinc.org" in systems
            vegf_obs = [
                e["resource"]
                for e in bundle["entry"]
                if e["resource"]["code"]["coding"][0]["code"] == "75628-8"
            ]
            assert len(vegf_obs) == len(
                [v for v in CASES[TIMELINES[timeline]]["input"]["visits"] if "vegf_pg_ml" in v["values"]]
            )
            expect(page.locator("#fu-file-status")).to_contain_text("local code")
            before = page.locator("#fu-result .fu-latest").inner_text()
            fresh = ctx.new_page()
            fresh.goto(site + "/follow-up")
            fresh.set_input_files("#fu-open", str(path))
            expect(fresh.locator("#fu-file-status")).to_contain_text("Opened")
            expect(fresh.locator("#fu-headline")).to_contain_text(f"Latest visit {date}", timeout=LIVE_MS)
            assert fresh.locator("#fu-result .fu-latest").inner_text() == before
            fresh.close()

        # Print: one A4 page.
        pdf = page.pdf(format="A4", print_background=False)
        try:
            from pypdf import PdfReader

            pages = len(PdfReader(io.BytesIO(pdf)).pages)
        except ImportError:  # pragma: no cover
            pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
        assert pages == 1, f"print is {pages} pages"
        page.emulate_media(media="print")
        screenshot(page, f"follow-up-{timeline}-{device}-print", full_page=True)
        page.emulate_media(media="screen")
        assert not errors, errors
    finally:
        ctx.close()
