"""WSGI entry point (gunicorn poemsaid.wsgi; runserver uses it too)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from poemsaid.safety import refuse_development_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "poemsaid.settings")
refuse_development_key()
application = get_wsgi_application()
