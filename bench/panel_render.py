#!/usr/bin/env python
"""The result panel's template alone, per language (issue 23: Jinja2's i18n kept fast).

    .venv/bin/python bench/panel_render.py          # --reps N

The typical case (bench/run.py) read by the form, evaluated and presented once, then the
panel (``result_panel.panel_html``) rendered ``--reps`` times with each language active.
Medians of this process's CPU time in microseconds, as bench/hot_paths.py measures; the
production settings on a throwaway SQLite database with the seed content.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
import run  # noqa: E402  (bench/run.py: the typical case and the throwaway database)


def _median_us(fn, reps):
    times = []
    clock = time.process_time_ns
    for _ in range(reps):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times) / 1000


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=3000)
    args = parser.parse_args()
    env, _ = run.prepare(Path(tempfile.mkdtemp(prefix="poemsaid-panel-")))
    os.environ.update(env)
    import django

    django.setup()
    from urllib.parse import parse_qsl

    from django.utils import timezone, translation

    from checklist.content.rule_book import snapshot
    from checklist.engine.diagnosis.evaluate import evaluate
    from checklist.web.forms import CaseForm
    from checklist.web.presenters import diagnosis
    from checklist.web.templatetags import result_panel

    snap = snapshot()
    posted = {}
    for key, value in parse_qsl(run.form_body(run.TYPICAL_CASE).decode()):
        posted.setdefault(key, value)
    for lang in ("en-gb", "ja", "zh-hans"):
        with translation.override(lang):
            form = CaseForm(posted, snapshot=snap)
            form.is_valid()
            result = evaluate(form.case, snap.book)
            view = diagnosis.present(form, result, snap, today=timezone.localdate())
            for _ in range(300):  # warm: the compiled template, the catalogue
                result_panel.panel_html(view)
            us = _median_us(lambda v=view: result_panel.panel_html(v), args.reps)
            size = len(result_panel.panel_html(view))
            print(f"panel template, {lang}: {us:.0f} us (median CPU, {args.reps} reps), {size} chars")


if __name__ == "__main__":
    main()
