"""An audit line for every CDS Hooks call, in the JSON logs (design.md §3.11).

It says who called (the verified client's ``iss``), which hook and hookInstance,
which service, how many cards went back, how long it took, and how it ended
(HTTP status and a fixed error kind). It never holds a patient id, a value or
anything else from the chart: every field is either our own constant, the
issuer of a client registered with us, a hookInstance that is a UUID (anything
else is not copied), or a number. An unverified ``iss`` is not logged either:
the caller chose it.

The same fields become a ``CdsCallAudit`` row (``audit_rows.py``; this module is loaded
by the logging configuration, before the models are).
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse

from poemsaid.logging import JsonFormatter

LOGGER_NAME = "poemsaid.cds.audit"
logger = logging.getLogger(LOGGER_NAME)

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# CDS Hooks 2.0's published hooks: a hook named otherwise is logged as "other", since
# a free-text field is a place a client could put anything.
KNOWN_HOOKS = frozenset(
    {
        "patient-view",
        "order-select",
        "order-sign",
        "order-dispatch",
        "appointment-book",
        "encounter-start",
        "encounter-discharge",
    }
)


def hook_instance(value: Any) -> str | None:
    """The hookInstance if it is a UUID, as the spec says it is; otherwise "(not a UUID)"."""
    if value is None:
        return None
    return value.lower() if isinstance(value, str) and _UUID.match(value) else "(not a UUID)"


@dataclass(slots=True)
class CallAudit:
    """Filled in as one call goes along; ``log`` writes the line once the response is known."""

    endpoint: str  # "service" or "feedback"
    service: str | None  # one of our service ids, or None when the URL named no service of ours
    started: float = field(default_factory=time.perf_counter)
    client: str | None = None
    hook: str | None = None
    hook_instance: str | None = None
    cards: int | None = None
    card_kind: str | None = None  # our own constant: "labs", "red_flag", "tests_missing", "vegf_rise"
    error: str | None = None  # a fixed kind, e.g. "jwt_rejected", "prefetch_missing"

    def read_body(self, body: Any) -> None:
        if isinstance(body, dict):
            hook = body.get("hook")
            if hook is not None:
                self.hook = hook if isinstance(hook, str) and hook in KNOWN_HOOKS else "other"
            self.hook_instance = hook_instance(body.get("hookInstance"))

    def fields(self, status: int) -> dict[str, Any]:
        return {
            "event": "cds_call",
            "endpoint": self.endpoint,
            "service": self.service,
            "client": self.client,
            "hook": self.hook,
            "hook_instance": self.hook_instance,
            "cards": self.cards,
            "card_kind": self.card_kind,
            "latency_ms": round((time.perf_counter() - self.started) * 1000, 1),
            "status": status,
            "outcome": "ok" if 200 <= status < 300 and not self.error else (self.error or "error"),
        }

    def log(self, response: HttpResponse | None) -> dict[str, Any]:
        status = response.status_code if response is not None else 500
        if response is None:
            self.error = self.error or "exception"
        fields = self.fields(status)
        logger.info("cds call", extra={"cds_audit": fields})
        return fields


class AuditJsonFormatter(JsonFormatter):
    """The project's JSON line, with the audit fields under "cds"."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        audit = getattr(record, "cds_audit", None)
        if not isinstance(audit, dict):
            return line
        payload = json.loads(line)
        payload["cds"] = audit
        return json.dumps(payload)
