"""How content published before a field existed was served. Frozen: never edit these values.

A release is immutable (design.md §3.7), so one published before a field
existed is read as it was served, not rewritten (``content.with_placement``, also
for an old export being imported), and the data migration that brought the field
into the draft writes the same values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# ``shown_under`` (migration 0009). Before it, code placed a criterion's own labs under
# that criterion, a finding under the criterion it counts towards, and any other finding
# or lab under the criterion its content section belonged to (else after the criteria).
SHOWN_UNDER_BY_LAB: Mapping[str, str] = {
    "vegf_pg_ml": "vegf_elevated",
    "vegf_specimen": "vegf_elevated",
    "platelets_10e9_l": "thrombocytosis_polycythemia",
    "hemoglobin_g_dl": "thrombocytosis_polycythemia",
    "hematocrit_pct": "thrombocytosis_polycythemia",
    "sex": "thrombocytosis_polycythemia",
}
SHOWN_UNDER_BY_SECTION: Mapping[str, str] = {
    "neuropathy": "polyneuropathy",
    "clone": "monoclonal_plasma_cell_disorder",
    "paraprotein": "monoclonal_plasma_cell_disorder",
    "al_flags": "monoclonal_plasma_cell_disorder",
    "bone": "sclerotic_bone_lesions",
    "organomegaly": "organomegaly",
    "volume": "extravascular_volume_overload",
    "endocrine": "endocrinopathy",
    "skin": "skin_changes",
    "vegf": "vegf_elevated",
    "vegf_confounders": "vegf_elevated",
}


def shown_under_before_the_field(code: str, section: str, criterion: Any) -> str | None:
    """Where the form showed an item before ``shown_under``: a criterion code, or None.

    None also for a finding that counts towards a criterion: it sits under that
    criterion with ``shown_under`` blank, as it did before.
    """
    if code in SHOWN_UNDER_BY_LAB:
        return SHOWN_UNDER_BY_LAB[code]
    if criterion:
        return None
    return SHOWN_UNDER_BY_SECTION.get(section)
