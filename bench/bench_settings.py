"""The production settings, plus the benchmark's /trivial baseline view (bench/urls.py).

Nothing else differs: STATIC_ROOT, DATABASE_URL and the rest come from the environment
that bench/run.py sets, as in production.
"""

from poemsaid.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
