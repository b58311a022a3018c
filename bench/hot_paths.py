#!/usr/bin/env python
"""Where a hot-path request's time goes, in-process, one part at a time (no wrk, no sockets).

    .venv/bin/python bench/hot_paths.py            # or: --reps 3000 --cprofile

The production settings (bench/bench_settings.py) on a throwaway SQLite database with the
seed content, as bench/run.py prepares it. Each request is sent through Django's own WSGI
handler (the whole middleware stack, as gunicorn calls it); then each part of the view is
timed alone, many times over, and the middleware and handler are the rest:

- POST /api/v1/evaluate: JSON decoding, validation (``parse_case``), evaluation, encoding;
- POST /result: form parsing (``read_posted``), validation (``CaseForm.is_valid``),
  evaluation, presenting (``present``), rendering (the template).

Medians of ``--reps`` calls, in microseconds. ``--cprofile`` also prints the 25 functions
with the most own time over the whole request (cProfile's overhead inflates every figure;
read it for the order, not the size). Figures are per process: gunicorn and the kernel
(sockets, the 3-11 KB response) come on top, as bench/run.py measures.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SORT = os.environ.get("PROFILE_SORT", "tottime")
LIMIT = int(os.environ.get("PROFILE_LIMIT", "25"))
import run  # noqa: E402  (bench/run.py: the typical case and the throwaway database)


def _median_us(fn, reps):
    times = []
    clock = time.perf_counter_ns
    for _ in range(reps):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times) / 1000


def _environ(path, body, content_type, headers=()):
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT_ENCODING": "gzip",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    environ.update(headers)
    return environ


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=3000)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="poemsaid-profile-"))
    env, _ = run.prepare(tmp)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
    from django.template.loader import get_template
    from django.utils import timezone

    from checklist.content.evaluation import decode_json
    from checklist.content.rule_book import snapshot
    from checklist.engine.diagnosis.evaluate import evaluate
    from checklist.engine.inputs import parse_case
    from checklist.web.forms import CaseForm, read_posted

    try:  # the presenter (checklist/web/presenters/), or before it the view's own context
        from checklist.web.presenters import diagnosis

        def shape(form, result, snap, today, request):
            return diagnosis.live_context(
                diagnosis.present(form, result, snap, today=today, request=request, with_reports=False)
            )
    except ImportError:
        from checklist.web import views

        def shape(form, result, snap, today, request):
            return views._result_context(request, form, result, snap, with_reports=False)

    handler = WSGIHandler()
    api_body = run.json.dumps(run.TYPICAL_CASE, separators=(",", ":")).encode()
    form_body = run.form_body(run.TYPICAL_CASE)
    requests = {
        "POST /api/v1/evaluate": _environ("/api/v1/evaluate", api_body, "application/json"),
        "POST /result": _environ(
            "/result", form_body, "application/x-www-form-urlencoded", {"HTTP_HX_REQUEST": "true"}
        ),
        "POST /floor/json": _environ("/floor/json", api_body, "application/json"),
        "POST /floor/form": _environ("/floor/form", form_body, "application/x-www-form-urlencoded"),
        "GET /trivial": {**_environ("/trivial", b"", ""), "REQUEST_METHOD": "GET"},
    }
    bodies = {"POST /api/v1/evaluate": api_body, "POST /result": form_body, "POST /floor/json": api_body}
    bodies["POST /floor/form"] = form_body
    (tmp / "api.json").write_bytes(b"{}")  # the floors answer captured bytes (bench/urls.py)
    (tmp / "result.html").write_bytes(b"")

    def call(name):
        environ = dict(requests[name])
        environ["wsgi.input"] = io.BytesIO(bodies.get(name, b""))
        response = handler(environ, lambda status, headers: None)
        for _chunk in response:
            pass
        response.close()
        return response

    for name in requests:  # warm: the content cache, the template cache, the URL resolver
        for _ in range(200):
            call(name)
    total = {name: _median_us(lambda n=name: call(n), args.reps) for name in requests}

    snap = snapshot()
    book = snap.book

    def wsgi_request(name):
        environ = dict(requests[name])
        environ["wsgi.input"] = io.BytesIO(bodies[name])
        request = WSGIRequest(environ)
        request.htmx = True  # what django_htmx's middleware sets
        return request

    # POST /api/v1/evaluate, part by part.
    data = decode_json(api_body)
    case = parse_case(data, book.sets)
    result = evaluate(case, book)
    import orjson

    api = {
        "request object": _median_us(lambda: wsgi_request("POST /api/v1/evaluate"), args.reps),
        "JSON decoding": _median_us(lambda: decode_json(api_body), args.reps),
        "validation (parse_case)": _median_us(lambda: parse_case(data, book.sets), args.reps),
        "evaluation": _median_us(lambda: evaluate(case, book), args.reps),
        "encoding (orjson)": _median_us(lambda: orjson.dumps(result), args.reps),
    }
    # POST /result, part by part.
    request = wsgi_request("POST /result")
    posted = read_posted(request)
    form = CaseForm(posted, snapshot=snap)
    form.is_valid()
    fresult = evaluate(form.case, book)
    today = timezone.localdate()

    def parse():
        read_posted(wsgi_request("POST /result"))

    def validate():
        CaseForm(posted, snapshot=snap).is_valid()

    def present():
        shape(form, fresult, snap, today, request)

    template = get_template("checklist/checklist.html#live")
    context = shape(form, fresult, snap, today, request)

    fragment = {
        "request object": _median_us(lambda: wsgi_request("POST /result"), args.reps),
        "form parsing (read_posted)": _median_us(parse, args.reps) - 0,
        "validation (CaseForm.is_valid)": _median_us(validate, args.reps),
        "evaluation": _median_us(lambda: evaluate(form.case, book), args.reps),
        "presenting": _median_us(present, args.reps),
        "rendering": _median_us(lambda: template.render(context), args.reps),
    }
    fragment["form parsing (read_posted)"] -= fragment["request object"]
    for name, parts in (("POST /api/v1/evaluate", api), ("POST /result", fragment)):
        print(f"{name}: {total[name]:.0f} us per request through the WSGI handler")
        rest = total[name] - sum(parts.values())
        for part, us in [*parts.items(), ("middleware, handler, response (the rest)", rest)]:
            print(f"   {part:<42} {us:>6.1f} us  {100 * us / total[name]:>4.0f} %")
    for name in ("POST /floor/json", "POST /floor/form", "GET /trivial"):
        print(f"{name}: {total[name]:.0f} us per request through the WSGI handler")
    if args.cprofile:
        for name in ("POST /api/v1/evaluate", "POST /result"):
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.reps):
                call(name)
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(SORT).print_stats(LIMIT)
            print(f"\n--- cProfile, {name}, {args.reps} requests, by own time\n{out.getvalue()}")


if __name__ == "__main__":
    main()
