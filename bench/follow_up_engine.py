#!/usr/bin/env python
"""Follow-up engine time for a 20-visit timeline (issue 21 target: < 1 ms), pure Python, no Django.

    .venv/bin/python bench/follow_up_engine.py [--runs N]

Times parse_follow_up + evaluate_follow_up + to_json on one 20-visit, two-line timeline that
uses every domain; prints the median and p99 in microseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as bench/follow_up_engine.py: sys.path[0] is bench/

from checklist.engine.follow_up import evaluate_follow_up, parse_follow_up, rules_from_dict, to_json  # noqa: E402

TODAY = date(2030, 12, 31)


def timeline(visits: int = 20, years_back: int = 0) -> dict[str, Any]:
    """A patient seen every ~3 months for five years: every domain measured, some visits with PET.

    ``years_back`` (a multiple of 4, so every interval in days stays the same) moves it into
    the past, for the API, which refuses a date in the future.
    """
    start = date(2025 - years_back, 1, 5)
    out = []
    for k in range(visits):
        day = start + timedelta(days=91 * k)
        values: dict[str, Any] = {
            "vegf_pg_ml": max(60, 900 - 120 * k) if k < 14 else 60 + 40 * (k - 13),
            "vegf_specimen": "plasma",
            "vegf_uln_pg_ml": 96.2,
            "m_protein_g_dl": {"value": max(0, 6 - k), "unit": "g/L"},
            "sife_result": "positive" if k < 6 or k > 16 else "negative",
            "uife_result": "negative",
            "onls_total": max(2, 7 - k // 3),
            "platelets_10e9_l": 300 + 10 * k,
            "peripheral_edema": k > 17,
        }
        if k % 4 == 0:
            values.update(pet_done=True, pet_avid_lesion_count=max(0, 3 - k // 4), pet_suv_max=8.0 - k / 4)
        out.append({"date": day.isoformat(), "values": values})
    treatments = [
        {
            "line": 1,
            "type": "radiation",
            "start": f"{2025 - years_back}-01-10",
            "end": f"{2025 - years_back}-02-20",
        },
        {"line": 2, "type": "systemic", "start": f"{2028 - years_back}-09-01", "end": None},
    ]
    return {"visits": out, "treatments": treatments}


def measure(runs: int = 2000) -> dict[str, float]:
    """Median and p99 (us) of parse + evaluate + to_json, and the median of evaluate alone."""
    rules = rules_from_dict(
        json.loads((ROOT / "fixtures" / "follow_up_rules.json").read_text(encoding="utf-8"))
    )
    document = timeline()
    for _ in range(50):  # warm up
        to_json(evaluate_follow_up(parse_follow_up(document, TODAY), rules))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        to_json(evaluate_follow_up(parse_follow_up(document, TODAY), rules))
        times.append((time.perf_counter_ns() - t0) / 1000)
    times.sort()
    engine_only = []
    parsed = parse_follow_up(document, TODAY)
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        evaluate_follow_up(parsed, rules)
        engine_only.append((time.perf_counter_ns() - t0) / 1000)
    return {
        "visits": len(document["visits"]),
        "median_us": statistics.median(times),
        "p99_us": times[int(len(times) * 0.99) - 1],
        "evaluate_median_us": statistics.median(engine_only),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    m = measure(args.runs)
    print(
        f"follow-up, 20 visits: parse+evaluate+to_json median {m['median_us']:.0f} us, "
        f"p99 {m['p99_us']:.0f} us (evaluate alone median {m['evaluate_median_us']:.0f} us); target < 1000 us"
    )


if __name__ == "__main__":
    main()
