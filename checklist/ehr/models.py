"""LOINC mapping as content: which coded Observation feeds which engine input.

Editors can correct a code in the admin (with history), because LOINC codes for
rarer tests such as VEGF are not always certain, and sites use local variants.
Imported into ``checklist.models`` so Django sees it as part of the app.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import post_delete, post_save
from simple_history.models import HistoricalRecords

from checklist.content.models import NaturalKeyManager, ReviewedContent
from checklist.ehr.clients import clear_client_cache, parse_entry
from checklist.engine.vocabulary import FINDINGS, LABS, LabKind

LOINC_PATTERN = re.compile(r"^(\d{1,7})-(\d)$")


def loinc_check_digit(number: str) -> int:
    """LOINC's Mod 10 check digit of the part before the hyphen (the Luhn scheme).

    Checked on every save so a mistyped code is refused instead of silently
    matching nothing (or the wrong test) in a patient's record.
    """
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10


def validate_loinc(code: str) -> None:
    match = LOINC_PATTERN.match(code)
    if not match:
        raise ValidationError(f"{code!r} is not a LOINC code (digits, a hyphen, one check digit).")
    expected = loinc_check_digit(match.group(1))
    if int(match.group(2)) != expected:
        raise ValidationError(f"{code!r} fails the LOINC check digit (expected {match.group(1)}-{expected}).")


class LoincManager(NaturalKeyManager):
    key_field = "loinc_code"


class LoincMapping(ReviewedContent):
    """One LOINC code and the engine input it fills, with the units it may arrive in."""

    class Confidence(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed (code and name checked against a published source)"
        LIKELY = "likely", "Likely (one source, or the name leaves a choice open)"
        UNCERTAIN = "uncertain", "Uncertain (check before relying on it)"

    class Specimen(models.TextChoices):
        FROM_RECORD = "", "Not fixed by the code (read Specimen.type, else unknown)"
        SERUM = "serum", "Serum"
        PLASMA = "plasma", "Plasma"

    loinc_code = models.CharField(
        max_length=10, unique=True, validators=[validate_loinc], help_text="e.g. 75628-8 (with check digit)."
    )
    display = models.CharField(max_length=200, help_text="LOINC long common name, as published.")
    target = models.SlugField(
        max_length=60,
        help_text="The engine code this Observation fills: a lab code (e.g. vegf_pg_ml) or, for a "
        "detected/not detected result, a finding code (e.g. m_protein_present).",
    )
    ucum_units = models.JSONField(
        default=dict,
        blank=True,
        help_text='UCUM code as sent in valueQuantity.code -> the engine unit it means, e.g. {"10*3/uL": '
        '"10^3/uL"}. A value in a unit not listed here is shown on the card but not used.',
    )
    specimen = models.CharField(
        max_length=10,
        choices=Specimen.choices,
        blank=True,
        help_text="For VEGF only: the specimen when the code itself names one.",
    )
    source = models.TextField(help_text="Where the code and its name were checked.")
    confidence = models.CharField(max_length=10, choices=Confidence.choices, default=Confidence.LIKELY)
    confidence_note = models.TextField(
        blank=True, help_text="What is not certain about this code, or what it cannot tell the engine."
    )
    active = models.BooleanField(default=True, help_text="Untick to stop reading this code from records.")
    order = models.PositiveSmallIntegerField(default=0)

    objects = LoincManager()
    history = HistoricalRecords()

    class Meta:
        app_label = "checklist"
        ordering = ["order", "loinc_code"]
        verbose_name = "LOINC mapping"

    def __str__(self) -> str:
        return f"{self.loinc_code} -> {self.target}"

    def natural_key(self) -> tuple[str]:
        return (self.loinc_code,)

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        is_lab = self.target in LABS and LABS[self.target].kind is not LabKind.CATEGORY
        if not is_lab and self.target not in FINDINGS:
            errors["target"] = f"{self.target!r} is neither a numeric engine lab nor a finding code."
        if not isinstance(self.ucum_units, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.ucum_units.items()
        ):
            errors["ucum_units"] = 'Give an object of UCUM code to engine unit, e.g. {"g/dL": "g/dL"}.'
        elif is_lab:
            allowed = LABS[self.target].allowed_units
            wrong = sorted(v for v in self.ucum_units.values() if v not in allowed)
            if wrong:
                errors["ucum_units"] = f"engine units {wrong} are not accepted for {self.target}: {allowed}."
            if not self.ucum_units:
                errors["ucum_units"] = "A numeric lab needs at least one unit."
        if self.specimen and self.target != "vegf_pg_ml":
            errors["specimen"] = "Only VEGF codes carry a specimen."
        if errors:
            raise ValidationError(errors)


# ---------------------------------------------------------------------------- order-hook codes


class TerminologyCodeManager(NaturalKeyManager):
    def get_by_natural_key(self, use: str, system: str, code: str) -> models.Model:  # type: ignore[override]
        row: models.Model = self.get(use=use, system=system, code=code)
        return row


class TerminologyCode(ReviewedContent):
    """One code that makes the order hooks act (clinical.md §i.7): a trigger order or a condition.

    Content like the LOINC mapping: edited in the admin with history, published with the
    release, read by the service through ``care_rules.order_rules()``. A code matches a
    draft order's or a Condition's coding exactly (system and code), so a site lists the
    codes its EHR sends.
    """

    class Use(models.TextChoices):
        IVIG = "ivig", "Trigger order: IVIG (immune globulin, intravenous)"
        PLASMA_EXCHANGE = "plasma_exchange", "Trigger order: plasma exchange"
        CORTICOSTEROID = "corticosteroid", "Trigger order: corticosteroid (only with a CIDP reason)"
        CIDP = "cidp", "Condition: CIDP or demyelinating polyneuropathy"
        POEMS = "poems", "Condition: POEMS syndrome (already known: no card)"
        FLUID = "fluid", "Condition: oedema, pleural effusion or ascites (red flag)"
        SKIN = "skin", "Condition: POEMS skin change (red flag)"

    class System(models.TextChoices):
        RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm", "RxNorm"
        SNOMED = "http://snomed.info/sct", "SNOMED CT"
        ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm", "ICD-10-CM"
        ICD10 = "http://hl7.org/fhir/sid/icd-10", "ICD-10 (WHO)"

    class Evidence(models.TextChoices):
        READ_TABLE = "read_table", "Read in a published value set or code table"
        SECONDARY = "secondary", "Secondary: a cross-reference, not the terminology release"
        UNVERIFIED = "unverified", "Unverified: not checked against the terminology release"

    use = models.CharField(max_length=20, choices=Use.choices)
    system = models.CharField(max_length=60, choices=System.choices)
    code = models.CharField(max_length=40, help_text="Exactly as the EHR sends it, e.g. G61.81.")
    display = models.CharField(max_length=200, help_text="The code's name in its terminology.")
    evidence = models.CharField(
        max_length=12,
        choices=Evidence.choices,
        default=Evidence.UNVERIFIED,
        help_text="Unverified codes are used, and shown as [unverified] in the admin and the card.",
    )
    source = models.TextField(help_text="Where the code and its name were checked (or why not).")
    active = models.BooleanField(default=True, help_text="Untick to stop matching this code.")

    objects = TerminologyCodeManager()
    history = HistoricalRecords()

    class Meta:
        app_label = "checklist"
        ordering = ["use", "system", "code"]
        verbose_name = "order-hook code"
        constraints = [
            models.UniqueConstraint(fields=["use", "system", "code"], name="terminologycode_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_use_display()}: {self.get_system_display()} {self.code}"

    def natural_key(self) -> tuple[str, str, str]:
        return (self.use, self.system, self.code)

    def clean(self) -> None:
        super().clean()
        drugs = {self.Use.IVIG, self.Use.CORTICOSTEROID}
        if self.use in drugs and self.system != self.System.RXNORM:
            raise ValidationError({"system": "Medication triggers are matched on RxNorm codes."})
        if self.use == self.Use.PLASMA_EXCHANGE and self.system != self.System.SNOMED:
            raise ValidationError({"system": "Plasma exchange is matched on a SNOMED CT procedure code."})
        if (
            self.use not in drugs
            and self.use != self.Use.PLASMA_EXCHANGE
            and self.system == self.System.RXNORM
        ):
            raise ValidationError({"system": "Conditions are coded in SNOMED CT or ICD-10, not RxNorm."})
        if self.code != self.code.strip() or not self.code:
            raise ValidationError({"code": "Give the code without spaces around it."})


# ---------------------------------------------------------------------------- CDS clients, audit, feedback
# Not content: they are not published with a release (rule_book.NOT_CONTENT).


class CdsClient(models.Model):
    """A CDS client (an EHR) trusted to call the CDS services; seeded from CDS_HOOKS_CLIENTS."""

    issuer = models.CharField(max_length=300, unique=True, help_text="The JWT's iss, exactly.")
    jwks = models.JSONField(
        null=True, blank=True, help_text='The client\'s public JWK Set, {"keys": [...]} (or give a URL).'
    )
    # A CharField: the URL is checked by parse_entry (https, or http on loopback only).
    jwks_url = models.CharField(
        max_length=500, blank=True, help_text="https:// URL of the JWK Set (http:// only on loopback)."
    )
    jku_allowlist = models.JSONField(
        default=list, blank=True, help_text="JWK Set URLs a token's jku header may name; empty: jku refused."
    )
    fhir_servers = models.JSONField(
        default=list, blank=True, help_text="FHIR base URLs this client may ask us to read (fhirServer)."
    )
    allowed_origins = models.JSONField(
        default=list,
        blank=True,
        help_text="Browser origins allowed to call (CORS), e.g. https://ehr.example.org.",
    )
    active = models.BooleanField(default=True, help_text="Untick to refuse this client's calls.")
    note = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        app_label = "checklist"
        ordering = ["issuer"]
        verbose_name = "CDS client"

    def __str__(self) -> str:
        return self.issuer

    def clean(self) -> None:
        super().clean()
        try:
            parse_entry(self.issuer, self.as_entry())
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def as_entry(self) -> dict[str, Any]:
        """The client in the CDS_HOOKS_CLIENTS file's shape."""
        entry: dict[str, Any] = {
            "fhir_servers": list(self.fhir_servers or []),
            "jku_allowlist": list(self.jku_allowlist or []),
            "allowed_origins": list(self.allowed_origins or []),
        }
        if self.jwks is not None:
            entry["jwks"] = self.jwks
        if self.jwks_url:
            entry["jwks_url"] = self.jwks_url
        return entry


