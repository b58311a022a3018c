"""A replayed CDS Hooks JWT is refused across gunicorn workers (issue 22: one 4-worker gunicorn
accepted the same token 4 times), `check --deploy` refuses CDS Hooks without a shared cache,
and the audit lines a real process writes hold no patient data.

Real processes: gunicorn from deploy/gunicorn.conf.py with 2 sync workers on a free port,
production settings, SQLite with the seed content, and Redis at 127.0.0.1:6379 (database 4,
a key prefix unique to the run). The access log carries each worker's pid, so the test knows
both workers answered.
"""

import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from deploy import stack
from tests.ehr_helpers import ISS, ROOT, Signer
from tests.test_stack import free_port, migrate_and_seed

pytestmark = pytest.mark.ehr

SIGNER = Signer("ES384", "replay-es-1")
REDIS_URL = "redis://127.0.0.1:6379/4"
SENTINEL_PATIENT = "qx5-sentinel-patient-9182"
SENTINEL_VALUE = 7531.9


@pytest.fixture(scope="module")
def base_env(tmp_path_factory):
    base = tmp_path_factory.mktemp("replay")
    clients = base / "cds-clients.json"
    clients.write_text(json.dumps({ISS: {"jwks": {"keys": [SIGNER.jwk]}}}))
    env = stack.production_env(
        {
            "DATABASE_URL": f"sqlite:///{base / 'db.sqlite3'}",
            "CONTENT_STAMP_FILE": str(base / "content-stamp"),
            "MANIFEST_STATIC": "0",
            "STATIC_ROOT": str(base / "static"),
            "CDS_HOOKS_CLIENTS": str(clients),
        }
    )
    env.pop("CACHE_URL", None)
    migrate_and_seed(env)
    return base, env


class Gunicorn:
    def __init__(self, base: Path, env, workers=2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.out_path = base / f"gunicorn-{self.port}.out"
        self.err_path = base / f"gunicorn-{self.port}.err"
        self.out = open(self.out_path, "wb")  # noqa: SIM115 (closed in stop)
        self.err = open(self.err_path, "wb")  # noqa: SIM115
        env = {
            **env,
            "CDS_HOOKS_BASE_URL": self.url,
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_ACCESS_LOG": "-",
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "poemsaid.wsgi",
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            # Overrides the config file's format: the worker's pid, so the test sees who answered.
            "--access-logformat",
            "worker=%(p)s %(U)s %(s)s",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.out, stderr=self.err)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start: {self.err_path.read_text()[-2000:]}")
            time.sleep(0.1)

    def logs(self):
        self.out.flush()
        self.err.flush()
        return self.out_path.read_text(errors="replace") + self.err_path.read_text(errors="replace")

    def stop(self):
        stack.stop(self.process)
        self.out.close()
        self.err.close()


@pytest.fixture
def start(base_env):
    base, env = base_env
    started = []

    def run(**extra):
        server = Gunicorn(base, {**env, **extra})
        started.append(server)
        return server

    yield run
    for server in started:
        server.stop()


def body(patient="nolabs-1", prefetch=None):
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/x", "patientId": patient},
        "prefetch": prefetch or {"patient": None, "observations": None},
    }


def send_same_token_concurrently(server, n=8):
    """n simultaneous calls carrying one token, each on its own connection."""
    url = server.url + "/cds-services/poems-criteria"
    token = SIGNER.token(url)
    statuses = []
    barrier = threading.Barrier(n)

    def one():
        with httpx.Client(timeout=20) as http:
            barrier.wait()
            statuses.append(
                http.post(url, json=body(), headers={"Authorization": f"Bearer {token}"}).status_code
            )

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def workers_that_answered(server):
    time.sleep(0.3)  # the access log line is written after the response
    return {
        line.split()[0]
        for line in server.logs().splitlines()
        if line.startswith("worker=") and "/cds-services/poems-criteria" in line
    }


def _until_both_workers_answer(server):
    """Batches until two workers have answered (a sync worker takes one connection at a time)."""
    results = []
    for _ in range(5):
        results.append(send_same_token_concurrently(server))
        if len(workers_that_answered(server)) >= 2:
            return results
    pytest.fail("the two workers never both answered")


