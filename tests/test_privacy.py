"""Privacy (design.md §1, §5): nothing a clinician enters is stored or logged.

About fifty varied cases, each carrying distinctive sentinel values, go through
the API and through the checklist form (page, live result fragment, print
report) while every log record is captured twice: by caplog at DEBUG on the
root logger, and as the JSON lines the production console handler writes. No
sentinel may appear in either, no table may gain or lose a row, and the cache
may hold nothing new.
"""

import json
import logging
import random
import re
import sys

import pytest
from django.apps import apps
from django.core.cache import cache
from django.test import Client

from checklist.engine.vocabulary import FINDINGS, LABS
from checklist.web.forms import unit_field
from poemsaid.logging import JsonFormatter

pytestmark = pytest.mark.django_db

# Lab values no log line, counter or timestamp would contain by chance. Each is
# (canonical value, optionally the same value in another unit as (value, unit)).
SENTINEL_LABS = {
    "vegf_pg_ml": (4321.5, (4.3215, "ng/mL")),
    "platelets_10e9_l": (777, (777_000, "/uL")),
    "age_years": (83, None),
    "hemoglobin_g_dl": (17.31, (173.1, "g/L")),
    "hematocrit_pct": (51.37, None),
    "calcium_mg_dl": (11.37, None),
    "creatinine_mg_dl": (2.357, None),
    "m_protein_g_dl": (3.468, (34.68, "g/L")),
    "flc_kappa_mg_l": (246.81, None),
    "flc_lambda_mg_l": (13.579, None),
    "bm_plasma_cells_pct": (12.34, None),
    "csf_protein_mg_dl": (123.45, None),
    "proteinuria_g_24h": (0.987, None),
    "vegf_uln_pg_ml": (987.6, None),
}
ALWAYS = ("vegf_pg_ml", "platelets_10e9_l", "age_years")  # in every case
SENTINELS = sorted(
    {f"{value:g}" for value, _ in SENTINEL_LABS.values()}
    | {f"{alt[0]:g}" for _, alt in SENTINEL_LABS.values() if alt}
    | {"98765.4", "777777"}  # the rejected values of the 400 tests
)
CATEGORIES = ("sex", "vegf_specimen", "light_chain_type", "heavy_chain_type")
FORM_FINDINGS = sorted(FINDINGS)  # every finding is a field of the form


def sentinel_pattern(text):
    # Not part of a longer number; trailing zeros ("777.0", "4321.50") still count.
    zeros = r"0*" if "." in text else r"(?:\.0+)?"
    return re.compile(r"(?<![\d.])" + re.escape(text) + zeros + r"(?!\d|\.\d)")


PATTERNS = {s: sentinel_pattern(s) for s in SENTINELS}


# Source locations ("line 83", "base.py:777") and object addresses ("0x7fd04e8d83d0")
# in tracebacks and reprs are not data.
LOCATIONS = re.compile(r"\bline \d+|\.py\W{0,2}\d+|\b0x[0-9a-fA-F]+")


def leaks(text):
    text = LOCATIONS.sub(" ", text)
    return [s for s, pattern in PATTERNS.items() if pattern.search(text)]


def build_cases(n=50):
    """Deterministic, varied cases: findings, sentinel labs (some in other units), sets."""
    cases = []
    for i in range(n):
        rng = random.Random(i)
        codes = rng.sample(sorted(FINDINGS), rng.randint(0, 20))
        form_codes = rng.sample(FORM_FINDINGS, rng.randint(0, 20))
        extra = rng.sample(sorted(set(SENTINEL_LABS) - set(ALWAYS)), rng.randint(0, 8))
        labs = {}
        for code in (*ALWAYS, *extra):
            value, alt = SENTINEL_LABS[code]
            labs[code] = alt if alt and rng.random() < 0.4 else (value, None)
        categories = {c: rng.choice(LABS[c].choices) for c in rng.sample(CATEGORIES, rng.randint(0, 4))}
        cases.append(
            {
                "findings": {c: rng.random() < 0.6 for c in codes},
                "form_findings": {c: rng.random() < 0.6 for c in form_codes},
                "labs": labs,
                "categories": categories,
                "criteria_set": rng.choice([None, "mayo-2007", "mayo-2003", "suichi-2019"]),
                "compare": rng.random() < 0.5,
            }
        )
    return cases


def api_body(case):
    labs = {}
    for code, (value, unit) in case["labs"].items():
        labs[code] = value if unit is None else {"value": value, "unit": unit}
    body = {"findings": case["findings"], "labs": {**labs, **case["categories"]}, "compare": case["compare"]}
    if case["criteria_set"]:
        body["criteria_set"] = case["criteria_set"]
    return json.dumps(body)


def form_data(case):
    data = {code: "yes" if value else "no" for code, value in case["form_findings"].items()}
    for code, (value, unit) in case["labs"].items():
        data[code] = f"{value:g}"
        if unit is not None:
            data[unit_field(code)] = unit
    data.update(case["categories"])
    if case["criteria_set"]:
        data["criteria_set"] = case["criteria_set"]
    return data


def row_counts():
    """Rows in every table: content, users, sessions, history, axes, m2m links."""
    return {m._meta.label: m._default_manager.count() for m in apps.get_models(include_auto_created=True)}


def cache_keys():
    store = getattr(cache, "_cache", None)
    return set(store) if store is not None else None


