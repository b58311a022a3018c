"""The stack as deployed (design.md §3.6): nginx from deploy/nginx.conf in front of gunicorn
from deploy/gunicorn.conf.py, production settings, started with deploy/stack.py exactly as
`make serve` starts it, on free ports and sockets under a temporary directory.

- 8 clients sending their bodies at 1 byte/s do not delay /healthz beyond a second behind
  nginx; the same clients sent straight to gunicorn do (so the test can tell the difference).
- Two gunicorn instances in one nginx upstream, on one PostgreSQL and one Redis, give the
  same answers and serve the same content release.
- Nothing a client sends (body, header, query string, a malformed request line) reaches the
  logs of gunicorn, of the app, or nginx's access log.

Select with `-m stack`; PostgreSQL and Redis come from .ci/run (127.0.0.1:5432 and :6379).
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from deploy import stack
from tests.propagation import SEED

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parent.parent
CASE = json.dumps({"findings": {"polyneuropathy": True, "m_protein_present": True, "ascites": True}}).encode()
SENTINEL = "qv9stacksentinel"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("127.0.0.1", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(str(self.path))


def request(target, method, path, body=None, headers=None, timeout=10):
    """(status, body bytes, seconds). target: a port (nginx) or a Path (a gunicorn socket)."""
    if isinstance(target, Path):
        conn = UnixHTTPConnection(target, timeout)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", target, timeout=timeout)
    start = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - start
    finally:
        conn.close()


def migrate_and_seed(env):
    """`manage.py migrate` then `manage.py load_content`, in one process (one Django start-up)."""
    subprocess.run([sys.executable, "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def sqlite_env(tmp_path_factory):
    """Production settings on a fresh SQLite file holding the seed content."""
    base = tmp_path_factory.mktemp("stack")
    env = stack.production_env(
        {
            "DATABASE_URL": f"sqlite:///{base / 'db.sqlite3'}",
            "CONTENT_STAMP_FILE": str(base / "content-stamp"),
            # Pages render without collectstatic's manifest; these tests read no static file.
            "MANIFEST_STATIC": "0",
            "STATIC_ROOT": str(base / "static"),
        }
    )
    env.pop("CACHE_URL", None)
    migrate_and_seed(env)
    return env


class Stack:
    """gunicorn instance(s) on unix sockets + nginx on a free port, as deploy/stack.py serve."""

    def __init__(self, base, env, instances=1, workers=2):
        self.base, self.env, self.port = base, env, free_port()
        self.sockets = [base / f"gunicorn{i}.sock" for i in range(instances)]
        self.logs = []
        self.gunicorns = []
        self.nginx = None
        try:
            self._start(base, env, workers)
        except BaseException:
            self.stop()  # never leave a gunicorn behind when the stack fails to come up
            raise

    def _start(self, base, env, workers):
        for i, sock in enumerate(self.sockets):
            out = open(base / f"gunicorn{i}.out", "wb")  # noqa: SIM115 (closed in stop)
            err = open(base / f"gunicorn{i}.err", "wb")  # noqa: SIM115
            self.logs += [out, err]
            instance_env = {**env, "WEB_CONCURRENCY": str(workers), "GUNICORN_ACCESS_LOG": "-"}
            self.gunicorns.append(stack.start_gunicorn(f"unix:{sock}", instance_env, stdout=out, stderr=err))
        for sock, process in zip(self.sockets, self.gunicorns, strict=True):
            stack.wait_for_socket(sock, process)
        prefix = base / "nginx"
        prefix.mkdir()
        conf = stack.write_nginx_config(
            prefix, f"127.0.0.1:{self.port}", [f"unix:{s}" for s in self.sockets], str(base / "nginx.access")
        )
        nginx_err = open(base / "nginx.err", "wb")  # noqa: SIM115
        self.logs.append(nginx_err)
        self.nginx = stack.start_nginx(prefix, conf, stderr=nginx_err)
        deadline = time.monotonic() + 30
        while True:
            try:
                if request(self.port, "GET", "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the stack did not answer /healthz within 30 s")
            time.sleep(0.1)

    def log_text(self, *, nginx_error_log=True):
        names = [p for p in self.base.glob("gunicorn*.*") if p.suffix in (".out", ".err")]
        names.append(self.base / "nginx.access")
        if nginx_error_log:
            names.append(self.base / "nginx.err")
        return "\n".join(p.read_text(errors="replace") for p in names if p.exists())

    def stop(self):
        stack.stop(*([self.nginx] if self.nginx else []), *self.gunicorns)
        for handle in self.logs:
            handle.close()


@pytest.fixture
def one_server(tmp_path, sqlite_env):
    """A stack of its own: the slow-client test holds its workers and needs them idle at the start."""
    s = Stack(tmp_path, sqlite_env, instances=1, workers=2)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, sqlite_env):
    """One stack for the tests that only send requests and read logs (nothing they do lasts)."""
    s = Stack(tmp_path_factory.mktemp("shared-stack"), sqlite_env, instances=1, workers=2)
    yield s
    s.stop()


class SlowClient(threading.Thread):
    """Sends a POST's headers, then its body at 1 byte a second."""

    def __init__(self, connect, length=40):
        super().__init__(daemon=True)
        self.connect, self.length = connect, length
        self.stopped = threading.Event()
        self.sent = 0

    def run(self):
        try:
            with self.connect() as sock:
                sock.sendall(
                    b"POST /api/v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % self.length
                )
                while self.sent < self.length - 1 and not self.stopped.wait(1.0):
                    sock.sendall(b" ")
                    self.sent += 1
        except OSError:
            pass