def test_a_replayed_jti_is_refused_across_two_workers_with_the_shared_cache(start):
    server = start(CACHE_URL=REDIS_URL, CACHE_KEY_PREFIX=f"replay-{uuid.uuid4().hex}")
    for statuses in _until_both_workers_answer(server):
        assert sorted(statuses) == [200] + [401] * (len(statuses) - 1), statuses


def test_without_the_shared_cache_no_worker_accepts_any_token(start):
    """Issue 22: per-process memory let each worker accept one token once; now none is accepted."""
    server = start(CDS_HOOKS_LOCAL_REPLAY_CACHE="0")
    for statuses in _until_both_workers_answer(server):
        assert statuses == [503] * len(statuses), statuses
    url = server.url + "/cds-services/poems-criteria"
    answer = httpx.post(url, json=body(), headers={"Authorization": f"Bearer {SIGNER.token(url)}"})
    assert answer.status_code == 503
    assert "not shared" in answer.text and "CACHE_URL" in answer.text


def test_the_single_process_switch_is_what_lets_each_worker_accept_a_token_once(start):
    """The control: CDS_HOOKS_LOCAL_REPLAY_CACHE=1 (runserver, in-process tests) is one process
    on purpose; under a multi-worker gunicorn it shows the very replay the default refuses."""
    server = start(CDS_HOOKS_LOCAL_REPLAY_CACHE="1")
    (statuses,) = _until_both_workers_answer(server)[-1:]
    answered = workers_that_answered(server)
    assert statuses.count(200) == len(answered) >= 2, (statuses, answered)


def test_check_deploy_fails_with_cds_hooks_and_no_shared_cache(base_env):
    _base, env = base_env
    env = {**env, "CDS_HOOKS_BASE_URL": "https://poemsaid.example.org"}
    command = [sys.executable, "manage.py", "check", "--deploy"]
    refused = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert refused.returncode != 0
    assert "poemsaid.E101" in refused.stderr and "CACHE_URL" in refused.stderr
    shared = subprocess.run(
        command, cwd=ROOT, env={**env, "CACHE_URL": REDIS_URL}, capture_output=True, text=True
    )
    assert "poemsaid.E101" not in shared.stdout + shared.stderr


def test_the_audit_lines_of_a_real_process_hold_no_patient_data(start):
    server = start(CACHE_URL=REDIS_URL, CACHE_KEY_PREFIX=f"replay-{uuid.uuid4().hex}")
    url = server.url + "/cds-services/poems-criteria"
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
        "subject": {"reference": f"Patient/{SENTINEL_PATIENT}"},
        "effectiveDateTime": time.strftime("%Y-%m-%d"),
        "valueQuantity": {
            "value": SENTINEL_VALUE,
            "unit": "pg/mL",
            "system": "http://unitsofmeasure.org",
            "code": "pg/mL",
        },
    }
    prefetch = {
        "patient": {"resourceType": "Patient", "id": SENTINEL_PATIENT, "gender": "male"},
        "observations": {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": observation}]},
    }
    sent = body(SENTINEL_PATIENT, prefetch)
    ok = httpx.post(url, json=sent, headers={"Authorization": f"Bearer {SIGNER.token(url)}"})
    assert ok.status_code == 200 and str(SENTINEL_VALUE) in ok.text
    refused = httpx.post(url, json=sent, headers={"Authorization": f"Bearer {SIGNER.token(url + '/x')}"})
    assert refused.status_code == 401
    time.sleep(0.3)
    logs = server.logs()
    assert SENTINEL_PATIENT not in logs and str(SENTINEL_VALUE) not in logs and "7531" not in logs
    audits = [
        json.loads(line)["cds"] for line in logs.splitlines() if line.startswith("{") and '"cds"' in line
    ]
    assert [(a["status"], a["outcome"], a["cards"]) for a in audits] == [
        (200, "ok", 1),
        (401, "jwt_rejected", None),
    ]
    assert audits[0]["client"] == ISS and audits[0]["hook_instance"] == sent["hookInstance"]
