"""Every server sees the same release: 0 stale answers once publishing returns (issue 11).

Real processes: gunicorn with 3 workers on a free port, 6 clients asking the API
throughout, an editor process saving drafts and then publishing a new VEGF
cut-off. Measured on the code before issue 11 (tests/propagation.py --mode
save): every answer after the save was stale (SQLite: 3495 of 3495; PostgreSQL
+ Redis: 2793 of 2793), and most still were 5 s later.
"""

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.propagation import run

ROOT = Path(__file__).resolve().parent.parent


# How long the clients keep asking after publishing returned. Any answer sent after that
# moment with the old cut-off counts as stale, so a release that is late to reach a worker
# shows up in the first second; the 8 s of the hand-run tool (tests/propagation.py) are
# there to see how long stale answers lasted on old code ("stale 5 s later"). 2 s still
# gives thousands of answers (3,205 on SQLite, load 1.5) against the 50 asserted below.
AFTER_SECONDS = 2.0


def _assert_no_stale(result):
    print(result.line())
    assert result.total_after > 50, result.line()  # the clients were busy after publishing
    assert result.stale_after == 0, result.line()
    assert result.leaked_before == 0, result.line()  # a saved draft is never served
    assert result.errors == 0, result.line()


def test_three_gunicorn_workers_on_sqlite_with_the_stamp_file():
    # Its own SQLite file either way: in the PostgreSQL suite it would only repeat the
    # SQLite run (about 30 s), so there the PostgreSQL + Redis case below runs instead.
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("runs in the SQLite suite (make test)")
    _assert_no_stale(run(ROOT, after_seconds=AFTER_SECONDS))


def test_three_gunicorn_workers_on_postgresql_with_redis():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("runs in the PostgreSQL suite (make test-postgres)")
    import psycopg

    parts = urlsplit(url)
    name = f"poemsaid_propagation_{uuid.uuid4().hex[:12]}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        # Redis database 4 with a key prefix unique to this run (run() sets CACHE_KEY_PREFIX).
        result = run(
            ROOT,
            database_url=urlunsplit(parts._replace(path=f"/{name}")),
            cache_url="redis://127.0.0.1:6379/4",
            after_seconds=AFTER_SECONDS,
        )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _assert_no_stale(result)
