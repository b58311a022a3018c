"""The API against its own OpenAPI description (schemathesis, in-process over WSGI).

Schemathesis reads /api/v1/openapi.json as the app serves it, generates valid
and invalid requests for every operation (plus methods the description does
not list), sends them to the WSGI application and checks that:

- no response is a server error;
- every status code and content type is one the description documents;
- every response body matches its documented schema;
- a method the description does not list gets 405 (not, say, a CSRF page);
- a request the description calls invalid is rejected, so the description is
  never stricter than the API.

"Schema-valid request rejected" is deliberately not checked: plausibility
ranges apply after unit conversion and the criteria-set slugs are content,
so some schema-valid cases rightly get the documented 400.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from poemsaid.wsgi import application

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    unsupported_method,
    negative_data_rejection,
]

# Loaded at collection from the app itself (the OpenAPI view reads no database).
# schemathesis.pytest.from_fixture would defer it, but it breaks on pytest 9.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def same_db_connection(seeded):
    """Keep the test's database connection across requests, as Django's test client does.

    The real WSGI handler closes the connection when a request finishes; that
    is right in production, but here it would end the test's transaction (on
    PostgreSQL every later query fails with "the connection is closed").
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.django_db
def test_api_conforms_to_its_openapi_description(case, same_db_connection):
    # The werkzeug test client does not undo gzip; ask for the body as is.
    case.call_and_validate(checks=CHECKS, headers={"Accept-Encoding": "identity"})


def test_schema_covers_every_api_operation():
    """The test above runs once per operation; a path lost from the description would shrink it silently."""
    operations = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert operations == {
        ("POST", "/api/v1/evaluate"),
        ("POST", "/api/v1/follow-up"),
        ("GET", "/api/v1/criteria-sets"),
        ("GET", "/api/v1/vocabulary"),
        ("POST", "/api/v1/screen"),
    }
