"""Test environment, loaded as a pytest plugin (-p poemsaid.testenv) before Django starts.

Tests run with DEBUG off, as production does, and with the development key.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOW_INSECURE_KEY", "1")
os.environ.setdefault("SECURE", "0")
os.environ.setdefault("MANIFEST_STATIC", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# The in-process tests are one process with the per-process cache; the gunicorn tests that
# check replay across workers set this to 0 (tests/test_ehr_replay.py).
os.environ.setdefault("CDS_HOOKS_LOCAL_REPLAY_CACHE", "1")
# Each test run gets its own content-version stamp file, and so does each pytest-xdist
# worker: workers inherit the controller's environment, and a publish in one worker must
# not look like a content change to another (query-count budgets would see the reload).
# A stamp file given from outside is kept.
_OURS = "POEMSAID_TEST_STAMP_FILE"
if "CONTENT_STAMP_FILE" not in os.environ or (
    os.environ.get("PYTEST_XDIST_WORKER") and os.environ["CONTENT_STAMP_FILE"] == os.environ.get(_OURS)
):
    _stamp = os.path.join(tempfile.mkdtemp(prefix="poemsaid-test-"), "content-stamp")
    os.environ["CONTENT_STAMP_FILE"] = os.environ[_OURS] = _stamp
