#!/usr/bin/env python
"""How many A4 pages the print view (``/report``) takes, for every golden case (issue 19).

    .venv/bin/python bench/print_pages.py                 # English, every golden case
    .venv/bin/python bench/print_pages.py --lang ja --lang zh-hans --limit 50

The print view is promised on one A4 page. The test suite holds that for the classic case
and the ja/zh-hans cases (tests/test_browser.py, tests/test_browser_i18n.py); this sweep is
the measurement behind the print CSS's figures (7.8 pt, 9 mm margins in
static/checklist/site.css): each golden case (tests/golden/*.json) is posted to ``/report`` as
the checklist form posts it, in Debian's Chromium, printed to an A4 PDF and its pages counted
with pypdf. gunicorn with the production settings serves a throwaway SQLite database with the
seed content, as bench/run.py does. It prints the distribution of page counts per language
and the cases over one page, and writes bench/results/print_pages.json.
"""

import argparse
import collections
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402  (the throwaway database and the gunicorn helpers)
from deploy import stack  # noqa: E402

CHROMIUM = "/usr/bin/chromium"

# Submits the case as the checklist form would, with the page's own CSRF token: /report is a
# POST, like the Print button's.
SUBMIT = """([action, pairs]) => {
  const form = document.createElement("form");
  form.method = "post";
  form.action = action;
  const token = document.querySelector("[name=csrfmiddlewaretoken]");
  if (token) { pairs.push(["csrfmiddlewaretoken", token.value]); }
  for (const [name, value] of pairs) {
    const input = document.createElement("input");
    input.type = "hidden"; input.name = name; input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}"""


def golden_cases():
    for path in sorted((ROOT / "tests" / "golden").glob("*.json")):
        for case in json.loads(path.read_text("utf-8"))["cases"]:
            yield f"{path.stem}:{case['id']}", case["input"]


def form_pairs(case):
    """A golden case's API input as the checklist form posts it (tests/test_result_structure.py)."""
    pairs = []
    if isinstance(case.get("criteria_set"), str):
        pairs.append(("criteria_set", case["criteria_set"]))
    for code, value in (case.get("findings") or {}).items():
        pairs.append((code, "yes" if value is True else "no" if value is False else str(value)))
    for code, value in (case.get("labs") or {}).items():
        if isinstance(value, dict):
            pairs.append((code, str(value.get("value", ""))))
            if "unit" in value:
                pairs.append((f"{code}__unit", str(value["unit"])))
        elif value is not None:
            pairs.append((code, str(value)))
    return pairs


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lang", action="append", help="en, ja or zh-hans (repeatable; default en)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N golden cases")
    args = parser.parse_args()
    languages = args.lang or ["en"]
    cases = list(golden_cases())
    if args.limit:
        cases = cases[: args.limit]

    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cases": len(cases),
        "languages": {},
    }
    with tempfile.TemporaryDirectory(prefix="poemsaid-print-") as tmp:
        env, cleanup = run.prepare(Path(tmp))
        port = run.stack_port()
        server = stack.start_gunicorn(
            f"127.0.0.1:{port}", env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            run._wait(base + "/healthz", server)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
                page = browser.new_page()
                for lang in languages:
                    prefix = "" if lang == "en" else f"/{lang}"
                    counts = collections.Counter()
                    over = []
                    for name, case in cases:
                        page.goto(f"{base}{prefix}/")
                        with page.expect_navigation():
                            page.evaluate(SUBMIT, [f"{prefix}/report", form_pairs(case)])
                        # A refused case would print one short error page: count only real reports.
                        if page.locator("pre.report-pre").count() != 1:
                            raise SystemExit(f"{name} ({lang}): /report did not answer a print view")
                        pages = len(
                            PdfReader(io.BytesIO(page.pdf(format="A4", print_background=False))).pages
                        )
                        counts[pages] += 1
                        if pages > 1:
                            over.append((name, pages))
                    report["languages"][lang] = {"pages": dict(sorted(counts.items())), "over_one_page": over}
                    spread = ", ".join(
                        f"{n} on {p} page{'s' if p > 1 else ''}" for p, n in sorted(counts.items())
                    )
                    print(f"{lang}: {len(cases)} golden cases: {spread}")
                    for name, pages in over:
                        print(f"   {name}: {pages} pages")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
            for fn in cleanup:
                fn()
    out = ROOT / "bench" / "results" / "print_pages.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
