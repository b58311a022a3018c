"""Admin of the EHR room: the LOINC mapping and the order-hook codes (content, with history and
review dates), the trusted CDS clients (with history), and the CDS audit rows and feedback
counts (read-only: the service writes them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Sum
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from checklist.content.admin import REVIEW_FIELDSET, ContentAdmin
from checklist.ehr.models import CdsCallAudit, CdsClient, CdsFeedbackCount, LoincMapping, TerminologyCode


@admin.register(LoincMapping)
class LoincMappingAdmin(ContentAdmin):
    list_display = ("loinc_code", "display", "target", "confidence", "active", "review_due")
    list_filter = ("confidence", "active", "target", *ContentAdmin.list_filter)
    search_fields = ("loinc_code", "display", "target", "source", "confidence_note")
    ordering = ("order", "loinc_code")
    fieldsets = (
        (
            None,
            {
                "fields": ("loinc_code", "display", "target", "ucum_units", "specimen", "active", "order"),
                "description": "Which coded lab result in a patient's record fills which checklist input. "
                "The code's check digit is verified on save. A value in a unit not listed is shown to the "
                "clinician but never used.",
            },
        ),
        (
            "Source and confidence",
            {
                "fields": ("source", "confidence", "confidence_note"),
                "description": "Say where the code was checked, and what is not certain about it.",
            },
        ),
        REVIEW_FIELDSET,
    )


@admin.register(TerminologyCode)
class TerminologyCodeAdmin(ContentAdmin):
    list_display = ("code", "display", "use", "system", "evidence_mark", "active", "review_due")
    list_filter = ("use", "system", "evidence", "active", *ContentAdmin.list_filter)
    search_fields = ("code", "display", "source")
    ordering = ("use", "system", "code")
    fieldsets = (
        (
            None,
            {
                "fields": ("use", "system", "code", "display", "active"),
                "description": "Which coded order or problem-list entry makes the order hooks "
                "(poems-cidp-orders: order-select, order-sign) act (clinical.md §i.7). A code matches a "
                "draft order's or a Condition's coding exactly, so list the codes your EHR sends: for a "
                "medication, the RxNorm clinical drug codes (SCD/SBD) it orders by, or ingredient codes "
                "if it sends those. A corticosteroid triggers only with a CIDP reason or CIDP on the "
                "problem list. No IVIG (RxNorm) or plasma exchange (SNOMED CT) code is seeded: none was "
                "found in a source we could check, so those orders trigger nothing until you add yours. "
                "The POEMS condition codes also tell the follow-up card (poems-follow-up, patient-view) "
                "who has a POEMS history: none is seeded, so that card fires only once you add yours. "
                "Changes reach the services when the content is published.",
            },
        ),
        (
            "Source and evidence",
            {
                "fields": ("evidence", "source"),
                "description": "Most seeded codes are marked unverified: they were not checked against "
                "the terminology release (RxNorm, SNOMED CT, ICD-10). Unverified codes are used, and a "
                "card that rests on one says so. Check a code against the release, then record where "
                "and change its evidence.",
            },
        ),
        REVIEW_FIELDSET,
    )

    @admin.display(description="Evidence", ordering="evidence")
    def evidence_mark(self, obj: TerminologyCode) -> str:
        return "[unverified]" if obj.evidence == TerminologyCode.Evidence.UNVERIFIED else obj.evidence


@admin.register(CdsClient)
class CdsClientAdmin(SimpleHistoryAdmin):
    list_display = ("issuer", "keys", "active")
    list_filter = ("active",)
    search_fields = ("issuer", "note")
    fieldsets = (
        (
            None,
            {
                "fields": ("issuer", "active", "jwks", "jwks_url", "jku_allowlist"),
                "description": "An EHR trusted to call the CDS services: its JWT's iss, and its public "
                "keys (a JWK Set, or the https:// URL that serves one). A row here decides for its issuer "
                "(an inactive row refuses it even if the CDS_HOOKS_CLIENTS file lists it); issuers only "
                "in the file are still trusted. Seed rows from the file with "
                "`manage.py load_cds_clients`. Saving clears the cached clients on every server that "
                "shares the cache (else within 30 s).",
            },
        ),
        (
            "What the client may ask",
            {
                "fields": ("fhir_servers", "allowed_origins", "note"),
                "description": "FHIR base URLs the service may read when a call names one as fhirServer "
                '(a JSON list, e.g. ["https://fhir.example.org/r4"]); browser origins allowed by CORS.',
            },
        ),
    )

    @admin.display(description="Keys")
    def keys(self, obj: CdsClient) -> str:
        return obj.jwks_url or (f"{len((obj.jwks or {}).get('keys', []))} key(s) in the row")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the service writes; staff read them, nobody edits them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CdsCallAudit)
class CdsCallAuditAdmin(ReadOnlyAdmin):
    list_display = (
        "at",
        "endpoint",
        "service",
        "client",
        "hook",
        "hook_instance",
        "cards",
        "card_kind",
        "latency_ms",
        "status",
        "outcome",
    )
    list_filter = ("endpoint", "service", "hook", "outcome", "card_kind")
    date_hierarchy = "at"
    search_fields = ("hook_instance", "client")


@admin.register(CdsFeedbackCount)
class CdsFeedbackCountAdmin(ReadOnlyAdmin):
    list_display = ("service", "card_kind", "outcome", "reason", "count", "updated")
    list_filter = ("service", "card_kind", "outcome")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        for line in ignored_lines():
            messages.info(request, line)
        return super().changelist_view(request, extra_context)


def ignored_lines() -> list[str]:
    """Ignored = cards returned (audit rows) minus cards with feedback, per service and kind."""
    returned = (
        # order_by(): the models' default ordering would split the groups.
        CdsCallAudit.objects.filter(endpoint="service", cards__gt=0)
        .order_by()
        .values("service", "card_kind")
        .annotate(n=Sum("cards"))
    )
    answered = {
        (r["service"], r["card_kind"]): r["n"]
        for r in CdsFeedbackCount.objects.order_by().values("service", "card_kind").annotate(n=Sum("count"))
    }
    lines = []
    for row in returned:
        key = (row["service"], row["card_kind"])
        ignored = max(0, int(row["n"] or 0) - int(answered.get(key, 0)))
        lines.append(
            f"Cards of {row['service']} ({row['card_kind'] or 'unknown'}): {row['n']} returned, "
            f"{answered.get(key, 0)} with feedback, {ignored} ignored (no feedback)."
        )
    return lines
