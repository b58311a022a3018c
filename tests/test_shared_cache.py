"""CACHE_URL: with a shared (Redis) cache, one editor save reaches every app server."""

import pytest
from django.core.cache import caches

from checklist import content
from checklist.models import Finding

pytestmark = pytest.mark.django_db

REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
    }
}


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = REDIS
    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


def test_a_save_on_one_server_reaches_another_through_the_shared_cache(client, seeded, redis_cache):
    client.get("/")
    before = content.current_stamp()
    assert redis_cache.get(content.STAMP_KEY) == before
    # "Another server" saves: its signal bumps the stamp in Redis; our memory is untouched.
    Finding.objects.filter(code="ascites").update(label="Ascites (edited elsewhere)")
    redis_cache.set(content.STAMP_KEY, "bumped-by-another-server", timeout=None)
    assert "Ascites (edited elsewhere)" in client.get("/").content.decode()
    assert content.current_stamp() == "bumped-by-another-server"


def test_saving_content_bumps_the_shared_stamp(seeded, redis_cache):
    content.snapshot()
    before = content.current_stamp()
    finding = Finding.objects.get(code="ascites")
    finding.label = "Ascites, edited"
    finding.save()
    assert redis_cache.get(content.STAMP_KEY) != before
    assert content.snapshot().book.label("ascites") == "Ascites, edited"