post_save.connect(clear_client_cache, sender=CdsClient, dispatch_uid="cds-client-saved")
post_delete.connect(clear_client_cache, sender=CdsClient, dispatch_uid="cds-client-deleted")


class CdsCallAudit(models.Model):
    """One CDS call. Never a patient id, a value or anything else read from the request's chart."""

    at = models.DateTimeField(db_index=True)
    endpoint = models.CharField(max_length=10)  # service or feedback
    service = models.CharField(max_length=40, blank=True)
    client = models.CharField(max_length=300, blank=True, help_text="The verified issuer, else empty.")
    hook = models.CharField(max_length=30, blank=True)
    hook_instance = models.CharField(max_length=36, blank=True)
    cards = models.PositiveSmallIntegerField(null=True)
    card_kind = models.CharField(max_length=20, blank=True, help_text="red_flag or tests_missing.")
    latency_ms = models.FloatField()
    status = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=30)

    class Meta:
        app_label = "checklist"
        ordering = ["-at"]
        verbose_name = "CDS call (audit)"
        verbose_name_plural = "CDS calls (audit)"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.service or '-'} {self.outcome}"


class CdsFeedbackCount(models.Model):
    """How often cards of one kind were accepted or overridden, per reason: counts only."""

    service = models.CharField(max_length=40)
    card_kind = models.CharField(max_length=20, help_text="red_flag, tests_missing, or unknown.")
    outcome = models.CharField(max_length=12)  # accepted or overridden
    reason = models.CharField(max_length=40, blank=True, help_text="Override reason code, or empty.")
    count = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "checklist"
        ordering = ["service", "card_kind", "outcome", "reason"]
        verbose_name = "CDS card feedback count"
        constraints = [
            models.UniqueConstraint(
                fields=["service", "card_kind", "outcome", "reason"], name="cdsfeedbackcount_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.card_kind} {self.outcome} {self.reason}: {self.count}"
