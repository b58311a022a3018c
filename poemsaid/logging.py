"""JSON log lines, and a filter that keeps request data out of them.

Django attaches the HttpRequest to some records (e.g. 4xx/5xx from
django.request). Its repr can carry POST data, so the filter drops it and
keeps only method and path.
"""

from __future__ import annotations

import json
import logging
from typing import Any


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None:
            record.http = f"{getattr(request, 'method', '?')} {getattr(request, 'path', '?')}"
            record.request = None
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
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload)
