#!/usr/bin/env python
"""POEMSaid benchmark: measures the speed figures of design.md §5 and prints them next to the targets.

    .venv/bin/python bench/run.py            (or: make bench)

1. Engine: parse_case + evaluate over every golden case (tests/golden/*.json),
   pure Python, no Django, a RuleBook built from the shipped fixtures.
2. SQL queries per request (django.test.Client + CaptureQueriesContext), cold
   and warm, at the seed content and at 10x content, on a throwaway SQLite DB.
3. Load: gunicorn with gunicorn.conf.py and the production settings on a free
   loopback port, driven by wrk: /trivial (baseline), the JSON API, the
   checklist page and the live result fragment.
4. First-load transfer of / with Accept-Encoding: gzip, plus its CSS and JS.

Installs nothing. Needs wrk for part 3 (apt-get install wrk); without it, part
3 is skipped with a message and the rest still runs. Everything it creates
lives in one temporary directory that is removed at the end, and the gunicorn
it starts is stopped at the end, even on error or Ctrl-C.

Results are printed and written to bench/results/latest.txt (and latest.json).
Exit status: 0 when the run completed (1 with --strict if a target was missed),
2 when the benchmark itself failed.
"""

import argparse
import contextlib
import datetime as dt
import gc
import importlib.metadata
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as bench/run.py: sys.path[0] is bench/

RESULTS = ROOT / "bench" / "results"
GOLDEN = ROOT / "tests" / "golden"
FIXTURES = (ROOT / "fixtures" / "checklist_content.json", ROOT / "fixtures" / "content_pages.json")

# design.md §5, on this 2-core machine.
TARGET_ENGINE_MEDIAN_US = 50.0
TARGET_API_RATIO = 0.8
TARGET_CHECKLIST_P99_MS = 25.0
TARGET_CONTENT_QUERIES = 0
TARGET_FIRST_LOAD_KB = 150.0

# A typical, fairly complete work-up (synthetic, not a patient): POEMS met under
# mayo-2007, labs in mixed units, a few differential clues. Used for the API
# body and, turned into the checklist's fields, for the POST /result body.
TYPICAL_CASE = {
    "criteria_set": "mayo-2007",
    "findings": {
        "polyneuropathy": True,
        "m_protein_present": True,
        "sclerotic_bone_lesions": True,
        "castleman_disease": False,
        "splenomegaly": True,
        "hepatomegaly": False,
        "peripheral_edema": True,
        "pleural_effusion": False,
        "endo_hypogonadism": True,
        "endo_diabetes_mellitus": False,
        "skin_hyperpigmentation": True,
        "skin_hemangiomata": True,
        "papilledema": False,
        "clubbing": True,
        "weight_loss": True,
        "neuropathy_demyelinating": True,
        "neuropathy_painful": False,
        "ivig_refractory": True,
        "copd": False,
        "amyloid_on_biopsy": False,
    },
    "labs": {
        "age_years": 51,
        "sex": "M",
        "vegf_pg_ml": {"value": 0.85, "unit": "ng/mL"},
        "vegf_specimen": "plasma",
        "light_chain_type": "lambda",
        "heavy_chain_type": "IgA",
        "platelets_10e9_l": 480,
        "hemoglobin_g_dl": {"value": 142, "unit": "g/L"},
        "calcium_mg_dl": 9.4,
        "creatinine_mg_dl": 0.9,
        "m_protein_g_dl": 0.6,
        "bm_plasma_cells_pct": 4,
    },
}
# The API body is the case as a script sends it (compare defaults to false);
# the page always asks for the comparison, which the engine figures cover too.
API_BODY = json.dumps(TYPICAL_CASE, separators=(",", ":"))
MULTIPART_BOUNDARY = "----poemsaidbench7MA4YWxkTrZu0gW"

# Production settings, for the server and for the query counts.
PROD_ENV = {
    "DEBUG": "0",
    "ALLOW_INSECURE_KEY": "1",
    "SECURE": "0",
    "LOG_LEVEL": "WARNING",
    "CACHE_URL": "",
}


