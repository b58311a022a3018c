"""The words for the diagnosis result's codes: one place, shared by the pages, the notes and
the publishing messages (which live in different rooms, so the words live below them all).

Each word is English and marked for the catalogues (``gettext_noop``); ``checklist.content.words``
gives them in the page's language."""

from __future__ import annotations

from checklist.engine.diagnosis.result import Basis, Evidence, Status, Verdict
from checklist.engine.i18n import gettext_noop
from checklist.engine.vocabulary import Group

# Keyed by the engine's enums (StrEnum: they look up by the JSON strings too), so a status
# word is defined once, in the engine. "Unknown" rather than "not assessed": since §f.2 A1 a
# criterion can be unknown with its value given (the specimen or sex decides); the reason says why.
_CRITERION: dict[str, str] = {
    Status.MET: gettext_noop("met"),
    Status.NOT_MET: gettext_noop("not met"),
    Status.UNKNOWN: gettext_noop("unknown"),
}
_HEADLINE: dict[str, str] = {
    Verdict.MET: gettext_noop("Meets the criteria"),
    Verdict.NOT_MET: gettext_noop("Does not meet the criteria"),
    Verdict.INCOMPLETE: gettext_noop("Incomplete: cannot be decided yet"),
}
# How a case moves in a regression message: "from Meets to Does not meet".
_VERB: dict[str, str] = {
    Verdict.MET: gettext_noop("Meets"),
    Verdict.NOT_MET: gettext_noop("Does not meet"),
    Verdict.INCOMPLETE: gettext_noop("Incomplete"),
}
_SHORT: dict[str, str] = {
    Verdict.MET: gettext_noop("Met"),
    Verdict.NOT_MET: gettext_noop("Not met"),
    Verdict.INCOMPLETE: gettext_noop("Incomplete"),
}
_GROUP: dict[str, str] = {
    Group.MANDATORY: gettext_noop("mandatory"),
    Group.MAJOR: gettext_noop("other major"),
    Group.MINOR: gettext_noop("minor"),
}


def verdict_verb(status: str) -> str:
    return _VERB.get(status, status)


def criterion_word(status: str) -> str:
    return _CRITERION.get(status, status)


def status_headline(status: str) -> str:
    return _HEADLINE.get(status, status)


def status_short(status: str) -> str:
    return _SHORT.get(status, status)


def group_word(group: str) -> str:
    return _GROUP.get(group, group)


# Evidence tags (clinical.md §h opening table), as a short label beside a rule or a number.
_EVIDENCE: dict[str, str] = {
    Evidence.READ_ABSTRACT: gettext_noop("read: abstract"),
    Evidence.READ_TABLE: gettext_noop("read: table"),
    Evidence.SECONDARY: gettext_noop("secondary"),
    Evidence.UNVERIFIED: gettext_noop("unverified"),
    Evidence.APP_CONVENTION: gettext_noop("app convention"),
}


def evidence_word(tag: str) -> str:
    return _EVIDENCE.get(tag, tag)


# Whether a threshold's number is published or the app's own default, as a short label.
_BASIS: dict[str, str] = {
    Basis.PUBLISHED: gettext_noop("published threshold"),
    Basis.APP_DEFAULT: gettext_noop("app default"),
}


def basis_word(basis: str) -> str:
    return _BASIS.get(basis, basis)
