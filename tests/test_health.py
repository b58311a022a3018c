"""Health that tells the truth (design.md §3.6, issue 12).

/healthz is 200 only when a page can be served, and when it cannot, the pages and the API
answer 503 with a plain notice (never a 500): database down, content unreadable, the
content-change signal broken (Redis unreachable, the stamp file on a read-only disk).
"""

import socket

import pytest
from django.core.cache import caches
from django.db import OperationalError, connection
from django.test import Client

from checklist.content import rule_book as content

pytestmark = pytest.mark.django_db

CASE = b'{"findings": {"polyneuropathy": true}}'


def get_all(client):
    """Health, the checklist page and the API, as a load balancer and a user see them."""
    health = client.get("/healthz")
    page = client.get("/")
    api = client.post("/api/v1/evaluate", CASE, content_type="application/json")
    return health, page, api


def assert_unavailable(health, page, api, failed):
    assert health.status_code == 503, health.content
    assert health.json()["status"] == "error" and health.json()[failed] != "ok"
    assert page.status_code == 503 and page["Retry-After"]
    html = page.content.decode()
    assert "Temporarily unavailable" in html and "does not diagnose" in html
    assert api.status_code == 503 and api.json()["errors"][0]["field"] == "(service)"


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def test_healthy_server_reports_each_check(client, seeded):
    health, page, api = get_all(client)
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "database": "ok",
        "content": "ok",
        "content_signal": "ok",
        "content_version": content.snapshot().book.content_version,
    }
    assert page.status_code == 200 and api.status_code == 200


def test_database_down(client, seeded, monkeypatch):
    def refused(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refused)
    assert_unavailable(*get_all(client), failed="database")


def test_content_unreadable(client, seeded, monkeypatch):
    def unreadable(stamp=""):
        raise content.ContentUnavailable("no published content release can be read")

    monkeypatch.setattr(content, "build_snapshot", unreadable)
    assert_unavailable(*get_all(client), failed="content")


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


def test_unreachable_cache_url(client, seeded, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    caches["default"]  # the new backend
    assert_unavailable(*get_all(client), failed="content_signal")


def test_stamp_file_on_a_read_only_filesystem(client, seeded, settings):
    # /proc refuses new files even to root (CI runs as root, so chmod would prove nothing).
    settings.CONTENT_STAMP_FILE = "/proc/self/poemsaid-content-stamp"
    assert_unavailable(*get_all(client), failed="content_signal")


def test_every_response_carries_a_permissions_policy(client, seeded):
    for response in (
        client.get("/"),
        client.get("/healthz"),
        client.post("/api/v1/evaluate", CASE, content_type="application/json"),
        client.get("/admin/login/"),
        client.get("/no-such-page"),
    ):
        policy = response["Permissions-Policy"]
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert f"{feature}=()" in policy


def test_the_benchmark_view_is_not_a_production_url(client, seeded):
    assert client.get("/trivial").status_code == 404
