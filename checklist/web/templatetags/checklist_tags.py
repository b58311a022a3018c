"""Words for the result's machine codes. Tested as plain functions."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_noop, pgettext

from checklist.content import words
from checklist.engine.diagnosis.result import Status
from checklist.engine.evidence import Evidence
from checklist.web.forms import choice_word as forms_choice_word
from checklist.web.forms import unit_word as forms_unit_word

register = template.Library()

# The engine's words (diagnosis.words) in the page's language (content.words), as template filters.
for _name in ("verdict_verb", "criterion_word", "status_headline", "status_short", "group_word"):
    register.filter(_name, getattr(words, _name))


@register.filter
def paragraphs(text: str) -> list[dict[str, object]]:
    """Split plain content text into paragraphs and bullet lists (lines starting '- ')."""
    blocks: list[dict[str, object]] = []
    for chunk in (text or "").replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.strip().split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            blocks.append({"list": [line[2:] for line in lines]})
        else:
            bullets = [line[2:] for line in lines if line.startswith("- ")]
            text_lines = [line for line in lines if not line.startswith("- ")]
            blocks.append({"text": " ".join(text_lines)})
            if bullets:
                blocks.append({"list": bullets})
    return blocks


@register.filter
def at(mapping: Any, key: str) -> Any:
    """``mapping[key]`` or "" (a QueryDict gives its last value)."""
    if not mapping:
        return ""
    value = mapping.get(key, "")
    return "" if value is None else value


@register.filter
def has_any(mapping: Any, codes: Any) -> bool:
    """True when any of ``codes`` holds a value: its disclosure opens by itself."""
    if not mapping:
        return False
    return any(mapping.get(code) not in (None, "") for code in codes)


@register.simple_tag
def chosen_unit(values: Any, item: Any, system: str) -> str:
    """The unit posted for a lab, else the page's unit system (SI or US)."""
    posted = values.get(f"{item.code}__unit") if values else None
    if posted:
        return str(posted)
    return str(item.si_unit if system == "SI" else item.us_unit)


@register.filter
def join_or(items: list[str]) -> str:
    """Names joined with the page's word for "or" (the labels are the page's language too)."""
    return f" {gettext('or')} ".join(items)


@register.filter
def choice_word(code: str) -> str:
    """A category value (a specimen, a light chain) in the page's language."""
    return forms_choice_word(code)


@register.filter
def unit_word(unit: str) -> str:
    return forms_unit_word(unit) or unit


# What a criterion line says when its own control is "Not assessed" and the details
# beneath it (sub-findings, labs) decide it anyway.
_DERIVED: dict[str, str] = {
    Status.MET: gettext_noop("Met, from the details below"),
    Status.NOT_MET: gettext_noop("Not met, from the details below"),
}


@register.filter
def derived_word(status: str) -> str:
    word = _DERIVED.get(status, "")
    return gettext(word) if word else ""


@register.simple_tag
def set_subfindings(rule: Any) -> list[dict[str, Any]]:
    """The sub-findings each criterion of ``rule`` counts, as that set counts them (/criteria).

    A set can leave sub-findings out (``Finding.not_in_sets``: acrocyanosis,
    flushing and pericardial effusion under Mayo 2003) and can predate the
    2007 diabetes/thyroid caveat; the page shows the set's own list, read
    from the live release the view is showing.
    """
    from checklist.content.rule_book import snapshot  # the live release's rule book, cached per process

    book = snapshot(translation.get_language()).book
    out = []
    for code in rule.codes:
        subs = book.subfinding_list(code, rule.slug)
        if subs is None:
            continue
        out.append(
            {
                "name": rule.labels.get(code) or book.criterion_names.get(code, code),
                "counted": [book.label(f) for f in subs.qualifying],
                "alone_not": [book.label(f) for f in subs.non_qualifying],
                "not_counted": [book.label(f) for f in subs.not_counted],
            }
        )
    return out


def _fell_back(item: Any, name: str) -> bool:
    """True when ``item``'s field ``name`` is served in English for want of a translation.

    ``item`` is a localised record (its ``in_english`` lists such fields,
    ``rule_book.localize_records``) or a form item or row (its ``english``).
    """
    listed = item.get("in_english", ()) if isinstance(item, dict) else getattr(item, "english", ())
    return name in (listed or ())


@register.filter
def in_english(item: Any, name: str) -> bool:
    return _fell_back(item, name)


@register.simple_tag
def unverified_mark() -> str:
    """The [unverified] marker: in English as it is; in another language the word, with the
    English tag beside it (lang="en-GB"), so the marker is read and still found (glossary)."""
    if (translation.get_language() or "en").startswith("en"):
        return mark_safe('<span class="unverified">[unverified]</span>')
    return format_html(
        '<span class="unverified">{} <span lang="en-GB">[unverified]</span></span>',
        pgettext("marker", "unverified"),
    )


@register.simple_tag
def evidence_words() -> dict[str, str]:
    """Each evidence tag's short label in the page's language (the criteria page's key)."""
    return {tag.value: words.evidence_word(tag) for tag in Evidence}


@register.filter
def cite(item: Any, name: str) -> str:
    """` lang="en-GB"` for a citation's text read in English: untranslated, or kept as
    published by the translator (an author and year); a translated one ("J Neurol 総説 2018")
    is the page's language."""
    kept = item.get("kept_english", ()) if isinstance(item, dict) else ()
    return mark_safe(' lang="en-GB"') if _fell_back(item, name) or name in (kept or ()) else ""


@register.filter
def en(item: Any, name: str) -> str:
    """` lang="en-GB"` for an element whose text fell back to English, else nothing."""
    return mark_safe(' lang="en-GB"') if _fell_back(item, name) else ""
