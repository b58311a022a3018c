"""Markers for the texts the engine may show a clinician, and the shared separators (issue 23).

``gettext_noop`` marks a msgid where it is written without being a ``Message`` yet (a word
table, a content default): it returns the string unchanged. ``manage.py rule_strings``
reads every ``Message("...")`` and ``gettext_noop("...")`` in the engine's sources, and the
texts of the rule fixtures, into ``checklist/content/rule_strings.py`` for makemessages.
"""

from __future__ import annotations

from collections.abc import Sequence

from checklist.engine.message import Joined, Message

__all__ = ["AND", "COMMA", "SPACE", "gettext_noop", "sentences"]


def gettext_noop(msgid: str) -> str:
    return msgid


# List separators: translated like any other text (、 and と/和 in the catalogues).
AND = Message(" and ")
COMMA = Message(", ")
# Between sentences; whitespace-only, so it is not extracted: a Japanese or Chinese page keeps
# the space after 。, which reads well enough and needs no catalogue entry.
SPACE = Message(" ")


def sentences(items: Sequence[str]) -> str:
    """Sentences one after another, as " ".join would write them, each still translatable."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return Joined(SPACE, items)
