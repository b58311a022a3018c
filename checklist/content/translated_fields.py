"""Which content fields are translated: the words a clinician reads (design.md §3.12).

Never a code, slug, number, unit, specimen, evidence tag or citation (a citation is read in
the language it was published in). Not listed: TreatmentByExtent (an extent code and a page,
no text), FollowUpThreshold and FollowUpRule (their texts are citations and editors' notes;
the follow-up page's own words are interface strings). ``translation`` registers these with
django-modeltranslation; serving reads them by name (``rule_book.localize_records``).
"""

from __future__ import annotations

TRANSLATED: dict[str, tuple[str, ...]] = {
    "checklist.reference": ("short",),
    "checklist.criterion": ("name", "short_name", "help_text", "investigations"),
    "checklist.criteriaset": ("name", "rule_text", "notes", "exclusion_note"),
    "checklist.membership": ("label",),
    "checklist.finding": ("label", "help_text"),
    "checklist.labfield": ("label", "help_text"),
    "checklist.threshold": ("label", "note"),
    "checklist.differential": ("name", "summary", "why_it_matters", "distinguishing", "tests"),
    "checklist.treatment": ("name", "summary", "body"),
    "checklist.caution": ("title", "message"),
    "checklist.sitetext": ("title", "body"),
}

# Language code -> the suffix of its columns (modeltranslation's build_localized_fieldname).
LANGUAGE_SUFFIXES = {"ja": "_ja", "zh-hans": "_zh_hans"}
