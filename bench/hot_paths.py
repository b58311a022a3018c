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

Medians of ``--reps`` calls, in microseconds of this process's CPU time (steadier than wall time
when other work shares the machine). ``--cprofile`` also prints the 25 functions
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
    clock = time.process_time_ns  # CPU time: steadier than wall time on a shared machine
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
    from checklist.web import views
    from checklist.web.forms import CaseForm, read_posted
    from checklist.web.presenters import diagnosis
    from checklist.web.templatetags import result_panel

    def shape(form, result, snap, today, request):
        return views.live_context(
            diagnosis.present(form, result, snap, today=today, request=request), request
        )

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
    view = context["view"]
    parts = diagnosis.parts(request, form, fresult, snap, today)

    fragment = {
        "request object": _median_us(lambda: wsgi_request("POST /result"), args.reps),
        "form parsing (read_posted)": _median_us(parse, args.reps) - 0,
        "validation (CaseForm.is_valid)": _median_us(validate, args.reps),
        "evaluation": _median_us(lambda: evaluate(form.case, book), args.reps),
        "presenting": _median_us(present, args.reps),
        "rendering": _median_us(lambda: template.render(context), args.reps),
    }
    # The panel alone: presenting and its template (Jinja2), as the live partial renders it.
    panel = {
        "presenter (diagnosis.shape)": _median_us(lambda: diagnosis.shape(parts), args.reps),
        "panel template (Jinja2)": _median_us(lambda: result_panel.panel_html(view, request), args.reps),
    }
    fragment["form parsing (read_posted)"] -= fragment["request object"]
    for name, parts in (("POST /api/v1/evaluate", api), ("POST /result", fragment)):
        print(f"{name}: {total[name]:.0f} us per request through the WSGI handler")
        rest = total[name] - sum(parts.values())
        for part, us in [*parts.items(), ("middleware, handler, response (the rest)", rest)]:
            print(f"   {part:<42} {us:>6.1f} us  {100 * us / total[name]:>4.0f} %")
    print("The result panel alone (within presenting and rendering above):")
    for part, us in panel.items():
        print(f"   {part:<42} {us:>6.1f} us")
    for name in ("POST /floor/json", "POST /floor/form", "GET /trivial"):
        print(f"{name}: {total[name]:.0f} us per request through the WSGI handler")
    # The same parts as shares of whole requests under cProfile: each part timed inside the
    # request it belongs to (a part timed alone, over and over, runs warmer than it does there).
    shares = {
        "POST /api/v1/evaluate": {
            "JSON decoding": ("evaluation.py", "decode_json"),
            "validation (parse_case)": ("inputs.py", "parse_case"),
            "evaluation": ("evaluate.py", "evaluate"),
            "encoding + response (_no_store)": ("views.py", "_no_store"),
        },
        "POST /result": {
            "form parsing (read_posted)": ("forms.py", "read_posted"),
            "validation (CaseForm.full_clean)": ("forms.py", "full_clean"),
            "evaluation": ("evaluate.py", "evaluate"),
            "presenting (present)": ("diagnosis.py", "present"),
            "rendering (the live partial)": ("django.py", "render"),
        },
    }
    for name, wanted in shares.items():
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.reps):
            call(name)
        profile.disable()
        stats = pstats.Stats(profile)
        whole = next(ct for (f, _, fn), (_, _, _, ct, _) in stats.stats.items() if fn == "call")
        view = next(ct for (f, _, fn), (_, _, _, ct, _) in stats.stats.items() if fn == "_get_response")
        print(f"\n{name} under cProfile, share of the whole request ({args.reps} requests):")
        for part, (file, function) in wanted.items():
            ct = sum(
                c
                for (f, _, fn), (_, _, _, c, _) in stats.stats.items()
                if f.endswith(file) and fn == function
            )
            print(f"   {part:<42} {100 * ct / whole:>4.0f} %")
        print(f"   {'the view as a whole':<42} {100 * view / whole:>4.0f} %")
        print(f"   {'middleware, handler, response (the rest)':<42} {100 * (whole - view) / whole:>4.0f} %")
        if args.cprofile:
            out = io.StringIO()
            stats.stream = out
            stats.sort_stats(SORT).print_stats(LIMIT)
            print(f"--- cProfile, {name}, by {SORT}\n{out.getvalue()}")


if __name__ == "__main__":
    main()
