#!/usr/bin/env python
"""Where a hot path's time goes inside gunicorn workers under wrk load, sampled by py-spy.

    .venv/bin/python bench/py_spy_profile.py                  # API and /result, 15 s each
    .venv/bin/python bench/py_spy_profile.py --seconds 30 --target api

The same production settings, throwaway database and gunicorn as bench/run.py. While wrk
drives one target at 16 connections, ``py-spy record --subprocesses --format raw`` samples
every worker (100 Hz, idle frames dropped). Each sampled stack is put in the first part whose
marker it holds, reading from the innermost frame outwards, so a sample inside the engine
called by the view counts as evaluation, not as the view:

  decode, validation, evaluation, presenting, rendering, encoding, the view's own code,
  and everything else (Django's handler and middleware, gunicorn, the socket).

Unlike bench/hot_paths.py (in-process, one part at a time, hot caches), this is the request as
served, with the caches as cold as load makes them. py-spy needs ptrace (it works on this
machine as root; in a container without CAP_SYS_PTRACE it fails and says so).
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402  (bench/run.py: the typical case, the throwaway database, gunicorn)

from deploy import stack  # noqa: E402

# (part, markers): a frame matches when its "function (file:line)" text holds a marker.
PARTS = (
    # gunicorn's sendall: on a loaded machine the worker waits here for wrk to read, which is
    # wall time, not the request's work; reported apart so it does not swamp the shares.
    ("socket write (waiting for the client)", ("(gunicorn/util.py",)),
    ("decode", ("decode_json", "read_posted", "split_urlencoded", "_load_post_and_files")),
    ("validation", ("parse_case", "full_clean", "is_valid", "read_case")),
    ("evaluation", ("checklist/engine/",)),
    ("presenting", ("checklist/web/presenters/", "live_context")),
    ("rendering", ("jinja", "templates/", "result_panel", "django/template/")),
    ("encoding", ("orjson", "no_store", "_gzip_public", "igzip")),
    ("the view's own code", ("checklist/api/", "checklist/web/views.py", "checklist/content/evaluation")),
)

TARGETS = {
    "api": ("/api/v1/evaluate", "application/json"),
    "result": ("/result", "application/x-www-form-urlencoded"),
}


def part_of(stack_frames):
    for frame in reversed(stack_frames):  # innermost first
        for part, markers in PARTS:
            if any(m in frame for m in markers):
                return part
    return "Django handler, middleware, gunicorn, socket"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="poemsaid-pyspy-"))
    env, cleanup = run.prepare(tmp)
    port = run.stack_port()
    server = stack.start_gunicorn(f"127.0.0.1:{port}", env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    report = {"load_average_at_start": os.getloadavg()[0], "targets": {}}
    try:
        run._wait(base + "/healthz", server)
        bodies = {
            "api": json.dumps(run.TYPICAL_CASE, separators=(",", ":")).encode(),
            "result": run.form_body(run.TYPICAL_CASE),
        }
        for name in TARGETS if args.target == "all" else [args.target]:
            path, ctype = TARGETS[name]
            headers = run.FORM_HEADERS if name == "result" else {"Content-Type": ctype}
            script = run.wrk_script(tmp, f"spy_{name}", "POST", bodies[name], headers)
            run.run_wrk(base + path, script, 2, 16, server.pid)  # warm every worker
            raw = tmp / f"{name}.txt"
            spy = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(server.pid)]
                + ["--subprocesses", "--rate", "100", "--format", "raw", "--output", str(raw)]
                + ["--duration", str(args.seconds), "--nonblocking"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            run.run_wrk(base + path, script, args.seconds, 16, server.pid)
            _, err = spy.communicate(timeout=args.seconds + 60)
            if spy.returncode != 0 or not raw.exists():
                raise SystemExit(f"py-spy failed: {err.strip()}")
            counts = collections.Counter()
            for line in raw.read_text().splitlines():
                frames, _, n = line.rpartition(" ")
                stack_frames = frames.split(";")
                # Samples of the master and of workers waiting in accept/select are idle, not work.
                if not any("handle_request" in f or "get_response" in f for f in stack_frames):
                    continue
                counts[part_of(stack_frames)] += int(n)
            waiting = counts.pop(PARTS[0][0], 0)
            total = sum(counts.values()) or 1
            shares = {part: round(100 * n / total, 1) for part, n in counts.most_common()}
            report["targets"][path] = {
                "samples": total,
                "socket_write_samples": waiting,
                "share_percent": shares,
            }
            print(
                f"POST {path}: {total} samples of work in requests (+{waiting} waiting in the socket write)"
            )
            for part, share in shares.items():
                print(f"   {part:<48} {share:5.1f} %")
    finally:
        stack.stop(server)
        for fn in cleanup:
            fn()
    report["load_average_at_end"] = os.getloadavg()[0]
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "py_spy.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"load average {report['load_average_at_start']:.1f} -> {report['load_average_at_end']:.1f}")


if __name__ == "__main__":
    main()
