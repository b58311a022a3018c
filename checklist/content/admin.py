"""The editors' admin: every content model, with history and revert (django-simple-history).

Saving content changes the *draft*: nothing public changes until an editor
publishes (``Content releases`` -> "Review the draft and publish"), which shows
every change against the live release, validates the rule book, runs every
regression case and refuses, in clinical words, if any would change. After
each save the regression cases are re-run against the draft, so the editor
learns at once whether publishing would be refused.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from checklist.content import models, publishing
from checklist.content.plausibility import check_threshold
from checklist.content.translated_fields import LANGUAGE_SUFFIXES, TRANSLATED
from checklist.engine.inputs import display_unit
from checklist.engine.vocabulary import LABS

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


def beside_the_english(label: str, fieldsets: Any) -> list[tuple[Any, dict[str, Any]]]:
    """The fieldsets with each translated field's Japanese and Chinese on its row, after the English.

    The admin lays a tuple of fields out as one row, so an editor reads the English and both
    translations side by side. Plain Django admin markup and media: no tabs, no jQuery UI, no
    CDN (django-modeltranslation's tabbed admin would load those).
    """
    translated = TRANSLATED.get(label, ())

    def expand(entry: Any) -> Any:
        names = entry if isinstance(entry, list | tuple) else (entry,)
        out = [
            n
            for name in names
            for n in (name, *(name + s for s in LANGUAGE_SUFFIXES.values() if name in translated))
        ]
        return tuple(out) if len(out) > 1 else out[0]

    return [
        (title, {**opts, "fields": [expand(e) for e in opts.get("fields", ())]}) for title, opts in fieldsets
    ]


class ContentAdmin(SimpleHistoryAdmin):
    """Shared behaviour: review columns, overdue flag, regression check after save."""

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return beside_the_english(self.model._meta.label_lower, super().get_fieldsets(request, obj))

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
    """Say the save went to the draft, and whether publishing the draft would be refused (and why)."""
    from checklist.content.regression import draft_book, run_all

    publish_url = reverse("admin:checklist_contentrelease_publish")
    messages.info(
        request,
        format_html(
            "Saved to the draft. The public pages still show the live release until you "
            '<a href="{}">review the draft and publish</a>.',
            publish_url,
        ),
    )
    book, problems = draft_book()
    if book is None:
        messages.error(request, "The draft is invalid and cannot be published: " + "; ".join(problems))
        return
    for problem in problems:
        messages.error(request, f"The draft cannot be published: {problem}")
    results = run_all(save=True)
    failed = [r for r in results if not r.passed]
    if failed:
        n = len(failed)
        messages.warning(
            request, f"Publishing would be refused: {n} regression case{'s' if n != 1 else ''} would change."
        )
        for r in failed[:10]:
            messages.error(request, "; ".join(r.differences))
        if len(failed) > 10:
            messages.error(request, f"... and {len(failed) - 10} more (all are listed on the publish page).")
    elif results and not problems:
        messages.info(request, f"Regression cases against the draft: all {len(results)} pass.")


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
    fields = ("criterion", "role", "label", "label_ja", "label_zh_hans", "threshold")
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
        (
            "Graded sets and the content flag",
            {
                "fields": ("enabled", "categories", "excluded_by", "exclusion_note"),
                "description": "A set left unticked under 'enabled' is a draft behind its content flag "
                "(criteria_set_<slug>_enabled): shown as a draft on the criteria page and refused by the "
                "API, the CLI and the checklist. Categories grade a case (MHLW: Definite, Probable, "
                "Possible) instead of met / not met.",
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
    fk_name = "criterion"  # the findings it counts (not those only shown under it)
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
                "fields": ("code", "name", "letter", "short_name", "order"),
                "description": "The code is used by the engine and the API: never change it.",
            },
        ),
        ("Words", {"fields": ("help_text", "investigations", "reference", "evidence")}),
        REVIEW_FIELDSET,
    )

    readonly_on_change = ("code",)


@admin.register(models.Finding)
class FindingAdmin(ContentAdmin):
    list_display = (
        "label",
        "code",
        "section",
        "criterion",
        "shown_under",
        "qualifies",
        "not_counted_in",
        "order",
        "review_due",
    )
    list_filter = (
        "section",
        "criterion",
        "shown_under",
        "qualifies",
        "not_in_sets",
        *ContentAdmin.list_filter,
    )
    search_fields = ("code", "label", "help_text")
    list_editable = ("order",)
    list_select_related = ("criterion", "shown_under")
    ordering = ("section", "order")
    filter_horizontal = ("not_in_sets",)
    fieldsets = (
        (None, {"fields": ("code", "label", "help_text", "section", "order")}),
        (
            "On the checklist form",
            {
                "fields": ("shown_under",),
                "description": "The criterion whose line this finding opens under, grouped by its section. "
                "Blank: under the criterion it counts towards, else in its section's own disclosure after the criteria.",
            },
        ),
        (
            "Counts towards",
            {
                "fields": ("criterion", "qualifies", "not_in_sets"),
                "description": "Untick 'qualifies' when the finding on its own must not meet its criterion (diabetes, thyroid). "
                "'Not counted in' lists the criteria sets whose own list leaves this finding out; "
                "it changes answers only once the draft is published.",
            },
        ),
        REVIEW_FIELDSET,
    )

    readonly_on_change = ("code",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.Finding]:
        queryset: QuerySet[models.Finding] = super().get_queryset(request)
        return queryset.prefetch_related("not_in_sets")

    @admin.display(description="Not counted in")
    def not_counted_in(self, obj: models.Finding) -> str:
        return ", ".join(s.slug for s in obj.not_in_sets.all()) or "-"


@admin.register(models.LabField)
class LabFieldAdmin(ContentAdmin):
    list_display = ("label", "code", "section", "shown_under", "order", "review_due")
    list_filter = ("section", "shown_under", *ContentAdmin.list_filter)
    list_select_related = ("shown_under",)
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
        (
            "On the checklist form",
            {
                "fields": ("shown_under",),
                "description": "The criterion whose line this lab opens under, grouped by its section "
                "(the first two labs a criterion reads sit on its line). Blank: in its section's own disclosure after the criteria.",
            },
        ),
        REVIEW_FIELDSET,
    )

    readonly_on_change = ("code",)


class ThresholdForm(forms.ModelForm):
    """Checks the value where it is typed: out of range is refused, a likely unit slip must be confirmed."""

    confirm_unusual = forms.BooleanField(
        required=False,
        label="Confirm unusual value",
        help_text="Tick to save a value outside the usual range for this cut-off (after checking the unit).",
    )

    class Meta:
        model = models.Threshold
        fields = [f.name for f in models.Threshold._meta.get_fields() if getattr(f, "editable", False)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        value = data.get("value")
        if value is None:
            return data
        code = self.instance.code or data.get("code", "")
        lab = self.instance.lab or data.get("lab", "")
        check = check_threshold(code, lab, value)
        for error in check.errors:
            self.add_error("value", error)
        if check.warnings and not check.errors and not data.get("confirm_unusual"):
            for warning in check.warnings:
                self.add_error(
                    "confirm_unusual", f"{warning} Tick 'Confirm unusual value' to save it anyway."
                )
        return data


@admin.register(models.Threshold)
class ThresholdAdmin(ContentAdmin):
    form = ThresholdForm
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
                "fields": ("comparator", "value", "confirm_unusual", "specimen", "sex"),
                "description": "The value is in the lab's canonical unit (e.g. pg/mL for VEGF, x10^9/L for platelets, g/dL for haemoglobin). Saving changes the draft and re-runs the regression cases; nothing is public until published.",
            },
        ),
        (
            "Evidence",
            {
                "fields": ("basis", "evidence", "verified", "reference", "note"),
                "description": "Untick 'verified' for app conventions; the pages then mark the number [unverified]. "
                "Basis and evidence are shown beside every reason that applies the number; a published "
                "threshold must name its reference.",
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


@admin.register(models.TreatmentByExtent)
class TreatmentByExtentAdmin(ContentAdmin):
    list_display = ("extent", "treatment", "order", "review_due")
    list_editable = ("order",)
    list_filter = ("extent", "review_status", OverdueFilter)
    autocomplete_fields = ("treatment",)
    fieldsets = (
        (
            None,
            {
                "fields": ("extent", "treatment", "order"),
                "description": "When a case meets the criteria, the result lists the treatment pages for its disease extent first, lowest order first; 'supportive' pages follow any extent. The engine decides the extent (clinical.md §c.1); this table decides the pages.",
            },
        ),
        REVIEW_FIELDSET,
    )


@admin.register(models.Caution)
class CautionAdmin(ContentAdmin):
    list_display = ("title", "code", "reference", "review_due")
    search_fields = ("code", "title", "message")
    autocomplete_fields = ("reference",)
    fieldsets = (
        (
            None,
            {
                "fields": ("code", "title", "message", "reference", "evidence"),
                "description": "When a caution shows is decided by the engine; this is its wording.",
            },
        ),
        REVIEW_FIELDSET,
    )

    readonly_on_change = ("code",)


@admin.register(models.TranslationReview)
class TranslationReviewAdmin(SimpleHistoryAdmin):
    """A clinician marks one language reviewed; until then its pages say they are not."""

    list_display = ("language", "reviewed_by", "reviewed_on")
    fields = ("language", "reviewed_by", "reviewed_on", "note")


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


class FollowUpThresholdForm(forms.ModelForm):
    """Checks the value where it is typed, with the words publishing would refuse it with."""

    class Meta:
        model = models.FollowUpThreshold
        fields = [
            f.name for f in models.FollowUpThreshold._meta.get_fields() if getattr(f, "editable", False)
        ]

    def clean(self) -> dict[str, Any]:
        from checklist.content.care_rules import THRESHOLD_MODEL, follow_up_problems
        from checklist.content.rule_book import content_records

        data = super().clean() or {}
        code = self.instance.code or data.get("code", "")
        # The draft's rows with this one as typed: the problems that name this code.
        records = [
            r for r in content_records() if r["fields"].get("code") != code or r["model"] != THRESHOLD_MODEL
        ]
        fields = {"code": code, **{k: data.get(k, "") for k in ("value", "unit", "evidence", "source")}}
        records.append({"model": THRESHOLD_MODEL, "fields": fields})
        for problem in follow_up_problems(records):
            if f"thresholds.{code}." in problem or problem.endswith(f"thresholds.{code}: unknown code"):
                self.add_error("value" if ".value" in problem else None, problem)
        return data


@admin.register(models.FollowUpThreshold)
class FollowUpThresholdAdmin(ContentAdmin):
    form = FollowUpThresholdForm
    list_display = ("code", "value", "unit", "evidence", "review_due")
    list_filter = ("evidence", *ContentAdmin.list_filter)
    search_fields = ("code", "source", "note")
    fieldsets = (
        (
            None,
            {
                "fields": ("code", "value", "unit"),
                "description": "A threshold, interval or switch of the follow-up rules (clinical.md §h). "
                "Saving changes the draft; the follow-up page, API and CLI change once it is published.",
            },
        ),
        (
            "Evidence",
            {
                "fields": ("evidence", "source", "note"),
                "description": "Unverified numbers and app conventions are shown as such beside each result.",
            },
        ),
        REVIEW_FIELDSET,
    )

    readonly_on_change = ("code",)


@admin.register(models.FollowUpRule)
class FollowUpRuleAdmin(ContentAdmin):
    list_display = ("code", "evidence", "review_due")
    list_filter = ("evidence", *ContentAdmin.list_filter)
    search_fields = ("code", "source", "note")
    fieldsets = (
        (
            None,
            {
                "fields": ("code", "evidence", "source", "note"),
                "description": "The source shown with every follow-up result this rule decides.",
            },
        ),
        REVIEW_FIELDSET,
    )

    readonly_on_change = ("code",)


def draft_status() -> dict[str, Any]:
    """How the draft stands against the live release: changes and rule-book problems (no cases run)."""
    from checklist.content.rule_book import content_records

    records = content_records()
    live = models.ContentRelease.objects.live()
    _book, problems = publishing.rule_book_problems(records)
    return {
        "changes": len(publishing.diff(live.records or [] if live else [], records)),
        "problems": problems,
    }


class PublishForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="What changed and why, in plain words. Shown on the public changelog.",
    )
    # What the editor reviewed: if the draft moved meanwhile, they must review it again.
    reviewed = forms.CharField(widget=forms.HiddenInput)


def _fingerprint(records: list[dict[str, Any]]) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(records, sort_keys=True).encode()).hexdigest()


@admin.register(models.ContentRelease)
class ContentReleaseAdmin(admin.ModelAdmin):
    """Releases are made only by publishing; nobody edits or deletes one."""

    list_display = ("number", "version", "released_on", "summary", "published_by", "reverted", "live")
    search_fields = ("version", "summary")
    ordering = ("-number",)
    fields = (
        "number",
        "version",
        "released_on",
        "summary",
        "pages",
        "published_by",
        "published_at",
        "reverts_to",
    )
    readonly_fields = fields
    actions = ("publish_again",)
    change_list_template = "admin/checklist/contentrelease/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.ContentRelease]:
        return super().get_queryset(request).filter(number__isnull=False).select_related("published_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("checklist.publish_contentrelease"))

    @admin.display(description="Reverts to")
    def reverted(self, obj: models.ContentRelease) -> str:
        return f"release {obj.reverts_to}" if obj.reverts_to else ""

    @admin.display(description="Live", boolean=True)
    def live(self, obj: models.ContentRelease) -> bool:
        live = getattr(self, "_live_number", None)
        return obj.number == live

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        self._live_number = models.ContentRelease.objects.published().values_list("number", flat=True).first()
        extra_context = {**(extra_context or {}), "draft": draft_status()}
        return super().changelist_view(
            request, {**(extra_context or {}), "can_publish": self.has_publish_permission(request)}
        )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "publish/",
                self.admin_site.admin_view(self.publish_view),
                name="checklist_contentrelease_publish",
            ),
            path(
                "<int:number>/republish/",
                self.admin_site.admin_view(self.republish_view),
                name="checklist_contentrelease_republish",
            ),
            *super().get_urls(),
        ]

    @admin.action(description="Publish the selected release again (revert to it)")
    def publish_again(self, request: HttpRequest, queryset: QuerySet[models.ContentRelease]) -> Any:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one release to go back to.", messages.WARNING)
            return None
        release = queryset.get()
        return HttpResponseRedirect(
            reverse("admin:checklist_contentrelease_republish", args=[release.number])
        )

    def publish_view(self, request: HttpRequest) -> HttpResponse:
        """The draft against the live release, the checks, and the Publish button."""
        from checklist.content.rule_book import content_records

        if not self.has_publish_permission(request):
            raise PermissionDenied
        records = content_records()
        return self._review(request, records, title="Review the draft and publish", reverts_to=None)

    def republish_view(self, request: HttpRequest, number: int) -> HttpResponse:
        if not self.has_publish_permission(request):
            raise PermissionDenied
        target = get_object_or_404(models.ContentRelease, number=number)
        return self._review(
            request,
            list(target.records or []),
            title=f"Go back to release {target.number} (version {target.version}, {target.released_on:%Y-%m-%d})",
            reverts_to=target,
        )

    def _review(
        self,
        request: HttpRequest,
        records: list[dict[str, Any]],
        *,
        title: str,
        reverts_to: models.ContentRelease | None,
    ) -> HttpResponse:
        live = models.ContentRelease.objects.live()
        fingerprint = _fingerprint(records)
        form = PublishForm(request.POST or None, initial={"reviewed": fingerprint})
        if reverts_to is not None and not request.POST:
            form = PublishForm(
                initial={"note": f"Back to release {reverts_to.number}.", "reviewed": fingerprint}
            )
        refused: publishing.Outcome | None = None
        if request.method == "POST" and form.is_valid():
            note = form.cleaned_data["note"]
            if form.cleaned_data["reviewed"] != fingerprint:
                refused = publishing.Outcome(
                    problems=[
                        "The draft changed while you were reviewing it. Review the changes below again."
                    ]
                )
                form = PublishForm(initial={"note": note, "reviewed": fingerprint})
            else:
                if reverts_to is not None:
                    outcome = publishing.revert(reverts_to, note, request.user)
                else:
                    outcome = publishing.publish(note, request.user)
                if outcome.ok:
                    assert outcome.release is not None
                    self.message_user(
                        request,
                        f"Published release {outcome.release.number} (version {outcome.release.version}). "
                        "Every page, the API and the CLI now serve it.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:checklist_contentrelease_changelist"))
                refused = outcome
        check = refused or publishing.check_records(records)
        changes = publishing.diff(live.records or [] if live else [], records)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "live": live,
            "changes": changes,
            "check": check,
            "refused": refused is not None,
            "form": form,
            "reverts_to": reverts_to,
            "can_publish": bool(changes or reverts_to),
        }
        return TemplateResponse(request, "admin/checklist/contentrelease/publish.html", context)


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Active"), ("yes", "Archived")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(archived=True)
        if self.value() == "no":
            return queryset.filter(archived=False)
        return queryset


_ANSWER = {True: "present", False: "absent", None: "not assessed"}


def case_summary_html(case: Any, criteria_set: str = "") -> str:
    """A regression case's input as a clinician reads it: findings and labs with their labels."""
    labels: dict[str, str] = {
        **dict(models.Criterion.objects.values_list("code", "name")),
        **dict(models.Finding.objects.values_list("code", "label")),
        **dict(models.LabField.objects.values_list("code", "label")),
    }
    if not isinstance(case, dict):
        return format_html("<p>Input is not an object: {}</p>", repr(case))
    findings = case.get("findings") or {}
    labs = case.get("labs") or {}
    units = case.get("units") or {}
    rows = [
        (labels.get(code, code), _ANSWER.get(value, str(value)) if not isinstance(value, str) else value)
        for code, value in (findings.items() if isinstance(findings, dict) else [])
    ]
    if not isinstance(units, dict):
        units = {}
    for code, value in labs.items() if isinstance(labs, dict) else []:
        lab = LABS.get(code)
        unit = units.get(code) or (display_unit(lab.unit).strip() if lab else "")
        rows.append((labels.get(code, code), f"{value} {unit}".strip()))
    chosen = criteria_set or case.get("criteria_set") or "default set"
    body = (
        format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", rows)
        if rows
        else format_html("<tr><td colspan=2>{}</td></tr>", "Nothing entered: every item not assessed.")
    )
    return format_html(
        '<p>Criteria set: <strong>{}</strong></p><table class="case-summary"><thead><tr><th>Finding or lab</th>'
        "<th>Answer</th></tr></thead><tbody>{}</tbody></table>",
        chosen,
        body,
    )


def expectation_html(expected: Any) -> str:
    if not isinstance(expected, dict):
        return format_html("<p>{}</p>", "Expectation is not an object.")
    from checklist.engine.diagnosis.words import criterion_word, verdict_verb

    items = []
    if expected.get("status"):
        items.append(f"Overall: {verdict_verb(expected['status'])}")
    for code, want in (expected.get("criteria") or {}).items():
        items.append(f"{code.replace('_', ' ')}: {criterion_word(want)}")
    for key, words in (
        ("differentials", "flagged"),
        ("not_differentials", "not flagged"),
        ("cautions", "caution shown"),
        ("not_cautions", "caution not shown"),
    ):
        for code in expected.get(key) or []:
            items.append(f"{code.replace('_', ' ')}: {words}")
    if "missing" in expected:
        items.append("Still to assess: " + (", ".join(expected["missing"]) or "nothing"))
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((i,) for i in items)))


