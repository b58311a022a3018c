#!/usr/bin/env python
"""CPU per request of the screen's live fragment, POST /screen/result, in-process.

    .venv/bin/python bench/screen_fragment.py      # --reps N

As bench/hot_paths.py: the production settings on a throwaway SQLite database with the seed
content (bench/run.py prepares it), each request through Django's WSGI handler, median CPU
time of this process over ``--reps`` calls. Two bodies: S2 of clinical.md §i.8 (three red
flags, two tests) and the same with one bad value (a field message out of band). Also the
answer's rendering alone (the part this bench was written to compare).
"""

import argparse
import io
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import hot_paths  # noqa: E402
import run  # noqa: E402

S2 = {
    "acquired_demyelinating_neuropathy": "yes",
    "m_protein_present": "yes",
    "heavy_chain_type": "IgA",
    "light_chain_type": "lambda",
    "platelets_10e9_l": "520",
}
BAD = {**S2, "vegf_serum": "12abc"}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=2000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="poemsaid-screen-bench-"))
    env, _ = run.prepare(tmp)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
    from django.utils import timezone

    from checklist.web import screen
    from checklist.web.forms import read_posted

    handler = WSGIHandler()
    bodies = {"S2": urlencode(S2).encode(), "S2 + a bad value": urlencode(BAD).encode()}

    def environ(body):
        e = hot_paths._environ(
            "/screen/result", body, "application/x-www-form-urlencoded", {"HTTP_HX_REQUEST": "true"}
        )
        e["wsgi.input"] = io.BytesIO(body)
        return e

    def call(body):
        response = handler(environ(body), lambda status, headers: None)
        assert response.status_code == 200, response.status_code
        for _chunk in response:
            pass
        response.close()

    print(f"load average {os.getloadavg()[0]:.1f}; median CPU us over {args.reps} calls")
    for name, body in bodies.items():
        for _ in range(200):
            call(body)
        whole = hot_paths._median_us(lambda b=body: call(b), args.reps)
        request = WSGIRequest(environ(body))
        request.htmx = True
        screened = screen.screen_form(read_posted(request), timezone.localdate())
        fragment = getattr(screen, "fragment_html", None) or (  # before: the string builder
            lambda r, s: screen.live_html(screen._context(r, s))
        )
        render = hot_paths._median_us(lambda f=fragment, r=request, s=screened: f(r, s), args.reps)
        print(f"POST /screen/result ({name}): whole request {whole:.0f} us; present + render {render:.0f} us")


if __name__ == "__main__":
    main()
