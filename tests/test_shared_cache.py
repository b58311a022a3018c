"""CACHE_URL: with a shared (Redis) cache, one publish reaches every app server."""

import uuid

import pytest
from django.core.cache import caches

from checklist.content import rule_book as content
from checklist.content.models import Finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_cache(settings):
    # Our own Redis database (4) and a key prefix unique to this run: concurrent
    # runs and other projects on the same server never see each other's keys.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/4",
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    cache = caches["default"]
    yield cache
    cache.delete(content.STAMP_KEY)


def test_a_publish_on_one_server_reaches_another_through_the_shared_cache(
    client, seeded, redis_cache, publish_draft, monkeypatch
):
    client.get("/")
    before = content.current_stamp()
    assert redis_cache.get(content.STAMP_KEY) == before
    # "Another server" publishes: its signal bumps the stamp in Redis; our memory is untouched.
    Finding.objects.filter(code="ascites").update(label="Ascites (edited elsewhere)")
    monkeypatch.setattr(content, "_after_commit", lambda func: None)
    publish_draft()
    assert "Ascites (edited elsewhere)" not in client.get("/").content.decode()
    redis_cache.set(content.STAMP_KEY, "bumped-by-another-server", timeout=None)
    assert "Ascites (edited elsewhere)" in client.get("/").content.decode()
    assert content.current_stamp() == "bumped-by-another-server"


def test_saving_the_draft_leaves_the_stamp_and_publishing_bumps_it(seeded, redis_cache, publish_draft):
    content.snapshot()
    before = content.current_stamp()
    finding = Finding.objects.get(code="ascites")
    finding.label = "Ascites, edited"
    finding.save()
    assert redis_cache.get(content.STAMP_KEY) == before
    assert content.snapshot().book.label("ascites") != "Ascites, edited"
    publish_draft()
    assert redis_cache.get(content.STAMP_KEY) != before
    assert content.snapshot().book.label("ascites") == "Ascites, edited"
