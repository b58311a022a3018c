"""The engine's words for the result's codes (``checklist.engine.diagnosis.words``), in the
active language: the pages, the notes and the API's presenters read them from here, so a
Japanese page says 基準を満たす where the English says "Meets the criteria". The engine keeps
its English (the JSON, the golden cases and the publishing messages read it)."""

from __future__ import annotations

from django.utils.translation import gettext

from checklist.engine.diagnosis import words


def verdict_verb(status: str) -> str:
    return gettext(words.verdict_verb(status))


def criterion_word(status: str) -> str:
    return gettext(words.criterion_word(status))


def status_headline(status: str) -> str:
    return gettext(words.status_headline(status))


def status_short(status: str) -> str:
    return gettext(words.status_short(status))


def group_word(group: str) -> str:
    return gettext(words.group_word(group))


def evidence_word(tag: str) -> str:
    return gettext(words.evidence_word(tag))


def basis_word(basis: str) -> str:
    return gettext(words.basis_word(basis))
