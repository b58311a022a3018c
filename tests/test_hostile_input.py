"""Hostile input (issue 12): every malformed body is a 400 in the errors shape, never a 500,
and no log line ever carries what was sent.

The log test pushes sentinel strings through every failing path it can reach in-process
(API, form pages, a forced internal error whose exception message quotes the input,
a bad Host header) and through the CLI in a real process, and greps all of the log output
as the production handler writes it. tests/test_stack.py does the same against a real
gunicorn (its error and access logs) behind nginx.
"""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poemsaid.logging import JsonFormatter

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
SENTINEL = "zqx7sentinel"  # text no log line contains by chance
NUMBER = "8675309123"  # a sentinel number, as digits


def post(client, body, content_type="application/json"):
    return client.post("/api/v1/evaluate", body, content_type=content_type)


def assert_errors_shape(response, status=400):
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"errors"} and body["errors"], body
    for error in body["errors"]:
        assert isinstance(error["field"], str) and isinstance(error["message"], str), error
    return body["errors"]


HOSTILE = {
    "lone surrogate as a key": b'{"findings": {"\\ud800": true}}',
    "lone low surrogate as a key": b'{"\\udfff": 1}',
    "lone surrogate as a value": b'{"criteria_set": "mayo\\udc00"}',
    "lone surrogate in a lab unit": b'{"labs": {"vegf_pg_ml": {"value": 1, "unit": "\\ud83d"}}}',
    "309-digit integer": b'{"labs": {"vegf_pg_ml": ' + b"9" * 309 + b"}}",
    "309-digit negative integer": b'{"labs": {"vegf_pg_ml": -' + b"9" * 309 + b"}}",
    "5000-digit integer": b'{"labs": {"age_years": ' + b"1" * 5000 + b"}}",
    "huge integer inside a value object": b'{"labs": {"vegf_pg_ml": {"value": '
    + b"7" * 400
    + b', "unit": "pg/mL"}}}',
    "huge integer as a finding": b'{"findings": {"ascites": ' + b"1" * 400 + b"}}",
    "1e400": b'{"labs": {"vegf_pg_ml": 1e400}}',
    "NaN": b'{"labs": {"vegf_pg_ml": NaN}}',
    "-Infinity": b'{"labs": {"vegf_pg_ml": -Infinity}}',
    "deep nesting": b"[" * 30_000 + b"]" * 30_000,
    "encoded surrogate (not UTF-8)": b'{"criteria_set": "\xed\xa0\x80"}',
    "not UTF-8": b'{"criteria_set": "\xff\xfe"}',
    "UTF-16": '{"findings": {}}'.encode("utf-16"),
    "UTF-8 BOM": b'\xef\xbb\xbf{"findings": {}}',
    "truncated": b'{"findings": {"ascites": tr',
    "trailing data": b'{"findings": {}} {"findings": {}}',
    "single quotes": b"{'findings': {}}",
    "a bare string": b'"findings"',
    "an array": b"[1, 2, 3]",
    "null": b"null",
    "control character in a string": b'{"criteria_set": "a\x01b"}',
    "findings not an object": b'{"findings": [true]}',
    "labs not an object": b'{"labs": "lots"}',
    "unknown top-level key": b'{"findngs": {}}',
    "number as a key value type": b'{"findings": {"ascites": "yes please"}}',
    "value object without a value": b'{"labs": {"vegf_pg_ml": {"unit": "pg/mL"}}}',
    "criteria_set not a string": b'{"criteria_set": 2007}',
    "compare not a boolean": b'{"compare": "always"}',
    "a NUL byte": b'{"criteria_set": "\\u0000"}',
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_json_is_400_with_the_errors_shape(seeded, body):
    assert_errors_shape(post(Client(), body))


# The follow-up API (design.md §3.9) shares the body handling: every hostile body above, and
# hostile values inside a visit, are 400s in the errors shape naming the field.
FOLLOW_UP_HOSTILE = {
    **HOSTILE,
    "309-digit VEGF": b'{"visits": [{"date": "2026-01-05", "values": {"vegf_pg_ml": ' + b"9" * 309 + b"}}]}",
    "1e400 SUVmax": b'{"visits": [{"date": "2026-01-05", "values": {"pet_suv_max": 1e400}}]}',
    "surrogate as a code": b'{"visits": [{"date": "2026-01-05", "values": {"\\ud800": 1}}]}',
    "surrogate in a date": b'{"visits": [{"date": "2026-01-0\\udc00"}]}',
    "date as a number": b'{"visits": [{"date": 20260105}]}',
    "year 0": b'{"visits": [{"date": "0000-01-05"}]}',
    "year 99999": b'{"visits": [{"date": "99999-01-05"}]}',
    "ISO week date": b'{"visits": [{"date": "2026-W02-1"}]}',
    "visits an object": b'{"visits": {"0": {"date": "2026-01-05"}}}',
    "visit a list": b'{"visits": [["2026-01-05"]]}',
    "values a list": b'{"visits": [{"date": "2026-01-05", "values": [1]}]}',
    "treatment line a boolean": b'{"visits": [{"date": "2026-01-05"}], "treatments": [{"line": true, '
    b'"type": "systemic", "start": "2026-01-01"}]}',
    "treatment line huge": b'{"visits": [{"date": "2026-01-05"}], "treatments": [{"line": 1e300, '
    b'"type": "systemic", "start": "2026-01-01"}]}',
    "unit not a string": b'{"visits": [{"date": "2026-01-05", "values": {"vegf_pg_ml": '
    b'{"value": 1, "unit": []}, "vegf_specimen": "plasma"}}]}',
    "vegf_lab 10 kB": b'{"visits": [{"date": "2026-01-05", "values": {"vegf_lab": "'
    + b"x" * 10_000
    + b'"}}]}',
}


@pytest.mark.parametrize("body", FOLLOW_UP_HOSTILE.values(), ids=FOLLOW_UP_HOSTILE.keys())
def test_hostile_follow_up_json_is_400_with_the_errors_shape(seeded, body):
    errors = assert_errors_shape(Client().post("/api/v1/follow-up", body, content_type="application/json"))
    assert all(e["field"] for e in errors)


# Any JSON value, including lone surrogates and integers far beyond a float's range.
_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=12) | st.sampled_from(
    ["\ud800", "\udfff", "ascites", "vegf_pg_ml", "value", "unit", "pg/mL"]
)
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=False)
    | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)
