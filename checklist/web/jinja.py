"""The Jinja2 environment of the ``jinja2`` template backend (settings ``TEMPLATES``).

Used for the result panel (``templatetags/result_panel.py`` says why). Escaping is
Django's (``django.utils.html.escape``, the standard library's ``html.escape``), not
markupsafe's: the same text gives the same bytes through either engine (``&quot;``,
``&#x27;``), so what a test or a browser sees does not depend on which one rendered it.
"""

from __future__ import annotations

import html
from typing import Any

from jinja2 import Environment
from markupsafe import Markup


def _escape(value: Any) -> Any:
    # Safe strings (Django's SafeString has __html__ too) pass as they are; the rest is escaped
    # as Django escapes, and marked so that Jinja's own autoescape leaves it alone.
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(value if type(value) is str else str(value), quote=True))


def environment(**options: Any) -> Environment:
    options["finalize"] = _escape
    options.setdefault("autoescape", True)
    return Environment(**options)
