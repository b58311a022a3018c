"""Start-up guard for serving: a public key must never sign a production session."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def refuse_development_key() -> None:
    """Raise when serving with DEBUG off on the development key (see settings.py)."""
    if settings.USING_DEVELOPMENT_KEY and not settings.DEBUG and not settings.ALLOW_INSECURE_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
