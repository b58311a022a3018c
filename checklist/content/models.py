"""Content models: the words and numbers the engine runs on.

Code owns the logic (``checklist/engine``); these tables own labels, help text,
thresholds, group minimums, differential and treatment pages and references.
Editors change them in the admin; every model keeps its history
(django-simple-history) and its review status. Nothing about a patient is
ever stored here: the only case-shaped data is ``RegressionCase``, which holds
synthetic or published cases written by editors, never a real patient.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from checklist.engine.evidence import Basis, Evidence
from checklist.engine.vocabulary import TREATMENT_SLOTS

# clinical.md §h's opening table, in the admin's words.
EVIDENCE_CHOICES = [
    (Evidence.READ_ABSTRACT.value, "Read: abstract"),
    (Evidence.READ_TABLE.value, "Read: table"),
    (Evidence.SECONDARY.value, "Secondary source"),
    (Evidence.UNVERIFIED.value, "Unverified"),
    (Evidence.APP_CONVENTION.value, "App convention (no published number)"),
]
BASIS_CHOICES = [
    (Basis.PUBLISHED.value, "Published threshold (cite the reference)"),
    (Basis.APP_DEFAULT.value, "App default (no source settles the number)"),
]


def evidence_field(help_text: str) -> models.CharField[str, str]:
    return models.CharField(
        max_length=20, choices=EVIDENCE_CHOICES, default=Evidence.UNVERIFIED.value, help_text=help_text
    )


def is_overdue(next_review_due: datetime.date | None) -> bool:
    """The one definition of an overdue review, for rows and for cached content alike."""
    return next_review_due is not None and next_review_due < timezone.localdate()


class ReviewedQuerySet(models.QuerySet[Any]):
    def overdue(self) -> ReviewedQuerySet:
        return self.filter(next_review_due__lt=timezone.localdate())


class NaturalKeyManager(models.Manager.from_queryset(ReviewedQuerySet)):  # type: ignore[misc]
    """Looks rows up by their stable code so fixtures can refer to them by name."""

    key_field = "code"

    def get_by_natural_key(self, key: str) -> models.Model:
        row: models.Model = self.get(**{self.key_field: key})
        return row


class SlugManager(NaturalKeyManager):
    key_field = "slug"


class KeyManager(NaturalKeyManager):
    key_field = "key"


class ReviewedContent(models.Model):
    """Version and review status shared by every content item (issue: governed content)."""

    class ReviewStatus(models.TextChoices):
        DRAFT = "draft", "Draft"
        REVIEWED = "reviewed", "Reviewed"
        NEEDS_REVIEW = "needs_review", "Needs review"

    version = models.CharField(
        max_length=20, default="1", help_text="Bump when the meaning of this item changes."
    )
    review_status = models.CharField(max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    reviewed_by = models.CharField(
        max_length=120, blank=True, help_text="Name of the clinician who last reviewed this item."
    )
    reviewed_on = models.DateField(null=True, blank=True)
    next_review_due = models.DateField(
        null=True, blank=True, help_text="Items past this date are flagged as overdue."
    )

    class Meta:
        abstract = True

    @property
    def review_overdue(self) -> bool:
        return is_overdue(self.next_review_due)


class Reference(ReviewedContent):
    """A published source. Every clinical statement in the app points at one."""

    key = models.SlugField(
        max_length=80, unique=True, help_text="Stable short name, e.g. dispenzieri-2012-blood."
    )
    short = models.CharField(max_length=80, help_text="Short citation shown inline, e.g. 'Dispenzieri 2012'.")
    citation = models.TextField(help_text="Full citation: authors, title, journal, year.")
    pmid = models.CharField(max_length=12, blank=True, verbose_name="PMID")
    doi = models.CharField(max_length=120, blank=True, verbose_name="DOI")
    url = models.URLField(blank=True, verbose_name="URL")
    verified = models.BooleanField(
        default=False, help_text="Tick only when the identifiers were checked against the source."
    )

    objects = KeyManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["short"]

    def __str__(self) -> str:
        return self.short

    def get_absolute_url(self) -> str:
        return reverse("checklist:references") + f"#{self.key}"

    def natural_key(self) -> tuple[str]:
        return (self.key,)

    @property
    def link(self) -> str:
        """Best public link: DOI, then PubMed, then the stored URL."""
        if self.doi:
            return f"https://doi.org/{self.doi}"
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        return self.url


class Criterion(ReviewedContent):
    """One diagnostic criterion (clinical.md §e.1). Which set uses it, and how, is a Membership."""

    class Letter(models.TextChoices):
        NONE = "", "-"
        P = "P", "P"
        O = "O", "O"  # noqa: E741 - the acronym letter
        E = "E", "E"
        M = "M", "M"
        S = "S", "S"

    code = models.SlugField(max_length=60, unique=True, help_text="Stable engine code. Never rename.")
    name = models.CharField(max_length=120)
    help_text = models.TextField(blank=True, help_text="One or two sentences shown under the item.")
    investigations = models.TextField(
        blank=True,
        help_text="What would settle this criterion when it is not assessed (shown under 'missing').",
    )
    letter = models.CharField(
        max_length=1, choices=Letter.choices, blank=True, help_text="POEMS acronym letter, if any."
    )
    short_name = models.CharField(
        max_length=12,
        blank=True,
        help_text="One word for the answer bar's chip (e.g. 'Bone'), for a criterion without a "
        "POEMS letter (the letter is the chip otherwise); the name's first word when blank. "
        "Keep it short: on a phone every chip shares one row.",
    )
    order = models.PositiveSmallIntegerField(default=0)
    reference = models.ForeignKey(Reference, null=True, blank=True, on_delete=models.PROTECT)
    evidence = evidence_field(
        "How the criterion's definition was read; shown beside each reason that applies no threshold."
    )

    objects = NaturalKeyManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "code"]
        verbose_name_plural = "criteria"

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class CriteriaSet(ReviewedContent):
    """A published rule: which criteria are mandatory, major and minor, and how many of each."""

    slug = models.SlugField(max_length=40, unique=True, help_text="Stable API slug, e.g. mayo-2007.")
    name = models.CharField(max_length=120)
    year = models.PositiveSmallIntegerField()
    rule_text = models.TextField(help_text="The rule in one or two plain sentences.")
    notes = models.TextField(
        blank=True, help_text="Caveats shown on the criteria page, e.g. unverified cut-offs."
    )
    is_default = models.BooleanField(default=False, help_text="Exactly one set is the default.")
    is_historical = models.BooleanField(
        default=False,
        help_text="Superseded rules. A case met only under these gets a caution.",
    )
    major_min = models.PositiveSmallIntegerField(
        default=1, help_text="Minimum number of 'other major' criteria that must be met."
    )
    minor_min = models.PositiveSmallIntegerField(
        default=1, help_text="Minimum number of minor criteria that must be met."
    )
    apply_endocrine_caveat = models.BooleanField(
        default=True,
        help_text="If ticked, diabetes and/or thyroid disease alone do not meet endocrinopathy "
        "(the caveat added in 2007).",
    )
    order = models.PositiveSmallIntegerField(default=0)
    references = models.ManyToManyField(Reference, blank=True)
    enabled = models.BooleanField(
        default=True,
        help_text="The content flag criteria_set_<slug>_enabled (mhlw-jp: criteria_set_mhlw_jp_enabled). "
        "Unticked, the set is a draft: the criteria page shows it as such and the API, the CLI and "
        "the checklist refuse it.",
    )
    categories = models.JSONField(
        default=list,
        blank=True,
        help_text="For a graded set only (e.g. MHLW): a list of {code, name, requires: [criterion "
        "codes], minor_min, covered}, best first. Empty for a met/not met set.",
    )
    excluded_by = models.JSONField(
        default=list,
        blank=True,
        help_text="Caution codes that exclude a graded case from support (e.g. myeloma_defining_events).",
    )
    exclusion_note = models.CharField(
        max_length=200, blank=True, help_text="Said beside the category when an exclusion fires."
    )

    objects = SlugManager()
    history = HistoricalRecords(m2m_fields=[references])

    class Meta:
        ordering = ["order", "slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="checklist_one_default_criteria_set",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("checklist:criteria") + f"#{self.slug}"

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class MembershipManager(models.Manager.from_queryset(ReviewedQuerySet)):  # type: ignore[misc]
    def get_by_natural_key(self, set_slug: str, criterion_code: str) -> Membership:
        row: Membership = self.get(criteria_set__slug=set_slug, criterion__code=criterion_code)
        return row


class Membership(ReviewedContent):
    """A criterion's role in one criteria set."""

    class Role(models.TextChoices):
        MANDATORY = "mandatory", "Mandatory (all required)"
        MAJOR = "major", "Other major"
        MINOR = "minor", "Minor"

    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.CASCADE, related_name="members")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=12, choices=Role.choices)
    label = models.CharField(
        max_length=120, blank=True, help_text="The set's own wording, if it differs (e.g. 'oedema')."
    )
    threshold = models.ForeignKey(
        "Threshold",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Only for VEGF: this set reads the criterion from this threshold alone, on the "
        "threshold's specimen only; a value from another specimen is never converted (MHLW: serum).",
    )

    objects = MembershipManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["criteria_set", "role", "criterion__order"]
        constraints = [
            models.UniqueConstraint(fields=["criteria_set", "criterion"], name="checklist_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.criteria_set.slug}: {self.criterion.code} ({self.role})"

    def natural_key(self) -> tuple[str, str]:
        return (*self.criteria_set.natural_key(), *self.criterion.natural_key())

    natural_key.dependencies = ["checklist.criteriaset", "checklist.criterion"]  # type: ignore[attr-defined]


class Section(models.TextChoices):
    """The titled group a finding or lab appears in on the checklist form (``shown_under`` says where)."""

    CRITERIA = "criteria", "Criteria"
    NEUROPATHY = "neuropathy", "Neuropathy"
    CLONE = "clone", "Clone and antibodies"
    BONE = "bone", "Bone"
    ORGANOMEGALY = "organomegaly", "Organomegaly"
    VOLUME = "volume", "Extravascular volume"
    ENDOCRINE = "endocrine", "Endocrine"
    SKIN = "skin", "Skin"
    OTHER = "other", "Other signs (not counted)"
    AL_FLAGS = "al_flags", "AL amyloidosis clues"
    VEGF_CONFOUNDERS = "vegf_confounders", "VEGF confounders"
    DEMOGRAPHY = "demography", "Patient"
    BLOOD = "blood", "Blood counts and chemistry"
    PARAPROTEIN = "paraprotein", "Paraprotein"
    VEGF = "vegf", "VEGF"
    INVESTIGATIONS = "investigations", "Other investigations"


class Finding(ReviewedContent):
    """A yes/no finding (clinical.md §e.2), and the criterion it counts towards, if any."""

    code = models.SlugField(max_length=60, unique=True, help_text="Stable engine code. Never rename.")
    label = models.CharField(max_length=120)
    help_text = models.TextField(blank=True)
    section = models.CharField(max_length=20, choices=Section.choices)
    criterion = models.ForeignKey(
        Criterion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
        help_text="The criterion this sub-finding counts towards, if any.",
    )
    qualifies = models.BooleanField(
        default=True,
        help_text="Untick when the finding alone must not meet its criterion "
        "(e.g. diabetes for endocrinopathy).",
    )
    not_in_sets = models.ManyToManyField(
        CriteriaSet,
        blank=True,
        related_name="findings_not_counted",
        verbose_name="not counted in",
        help_text="Criteria sets whose own list of sub-findings left this one out: there it does "
        "not count towards its criterion (e.g. acrocyanosis under Mayo 2003). Blank: counts in "
        "every set. Say why, with the source, in the set's notes.",
    )
    shown_under = models.ForeignKey(
        Criterion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="shown_%(class)ss",
        verbose_name="shown under",
        help_text="The criterion whose line this item opens under on the checklist form. "
        "Blank: under the criterion it counts towards, if any, else in its section's own "
        "disclosure after the criteria. Changes the page once the draft is published.",
    )
    order = models.PositiveSmallIntegerField(default=0)

    objects = NaturalKeyManager()
    history = HistoricalRecords(m2m_fields=[not_in_sets])

    class Meta:
        ordering = ["section", "order", "code"]

    def __str__(self) -> str:
        return self.label

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class LabField(ReviewedContent):
    """Words for a lab or value code (clinical.md §e.3). Units and ranges live in the engine."""

    code = models.SlugField(max_length=60, unique=True, help_text="Stable engine code. Never rename.")
    label = models.CharField(max_length=120)
    help_text = models.TextField(blank=True)
    section = models.CharField(max_length=20, choices=Section.choices)
    shown_under = models.ForeignKey(
        Criterion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="shown_%(class)ss",
        verbose_name="shown under",
        help_text="The criterion whose line this lab opens under on the checklist form (the first "
        "two labs a criterion reads sit on its line). Blank: in its section's own disclosure "
        "after the criteria. Changes the page once the draft is published.",
    )
    order = models.PositiveSmallIntegerField(default=0)

    objects = NaturalKeyManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["section", "order", "code"]

    def __str__(self) -> str:
        return self.label

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class Threshold(ReviewedContent):
    """A numeric cut-off the engine compares a lab with. The engine asks for it by code."""

    class Comparator(models.TextChoices):
        GT = "gt", ">"
        GE = "ge", ">="
        LT = "lt", "<"
        LE = "le", "<="

    class Sex(models.TextChoices):
        ANY = "", "Any"
        MALE = "M", "Male"
        FEMALE = "F", "Female"

    code = models.SlugField(max_length=60, unique=True, help_text="Stable engine code. Never rename.")
    label = models.CharField(
        max_length=160, help_text="Shown in reasons, e.g. 'high-specificity plasma cut-off'."
    )
    lab = models.SlugField(max_length=60, help_text="The lab code compared, e.g. vegf_pg_ml.")
    comparator = models.CharField(max_length=2, choices=Comparator.choices)
    value = models.FloatField(help_text="In the lab's canonical unit (see the vocabulary page).")
    specimen = models.CharField(max_length=20, blank=True, help_text="e.g. plasma or serum.")
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    verified = models.BooleanField(
        default=False,
        help_text="Untick for app conventions or unconfirmed figures; the UI marks them [unverified].",
    )
    note = models.TextField(blank=True)
    reference = models.ForeignKey(Reference, null=True, blank=True, on_delete=models.PROTECT)
    evidence = evidence_field("How strongly the number is sourced; shown beside each reason that applies it.")
    basis = models.CharField(
        max_length=20,
        choices=BASIS_CHOICES,
        default=Basis.APP_DEFAULT.value,
        help_text="Whether a source publishes this number (a reference is then required) or it is the "
        "app's default.",
    )

    objects = NaturalKeyManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["lab", "code"]

    def __str__(self) -> str:
        return f"{self.code}: {self.lab} {self.get_comparator_display()} {self.value:g}"

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class Differential(ReviewedContent):
    """A diagnosis to consider or exclude. The trigger is code; the page is content."""

    code = models.SlugField(max_length=60, unique=True, help_text="Stable engine code. Never rename.")
    name = models.CharField(max_length=120)
    summary = models.TextField(help_text="One or two sentences shown in the result panel.")
    why_it_matters = models.TextField(blank=True)
    distinguishing = models.TextField(blank=True, help_text="What sets it apart from POEMS.")
    tests = models.TextField(blank=True, help_text="Investigations that help.")
    order = models.PositiveSmallIntegerField(default=0)
    references = models.ManyToManyField(Reference, blank=True)

    objects = NaturalKeyManager()
    history = HistoricalRecords(m2m_fields=[references])

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("checklist:differential", args=[self.code])

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class Treatment(ReviewedContent):
    """A treatment option page (clinical.md §c). Information, not advice."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    summary = models.TextField(help_text="One or two sentences shown in lists.")
    body = models.TextField(help_text="Plain text; blank lines separate paragraphs.")
    order = models.PositiveSmallIntegerField(default=0)
    references = models.ManyToManyField(Reference, blank=True)

    objects = SlugManager()
    history = HistoricalRecords(m2m_fields=[references])

    class Meta:
        ordering = ["order", "slug"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("checklist:treatment", args=[self.slug])

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class TreatmentByExtentManager(models.Manager.from_queryset(ReviewedQuerySet)):  # type: ignore[misc]
    def get_by_natural_key(self, extent: str, treatment_slug: str) -> TreatmentByExtent:
        row: TreatmentByExtent = self.get(extent=extent, treatment__slug=treatment_slug)
        return row


class TreatmentByExtent(ReviewedContent):
    """Which treatment pages a met case shows first for its disease extent (clinical.md §f.2 A8).

    The engine decides the extent; this table decides the pages. "Supportive"
    pages follow those of any extent. The words stay "options discussed in
    the literature", never a recommendation.
    """

    # The engine's words (checklist.engine.vocabulary.TREATMENT_SLOTS), labelled for editors.
    EXTENT_CHOICES = [
        (slot, label)
        for slot, label in zip(
            TREATMENT_SLOTS,
            ("Limited disease", "Disseminated disease", "Extent not known", "Supportive (after any extent)"),
            strict=True,
        )
    ]

    extent = models.CharField(max_length=20, choices=EXTENT_CHOICES)
    # Required in the admin (blank=False); nullable only because the seed's rows
    # load before the treatment pages they name (a forward reference that
    # loaddata saves as null first, then fills in).
    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE, null=True, related_name="extents")
    order = models.PositiveSmallIntegerField(default=0, help_text="Lower first.")

    objects = TreatmentByExtentManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["extent", "order"]
        verbose_name = "treatment page by disease extent"
        verbose_name_plural = "treatment pages by disease extent"
        constraints = [
            models.UniqueConstraint(fields=["extent", "treatment"], name="checklist_treatmentbyextent_unique")
        ]

    def __str__(self) -> str:
        return f"{self.extent}: {self.treatment.slug if self.treatment else '(no page)'}"

    def natural_key(self) -> tuple[str, str]:
        # The seed's rows come before the treatment pages they name (another
        # fixture), so loaddata asks for this key while the treatment is still
        # a pending forward reference: no existing row can match then.
        return (self.extent, self.treatment.slug if self.treatment_id and self.treatment else "")

    natural_key.dependencies = ["checklist.treatment"]  # type: ignore[attr-defined]


class Caution(ReviewedContent):
    """Wording of a caution. When it fires is decided by the engine."""

    code = models.SlugField(max_length=60, unique=True, help_text="Stable engine code. Never rename.")
    title = models.CharField(max_length=120)
    message = models.TextField()
    reference = models.ForeignKey(Reference, null=True, blank=True, on_delete=models.PROTECT)
    evidence = evidence_field("How strongly the caution is sourced; shown beside it.")

    objects = NaturalKeyManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.title

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class SiteText(ReviewedContent):
    """Editable page text: the 'not a diagnosis' notice, intended use, about page."""

    key = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=160)
    body = models.TextField(help_text="Plain text; blank lines separate paragraphs.")

    objects = KeyManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["key"]
        verbose_name = "site text"

    def __str__(self) -> str:
        return self.title

    def natural_key(self) -> tuple[str]:
        return (self.key,)


class FollowUpThreshold(ReviewedContent):
    """A number of the follow-up rules (clinical.md §h): a threshold, interval or switch.

    The engine asks for it by code (checklist.engine.follow_up.rules.THRESHOLD_CODES);
    publishing refuses a release whose follow-up rules do not build from these rows.
    """

    code = models.SlugField(max_length=60, unique=True, help_text="Stable engine code. Never rename.")
    # Text, not a number field: the digits are kept exactly as written (96.2 stays 96.2,
    # clinical.md §f.3 A10), and a switch is true/false, and blank turns a rule off.
    value = models.CharField(
        max_length=40,
        blank=True,
        help_text="A number in the unit below; true or false for a switch; blank switches the "
        "rule off (allowed only where clinical.md §h says so). Publishing refuses any other value.",
    )
    unit = models.CharField(max_length=20, blank=True, help_text="e.g. %, days, months, g/dL, pg/mL.")
    evidence = models.CharField(
        max_length=20,
        choices=EVIDENCE_CHOICES,
        help_text="How well the number is sourced; unverified and app conventions are shown as such.",
    )
    source = models.TextField(help_text="Where the number comes from (citation with PMID/DOI), or why none.")
    note = models.TextField(blank=True, help_text="For editors: what to check, what was decided.")

    objects = NaturalKeyManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = "follow-up threshold"

    def __str__(self) -> str:
        return f"{self.code}: {self.value or 'off'} {self.unit}".rstrip()

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class FollowUpRule(ReviewedContent):
    """The source of one follow-up rule (clinical.md §h, e.g. H-V3), shown beside each result it decides."""

    code = models.SlugField(max_length=10, unique=True, help_text="The rule's code in clinical.md §h.")
    evidence = models.CharField(max_length=20, choices=EVIDENCE_CHOICES)
    source = models.TextField(help_text="The citation shown with every result this rule decides.")
    note = models.TextField(blank=True, help_text="For editors: what to check, what was decided.")

    objects = NaturalKeyManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = "follow-up rule source"

    def __str__(self) -> str:
        return self.code

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class TranslationReviewManager(NaturalKeyManager):
    key_field = "language"


class TranslationReview(models.Model):
    """Whether a clinician has reviewed one language's translation (design.md §3.12).

    Until a row for a language names its reviewer and date, every page in that language says
    "machine or draft translation, not reviewed by a clinician".
    """

    class Language(models.TextChoices):
        JA = "ja", "Japanese"
        ZH_HANS = "zh-hans", "Chinese (Simplified)"

    language = models.CharField(max_length=10, choices=Language.choices, unique=True)
    reviewed_by = models.CharField(
        max_length=120, blank=True, help_text="The clinician who reviewed this language's texts."
    )
    reviewed_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="What was reviewed, against which sources.")

    objects = TranslationReviewManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["language"]

    def __str__(self) -> str:
        return f"{self.get_language_display()} translation review"

    def natural_key(self) -> tuple[str]:
        return (self.language,)

    @property
    def reviewed(self) -> bool:
        return bool(self.reviewed_by and self.reviewed_on)


class ReleaseManager(NaturalKeyManager):
    key_field = "version"

    def published(self) -> models.QuerySet[ContentRelease]:
        """Releases that carry a validated snapshot, newest first."""
        published: models.QuerySet[ContentRelease] = self.filter(number__isnull=False).order_by("-number")
        return published

    def live(self) -> ContentRelease | None:
        """The release every page, the API and the CLI serve (one indexed query)."""
        return self.published().first()


class ContentRelease(models.Model):
    """A published, validated, immutable snapshot of content (design.md §3.7).

    Editors change the content tables (the draft); publishing copies them into
    ``records`` after the rule book validated and every regression case passed.
    Serving reads only the newest published release, never the draft, so an
    edit reaches patients only through this check. Reverting publishes an
    older release's records again as a new number.
    """

    number = models.PositiveIntegerField(
        unique=True, null=True, blank=True, editable=False, help_text="Assigned on publishing: 1, 2, 3, ..."
    )
    version = models.CharField(max_length=20, unique=True, help_text="e.g. 2026.11.1")
    released_on = models.DateField(default=datetime.date.today)
    summary = models.TextField(
        verbose_name="note", help_text="What changed, in plain words, for the public changelog."
    )
    records = models.JSONField(
        null=True, blank=True, editable=False, help_text="The published content, as fixture records."
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    reverts_to = models.PositiveIntegerField(
        null=True, blank=True, editable=False, help_text="The release number this one restored, if any."
    )
    pages = models.JSONField(
        default=list,
        blank=True,
        help_text='The changelog line of each page this release changed: [{"page": "treatment/<slug>" '
        'or "differential/<code>", "line": "what changed"}]. The changelog shows each with the page\'s '
        "review dates as published in this release.",
    )

    objects = ReleaseManager()
    history = HistoricalRecords(excluded_fields=["records"])

    class Meta:
        ordering = ["-number", "-released_on", "-version"]
        permissions = [("publish_contentrelease", "Can publish content")]

    def __str__(self) -> str:
        if self.number is None:
            return f"{self.version} (not published)"
        return f"Release {self.number}: {self.version} ({self.released_on:%Y-%m-%d})"

    def natural_key(self) -> tuple[str]:
        return (self.version,)

    @property
    def stamp(self) -> str:
        """What every output carries, e.g. '2026.11.3 (2026-11-25)'."""
        return f"{self.version} ({self.released_on:%Y-%m-%d})"


class RegressionCase(models.Model):
    """A named, synthetic or published case with the result it must keep giving.

    Never a real patient: editors write these from published case reports or
    as boundary tests, and ``check_cases`` replays them after every edit.
    """

    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=200)
    criteria_set = models.SlugField(
        max_length=40, blank=True, help_text="Blank means every set listed in the expectation."
    )
    case = models.JSONField(help_text="The input, exactly as the API takes it.")
    expected = models.JSONField(
        help_text='e.g. {"status": "met", "criteria": {"vegf_elevated": "met"}, '
        '"differentials": ["cidp"], "not_differentials": ["multiple_myeloma"]}'
    )
    source = models.TextField(help_text="Published source (PMID/DOI) or the rationale.")
    author = models.CharField(max_length=120)
    from_repository = models.BooleanField(
        default=False, editable=False, help_text="Loaded from the golden cases in the repository."
    )
    archived = models.BooleanField(
        default=False, help_text="Archived cases are kept but no longer checked before publishing."
    )
    last_passed = models.BooleanField(null=True, editable=False)
    last_result = models.TextField(blank=True, editable=False)
    last_run_at = models.DateTimeField(null=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name
