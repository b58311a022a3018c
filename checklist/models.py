"""Django's entry point for the app's models. Each room defines its own models; this module
only imports them so the app registry sees them under the one label, ``checklist`` (same
tables as before the rooms existed: a model's table is named after the app label, not its
module). Code imports a model from its room, never from here.
"""

from __future__ import annotations

from checklist.content import models as content_models  # noqa: F401
from checklist.ehr import models as ehr_models  # noqa: F401
