"""ASGI entry point."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from poemsaid.safety import refuse_development_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "poemsaid.settings")
refuse_development_key()
application = get_asgi_application()