def probe_health(target, seconds, timeout):
    """/healthz latencies over `seconds`; a timeout counts as `timeout` seconds."""
    latencies = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            status, _, took = request(target, "GET", "/healthz", timeout=timeout)
            latencies.append(took if status == 200 else timeout)
        except OSError:  # socket.timeout
            latencies.append(timeout)
        time.sleep(0.2)
    return latencies


def test_eight_slow_clients_do_not_delay_healthz_behind_nginx(one_server):
    def to_nginx():
        return socket.create_connection(("127.0.0.1", one_server.port))

    def to_gunicorn():
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(one_server.sockets[0]))
        return sock

    # Windows are short on purpose: nothing in nginx changes with time here until
    # client_body_timeout (10 s between two reads), and the clients connect at once.
    baseline = probe_health(one_server.port, 0.5, timeout=5)
    clients = [SlowClient(to_nginx) for _ in range(8)]
    for c in clients:
        c.start()
    time.sleep(0.5)
    behind_nginx = probe_health(one_server.port, 2.0, timeout=5)  # about 10 probes
    still_sending = sum(c.is_alive() for c in clients)
    for c in clients:
        c.stopped.set()

    # The same 8 clients straight at gunicorn (2 sync workers): /healthz waits.
    direct_clients = [SlowClient(to_gunicorn) for _ in range(8)]
    for c in direct_clients:
        c.start()
    time.sleep(0.5)
    # One probe is enough to show a held worker: it waits out its whole 2 s timeout.
    direct = probe_health(one_server.sockets[0], 0.5, timeout=2)
    for c in direct_clients:
        c.stopped.set()

    ms = [round(t * 1000) for t in behind_nginx]
    timed_out = sum(t >= 2 for t in direct)
    print(
        f"\n/healthz, 8 clients at 1 byte/s: behind nginx max {max(ms)} ms,"
        f" median {sorted(ms)[len(ms) // 2]} ms"
        f" over {len(ms)} probes (idle max {round(max(baseline) * 1000)} ms); straight to gunicorn"
        f" {timed_out}/{len(direct)} probes timed out at 2000 ms"
    )
    assert still_sending == 8  # the slow clients were really connected throughout
    assert max(behind_nginx) < 1.0, behind_nginx
    assert max(direct) >= 2, direct  # without the proxy the workers are held


