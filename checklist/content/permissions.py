"""The "Editors" group: staff clinicians who keep content current, and nothing more.

Editors may view, add and change content (the draft) and regression cases,
and publish the draft as a release (after its checks). They cannot
delete criteria sets, criteria, findings, labs or thresholds (the engine
depends on those codes), and have no access to users, groups or login records.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

EDITORS = "Editors"

# model name -> allowed actions
EDITOR_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "reference": ("view", "add", "change", "delete"),
    "criterion": ("view", "change"),
    "criteriaset": ("view", "add", "change"),
    "membership": ("view", "add", "change", "delete"),
    "finding": ("view", "change"),
    "labfield": ("view", "change"),
    "threshold": ("view", "change"),
    "differential": ("view", "change"),
    "treatment": ("view", "add", "change"),
    # Which treatment pages lead for each disease extent (§f.2 A8): clinical content.
    "treatmentbyextent": ("view", "add", "change", "delete"),
    "caution": ("view", "change"),
    "sitetext": ("view", "change"),
    # Follow-up thresholds and rule sources (clinical.md §h): the engine asks for each code.
    "followupthreshold": ("view", "change"),
    "followuprule": ("view", "change"),
    # A clinician marks a language's translation reviewed (design.md §3.12).
    "translationreview": ("view", "add", "change"),
    # Releases are made only by publishing (checked); nobody edits one by hand.
    "contentrelease": ("view", "publish"),
    "loincmapping": ("view", "add", "change"),
    # The codes that make the order hooks act (clinical.md §i.7): terminology content.
    "terminologycode": ("view", "add", "change"),
    # What the CDS service recorded (no patient data): read-only for editors. Trusted CDS
    # clients (keys) are for superusers only, so they are not listed.
    "cdscallaudit": ("view",),
    "cdsfeedbackcount": ("view",),
    "regressioncase": ("view", "add", "change", "delete"),
}


def can_translate(user: Any) -> bool:
    """Who may edit the interface translations in django-rosetta: active staff editors only."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser or user.groups.filter(name=EDITORS).exists())


def ensure_editors_group(**_: Any) -> Group:
    group, _created = Group.objects.get_or_create(name=EDITORS)
    wanted = [f"{action}_{model}" for model, actions in EDITOR_PERMISSIONS.items() for action in actions]
    perms = Permission.objects.filter(content_type__app_label="checklist", codename__in=wanted)
    group.permissions.set(perms)
    return group
