from __future__ import annotations

from django.apps import AppConfig


class ChecklistConfig(AppConfig):
    name = "checklist"
    verbose_name = "POEMS checklist content"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the cache-invalidation signals.
        from . import content  # noqa: F401