@admin.register(models.RegressionCase)
class RegressionCaseAdmin(SimpleHistoryAdmin):
    list_display = (
        "name",
        "slug",
        "criteria_set",
        "author",
        "from_repository",
        "archived",
        "last_passed",
        "last_run_at",
    )
    list_filter = (ArchivedFilter, "last_passed", "from_repository", "criteria_set")
    search_fields = ("slug", "name", "source", "author")
    readonly_fields = (
        "case_summary",
        "expected_summary",
        "last_passed",
        "last_result",
        "last_run_at",
        "from_repository",
    )
    fieldsets = (
        (
            None,
            {
                "fields": ("slug", "name", "author", "source", "archived"),
                "description": "A synthetic or published case (never a real patient) and the result it must keep giving. "
                "Archived cases are kept but not checked before publishing.",
            },
        ),
        ("The case", {"fields": ("case_summary", "expected_summary")}),
        (
            "Edit the case and expectation (advanced)",
            {
                "classes": ("collapse",),
                "fields": ("criteria_set", "case", "expected"),
                "description": 'Case: the API input. Expected: {"status": ..., "criteria": {code: met|not_met|unknown}, "differentials": [...], "not_differentials": [...], "cautions": [...]}.',
            },
        ),
        (
            "Last run (against the draft)",
            {"fields": ("last_passed", "last_result", "last_run_at", "from_repository")},
        ),
    )
    actions = ("run_selected", "archive_selected", "unarchive_selected")

    @admin.display(description="Findings and labs")
    def case_summary(self, obj: models.RegressionCase) -> str:
        return case_summary_html(obj.case, obj.criteria_set) if obj.pk else "-"

    @admin.display(description="Expected result")
    def expected_summary(self, obj: models.RegressionCase) -> str:
        return expectation_html(obj.expected) if obj.pk else "-"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The repository's golden cases guard every release: archive them, never delete.
        if obj is not None and obj.from_repository:
            return False
        return bool(super().has_delete_permission(request, obj))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[models.RegressionCase]) -> None:
        kept = queryset.filter(from_repository=True).count()
        queryset.filter(from_repository=False).delete()
        if kept:
            self.message_user(
                request,
                f"{kept} cases from the repository were kept (they can be archived, not deleted).",
                messages.WARNING,
            )

    def save_model(self, request: HttpRequest, obj: models.RegressionCase, form: Any, change: bool) -> None:
        from checklist.content.regression import run_case

        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        result = run_case(obj, save=True)
        if result.passed:
            messages.info(request, f"'{obj.name}' passes against the draft content.")
        else:
            messages.warning(
                request, f"'{obj.name}' fails against the draft content: {'; '.join(result.differences)}"
            )

    @admin.action(description="Run the selected cases now (against the draft)")
    def run_selected(self, request: HttpRequest, queryset: QuerySet[models.RegressionCase]) -> None:
        from checklist.content.regression import run_case

        results = [run_case(case, save=True) for case in queryset]
        failed = [r for r in results if not r.passed]
        level = messages.ERROR if failed else messages.INFO
        self.message_user(request, f"{len(results) - len(failed)} passed, {len(failed)} failed.", level)

    @admin.action(description="Archive the selected cases (no longer checked before publishing)")
    def archive_selected(self, request: HttpRequest, queryset: QuerySet[models.RegressionCase]) -> None:
        self.message_user(request, f"Archived {queryset.update(archived=True)} cases.")

    @admin.action(description="Bring the selected cases back (checked before publishing)")
    def unarchive_selected(self, request: HttpRequest, queryset: QuerySet[models.RegressionCase]) -> None:
        self.message_user(request, f"Restored {queryset.update(archived=False)} cases.")