# --------------------------------------------------------------------------- output


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.data: dict = {}
        self.verdicts: list[tuple[str, str, str, bool | None]] = []

    def out(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def verdict(self, name: str, figure: str, target: str, met: bool | None) -> None:
        self.verdicts.append((name, figure, target, met))


def pct(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def mark(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "not measured"}[met]


# --------------------------------------------------------------------------- machine


def _run_text(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout or done.stderr).strip()


def machine_info() -> dict:
    info: dict = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")}
    info["nproc"] = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    info["cpu"] = cpu or platform.processor() or platform.machine()
    info["os"] = platform.platform()
    info["loadavg"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    info["python"] = platform.python_version()
    for package in ("Django", "gunicorn", "whitenoise"):
        try:
            info[package.lower()] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            info[package.lower()] = "not installed"
    wrk = shutil.which("wrk")
    info["wrk"] = _run_text([wrk, "-v"]).splitlines()[0] if wrk else "not installed"
    commit = _run_text(["git", "rev-parse", "--short", "HEAD"])
    dirty = _run_text(["git", "status", "--porcelain", "--untracked-files=no"])
    info["commit"] = (commit or "unknown") + (" (+ uncommitted changes)" if dirty else "")
    return info


# --------------------------------------------------------------------------- 1. engine


def golden_inputs() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(GOLDEN.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            out.append((case["id"], case["input"]))
    return out


def bench_engine(report: Report, reps: int) -> None:
    from checklist.engine import InputError, evaluate, from_records, parse_case

    records = []
    for path in FIXTURES:
        records.extend(json.loads(path.read_text(encoding="utf-8")))
    book = from_records(records)
    sets = book.sets

    cases, rejected = [], []
    for case_id, data in golden_inputs():
        try:
            evaluate(parse_case(data, sets), book)
        except InputError:
            rejected.append(case_id)
            continue
        cases.append((case_id, data))

    clock = time.perf_counter_ns
    overhead = sorted(-(clock() - clock()) for _ in range(2001))[1000]
    for _ in range(10):  # warm-up
        for _, data in cases:
            evaluate(parse_case(data, sets), book)

    totals: list[int] = []
    parses: list[int] = []
    per_case: list[list[int]] = [[] for _ in cases]
    gc.collect()
    started = time.perf_counter()
    for _ in range(reps):  # round-robin over the cases, each call timed on its own
        for i, (_, data) in enumerate(cases):
            t0 = clock()
            case = parse_case(data, sets)
            t1 = clock()
            evaluate(case, book)
            t2 = clock()
            totals.append(t2 - t0)
            parses.append(t1 - t0)
            per_case[i].append(t2 - t0)
    elapsed = time.perf_counter() - started

    # The page and the API evaluate with compare=true (every criteria set); time that too.
    typical = {**TYPICAL_CASE, "compare": True}
    compare = []
    for _ in range(2000):
        t0 = clock()
        evaluate(parse_case(typical, sets), book)
        compare.append(clock() - t0)

    totals.sort()
    parses.sort()
    compare.sort()
    medians = sorted(((sorted(s)[len(s) // 2], cases[i][0]) for i, s in enumerate(per_case)), reverse=True)
    us = 1000.0
    med, p99 = totals[len(totals) // 2] / us, pct(totals, 99) / us
    report.out("1. Engine (pure Python, parse_case + evaluate, RuleBook from the shipped fixtures)")
    report.out(
        f"   {len(cases)} golden cases x {reps} repetitions = {len(totals)} timed evaluations "
        f"in {elapsed:.1f} s (timer overhead ~{overhead} ns, included)"
    )
    if rejected:
        report.out(
            f"   {len(rejected)} golden inputs rejected by parse_case and left out: {', '.join(rejected)}"
        )
    report.out(
        f"   per evaluation: median {med:.1f} us, p90 {pct(totals, 90) / us:.1f} us, "
        f"p99 {p99:.1f} us, max {totals[-1] / us:.0f} us"
    )
    report.out(f"   of which parse_case: median {parses[len(parses) // 2] / us:.1f} us")
    report.out(
        "   slowest golden cases (median): "
        + ", ".join(f"{case_id} {m / us:.1f} us" for m, case_id in medians[:3])
    )
    report.out(
        f"   typical bench case with compare=true (as the page and API run it): "
        f"median {compare[len(compare) // 2] / us:.1f} us, p99 {pct(compare, 99) / us:.1f} us"
    )
    report.out(
        f"   target: median <= {TARGET_ENGINE_MEDIAN_US:g} us -> {mark(med <= TARGET_ENGINE_MEDIAN_US)}"
    )
    report.data["engine"] = {
        "cases": len(cases),
        "reps": reps,
        "median_us": med,
        "p99_us": p99,
        "parse_median_us": parses[len(parses) // 2] / us,
        "typical_compare_median_us": compare[len(compare) // 2] / us,
    }
    report.verdict(
        "Engine median per evaluation",
        f"{med:.1f} us",
        f"<= {TARGET_ENGINE_MEDIAN_US:g} us",
        med <= TARGET_ENGINE_MEDIAN_US,
    )


# --------------------------------------------------------------------------- form bodies


class FormFields(HTMLParser):
    """What a browser's ``new FormData(form)`` would send for form#case-form."""

    def __init__(self, form_id: str = "case-form") -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "reset", "image", "file"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            chosen = next(
                (v for v, sel in self._options if sel), self._options[0][0] if self._options else ""
            )
            self.fields.append((self._select, chosen))
            self._select = None


def browser_form(page_html: str, case: dict) -> list[tuple[str, str]]:
    """The checklist's fields as the browser posts them, filled in with ``case``."""
    parser = FormFields()
    parser.feed(page_html)
    values: dict[str, str] = {"criteria_set": case.get("criteria_set", "")}
    for code, present in case.get("findings", {}).items():
        values[code] = "yes" if present else "no"
    for code, raw in case.get("labs", {}).items():
        if isinstance(raw, dict):
            values[code] = str(raw["value"])
            values[f"{code}__unit"] = raw["unit"]
        else:
            values[code] = str(raw)
    names = {name for name, _ in parser.fields}
    unknown = set(values) - names
    if unknown:
        raise RuntimeError(f"the checklist form has no field(s) {sorted(unknown)}; update TYPICAL_CASE")
    out, seen = [], set()
    for name, value in parser.fields:
        if name in seen:  # one value per radio group
            continue
        seen.add(name)
        out.append((name, values.get(name, value)))
    return out


# The live update is htmx's form post: application/x-www-form-urlencoded, as htmx
# encodes a form unless told otherwise (the no-JavaScript submit sends the same).
FORM_TYPE = "application/x-www-form-urlencoded"


def urlencoded(fields: list[tuple[str, str]]) -> bytes:
    """The live update's body: the page's script leaves out empty (not assessed) fields."""
    from urllib.parse import urlencode

    return urlencode([(name, value) for name, value in fields if value != ""]).encode()


def multipart(fields: list[tuple[str, str]]) -> bytes:
    parts = []
    for name, value in fields:
        parts.append(
            f'--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    parts.append(f"--{MULTIPART_BOUNDARY}--\r\n")
    return "".join(parts).encode()


# --------------------------------------------------------------------------- 2. queries


def queries_child(db: str) -> None:
    """Runs in a subprocess (argv: _queries DB). Prints one JSON line."""
    os.environ.update(PROD_ENV)
    os.environ.update(
        DATABASE_URL=f"sqlite:///{db}",
        ALLOWED_HOSTS="testserver",
        MANIFEST_STATIC="0",  # no collectstatic here; the storage choice makes no query
        DJANGO_SETTINGS_MODULE="poemsaid.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from checklist import content
    from checklist.models import Differential, Reference, RegressionCase, Treatment
    from checklist.regression import load_golden

    call_command("migrate", interactive=False, verbosity=0)
    call_command("loaddata", "checklist_content", "content_pages", verbosity=0)
    load_golden()
    content.invalidate()

    client = Client()
    page = client.get("/")
    form_body = urlencoded(browser_form(page.content.decode(), TYPICAL_CASE))
    form_type = FORM_TYPE

    requests = {
        "GET /": lambda: client.get("/"),
        "POST /result": lambda: client.post(
            "/result", form_body, content_type=form_type, HTTP_X_REQUESTED_WITH="fetch"
        ),
        "POST /api/v1/evaluate": lambda: client.post(
            "/api/v1/evaluate", API_BODY, content_type="application/json"
        ),
        "GET /api/v1/vocabulary": lambda: client.get("/api/v1/vocabulary"),
    }

    def is_content(sql: str) -> bool:
        return '"checklist_' in sql

    def measure() -> dict:
        out = {}
        for name, call in requests.items():
            content.invalidate()  # cold: this process has no snapshot
            with CaptureQueriesContext(connection) as cold:
                response = call()
            if response.status_code != 200:
                raise RuntimeError(f"{name} returned {response.status_code}")
            warm, warm_content, other = [], [], set()
            for _ in range(3):
                with CaptureQueriesContext(connection) as ctx:
                    response = call()
                if response.status_code != 200:
                    raise RuntimeError(f"{name} returned {response.status_code}")
                sqls = [q["sql"] for q in ctx.captured_queries]
                warm.append(len(sqls))
                warm_content.append(sum(map(is_content, sqls)))
                other.update(s[:120] for s in sqls if not is_content(s))
            out[name] = {
                "cold": len(cold.captured_queries),
                "warm": warm,
                "warm_content": warm_content,
                "warm_other_sql": sorted(other),
                "bytes": len(response.content),
            }
        return out

    def counts() -> dict:
        return {
            "Reference": Reference.objects.count(),
            "Treatment": Treatment.objects.count(),
            "Treatment.references": Treatment.references.through.objects.count(),
            "Differential.references": Differential.references.through.objects.count(),
            "RegressionCase": RegressionCase.objects.count(),
        }

    seed_counts = counts()
    seed = measure()

    # Grow to 10x, only in models the engine does not validate against its
    # closed vocabulary (findings, criteria, labs, thresholds, differentials and
    # cautions are code-owned lists, so they cannot grow without new code).
    # bulk_create skips the save signals, so the cache is invalidated by hand.
    n_ref, n_treat = seed_counts["Reference"], seed_counts["Treatment"]
    new_refs = Reference.objects.bulk_create(
        Reference(
            key=f"bench-ref-{i}",
            short=f"Benchmark {i}",
            citation=f"Synthetic reference {i} for the benchmark. Journal of Load Testing. 2026;1:{i}.",
            pmid=str(10_000_000 + i),
            review_status="reviewed",
        )
        for i in range(9 * n_ref)
    )
    new_treatments = Treatment.objects.bulk_create(
        Treatment(
            slug=f"bench-treatment-{i}",
            name=f"Benchmark treatment {i}",
            summary="A synthetic treatment page that only exists in the benchmark database.",
            body="First paragraph of synthetic text.\n\nSecond paragraph of synthetic text.",
            order=100 + i,
        )
        for i in range(9 * n_treat)
    )
    through = Treatment.references.through
    through.objects.bulk_create(
        through(treatment_id=t.pk, reference_id=new_refs[(3 * j + k) % len(new_refs)].pk)
        for j, t in enumerate(new_treatments)
        for k in range(3)
    )
    d_through = Differential.references.through
    d_through.objects.bulk_create(
        d_through(differential_id=d.pk, reference_id=new_refs[(9 * j + k) % len(new_refs)].pk)
        for j, d in enumerate(Differential.objects.all())
        for k in range(9)
    )
    golden = list(RegressionCase.objects.all())
    RegressionCase.objects.bulk_create(
        RegressionCase(
            slug=f"bench-{copy}-{g.slug}"[:120],
            name=g.name,
            criteria_set=g.criteria_set,
            case=g.case,
            expected=g.expected,
            source=g.source,
            author="benchmark",
        )
        for copy in range(9)
        for g in golden
    )
    content.invalidate()
    grown_counts = counts()
    grown = measure()
    print(
        "BENCH_QUERIES "
        + json.dumps({"seed": seed, "grown": grown, "seed_counts": seed_counts, "grown_counts": grown_counts})
    )


def bench_queries(report: Report, tmp: Path) -> None:
    db = tmp / "queries.sqlite3"
    env = dict(os.environ)
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "_queries", str(db)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=env,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_QUERIES ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"query count subprocess failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    data = json.loads(line.split(" ", 1)[1])
    report.out("2. SQL queries per request (django.test.Client, production settings, SQLite)")
    sc, gc_ = data["seed_counts"], data["grown_counts"]
    report.out(
        "   content grown to 10x in the models that can grow without new engine code: "
        + ", ".join(f"{k} {sc[k]} -> {gc_[k]}" for k in sc)
    )
    report.out("   (Finding, Criterion, LabField, Threshold, Differential and Caution rows are closed")
    report.out("   vocabularies: a new code needs new engine code, so they stay at the seed size)")
    report.out(
        f"   {'request':<24} {'cold seed':>9} {'cold 10x':>9} {'warm seed':>10} {'warm 10x':>9} "
        f"{'content warm':>13}"
    )
    worst_content = 0
    constant = True
    for name in data["seed"]:
        s, g = data["seed"][name], data["grown"][name]
        content_warm = max(s["warm_content"] + g["warm_content"])
        worst_content = max(worst_content, content_warm)
        if len(set(s["warm"] + g["warm"])) != 1 or s["cold"] != g["cold"]:
            constant = False
        report.out(
            f"   {name:<24} {s['cold']:>9} {g['cold']:>9} {max(s['warm']):>10} {max(g['warm']):>9} "
            f"{content_warm:>13}"
        )
        for sql in sorted(set(s["warm_other_sql"] + g["warm_other_sql"])):
            report.out(f"      non-content query when warm: {sql}")
    report.out(f"   counts constant between seed and 10x (cold and warm): {'yes' if constant else 'NO'}")
    met = worst_content <= TARGET_CONTENT_QUERIES and constant
    report.out(f"   target: {TARGET_CONTENT_QUERIES} content queries once warm, constant -> {mark(met)}")
    report.data["queries"] = data
    report.verdict(
        "Content queries per request (warm)",
        f"{worst_content} (constant: {'yes' if constant else 'no'})",
        f"{TARGET_CONTENT_QUERIES}, constant",
        met,
    )


# --------------------------------------------------------------------------- 3 + 4. server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, *, data: bytes | None = None, headers: dict | None = None, timeout: float = 10.0):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
        return response.status, dict(response.headers.items()), response.read()


class Server:
    """gunicorn with gunicorn.conf.py and the production settings, on a free loopback port."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.access_log = tmp / "gunicorn-stdout.log"
        self.error_log = tmp / "gunicorn-stderr.log"
        self.env = {
            **os.environ,
            **PROD_ENV,
            "DATABASE_URL": f"sqlite:///{tmp / 'load.sqlite3'}",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
            "BENCH_STATIC_ROOT": str(tmp / "static"),
            "MANIFEST_STATIC": "1",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
        }
        self.env.pop("GUNICORN_CONTROL_SOCKET", None)

    def manage(self, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
            )

    def prepare(self) -> str:
        """Database and static files. Returns a note when the production static storage failed."""
        self.manage("migrate", "--noinput", "-v0")
        self.manage("loaddata", "checklist_content", "content_pages", "-v0")
        try:
            self.manage("collectstatic", "--noinput", "-v0")
            return ""
        except RuntimeError as exc:
            reason = next((ln for ln in str(exc).splitlines() if "Error:" in ln), str(exc).splitlines()[-1])
        # Same gzip files as production, without hashed names, so sizes stay comparable.
        shutil.rmtree(self.tmp / "static", ignore_errors=True)
        self.env["BENCH_STATIC_STORAGE"] = "whitenoise.storage.CompressedStaticFilesStorage"
        self.manage("collectstatic", "--noinput", "-v0")
        return reason.strip()

    def start(self) -> None:
        with open(self.access_log, "wb") as out, open(self.error_log, "wb") as err:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "poemsaid.wsgi",
                    "-c",
                    str(ROOT / "deploy" / "gunicorn.conf.py"),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                status, _, _ = fetch(self.base + "/healthz", timeout=2)
                if status == 200:
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within 30 s:\n{self.tail()}")

    def tail(self) -> str:
        try:
            return self.error_log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def settings_line(self) -> str:
        """Workers and worker class as gunicorn logged them."""
        text = self.tail()
        workers = text.count("Booting worker")
        kind = next(
            (ln.split("Using worker:")[1].strip() for ln in text.splitlines() if "Using worker:" in ln), "?"
        )
        return f"{workers} workers, worker class {kind}"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
        try:
            self.proc.wait(timeout=35)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


WRK_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_WRK {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"p50\":%d,\"p75\":%d,\"p90\":%d," ..
    "\"p95\":%d,\"p99\":%d,\"max\":%d,\"mean\":%.1f,\"connect\":%d,\"read\":%d,\"write\":%d," ..
    "\"status\":%d,\"timeout\":%d}\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def lua_string(value: str | bytes) -> str:
    text = value.decode() if isinstance(value, bytes) else value
    level = "=" * 4
    assert f"]{level}]" not in text
    return f"[{level}[{text}]{level}]"


def wrk_script(
    path: Path, *, method: str = "GET", body: str | bytes = "", headers: dict | None = None
) -> Path:
    lines = [f'wrk.method = "{method}"']
    if body:
        lines.append(f"wrk.body = {lua_string(body)}")
    for key, value in (headers or {}).items():
        lines.append(f'wrk.headers["{key}"] = "{value}"')
    path.write_text("\n".join(lines) + "\n" + WRK_DONE)
    return path


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    return total - values[3] - values[4], total


def tree_jiffies(pid: int) -> int:
    """utime + stime ticks of a process and its children (gunicorn master and workers)."""
    ticks = 0
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(x) for x in (task / "children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return ticks


def run_wrk(url: str, script: Path, *, threads: int, connections: int, seconds: int, server_pid: int) -> dict:
    assert url.startswith("http://127.0.0.1:")
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    hz = os.sysconf("SC_CLK_TCK")
    busy0, total0 = machine_jiffies()
    server0 = tree_jiffies(server_pid)
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server1 = tree_jiffies(server_pid)
    busy1, total1 = machine_jiffies()
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_WRK ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    result = json.loads(line.split(" ", 1)[1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    # Where the CPU went: the server, wrk, and everything else on the machine (noise).
    server_s = (server1 - server0) / hz
    wrk_s = (child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime)
    capacity_s = (total1 - total0) / hz
    result["server_cpu_ms_per_req"] = 1000 * server_s / max(1, result["requests"])
    result["other_cpu_pct"] = max(
        0.0, 100 * ((busy1 - busy0) / hz - server_s - wrk_s) / max(capacity_s, 1e-9)
    )
    return result


def bench_load(report: Report, server: Server, args: argparse.Namespace) -> None:
    base = server.base
    tmp = server.tmp
    _, _, page = fetch(base + "/")
    form_body = urlencoded(browser_form(page.decode(), TYPICAL_CASE))
    gzip_header = {"Accept-Encoding": "gzip"}
    targets = [
        ("GET /trivial", "/trivial", wrk_script(tmp / "trivial.lua")),
        (
            "POST /api/v1/evaluate",
            "/api/v1/evaluate",
            wrk_script(
                tmp / "api.lua", method="POST", body=API_BODY, headers={"Content-Type": "application/json"}
            ),
        ),
        ("GET / (gzip)", "/", wrk_script(tmp / "page.lua", headers=gzip_header)),
        ("GET / (no gzip)", "/", wrk_script(tmp / "page-identity.lua")),
        (
            "POST /result (gzip)",
            "/result",
            wrk_script(
                tmp / "result.lua",
                method="POST",
                body=form_body,
                headers={
                    **gzip_header,
                    "X-Requested-With": "fetch",
                    "Content-Type": FORM_TYPE,
                    "HX-Request": "true",
                },
            ),
        ),
    ]
    # Every target must answer 200 before it is timed.
    for name, path, _ in targets:
        data = headers = None
        if name.startswith("POST /api"):
            data, headers = API_BODY.encode(), {"Content-Type": "application/json"}
        elif name.startswith("POST /result"):
            data, headers = form_body, {"Content-Type": FORM_TYPE}
        status, _, _ = fetch(base + path, data=data, headers=headers)
        if status != 200:
            raise RuntimeError(f"{name} answered {status}")

    t, c, d = args.threads, args.connections, args.duration
    report.out(
        f"3. Load: gunicorn ({server.settings_line()}), production settings, SQLite, "
        f"wrk -t{t} -c{c} -d{d}s after a {args.warmup}s warm-up, all on this machine"
    )
    results = {}
    for name, path, script in targets:
        pid = server.proc.pid
        run_wrk(base + path, script, threads=t, connections=c, seconds=args.warmup, server_pid=pid)
        results[name] = run_wrk(base + path, script, threads=t, connections=c, seconds=d, server_pid=pid)
    trivial = results["GET /trivial"]["rps"]
    report.out(
        f"   {'request':<22} {'req/s':>7} {'x trivial':>9} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7} {'errors':>6} {'server CPU':>10} {'other load':>10}"
    )
    for name, r in results.items():
        report.out(
            f"   {name:<22} {r['rps']:>7.0f} {r['rps'] / trivial:>9.2f} {r['p50'] / 1000:>7.1f} "
            f"{r['p95'] / 1000:>7.1f} {r['p99'] / 1000:>7.1f} {r['max'] / 1000:>7.1f} {r['errors']:>6} "
            f"{r['server_cpu_ms_per_req']:>7.2f} ms {r['other_cpu_pct']:>9.0f}%"
        )
    report.out("   server CPU = gunicorn master + workers CPU time per request (less sensitive to noise than")
    report.out(
        "   req/s); other load = share of the machine's CPU used by processes other than gunicorn and wrk"
    )
    noisy = max(r["other_cpu_pct"] for r in results.values())
    if noisy > 10:
        report.out(
            f"   WARNING: other processes used up to {noisy:.0f}% of the CPU during the runs: req/s and"
        )
        report.out(
            "   latencies are understated; rerun on a quiet machine for figures to compare against targets"
        )
    errors = sum(r["errors"] for r in results.values())
    if errors:
        report.out(
            f"   WARNING: {errors} failed requests (non-2xx/3xx, timeouts or socket errors): figures suspect"
        )
    api = results["POST /api/v1/evaluate"]["rps"] / trivial
    page_p99 = results["GET / (gzip)"]["p99"] / 1000
    report.out(
        f"   target: API >= {TARGET_API_RATIO:g}x trivial req/s -> {api:.2f}x, "
        f"{mark(api >= TARGET_API_RATIO)}"
    )
    cpu_ratio = (
        results["GET /trivial"]["server_cpu_ms_per_req"]
        / results["POST /api/v1/evaluate"]["server_cpu_ms_per_req"]
    )
    report.out(
        f"   (the same ratio from server CPU per request, less sensitive to other load: {cpu_ratio:.2f}x)"
    )
    report.out(
        f"   target: checklist page p99 <= {TARGET_CHECKLIST_P99_MS:g} ms at {c} connections -> "
        f"{page_p99:.1f} ms, {mark(page_p99 <= TARGET_CHECKLIST_P99_MS)}"
    )
    report.out("   (GET / is timed with Accept-Encoding: gzip, as a browser sends it; the API without, as")
    report.out("   a script usually does; the /result body is htmx's urlencoded post of the whole form)")
    report.data["load"] = {
        "server": server.settings_line(),
        "threads": t,
        "connections": c,
        "duration": d,
        "results": results,
        "max_other_cpu_pct": noisy,
        "api_ratio_rps": api,
        "api_ratio_cpu": cpu_ratio,
    }
    report.verdict(
        "API req/s vs trivial view", f"{api:.2f}x", f">= {TARGET_API_RATIO:g}x", api >= TARGET_API_RATIO
    )
    report.verdict(
        f"Checklist page p99 at {c} connections",
        f"{page_p99:.1f} ms",
        f"<= {TARGET_CHECKLIST_P99_MS:g} ms",
        page_p99 <= TARGET_CHECKLIST_P99_MS,
    )


class Assets(HTMLParser):
    """Stylesheets, scripts, icons and images a page makes the browser fetch on load."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        rel = set(a.get("rel", "").lower().split())
        if (
            tag == "link"
            and rel & {"stylesheet", "icon", "preload", "modulepreload", "manifest"}
            and a.get("href")
        ):
            self.urls.append(a["href"])
        elif tag in ("script", "img") and a.get("src"):
            self.urls.append(a["src"])


def bench_first_load(report: Report, server: Server) -> None:
    headers = {"Accept-Encoding": "gzip"}
    status, h, body = fetch(server.base + "/", headers=headers)
    rows = [("/", h.get("Content-Encoding", "identity"), len(body), h.get("Content-Length"))]
    parser = Assets()
    import gzip

    parser.feed((gzip.decompress(body) if h.get("Content-Encoding") == "gzip" else body).decode())
    for url in dict.fromkeys(parser.urls):
        if url.startswith("data:"):
            continue  # inline: its bytes are already in the HTML
        if url.startswith(("http:", "https:", "//")):
            rows.append((url, "EXTERNAL (not fetched)", 0, None))
            continue
        full = server.base + ("" if url.startswith("/") else "/") + url
        try:
            _, ah, abody = fetch(full, headers=headers)
        except urllib.error.HTTPError as exc:
            rows.append((url, f"HTTP {exc.code} (BROKEN LINK)", 0, None))
            continue
        rows.append((url, ah.get("Content-Encoding", "identity"), len(abody), ah.get("Content-Length")))
    total = sum(r[2] for r in rows)
    report.out("4. First load of / (Accept-Encoding: gzip; response bodies as sent, headers not counted)")
    for url, encoding, size, _ in rows:
        report.out(f"   {url:<60} {encoding:<9} {size / 1024:>7.1f} KB")
    report.out(
        f"   total {total / 1024:.1f} KB; target <= {TARGET_FIRST_LOAD_KB:g} KB -> "
        f"{mark(total / 1024 <= TARGET_FIRST_LOAD_KB)}"
    )
    report.data["first_load"] = {"rows": rows, "total_bytes": total}
    report.verdict(
        "First load of / (gzip)",
        f"{total / 1024:.1f} KB",
        f"<= {TARGET_FIRST_LOAD_KB:g} KB",
        total / 1024 <= TARGET_FIRST_LOAD_KB,
    )


def check_access_log(report: Report, server: Server) -> None:
    """The access log must hold no query string and no body (gunicorn.conf.py)."""
    marker = "benchprobe" + uuid.uuid4().hex[:12]
    fetch(f"{server.base}/trivial?{marker}=1")
    with contextlib.suppress(urllib.error.HTTPError):  # 400 is the expected answer
        fetch(
            server.base + "/api/v1/evaluate",
            data=json.dumps({"criteria_set": marker}).encode(),
            headers={"Content-Type": "application/json"},
        )
    time.sleep(0.3)
    text = server.access_log.read_text(errors="replace")
    sample = next((ln for ln in text.splitlines() if ln.startswith("GET /trivial")), "(no line)")
    leaked = marker in text or marker in server.error_log.read_text(errors="replace")
    report.out(
        f"   access log line: {sample!r}; probe query string and body in the logs: "
        f"{'FOUND (privacy bug)' if leaked else 'absent'}"
    )
    report.data["access_log_leak"] = leaked


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk warm-up per target (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--engine-reps", type=int, default=200, help="repetitions per golden case (default 200)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if not (1 <= args.duration <= 60 and 1 <= args.warmup <= 10 and 1 <= args.connections <= 256):
        parser.error("keep --duration within 1-60, --warmup within 1-10, --connections within 1-256")

    # SIGTERM (e.g. from a CI timeout) unwinds like Ctrl-C, so gunicorn is stopped.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    report = Report()
    info = machine_info()
    report.data["machine"] = info
    report.out("POEMSaid benchmark")
    report.out(f"   {info['date']}, commit {info['commit']}")
    report.out(f"   {info['nproc']} CPUs ({info['cpu']}), {info.get('memory', '?')} memory, {info['os']}")
    report.out(f"   load average at start {info['loadavg']} (other work on the machine skews part 3)")
    report.out(
        f"   Python {info['python']}, Django {info['django']}, gunicorn {info['gunicorn']}, "
        f"whitenoise {info['whitenoise']}, {info['wrk']}"
    )
    report.out()

    started = time.monotonic()
    failed = None
    tmp = Path(tempfile.mkdtemp(prefix="poemsaid-bench-"))
    server = None
    try:
        bench_engine(report, args.engine_reps)
        report.out()
        bench_queries(report, tmp)
        report.out()
        server = Server(tmp)
        static_problem = server.prepare()
        if static_problem:
            report.out("WARNING: production collectstatic (CompressedManifestStaticFilesStorage) FAILED:")
            report.out(f"   {static_problem[:300]}")
            report.out("   so `make serve` and a production deploy cannot collect static files. The bench")
            report.out(
                "   falls back to whitenoise's CompressedStaticFilesStorage (same gzip, no hashed names)."
            )
            report.data["static_problem"] = static_problem
            report.out()
        server.start()
        if shutil.which("wrk"):
            bench_load(report, server, args)
        else:
            report.out("3. Load: SKIPPED - wrk is not installed. Install it (Debian/Ubuntu:")
            report.out("   `sudo apt-get install -y wrk`) and run again; this script installs nothing.")
            report.verdict("API req/s vs trivial view", "-", f">= {TARGET_API_RATIO:g}x", None)
            report.verdict(
                f"Checklist page p99 at {args.connections} connections",
                "-",
                f"<= {TARGET_CHECKLIST_P99_MS:g} ms",
                None,
            )
        check_access_log(report, server)
        report.out()
        bench_first_load(report, server)
    except KeyboardInterrupt:
        failed = "interrupted"
    except Exception as exc:  # report, clean up, exit 2
        failed = f"{type(exc).__name__}: {exc}"
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    report.out()
    report.out(f"Summary (design.md §5 targets; run took {time.monotonic() - started:.0f} s)")
    for name, figure, target, met in report.verdicts:
        report.out(f"   {name:<40} {figure:>22}   target {target:<16} {mark(met)}")
    if failed:
        report.out(f"BENCHMARK FAILED: {failed}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.txt").write_text("\n".join(report.lines) + "\n", encoding="utf-8")
    (RESULTS / "latest.json").write_text(
        json.dumps(report.data, indent=2, default=str) + "\n", encoding="utf-8"
    )
    print(f"(written to {RESULTS.relative_to(ROOT)}/latest.txt and latest.json)")
    if failed:
        return 2
    if args.strict and any(met is False for *_, met in report.verdicts):
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "_queries":
        queries_child(sys.argv[2])
    else:
        sys.exit(main())
