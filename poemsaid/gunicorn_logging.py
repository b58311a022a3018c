"""gunicorn's logger with the request-data filter (deploy/gunicorn.conf.py: logger_class)."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from .logging import GunicornScrubFilter


class GunicornLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type information
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.error_log.addFilter(GunicornScrubFilter())
