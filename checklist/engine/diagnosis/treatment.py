"""Treatment keyed to disease extent (clinical.md §c.1, §f.2 A8).

The literature chooses treatment by the extent of the plasma-cell disorder,
not by the number of POEMS features: limited disease (1-3 sclerotic lesions,
no clone on an iliac-crest marrow biopsy) is irradiated; disseminated disease
(more lesions, or a marrow clone) is treated systemically. The app says
which extent the entered findings point to and which pages content puts
first for it: options discussed in the literature, never a recommendation.
"""

from __future__ import annotations

from checklist.engine.diagnosis.derive import S_MET, Derived
from checklist.engine.diagnosis.result import Extent, Treatment
from checklist.engine.diagnosis.rulebook import RuleBook
from checklist.engine.i18n import gettext_noop
from checklist.engine.inputs import Case
from checklist.engine.message import Message
from checklist.engine.vocabulary import SUPPORTIVE


def treatment(case: Case, book: RuleBook, derived: Derived) -> Treatment:
    given = case.labs.get("bone_lesion_count")
    count = int(given) if isinstance(given, float | int) else None
    marrow = case.findings.get("marrow_clone")
    limit = book.thresholds["extent_limited_max_lesions"]
    sclerotic = derived.criteria["sclerotic_bone_lesions"].status is S_MET
    reasons: list[str] = []
    if marrow is True:
        reasons.append(Message("Clonal plasma cells on the iliac-crest marrow biopsy: disseminated disease."))
    if count is not None and count > 0 and not limit.passes(count):
        reasons.append(
            Message(
                "%(count)s bone lesions, more than a limited plasmacytoma (%(limit)s).",
                count=str(count),
                limit=limit.describe(),
            )
        )
    if reasons:
        extent = Extent.DISSEMINATED
    elif sclerotic and count is not None and count > 0 and marrow is False:
        extent = Extent.LIMITED
        if count > 1:
            text = gettext_noop(
                "%(count)s sclerotic bone lesions (%(limit)s) and no clone on "
                "the iliac-crest marrow biopsy: limited disease."
            )
        else:
            text = gettext_noop(
                "%(count)s sclerotic bone lesion (%(limit)s) and no clone on "
                "the iliac-crest marrow biopsy: limited disease."
            )
        reasons.append(Message(text, count=str(count), limit=limit.describe()))
    else:
        extent = Extent.UNKNOWN
        if not sclerotic or count == 0:
            reasons.append(
                # The lesion limit is content: quote it, never a number written here.
                Message(
                    "No sclerotic bone lesion recorded: the literature's limited-disease path (radiation, "
                    "%(limit)s) needs one; a marrow biopsy and PET-CT decide the extent.",
                    limit=limit.describe(),
                )
            )
        if count is None and sclerotic:
            reasons.append(Message("Lesion count not given: count the lesions on PET-CT."))
        if marrow is None:
            reasons.append(
                Message("Marrow not assessed: an iliac-crest marrow biopsy shows whether the clone is there.")
            )
    first = book.treatment_pages.get(extent.value, ())
    pages = first + tuple(p for p in book.treatment_pages.get(SUPPORTIVE, ()) if p not in first)
    return Treatment(extent, pages, tuple(reasons))