@pytest.fixture
def log_capture(caplog, capsys):
    """Every record at DEBUG, via caplog and via the production JSON console handler."""
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.request", "django.server", "django.db.backends", "axes"):
        caplog.set_level(logging.DEBUG, logger=name)
    console = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and isinstance(h.formatter, JsonFormatter)
    ]
    assert console, "the JSON console handler is missing from the root logger"
    # The handler holds the stream it was configured with at startup; send its
    # lines to whatever sys.stderr is when it writes, which in a test is capsys.
    previous = [h.stream for h in console]
    for handler in console:
        handler.stream = CurrentStderr()
    capsys.readouterr()  # drop whatever setup printed
    yield caplog, capsys
    for handler, stream in zip(console, previous, strict=True):
        handler.stream = stream


class CurrentStderr:
    def write(self, text):
        return sys.stderr.write(text)

    def flush(self):
        sys.stderr.flush()


def logged_text(caplog, capsys):
    """All captured log output: caplog records in full, and the console's JSON lines."""
    plain = logging.Formatter("%(levelname)s %(name)s %(message)s")
    records = []
    for record in caplog.records:
        parts = [plain.format(record)]
        parts += [v for v in vars(record).values() if isinstance(v, str)]
        records.append(" ".join(parts))
    out, err = capsys.readouterr()
    lines = [line for line in (out + err).splitlines() if line.strip()]
    for line in lines:
        json.loads(line)  # the console writes JSON lines and nothing else
    return records, lines


def assert_nothing_leaked(records, lines):
    for text in records + lines:
        found = leaks(text)
        if found:
            clean = LOCATIONS.sub(" ", text)
            at = PATTERNS[found[0]].search(clean).start()
            pytest.fail(f"case data {found} in a log line: ...{clean[max(0, at - 200) : at + 100]}")


def test_cases_leave_no_trace_in_logs_database_or_cache(seeded, log_capture):
    caplog, capsys = log_capture
    api = Client(enforce_csrf_checks=True)
    web = Client()
    api.post("/api/v1/evaluate", "{}", content_type="application/json")  # warm the content cache
    before, keys_before = row_counts(), cache_keys()

    cases = build_cases()
    statuses = set()
    echoed = 0
    for case in cases:
        response = api.post("/api/v1/evaluate", api_body(case), content_type="application/json")
        assert response.status_code == 200, response.content
        body = response.json()
        statuses.add(body["status"])
        # Reasons show a value as entered (clinical.md §f.2 A7): 4321.5 pg/mL or 4.3215 ng/mL.
        echoed += "4321.5" in json.dumps(body) or "4.3215" in json.dumps(body)
        data = form_data(case)
        for path in ("/", "/result", "/report"):
            response = web.post(path, data)
            assert response.status_code == 200, (path, response.content[:300])
            if path == "/":  # the page shows the entered values back, in the form
                assert leaks(response.content.decode()), path

    assert len(cases) >= 50
    assert statuses == {"met", "not_met", "incomplete"}  # the cases are varied
    assert echoed > len(cases) // 2  # the sentinels really flow through: answers quote them
    assert row_counts() == before
    if keys_before is not None:
        assert cache_keys() == keys_before
    assert not web.cookies and not api.cookies
    records, lines = logged_text(caplog, capsys)
    assert_nothing_leaked(records, lines)


def test_rejected_input_is_not_logged(seeded, log_capture):
    caplog, capsys = log_capture
    api = Client(enforce_csrf_checks=True)
    web = Client()
    before = row_counts()

    bad = {"labs": {"vegf_pg_ml": 98765.4, "platelets_10e9_l": 777_777, "age_years": 83}}
    response = api.post("/api/v1/evaluate", json.dumps(bad), content_type="application/json")
    assert response.status_code == 400
    assert "98765.4" in response.content.decode()  # the error names the value, to the client only

    form = {"vegf_pg_ml": "98765.4", "platelets_10e9_l": "777777", "age_years": "83"}
    for path in ("/", "/report"):
        response = web.post(path, form)
        assert response.status_code == 400, path
    response = web.post("/result", {**form, "hemoglobin_g_dl": "17.31 g"})
    assert response.status_code == 200
    # Field messages travel in the body (out-of-band swaps), never in a header.
    assert not any(name.lower().startswith("x-field") for name in response.headers)
    assert 'id="msg-hemoglobin_g_dl" hx-swap-oob="true"' in response.content.decode()

    assert row_counts() == before
    records, lines = logged_text(caplog, capsys)
    # Logging was captured (Django logs every 400), so silence is not the reason for no leak.
    assert any(r.name == "django.request" and getattr(r, "status_code", 0) == 400 for r in caplog.records)
    assert any(json.loads(line).get("status_code") == 400 for line in lines)
    assert_nothing_leaked(records, lines)


def test_a_leak_would_be_caught(seeded, log_capture):
    """The capture and the patterns work: a value that does reach a log is found in both channels."""
    caplog, capsys = log_capture
    logging.getLogger("checklist").debug("platelets %s, VEGF %s", 777.0, 4321.50)
    records, lines = logged_text(caplog, capsys)
    assert leaks(" ".join(records)) == ["4321.5", "777"]
    assert leaks(" ".join(lines)) == ["4321.5", "777"]
    assert not leaks("line 183, 7770, 14321.5, 0.777, 777.5, 2026-11-25T11:51:43, line 83, log.py:777")
    assert not leaks("<BoundField object at 0x7fd04e8d83d0>")
    assert leaks("age 83.0; 777 x10^9/L") == ["777", "83"]


def test_template_debug_records_stay_off_whatever_the_log_level(log_capture):
    """Django's template DEBUG records carry the repr of the whole context (the case, on
    result pages); settings pin that logger, so even root and "django" at DEBUG leave it off."""
    assert logging.getLogger().isEnabledFor(logging.DEBUG)
    assert logging.getLogger("django").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("django.template").isEnabledFor(logging.DEBUG)
