"""The production settings, with STATIC_ROOT moved to a throwaway directory.

poemsaid/settings.py fixes STATIC_ROOT at <repo>/staticfiles; the benchmark
collects static files into a temporary directory instead (BENCH_STATIC_ROOT)
so that it never touches the working tree. Nothing else differs.
"""

from __future__ import annotations

import os
from pathlib import Path

from poemsaid.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])

# Fallback used by bench/run.py only when the production storage cannot collect
# the static files (it says so in its output): gzip without hashed names.
if os.environ.get("BENCH_STATIC_STORAGE"):
    STORAGES = {**STORAGES, "staticfiles": {"BACKEND": os.environ["BENCH_STATIC_STORAGE"]}}  # noqa: F405

ROOT_URLCONF = "bench.urls"
