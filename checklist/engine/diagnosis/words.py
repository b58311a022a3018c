"""The words for the diagnosis result's codes: one place, shared by the pages, the notes and
the publishing messages (which live in different rooms, so the words live below them all)."""

from __future__ import annotations

from checklist.engine.diagnosis.result import Basis, Evidence, Status, Verdict
from checklist.engine.vocabulary import Group

# Keyed by the engine's enums (StrEnum: they look up by the JSON strings too), so a status
# word is defined once, in the engine. "Unknown" rather than "not assessed": since §f.2 A1 a
# criterion can be unknown with its value given (the specimen or sex decides); the reason says why.
_CRITERION: dict[str, str] = {Status.MET: "met", Status.NOT_MET: "not met", Status.UNKNOWN: "unknown"}
_HEADLINE: dict[str, str] = {
    Verdict.MET: "Meets the criteria",
    Verdict.NOT_MET: "Does not meet the criteria",
    Verdict.INCOMPLETE: "Incomplete: cannot be decided yet",
}
# How a case moves in a regression message: "from Meets to Does not meet".
_VERB: dict[str, str] = {
    Verdict.MET: "Meets",
    Verdict.NOT_MET: "Does not meet",
    Verdict.INCOMPLETE: "Incomplete",
}
_SHORT: dict[str, str] = {Verdict.MET: "Met", Verdict.NOT_MET: "Not met", Verdict.INCOMPLETE: "Incomplete"}
_GROUP: dict[str, str] = {Group.MANDATORY: "mandatory", Group.MAJOR: "other major", Group.MINOR: "minor"}


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
    Evidence.READ_ABSTRACT: "read: abstract",
    Evidence.READ_TABLE: "read: table",
    Evidence.SECONDARY: "secondary",
    Evidence.UNVERIFIED: "unverified",
    Evidence.APP_CONVENTION: "app convention",
}


def evidence_word(tag: str) -> str:
    return _EVIDENCE.get(tag, tag)


# Whether a threshold's number is published or the app's own default, as a short label.
_BASIS: dict[str, str] = {
    Basis.PUBLISHED: "published threshold",
    Basis.APP_DEFAULT: "app default",
}


def basis_word(basis: str) -> str:
    return _BASIS.get(basis, basis)