_case = st.fixed_dictionaries(
    {},
    optional={
        "findings": st.dictionaries(st.sampled_from(["ascites", "polyneuropathy", "\ud800"]) | _text, _json),
        "labs": st.dictionaries(st.sampled_from(["vegf_pg_ml", "age_years", "sex"]) | _text, _json),
        "criteria_set": _json,
        "compare": _json,
    },
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_case | _json)
def test_any_json_document_is_answered_200_or_400_never_500(seeded, data):
    # ensure_ascii: lone surrogates travel as \u escapes, as a hostile client sends them.
    response = post(Client(), json.dumps(data, ensure_ascii=True).encode())
    if response.status_code != 200:
        assert_errors_shape(response)


_visit = st.fixed_dictionaries(
    {},
    optional={
        "date": st.sampled_from(["2026-01-05", "2026-02-30", "2099-01-01", "\ud800"]) | _json,
        "values": st.dictionaries(
            st.sampled_from(["vegf_pg_ml", "vegf_specimen", "onls_total", "pet_done", "gcsf_last_date"])
            | _text,
            _json,
            max_size=4,
        )
        | _json,
    },
)
_timeline = st.fixed_dictionaries(
    {"visits": st.lists(_visit, max_size=3) | _json},
    optional={
        "treatments": st.lists(st.dictionaries(st.sampled_from(["line", "type", "start", "end"]), _json))
    },
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_timeline | _json)
def test_any_follow_up_document_is_answered_200_or_400_never_500(seeded, data):
    body = json.dumps(data, ensure_ascii=True).encode()
    response = Client().post("/api/v1/follow-up", body, content_type="application/json")
    if response.status_code != 200:
        assert_errors_shape(response)


