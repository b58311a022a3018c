"""The editors' admin: every content model, with history and revert (django-simple-history).

Saving content clears the content cache (signals in content.py), so an edit
shows on the next page load. After each save the regression cases are re-run
and any that now fail are reported at once.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from . import models

REVIEW_FIELDSET = (
    "Version and review",
    {
        "fields": ("version", "review_status", "reviewed_by", "reviewed_on", "next_review_due"),
        "description": "Bump the version when the meaning changes. Record who reviewed it and when it is next due.",
    },
)


class OverdueFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        reviewed = cast("models.ReviewedQuerySet", queryset)  # every reviewed model's manager
        if self.value() == "yes":
            return reviewed.overdue()
        if self.value() == "no":
            return reviewed.exclude(pk__in=reviewed.overdue())
        return queryset


class ContentAdmin(SimpleHistoryAdmin):
    """Shared behaviour: review columns, overdue flag, regression check after save."""

    list_filter: tuple[Any, ...] = ("review_status", OverdueFilter)
    # Engine codes are fixed once created: renaming one would silently detach it.
    readonly_on_change: tuple[str, ...] = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return (*super().get_readonly_fields(request, obj), *(self.readonly_on_change if obj else ()))

    @admin.display(description="Review due", ordering="next_review_due")
    def review_due(self, obj: models.ReviewedContent) -> str:
        if obj.next_review_due is None:
            return "not set"
        if obj.review_overdue:
            return format_html('<strong class="errornote">OVERDUE {}</strong>', obj.next_review_due)
        return str(obj.next_review_due)

    def response_post_save_change(self, request: HttpRequest, obj: Any) -> Any:
        report_regressions(request)
        return super().response_post_save_change(request, obj)

    def response_post_save_add(self, request: HttpRequest, obj: Any) -> Any:
        report_regressions(request)
        return super().response_post_save_add(request, obj)


def report_regressions(request: HttpRequest) -> None:
    """Re-run every regression case against the content just saved; say which fail and how."""
    from .regression import run_all

    results = run_all(save=True)
    failed = [r for r in results if not r.passed]
    if failed:
        for r in failed[:10]:
            messages.error(request, f"Regression case '{r.name}' now fails: {'; '.join(r.differences)}")
        if len(failed) > 10:
            messages.error(request, f"... and {len(failed) - 10} more failing regression cases.")
    elif results:
        messages.info(request, f"All {len(results)} regression cases still pass.")


def public_link(url: str) -> str:
    return format_html('<a href="{}" target="_blank" rel="noopener">view</a>', url)


@admin.register(models.Reference)
class ReferenceAdmin(ContentAdmin):
    list_display = ("short", "key", "pmid", "doi", "verified", "review_due", "public")
    list_filter = ("verified", *ContentAdmin.list_filter)
    search_fields = ("key", "short", "citation", "pmid", "doi")
    ordering = ("short",)
    fieldsets = (
        (
            None,
            {
                "fields": ("key", "short", "citation"),
                "description": "Cite in your own words; never paste abstracts.",
            },
        ),
        (
            "Identifiers",
            {
                "fields": ("pmid", "doi", "url", "verified"),
                "description": "Tick verified only after checking the identifiers against the source.",
            },
        ),
        REVIEW_FIELDSET,
    )

    @admin.display(description="Public page")
    def public(self, obj: models.Reference) -> str:
        return public_link(obj.get_absolute_url())


class MembershipInline(admin.TabularInline):
    model = models.Membership
    extra = 0
    fields = ("criterion", "role", "label")
    autocomplete_fields = ("criterion",)


@admin.register(models.CriteriaSet)
class CriteriaSetAdmin(ContentAdmin):
    list_display = (
        "name",
        "slug",
        "year",
        "is_default",
        "is_historical",
        "major_min",
        "minor_min",
        "version",
        "review_status",
        "review_due",
        "public",
    )
    search_fields = ("slug", "name", "rule_text")
    filter_horizontal = ("references",)
    inlines = (MembershipInline,)
    ordering = ("order",)
    fieldsets = (
        (None, {"fields": ("slug", "name", "year", "order", "is_default", "is_historical")}),
        (
            "Rule",
            {
                "fields": ("rule_text", "major_min", "minor_min", "apply_endocrine_caveat", "notes"),
                "description": "Every mandatory criterion must be met, plus at least the minimum number from each group below. Which criteria are in which group is set in the rows at the bottom.",
            },
        ),
        ("Sources", {"fields": ("references",)}),
        REVIEW_FIELDSET,
    )

    @admin.display(description="Public page")
    def public(self, obj: models.CriteriaSet) -> str:
        return public_link(obj.get_absolute_url())


class FindingInline(admin.TabularInline):
    model = models.Finding
    extra = 0
    fields = ("code", "label", "qualifies")
    readonly_fields = ("code",)
    show_change_link = True


@admin.register(models.Criterion)
class CriterionAdmin(ContentAdmin):
    list_display = ("name", "code", "letter", "order", "version", "review_due")
    search_fields = ("code", "name", "help_text")
    ordering = ("order",)
    inlines = (FindingInline,)
    autocomplete_fields = ("reference",)
    fieldsets = (
        (
            None,
            {
                "fields": ("code", "name", "letter", "order"),
                "description": "The code is used by the engine and the API: never change it.",
            },
        ),
        ("Words", {"fields": ("help_text", "investigations", "reference")}),
        REVIEW_FIELDSET,
    )

    readonly_on_change = ("code",)


@admin.register(models.Finding)
class FindingAdmin(ContentAdmin):
    list_display = ("label", "code", "section", "criterion", "qualifies", "order", "review_due")
    list_filter = ("section", "criterion", "qualifies", *ContentAdmin.list_filter)
    search_fields = ("code", "label", "help_text")
    list_editable = ("order",)
    ordering = ("section", "order")
    fieldsets = (
        (None, {"fields": ("code", "label", "help_text", "section", "order")}),
        (
            "Counts towards",
            {
                "fields": ("criterion", "qualifies"),
                "description": "Untick 'qualifies' when the finding on its own must not meet its criterion (diabetes, thyroid).",
            },
        ),
        REVIEW_FIELDSET,
    )

    readonly_on_change = ("code",)


@admin.register(models.LabField)
class LabFieldAdmin(ContentAdmin):
    list_display = ("label", "code", "section", "order", "review_due")
    list_filter = ("section", *ContentAdmin.list_filter)
    search_fields = ("code", "label", "help_text")
    ordering = ("section", "order")
    fieldsets = (
        (
            None,
            {
                "fields": ("code", "label", "help_text", "section", "order"),
                "description": "Units and plausibility ranges are fixed in the engine; see the API vocabulary.",
            },
        ),
        REVIEW_FIELDSET,
    )

    readonly_on_change = ("code",)


@admin.register(models.Threshold)
class ThresholdAdmin(ContentAdmin):
    list_display = (
        "code",
        "lab",
        "comparator",
        "value",
        "specimen",
        "sex",
        "verified",
        "reference",
        "review_due",
        "public",
    )
    list_filter = ("verified", "lab", *ContentAdmin.list_filter)
    search_fields = ("code", "label", "lab", "note")
    autocomplete_fields = ("reference",)
    ordering = ("lab", "code")
    fieldsets = (
        (
            None,
            {"fields": ("code", "label", "lab"), "description": "The engine asks for thresholds by code."},
        ),
        (
            "Cut-off",
            {
                "fields": ("comparator", "value", "specimen", "sex"),
                "description": "The value is in the lab's canonical unit (e.g. pg/mL for VEGF, x10^9/L for platelets, g/dL for haemoglobin). Saving re-runs the regression cases.",
            },
        ),
        (
            "Evidence",
            {
                "fields": ("verified", "reference", "note"),
                "description": "Untick 'verified' for app conventions; the pages then mark the number [unverified].",
            },
        ),
        REVIEW_FIELDSET,
    )

    readonly_on_change = ("code", "lab")

    @admin.display(description="Public page")
    def public(self, obj: models.Threshold) -> str:
        return public_link(reverse("checklist:criteria"))


@admin.register(models.Differential)
class DifferentialAdmin(ContentAdmin):
    list_display = ("name", "code", "order", "version", "review_due", "public")
    search_fields = ("code", "name", "summary", "distinguishing")
    filter_horizontal = ("references",)
    ordering = ("order",)
    fieldsets = (
        (
            None,
            {
                "fields": ("code", "name", "order", "summary"),
                "description": "When the flag fires is decided by the engine; these are the words.",
            },
        ),
        (
            "Page",
            {
                "fields": ("why_it_matters", "distinguishing", "tests", "references"),
                "description": "Plain text. Blank lines separate paragraphs; lines starting '- ' become a list.",
            },
        ),
        REVIEW_FIELDSET,
    )

    readonly_on_change = ("code",)

    @admin.display(description="Public page")
    def public(self, obj: models.Differential) -> str:
        return public_link(obj.get_absolute_url())


@admin.register(models.Treatment)
class TreatmentAdmin(ContentAdmin):
    list_display = ("name", "slug", "order", "version", "review_due", "public")
    search_fields = ("slug", "name", "summary", "body")
    filter_horizontal = ("references",)
    ordering = ("order",)
    fieldsets = (
        (None, {"fields": ("slug", "name", "order", "summary")}),
        (
            "Page",
            {
                "fields": ("body", "references"),
                "description": "Information, not advice. Plain text; blank lines separate paragraphs; lines starting '- ' become a list.",
            },
        ),
        REVIEW_FIELDSET,
    )

    @admin.display(description="Public page")
    def public(self, obj: models.Treatment) -> str:
        return public_link(obj.get_absolute_url())


@admin.register(models.Caution)
class CautionAdmin(ContentAdmin):
    list_display = ("title", "code", "reference", "review_due")
    search_fields = ("code", "title", "message")
    autocomplete_fields = ("reference",)
    fieldsets = (
        (
            None,
            {
                "fields": ("code", "title", "message", "reference"),
                "description": "When a caution shows is decided by the engine; this is its wording.",
            },
        ),
        REVIEW_FIELDSET,
    )

    readonly_on_change = ("code",)


@admin.register(models.SiteText)
class SiteTextAdmin(ContentAdmin):
    list_display = ("title", "key", "review_due")
    search_fields = ("key", "title", "body")
    fieldsets = (
        (
            None,
            {
                "fields": ("key", "title", "body"),
                "description": "'notice' is the 'not a diagnosis' banner on every page and output.",
            },
        ),
        REVIEW_FIELDSET,
    )


@admin.register(models.ContentRelease)
class ContentReleaseAdmin(SimpleHistoryAdmin):
    list_display = ("version", "released_on", "summary")
    search_fields = ("version", "summary")
    ordering = ("-released_on",)
    fieldsets = (
        (
            None,
            {
                "fields": ("version", "released_on", "summary"),
                "description": "Add a release when a reviewed set of changes goes live. The newest version is stamped on every output and listed on the public changelog.",
            },
        ),
    )


@admin.register(models.RegressionCase)
class RegressionCaseAdmin(SimpleHistoryAdmin):
    list_display = ("name", "slug", "criteria_set", "author", "from_repository", "last_passed", "last_run_at")
    list_filter = ("last_passed", "from_repository", "criteria_set")
    search_fields = ("slug", "name", "source", "author")
    readonly_fields = ("last_passed", "last_result", "last_run_at", "from_repository")
    fieldsets = (
        (
            None,
            {
                "fields": ("slug", "name", "author", "source"),
                "description": "A synthetic or published case (never a real patient) and the result it must keep giving.",
            },
        ),
        (
            "Case and expectation",
            {
                "fields": ("criteria_set", "case", "expected"),
                "description": 'Case: the API input. Expected: {"status": ..., "criteria": {code: met|not_met|unknown}, "differentials": [...], "not_differentials": [...], "cautions": [...]}.',
            },
        ),
        ("Last run", {"fields": ("last_passed", "last_result", "last_run_at", "from_repository")}),
    )
    actions = ("run_selected",)

    def save_model(self, request: HttpRequest, obj: models.RegressionCase, form: Any, change: bool) -> None:
        from .regression import run_case

        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        result = run_case(obj, save=True)
        if result.passed:
            messages.info(request, f"'{obj.name}' passes against the current content.")
        else:
            messages.warning(
                request, f"'{obj.name}' fails against the current content: {'; '.join(result.differences)}"
            )

    @admin.action(description="Run the selected cases now")
    def run_selected(self, request: HttpRequest, queryset: QuerySet[models.RegressionCase]) -> None:
        from .regression import run_case

        results = [run_case(case, save=True) for case in queryset]
        failed = [r for r in results if not r.passed]
        level = messages.ERROR if failed else messages.INFO
        self.message_user(request, f"{len(results) - len(failed)} passed, {len(failed)} failed.", level)


# The EHR integration's admin (LOINC mapping) lives with the EHR code.
from .ehr import admin as _ehr_admin  # noqa: E402, F401
