"""Django's entry point for the app's models. Each room defines its own models; this module
only imports them so the app registry sees them under the one label, ``checklist`` (same
tables as before the rooms existed: a model's table is named after the app label, not its module).
"""

from __future__ import annotations

from checklist.content.models import *  # noqa: F403
from checklist.ehr.models import LoincMapping as LoincMapping
