"""Helpers for the real-browser tests (tests/test_browser.py): Chromium, keyboard moves, axe."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"

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
PHONE = {"width": 360, "height": 740}

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


def fill_case_with_mouse(page) -> None:
    """Fill the brief's case quickly (pointer and fill; the keyboard walk is a separate test)."""
    for name, value in CASE_FINDINGS.items():
        page.check(f"input[name={name}][value={value}]")
    for name, value in CASE_SELECTS.items():
        page.select_option(f"select[name={name}]", value)
    for name, value in CASE_NUMBERS.items():
        page.fill(f"input[name={name}]", value)


def axe_line(path: str, results) -> str:
    violations = results.response["violations"]
    detail = ", ".join(f"{v['id']} ({v['impact']}) x{len(v['nodes'])}" for v in violations)
    return f"{path}: {len(violations)} violations" + (f" [{detail}]" if detail else "")


def write_result(name: str, text: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path
