"""Django's entry point for the admin (autodiscovery imports ``checklist.admin``).

The content admin lives in ``checklist.content.admin``, the LOINC mapping's in
``checklist.ehr.admin``; importing them registers both.
"""

from __future__ import annotations

from checklist.content import admin as content_admin  # noqa: F401
from checklist.ehr import admin as ehr_admin  # noqa: F401