def test_two_app_servers_one_database_one_redis_give_the_same_answers(tmp_path):
    import psycopg

    admin_url = os.environ.get("STACK_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"poemsaid_stack_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = stack.production_env(
        {
            "DATABASE_URL": admin_url.rsplit("/", 1)[0] + "/" + name,
            "CACHE_URL": os.environ.get("STACK_REDIS_URL", "redis://127.0.0.1:6379/5"),
            "CACHE_KEY_PREFIX": name,  # this run's keys only; nothing else in Redis is touched
            "MANIFEST_STATIC": "0",
            "STATIC_ROOT": str(tmp_path / "static"),
        }
    )
    servers = None
    try:
        migrate_and_seed(env)
        servers = Stack(tmp_path, env, instances=2, workers=1)
        # Each instance, asked directly.
        direct = [
            (json.loads(request(s, "GET", "/healthz")[1]), request(s, "GET", "/api/v1/vocabulary")[1])
            for s in servers.sockets
        ]
        assert direct[0][0]["status"] == direct[1][0]["status"] == "ok"
        assert direct[0][0]["content_version"] == direct[1][0]["content_version"]
        assert direct[0][1] == direct[1][1]
        answers = {
            request(s, "POST", "/api/v1/evaluate", CASE, {"Content-Type": "application/json"})[1]
            for s in servers.sockets
        }
        assert len(answers) == 1
        # Through the nginx upstream: every request the same answer, both instances used.
        for _ in range(20):
            status, body, _ = request(
                servers.port, "POST", "/api/v1/evaluate", CASE, {"Content-Type": "application/json"}
            )
            assert status == 200 and body in answers
        served = [
            (tmp_path / f"gunicorn{i}.out").read_text().count("POST /api/v1/evaluate 200") for i in range(2)
        ]
        assert all(n >= 2 for n in served), served  # round robin reached both
        # One content-change signal for both: the stamp is in the shared Redis.
        from redis import Redis

        keys = Redis.from_url(env["CACHE_URL"]).keys(f"{name}:*")
        assert any(b"content-stamp" in k for k in keys), keys
    finally:
        if servers is not None:
            servers.stop()
        from redis import Redis

        r = Redis.from_url(env["CACHE_URL"])
        for key in r.scan_iter(f"{name}:*"):
            r.delete(key)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_no_log_of_the_stack_holds_what_a_client_sent(shared_server):
    port, sock = shared_server.port, shared_server.sockets[0]
    json_type = {"Content-Type": "application/json"}
    for body in (
        f'{{"findings": {{"{SENTINEL}": true, "\\ud800": true}}}}',
        f'{{"labs": {{"vegf_pg_ml": 1{"0" * 400}}}, "criteria_set": "{SENTINEL}"}}',
        f'{{"labs": {{"vegf_pg_ml": "{SENTINEL}"}}',
    ):
        for target in (port, sock):
            assert request(target, "POST", "/api/v1/evaluate", body.encode(), json_type)[0] == 400
    form = f"vegf_pg_ml={SENTINEL}&age_years=1{'0' * 400}".encode()
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    assert request(port, "POST", "/", form, form_type)[0] == 400
    assert request(port, "POST", "/report", form, form_type)[0] == 400
    assert request(port, "GET", f"/?{SENTINEL}=1")[0] == 200
    # Paths are logged on purpose (the access log); query strings never are.
    assert request(port, "GET", f"/differentials/no-such-page?q={SENTINEL}")[0] == 404
    assert request(port, "GET", "/", headers={"Host": f"{SENTINEL}.example"})[0] == 400
    assert request(port, "GET", "/", headers={"User-Agent": SENTINEL, "Referer": SENTINEL})[0] == 200
    # Malformed requests gunicorn itself rejects (nginx would not pass them on).
    for raw in (
        f"GET /{SENTINEL} HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n".encode(),
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad {SENTINEL}: x\r\n\r\n".encode(),
        f"GET /?{SENTINEL}\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(),
    ):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(str(sock))
            s.sendall(raw)
            assert s.recv(100).startswith(b"HTTP/1.1 400")
    time.sleep(0.5)  # let the workers flush their log lines
    text = shared_server.log_text(nginx_error_log=False)
    assert "POST /api/v1/evaluate 400" in text and "Invalid request from ip" in text  # logs were written
    assert SENTINEL not in text
    # nginx's error log quotes the request line of a request it refuses (never a body or a
    # header); none of the requests above is refused by nginx, so it holds no sentinel either.
    assert SENTINEL not in (shared_server.base / "nginx.err").read_text()


def test_nginx_body_limits_follow_the_app_per_path(shared_server):
    """A CDS Hooks prefetch Bundle (the app takes up to 4 MB there) passes nginx; the API's
    64 KB limit is enforced by nginx before a worker is used."""
    big = b'{"pad": "' + b"x" * 200_000 + b'"}'
    headers = {"Content-Type": "application/json"}
    status, _, _ = request(shared_server.port, "POST", "/api/v1/evaluate", big, headers)
    assert status == 413
    status, body, _ = request(shared_server.port, "POST", "/cds-services/poems-criteria", big, headers)
    # Reached the app, which refuses the unsigned call itself.
    assert status != 413 and b"nginx" not in body, (status, body[:200])