# --- Nothing sent is ever logged -------------------------------------------------------


@pytest.fixture
def production_log(settings):
    """What the production console handler writes (JSON lines), everything at DEBUG."""
    root = logging.getLogger()
    console = [
        h
        for h in root.handlers
        if isinstance(h, logging.StreamHandler) and isinstance(h.formatter, JsonFormatter)
    ]
    assert console, "the JSON console handler is missing from the root logger"
    buffer = io.StringIO()
    previous = [(h, h.stream) for h in console]
    levels = {
        name: logging.getLogger(name).level for name in ("", "django", "django.request", "django.security")
    }
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    for handler in console:
        handler.stream = buffer
    yield buffer
    for handler, stream in previous:
        handler.stream = stream
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def grep(text):
    return [line for line in text.splitlines() if SENTINEL in line or NUMBER in line]


def test_no_failing_path_logs_what_was_sent(seeded, production_log, monkeypatch):
    client = Client(raise_request_exception=False)
    hostile_api = [
        f'{{"findings": {{"{SENTINEL}": true, "\\ud800": true}}}}',
        f'{{"labs": {{"vegf_pg_ml": "{SENTINEL}"}}, "criteria_set": "{SENTINEL}"}}',
        f'{{"labs": {{"vegf_pg_ml": {NUMBER}{"9" * 300}}}}}',
        f'{{"labs": {{"vegf_pg_ml": {{"value": {NUMBER}, "unit": "{SENTINEL}"}}}}}}',
        f'{{"{SENTINEL}": {NUMBER}}}',
        f'{{"findings": {{"ascites": "{SENTINEL}"}}',  # truncated
        f"{SENTINEL}",
    ]
    for body in hostile_api:
        assert_errors_shape(post(client, body.encode()))
    assert_errors_shape(post(client, f'{{"x": "{SENTINEL}"}}', content_type="text/plain"), 415)

    form = {"vegf_pg_ml": f"{NUMBER}{SENTINEL}", "age_years": NUMBER + "0" * 300, "criteria_set": SENTINEL}
    for path in ("/", "/report"):
        assert client.post(path, form).status_code == 400, path
    response = client.post("/result", form)
    assert response.status_code == 200  # the live fragment shows the field messages

    # A Host header is request data too; Django's security logger quotes it in its message.
    assert client.get("/", HTTP_HOST=f"{SENTINEL}.example").status_code == 400

    # An unexpected failure whose exception message quotes the input (the 500 path).
    def broken(data):
        raise ValueError(f"could not use {data!r}")

    monkeypatch.setattr("checklist.api.views.evaluate_data", broken)
    response = post(client, f'{{"findings": {{"{SENTINEL}": {NUMBER}}}}}'.encode())
    assert response.status_code == 500

    lines = production_log.getvalue().splitlines()
    assert len(lines) >= 10, lines  # the paths above were logged: silence is not the reason for no leak
    records = [json.loads(line) for line in lines]
    assert any(r.get("status_code") == 500 and r["exception"] == "builtins.ValueError" for r in records)
    assert any(r["logger"].startswith("django.security") for r in records)
    assert grep("\n".join(lines)) == []


def test_the_cli_answers_hostile_input_with_errors_and_logs_nothing(tmp_path):
    """A real process, as a user runs it: exit 2, the errors on stdout, stderr silent.

    Malformed JSON is refused before any content is read, so no database is set up (values
    the engine refuses are covered in-process above and by tests/test_cli.py).
    """
    db = tmp_path / "cli.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "DEBUG": "0", "ALLOW_INSECURE_KEY": "1"}
    python = sys.executable
    for body in (
        f'{{"findings": {{"{SENTINEL}": true, "\\ud800": true}}}}',
        f'{{"labs": {{"vegf_pg_ml": {NUMBER}{"9" * 300}}}}}',
        f'{{"{SENTINEL}',
    ):
        done = subprocess.run(
            [python, "manage.py", "evaluate", "-"],
            cwd=ROOT,
            env=env,
            input=body,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 2, (body, done.stderr)
        assert json.loads(done.stdout)["errors"]
        assert done.stderr == ""
