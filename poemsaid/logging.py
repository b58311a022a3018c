"""JSON log lines, and filters that keep request data out of every log line.

Two rules, for Django's loggers and gunicorn's alike:
- Django attaches the HttpRequest to some records (e.g. 4xx/5xx from django.request).
  Its repr can carry POST data, so it is dropped; method and path are kept.
- An exception's message can quote the input that caused it ("invalid literal ...:
  '4321.5'", a Host header, a request line). Only the exception's class and where it
  was raised (file, line, function) are logged, never its message or a formatted
  traceback (which ends with the message).
"""

from __future__ import annotations

import json
import logging
import traceback
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def exception_summary(exc_info: ExcInfo) -> dict[str, Any]:
    """The class of an exception and where it happened, without its message."""
    exc_type, _exc, tb = exc_info
    frames = traceback.extract_tb(tb)[-8:] if tb is not None else []
    return {
        "exception": f"{exc_type.__module__}.{exc_type.__qualname__}",
        "where": [f"{f.filename}:{f.lineno} in {f.name}" for f in frames],
    }


def _withhold_exception_text(record: logging.LogRecord) -> None:
    """Replace the exception's text in the message by its class name; keep a summary."""
    if not record.exc_info or record.exc_info[1] is None:
        return
    exc = record.exc_info[1]
    summary = exception_summary(record.exc_info)
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not stop the record
        message = str(record.msg)
    text = str(exc)
    if text and text in message:
        message = message.replace(text, f"({type(exc).__name__}, details withheld)")
    record.msg, record.args = message, ()
    record.exc_info, record.exc_text = None, None
    record.exception_summary = summary


class ScrubFilter(logging.Filter):
    """For Django's records (attached to the console handler in settings.LOGGING)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None:
            record.http = f"{getattr(request, 'method', '?')} {getattr(request, 'path', '?')}"
            record.request = None
        _withhold_exception_text(record)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("http", "status_code"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if record.exc_info:  # a record that bypassed ScrubFilter: still no message
            payload.update(exception_summary(record.exc_info))  # type: ignore[arg-type]
        elif hasattr(record, "exception_summary"):
            payload.update(record.exception_summary)
        return json.dumps(payload)


class GunicornScrubFilter(logging.Filter):
    """For gunicorn's error log (installed by GunicornLogger).

    gunicorn logs "Invalid request from ip=...: <error>" where the error quotes the
    request line or a header, and "Error handling request <uri>" with the query string
    and a traceback. Keep what happened and to which path; drop the quoted input.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith("Invalid request from ip=") and not record.args:
            # "ip=::1: ..." never contains ": " inside the address.
            record.msg = message.split(": ", 1)[0] + ": (details withheld)"
        elif message.startswith("Error handling request") and record.args:
            record.args = tuple(
                urlsplit(a).path if isinstance(a, str) and a.startswith("/") else a
                for a in (record.args if isinstance(record.args, tuple) else (record.args,))
            )
        if record.exc_info and record.exc_info[1] is not None:
            summary = exception_summary(record.exc_info)
            _withhold_exception_text(record)
            record.msg = (
                f"{record.msg} [{summary['exception']} at {' <- '.join(reversed(summary['where'][-3:]))}]"
            )
        return True
