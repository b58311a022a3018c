"""The hot paths' speed-ups keep every header: django-csp's policy written from a cache is the
one django-csp builds, on the live result, the API and the page alike."""

import pytest
from csp.constants import HEADER
from csp.utils import build_policy


@pytest.mark.parametrize(
    "method, path, data",
    [("post", "/result", {"polyneuropathy": "yes"}), ("get", "/", None), ("get", "/criteria", None)],
)
def test_the_cached_policy_is_django_csps(client, seeded, method, path, data):
    response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
    assert response.status_code == 200
    assert response[HEADER] == build_policy()
    assert "script-src 'self'" in response[HEADER] and "unsafe-inline" not in response[HEADER]


def test_a_changed_policy_is_not_served_from_the_cache(client, seeded, settings):
    client.get("/")
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/criteria")[HEADER] == "default-src 'none'"
