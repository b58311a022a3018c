"""CDS Hooks latency, p50 and p99, with prefetch and with a FHIR fetch, against the test EHR.

    .venv/bin/python bench/cds_latency.py            # patient-view (both services) and order-select
    .venv/bin/python bench/cds_latency.py orders     # order-select only
    .venv/bin/python bench/cds_latency.py follow-up  # patient-view to poems-follow-up only

Runs the end-to-end latency tests (tests/test_ehr_e2e.py: the test EHR under node, the app in
Django's live server, healthchain as the CDS client) and prints the figures they wrote to
var/ehr-e2e/, with the machine's load (`uptime`): the machine is shared, so read the figures
with it. "server" is the service's own Server-Timing; for order-select with a FHIR fetch,
"own" is that time less the wait on the test EHR's FHIR reads (for order-select and the
follow-up card, poems-follow-up, which reads the problem list and then the VEGF series). Needs node and
tests/ehr/node_modules (make setup).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = {
    "patient-view": (
        "tests/test_ehr_e2e.py::test_hook_latency_p50_p99_with_prefetch_and_with_a_fhir_fetch",
        "cds-hooks-latency.json",
    ),
    "orders": (
        "tests/test_ehr_e2e.py::test_order_select_latency_p50_p99_with_prefetch_and_with_a_fhir_fetch",
        "cds-orders-latency.json",
    ),
    "follow-up": (
        "tests/test_ehr_e2e.py::test_follow_up_card_latency_p50_p99_with_prefetch_and_with_a_fhir_fetch",
        "cds-follow-up-latency.json",
    ),
}


def main(argv: list[str]) -> int:
    wanted = [name for name in TESTS if not argv or name in argv]
    env = {**os.environ, "DEBUG": "0"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-n", "0", "-m", "ehr"]
    print("before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    if subprocess.run([*command, *(TESTS[n][0] for n in wanted)], cwd=ROOT, env=env).returncode != 0:
        return 1
    print("after: ", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    for name in wanted:
        figures = json.loads((ROOT / "var" / "ehr-e2e" / TESTS[name][1]).read_text())
        for mode in ("prefetch", "fhir_fetch"):
            f = figures[mode]
            own = f.get("server_without_fhir_wait")
            extra = f", own {own['p50_ms']} / {own['p99_ms']} ms" if own else ""
            print(
                f"{name:>12} {mode:>10}: p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms "
                f"(server {f['server']['p50_ms']} / {f['server']['p99_ms']} ms{extra}), "
                f"{figures['samples']} calls"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
