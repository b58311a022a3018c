"""The app configuration: signals and system checks, connected once at start-up."""

from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ChecklistConfig(AppConfig):
    name = "checklist"
    verbose_name = "POEMS checklist content"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the cache-invalidation signals.
        import checklist.content.rule_book  # noqa: F401

        # Registers the EHR system checks (a replay cache shared by every server, poemsaid.E101).
        import checklist.ehr.checks  # noqa: F401
        from checklist.content.permissions import ensure_editors_group

        post_migrate.connect(ensure_editors_group, sender=self, dispatch_uid="checklist-editors-group")
