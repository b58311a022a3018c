"""The diagnosis rules that live beside the content tables: the §j work-up, caution details and
per-unit published thresholds (clinical.md §j, §f.3 A10, A11).

The seed is fixtures/diagnosis_rules.json, read once per process, as the follow-up and screen
rules are (care_rules.py); every rule book the content room builds (the live release's and
every draft's checked at publishing) gets them here, so the page, API, CLI and publishing gate
read the same words and numbers. Moving them into the published release changes only this module.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

RULES_FILE = Path(settings.BASE_DIR) / "fixtures" / "diagnosis_rules.json"


@cache
def diagnosis_rules() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    return data
