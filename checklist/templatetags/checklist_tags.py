"""Words for the result's machine codes. Tested as plain functions."""

from __future__ import annotations

from typing import Any

from django import template

from ..engine.rulebook import display_unit

register = template.Library()

_CRITERION = {"met": "met", "not_met": "not met", "unknown": "not assessed"}
_HEADLINE = {
    "met": "Meets the criteria",
    "not_met": "Does not meet the criteria",
    "incomplete": "Incomplete: cannot be decided yet",
}
_SHORT = {"met": "Met", "not_met": "Not met", "incomplete": "Incomplete"}
_GROUP = {"mandatory": "mandatory", "major": "other major", "minor": "minor"}


@register.filter
def criterion_word(status: str) -> str:
    return _CRITERION.get(status, status)


@register.filter
def status_headline(status: str) -> str:
    return _HEADLINE.get(status, status)


@register.filter
def status_short(status: str) -> str:
    return _SHORT.get(status, status)


@register.filter
def group_word(group: str) -> str:
    return _GROUP.get(group, group)


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
def unit_word(unit: str) -> str:
    return display_unit(unit).strip() or unit
