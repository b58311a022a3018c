"""Does every app server see a new content release the moment publishing returns? (issue 11)

Starts real gunicorn (3 worker processes, a free port) on its own database,
keeps several clients asking the API about one case (plasma VEGF 450 pg/mL)
while an editor, in another process, saves drafts and then publishes a VEGF
cut-off of 500 pg/mL, and counts answers:

- stale: a request sent after publishing returned that still used the old cut-off;
- leaked: a request answered with the new cut-off before publishing returned
  (a draft served, or a release visible before it was committed).

Used by tests/test_propagation.py, and runnable by hand against any checkout
(``--mode save`` reproduces the old "save goes live" behaviour on old code):

    python tests/propagation.py --repo . [--postgres URL --redis URL]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

CASE = json.dumps(
    {"criteria_set": "mayo-2007", "labs": {"vegf_pg_ml": 450, "vegf_specimen": "plasma"}}
).encode()

# The editor's session, run in its own process with the server's settings.
# mode "publish": drafts are saved (served answers must not move), then one publish.
# mode "save": the old admin's behaviour, a save inside a transaction that also runs checks.
EDITOR = r"""
import sys, time
import django
django.setup()
from django.db import transaction
from checklist.content.models import Finding, Threshold
mode, rounds = sys.argv[1], int(sys.argv[2])
sys.stdin.readline()  # started early (Django set up meanwhile); goes when the clients are busy
for i in range(rounds):
    finding = Finding.objects.get(code="ascites")
    # A letter, not a number: the gate refuses a release whose English text has numbers its
    # translations lack (issue 23), and this label has ja and zh-hans texts.
    finding.label = f"Ascites (draft {chr(97 + i % 26)})"
    finding.save()
    time.sleep(0.05)
print("START", repr(time.time()), flush=True)
if mode == "publish":
    threshold = Threshold.objects.get(code="vegf_plasma_cutoff")
    threshold.value = 500
    threshold.save()
    time.sleep(0.3)
    from checklist.content.publishing import publish
    print("PUBLISH", repr(time.time()), flush=True)
    outcome = publish("VEGF plasma cut-off 500 pg/mL (propagation test).")
    assert outcome.ok, outcome.problems + outcome.failures
else:
    with transaction.atomic():
        threshold = Threshold.objects.get(code="vegf_plasma_cutoff")
        threshold.value = 500
        threshold.save()
        print("PUBLISH", repr(time.time()), flush=True)
        time.sleep(0.3)  # the old admin re-ran the regression cases here, inside the transaction
print("DONE", repr(time.time()), flush=True)
"""

# The database as `manage.py migrate` then `manage.py load_content` leave it.
SEED = r"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("load_content", verbosity=0)
"""


@dataclass
class Answer:
    sent: float
    received: float
    new: bool | None  # None: an error answer


@dataclass
class Result:
    total_after: int
    stale_after: int
    leaked_before: int
    errors: int
    late_stale: int | None  # stale answers sent more than 5 s after publishing returned
    # (None when the clients stopped sooner: nothing was asked then)

    def line(self) -> str:
        late = "not measured" if self.late_stale is None else self.late_stale
        return (
            f"stale after publish: {self.stale_after} of {self.total_after}; "
            f"stale 5 s later: {late}; new cut-off served while only a draft: "
            f"{self.leaked_before}; errors: {self.errors}"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ask(url: str) -> bool | None:
    request = urllib.request.Request(url, data=CASE, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
    except Exception:  # any failure is counted as an error answer
        return None
    vegf = next(c for c in body["criteria"] if c["code"] == "vegf_elevated")
    return vegf["status"] == "not_met"  # 450 meets 200 (old) but not 500 (new)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        if _ask(url) is not None:
            return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


def run(
    repo: Path,
    *,
    mode: str = "publish",
    database_url: str | None = None,
    cache_url: str | None = None,
    clients: int = 6,
    after_seconds: float = 8.0,
    workers: int = 3,
) -> Result:
    repo = repo.resolve()
    python = str(Path(sys.executable))
    with tempfile.TemporaryDirectory(prefix="poemsaid-propagation-") as tmp:
        env = {
            **os.environ,
            "DEBUG": "0",
            "ALLOW_INSECURE_KEY": "1",
            "SECURE": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "poemsaid.settings",
            "PYTHONPATH": str(repo),
            "CONTENT_STAMP_FILE": str(Path(tmp) / "content-stamp"),
            "DATABASE_URL": database_url or f"sqlite:///{tmp}/db.sqlite3",
            "GUNICORN_ACCESS_LOG": "off",
            "API_RATE_LIMIT": "0",
        }
        env.pop("CACHE_URL", None)
        if cache_url:
            env["CACHE_URL"] = cache_url
            env["CACHE_KEY_PREFIX"] = f"propagation-{uuid.uuid4().hex}"
        # migrate and load_content in one process: one Django start-up instead of two.
        subprocess.run([python, "-c", SEED], env=env, cwd=repo, check=True, capture_output=True)
        # The editor starts now and sets Django up while gunicorn starts; it waits for a line
        # on stdin, so its start-up is not spent under the clients' load.
        editor = subprocess.Popen(
            [python, "-c", EDITOR, mode, "10"],
            env=env,
            cwd=repo,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}/api/v1/evaluate"
        server = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "poemsaid.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        answers: list[Answer] = []
        lock = threading.Lock()
        stop = threading.Event()

        def client() -> None:
            while not stop.is_set():
                sent = time.time()
                new = _ask(url)
                with lock:
                    answers.append(Answer(sent, time.time(), new))

        try:
            _wait_until_up(url, server)
            threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
            for t in threads:
                t.start()
            time.sleep(1.0)  # every worker warm, holding the old release
            out, err = editor.communicate("go\n", timeout=120)
            if editor.returncode != 0:
                raise RuntimeError(f"the editor process failed: {err[-2000:]}")
            done = float(out.split("DONE", 1)[1].split()[0])
            publishing = float(out.split("PUBLISH", 1)[1].split()[0])
            time.sleep(after_seconds)
            stop.set()
            for t in threads:
                t.join(timeout=15)
        finally:
            if editor.poll() is None:
                editor.kill()
                editor.wait()
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        after = [a for a in answers if a.sent > done and a.new is not None]
        return Result(
            total_after=len(after),
            stale_after=sum(1 for a in after if not a.new),
            leaked_before=sum(1 for a in answers if a.received < publishing and a.new),
            errors=sum(1 for a in answers if a.new is None),
            late_stale=(
                sum(1 for a in after if a.sent > done + 5 and not a.new) if after_seconds > 5 else None
            ),
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--mode", choices=("publish", "save"), default="publish")
    parser.add_argument("--postgres", help="DATABASE_URL of a PostgreSQL database to use (it is migrated)")
    parser.add_argument("--redis", help="CACHE_URL, e.g. redis://127.0.0.1:6379/4")
    args = parser.parse_args()
    result = run(args.repo, mode=args.mode, database_url=args.postgres, cache_url=args.redis)
    print(result.line())


if __name__ == "__main__":
    main()
