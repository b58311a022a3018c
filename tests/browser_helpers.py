"""Helpers for the real-browser tests (tests/test_browser.py): Chromium, keyboard moves, axe."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
SCREENSHOTS = ROOT / "var" / "screenshots"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 812}
VIEWPORTS = {"laptop": DESKTOP, "phone": PHONE}

# WCAG 2.2 AA, target size (2.5.8) included.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}

# The case of the brief: expected to meet the Mayo 2007 criteria.
CASE_FINDINGS = {"polyneuropathy": "yes", "m_protein_present": "yes", "lymphadenopathy": "yes"}
CASE_SELECTS = {"light_chain_type": "lambda", "vegf_specimen": "plasma"}
CASE_NUMBERS = {"vegf_pg_ml": "450", "platelets_10e9_l": "480"}

_FOCUS_MATCHES = "(sel) => !!document.activeElement && document.activeElement.matches(sel)"
_DIRECTION = """(sel) => {
  const target = document.querySelector(sel);
  const active = document.activeElement;
  if (!target) { throw new Error("no element for " + sel); }
  if (!active || active === document.body) { return "Tab"; }
  return (active.compareDocumentPosition(target) & Node.DOCUMENT_POSITION_PRECEDING) ? "Shift+Tab" : "Tab";
}"""


def focus_with_keyboard(page, selector: str, limit: int = 250) -> int:
    """Press Tab (or Shift+Tab when the target comes earlier) until ``selector`` has focus.

    Only key presses move the focus. Returns the number of presses; fails if the
    target is never reached (not focusable, or skipped by the tab order).
    """
    key = page.evaluate(_DIRECTION, selector)
    for presses in range(limit):
        if page.evaluate(_FOCUS_MATCHES, selector):
            return presses
        page.keyboard.press(key)
    raise AssertionError(f"{selector} never got the focus after {limit} presses of {key}")


def focused_description(page) -> str:
    return page.evaluate(
        "() => { const a = document.activeElement;"
        " return a ? a.tagName + '#' + a.id + '[' + (a.name || '') + ']' : 'none'; }"
    )


_OPEN_DISCLOSURE = "el => { const d = el.closest('details'); if (d && !d.open) { d.open = true; } }"


def reveal(page, selector: str) -> None:
    """Open the disclosure a field sits in, as a clinician would click "More"."""
    page.locator(selector).first.evaluate(_OPEN_DISCLOSURE)


def set_finding(page, name: str, value: str) -> None:
    index = {"yes": 0, "no": 1, "": 2}[value]
    reveal(page, f"#id_{name}_{index}")
    page.click(f"label[for=id_{name}_{index}]")


def fill_case_with_mouse(page, findings=None, selects=None, numbers=None) -> None:
    """Fill a case quickly (pointer and fill; the keyboard walk is a separate test)."""
    for name, value in (CASE_FINDINGS if findings is None else findings).items():
        set_finding(page, name, value)
    for name, value in (CASE_SELECTS if selects is None else selects).items():
        reveal(page, f"select[name={name}]")
        page.select_option(f"select[name={name}]", value)
    for name, value in (CASE_NUMBERS if numbers is None else numbers).items():
        reveal(page, f"input[name={name}]")
        page.fill(f"input[name={name}]", value)


def screenshot(page, name: str, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def axe_line(path: str, results) -> str:
    violations = results.response["violations"]
    detail = ", ".join(f"{v['id']} ({v['impact']}) x{len(v['nodes'])}" for v in violations)
    return f"{path}: {len(violations)} violations" + (f" [{detail}]" if detail else "")


def write_result(name: str, text: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path


@contextmanager
def chromium_browser() -> Iterator:
    """Debian's Chromium through Playwright, for one test module (module-scoped fixtures).

    Playwright's event loop must not outlive the module that started it.
    """
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop registered on this thread, which
    # makes Django refuse ORM calls (loaddata, flush) from the test thread.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
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
