"""The CDS audit rows and feedback counts in the database (design.md §3.11).

``store`` writes one ``CdsCallAudit`` row per call from the audit line's fields (``audit.py``),
which hold no patient data. ``count_feedback`` adds to ``CdsFeedbackCount``: counts per
service, card kind, outcome and override reason, nothing else. Which kind a card was is
remembered in the cache under its random uuid (no patient data) so that its feedback can
be counted by kind; "ignored" is derived in the admin from the audit rows' card counts.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from checklist.ehr.audit import _UUID, LOGGER_NAME
from checklist.ehr.models import CdsCallAudit, CdsFeedbackCount

logger = logging.getLogger(LOGGER_NAME)


def store(fields: dict[str, Any]) -> None:
    """The audit row. A database that cannot take it must not fail the clinician's order:
    its JSON line is already written, and the failure is logged without data."""
    try:
        with transaction.atomic():
            CdsCallAudit.objects.create(
                at=timezone.now(),
                endpoint=fields["endpoint"],
                service=fields["service"] or "",
                client=fields["client"] or "",
                hook=fields["hook"] or "",
                hook_instance=fields["hook_instance"] or "",
                cards=fields["cards"],
                card_kind=fields["card_kind"] or "",
                latency_ms=fields["latency_ms"],
                status=fields["status"],
                outcome=fields["outcome"],
            )
    except DatabaseError as exc:
        logger.error("cds audit row not written (%s)", type(exc).__name__)


CARD_PREFIX = "poemsaid:cds-card:"
COUNTED_PREFIX = "poemsaid:cds-card-counted:"
# Feedback usually comes within minutes; a week covers a card read later in the day or after.
CARD_TTL_SECONDS = 7 * 24 * 3600
CARD_KINDS = frozenset({"labs", "red_flag", "tests_missing"})


def remember_card(card_uuid: str, service: str, kind: str) -> None:
    """The card's kind under its random uuid, for its feedback. Never fails the call."""
    try:
        cache.set(CARD_PREFIX + card_uuid, f"{service}:{kind}", CARD_TTL_SECONDS)
    except Exception:
        logger.warning("cds card kind not remembered (cache unavailable)")


def count_feedback(service: str, items: list[dict[str, Any]], reasons: set[str]) -> int:
    """Add each outcome to the counts; returns how many were counted.

    A card's kind is ours only if we made the card for this service (else "unknown"); a
    reason not among ours is counted as "other" (a client's own code could be anything);
    feedback for a card already counted is not counted again.
    """
    counted = 0
    for item in items:
        card = str(item["card"])
        if not _UUID.match(card):
            kind = "unknown"
        else:
            try:
                remembered = cache.get(CARD_PREFIX + card.lower())
                first = cache.add(COUNTED_PREFIX + card.lower(), 1, CARD_TTL_SECONDS)
            except Exception:
                remembered, first = None, True
            if not first:
                continue
            owner, _, kind = str(remembered or "").partition(":")
            if owner != service or kind not in CARD_KINDS:
                kind = "unknown"
        outcome = str(item["outcome"])
        reason = ""
        if outcome == "overridden":
            given = item.get("overrideReason") or {}
            code = (given.get("reason") or {}).get("code") if isinstance(given.get("reason"), dict) else None
            reason = str(code) if code in reasons else ("other" if code else "")
        with transaction.atomic():
            row, _created = CdsFeedbackCount.objects.select_for_update().get_or_create(
                service=service, card_kind=kind, outcome=outcome, reason=reason
            )
            CdsFeedbackCount.objects.filter(pk=row.pk).update(count=F("count") + 1)
        counted += 1
    return counted
