"""Gunicorn configuration for POEMSaid in production. Every setting comes from the environment.

    gunicorn poemsaid.wsgi -c deploy/gunicorn.conf.py

GUNICORN_BIND          address to listen on (default 127.0.0.1:8000; a reverse proxy
                       or load balancer sits in front)
WEB_CONCURRENCY        worker processes (default: cores + 1, so 3 on a 2-core machine;
                       the app is CPU-bound once content is cached, so more processes
                       than that only adds context switches)
GUNICORN_WORKER_CLASS  sync (default) or gthread. Measured on the 2-core machine with
                       bench/run.py: same throughput, but sync had half the p99 latency
                       at 16 connections (connections queue fairly in the shared accept
                       queue instead of piling up on one worker's threads). A sync worker
                       is held for the whole of a request, so it wants a front end that
                       buffers slow clients (nginx, or a buffering load balancer); if the
                       app faces clients directly, use gthread.
GUNICORN_THREADS       threads per gthread worker (default 2; sync ignores it, and a
                       value above 1 makes gunicorn switch sync to gthread)
GUNICORN_TIMEOUT       seconds before a silent worker is restarted (default 30)
GUNICORN_KEEPALIVE     seconds an idle keep-alive connection is held (default 5; gthread)
GUNICORN_MAX_REQUESTS  recycle a worker after this many requests, with 10% jitter
                       (default 0 = never: a recycled worker rebuilds its content
                       snapshot on its first request)
GUNICORN_LOG_LEVEL     error-log level (default info)
GUNICORN_ACCESS_LOG    "-" for stdout (default), a file path, or "off"
GUNICORN_CONTROL_SOCKET  path of gunicorn's control socket; unset = no socket, so
                       several instances on one host never fight over one path

Privacy: the access log records the method, the path WITHOUT its query string
(%(U)s, never %(r)s or %(q)s), the status and the response time. No headers,
no bodies, no referrer, no user agent. Case data only ever travels in POST
bodies, and nothing here can write a body or a query string to a log.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise SystemExit(f"{name} must not be negative, not {raw!r}")
    return value


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
workers = max(1, _int("WEB_CONCURRENCY", _cores() + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = max(1, _int("GUNICORN_THREADS", 2 if worker_class == "gthread" else 1))
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10

# Heartbeat files on tmpfs: a disk-backed /tmp can stall workers under I/O load.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Request-size limits (gunicorn's defaults, stated so they are visible). The API's
# own body limit is API_MAX_BODY_BYTES in the Django settings.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicorn's own error messages can quote a bad request line, a header or a query
# string; this logger class withholds them (poemsaid/logging.py).
logger_class = "poemsaid.gunicorn_logging.GunicornLogger"
errorlog = "-"
_access = os.environ.get("GUNICORN_ACCESS_LOG", "-").strip()
accesslog = None if _access.lower() in ("off", "none", "") else _access
# method, path without query string, status, duration in ms. Nothing else, on purpose.
access_log_format = "%(m)s %(U)s %(s)s %(M)sms"

_control = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
if _control:
    control_socket = _control
else:
    control_socket_disable = True

proc_name = "poemsaid"
