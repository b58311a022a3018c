"""Admin for the LOINC mapping: editors correct a code here, with history and review dates."""

from __future__ import annotations

from django.contrib import admin

from checklist.content.admin import REVIEW_FIELDSET, ContentAdmin
from checklist.ehr.models import LoincMapping


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
