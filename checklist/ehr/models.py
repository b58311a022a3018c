"""LOINC mapping as content: which coded Observation feeds which engine input.

Editors can correct a code in the admin (with history), because LOINC codes for
rarer tests such as VEGF are not always certain, and sites use local variants.
Imported into ``checklist.models`` so Django sees it as part of the app.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from checklist.content.models import NaturalKeyManager, ReviewedContent
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
