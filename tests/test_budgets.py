"""Budgets of design.md §5 that are assertions, not measurements (issue 12: out of bench/).

- Once the content snapshot is warm, a page or API call issues no SQL at all, and a cold
  request issues the same number of queries however much content the database holds.
- The first load of / (the HTML, its stylesheets and scripts, gzip as a browser asks)
  transfers at most 150 KB.
"""

import gzip
import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checklist.content import rule_book as content
from checklist.content.models import Reference, RegressionCase

pytestmark = pytest.mark.django_db

API_CASE = json.dumps(
    {"findings": {"polyneuropathy": True, "m_protein_present": True}, "labs": {"vegf_pg_ml": 450}}
)
FORM_CASE = {"polyneuropathy": "yes", "m_protein_present": "yes", "vegf_pg_ml": "450"}


def requests(client):
    client.get("/", HTTP_ACCEPT_ENCODING="gzip")
    client.post("/result", FORM_CASE)
    client.post("/api/v1/evaluate", API_CASE, content_type="application/json")
    client.get("/api/v1/vocabulary")
    client.get("/api/v1/criteria-sets")


def count(client):
    with CaptureQueriesContext(connection) as queries:
        requests(client)
    return len(queries)


def test_no_queries_once_warm_and_a_constant_number_cold(client, seeded):
    content.invalidate()
    cold = count(client)
    assert cold > 0  # the snapshot was really rebuilt from the database
    assert count(client) == 0  # warm: the snapshot answers everything

    # Ten times the content that can grow without new engine code; the served content
    # (the published release) is read in a fixed number of queries whatever the size.
    refs = list(Reference.objects.all())
    Reference.objects.bulk_create(
        [Reference(**{**_fields(r), "key": f"{r.key}-x{i}"}) for r in refs for i in range(9)]
    )
    cases = list(RegressionCase.objects.all())
    RegressionCase.objects.bulk_create(
        [RegressionCase(**{**_fields(c), "slug": f"{c.slug}-x{i}"}) for c in cases for i in range(9)]
    )
    assert Reference.objects.count() == 10 * len(refs)
    content.invalidate()
    assert count(client) == cold
    assert count(client) == 0


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if not f.primary_key}


def test_first_load_of_the_checklist_is_at_most_150_kb(client, seeded):
    response = client.get("/", HTTP_ACCEPT_ENCODING="gzip")
    html = (
        gzip.decompress(response.content) if response.get("Content-Encoding") == "gzip" else response.content
    )
    total = len(gzip.compress(html, 6))
    assets = re.findall(r'(?:href|src)="/static/([^"?#]+)"', html.decode())
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets), assets
    for asset in set(assets):
        # The source file, gzipped as whitenoise serves it (hashed names map back to it).
        name = re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", asset)
        path = finders.find(name)
        assert path, asset
        with open(path, "rb") as handle:
            total += len(gzip.compress(handle.read(), 6))
    print(f"first load of /: {total / 1024:.1f} KB in {len(set(assets)) + 1} files")
    assert total <= 150 * 1024, f"first load {total / 1024:.1f} KB"
