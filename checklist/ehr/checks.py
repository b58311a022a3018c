"""System checks for the EHR integration (run by ``manage.py check``; the cache one by ``--deploy``).

A CDS Hooks JWT's ``jti`` is remembered in Django's cache so a captured token
cannot be replayed. That only holds if every worker process and every app
server sees the same cache: with the per-process default (locmem), a
4-worker gunicorn accepted the same token 4 times (issue 22).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError

from checklist.ehr.jwt_auth import UNSHARED_CACHE_BACKENDS
from checklist.ehr.models import CdsClient


def cds_hooks_enabled() -> bool:
    """A base URL, and clients in the file or in the admin (CdsClient rows)."""
    if not getattr(settings, "CDS_HOOKS_BASE_URL", ""):
        return False
    if getattr(settings, "CDS_HOOKS_CLIENTS", ""):
        return True
    try:
        return CdsClient.objects.filter(active=True).exists()
    except DatabaseError:  # checks may run before migrate: no table, no clients
        return False


@register(Tags.security, Tags.caches, deploy=True)
def check_replay_cache_is_shared(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if not cds_hooks_enabled():
        return []
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", ""))
    if backend not in UNSHARED_CACHE_BACKENDS:
        return []
    return [
        Error(
            "CDS Hooks is enabled (CDS_HOOKS_BASE_URL, and clients in CDS_HOOKS_CLIENTS or the "
            f"admin) but the default cache ({backend.rsplit('.', 1)[-1]}) is not shared between "
            "worker processes and servers, "
            "so a replayed JWT (same jti) would be accepted once per process.",
            hint="Set CACHE_URL to a Redis server every app server uses (e.g. redis://redis:6379/0), "
            "or unset CDS_HOOKS_CLIENTS to switch CDS Hooks off.",
            id="poemsaid.E101",
        )
    ]
