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
# Each test run gets its own content-version stamp file.
os.environ.setdefault(
    "CONTENT_STAMP_FILE", os.path.join(tempfile.mkdtemp(prefix="poemsaid-test-"), "content-stamp")
)
