"""patient-view latency, p50 and p99, with prefetch and with a FHIR fetch, against the test EHR.

    .venv/bin/python bench/cds_latency.py

Runs the end-to-end latency test (tests/test_ehr_e2e.py: the test EHR under node, the app in
Django's live server, healthchain as the CDS client) and prints the figures it wrote to
var/ehr-e2e/cds-hooks-latency.json. Needs node and tests/ehr/node_modules (make setup).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/test_ehr_e2e.py::test_hook_latency_p50_p99_with_prefetch_and_with_a_fhir_fetch"


def main() -> int:
    env = {**os.environ, "DEBUG": "0"}
    command = [sys.executable, "-m", "pytest", TEST, "-q", "-p", "no:randomly", "-n", "0", "-m", "ehr"]
    if subprocess.run(command, cwd=ROOT, env=env).returncode != 0:
        return 1
    figures = json.loads((ROOT / "var" / "ehr-e2e" / "cds-hooks-latency.json").read_text())
    for mode in ("prefetch", "fhir_fetch"):
        f = figures[mode]
        print(
            f"{mode:>10}: p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms "
            f"(server {f['server']['p50_ms']} / {f['server']['p99_ms']} ms), {figures['samples']} calls"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
