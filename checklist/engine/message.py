"""Engine texts that are their English words and can still be translated (issue 23).

A ``Message`` *is* the English string (a ``str`` subclass), so the JSON, the golden cases
and every comparison read exactly what they read before; it also carries its msgid (the
``%(name)s`` template) and its params, so the web layer can look the template up in the
active language's catalogue and fill in the params again (``checklist.web.say``). The
engine stays pure: nothing here knows about Django or a language.

A param is either a plain string, put in as it is (a content label, a value as entered, a
threshold such as ">= 200 pg/mL": numbers and codes never change), or a ``Message`` itself
(a word such as "serum" or a list joined with "and"), which is translated in its turn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["Joined", "Message", "join", "spelt"]


class Message(str):
    """An English engine text, with the msgid and params it was made from."""

    # A str subclass cannot have non-empty __slots__; the instance dict holds these two.
    msgid: str
    params: Mapping[str, str]

    def __new__(cls, msgid: str, /, **params: str) -> Message:
        # Without params the msgid is the text as it stands (a "%" in it is literal).
        self = str.__new__(cls, msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled and copied as itself (the cached rule book, deepcopy), not as a plain str.
        return (_restore, (str(self), self.msgid, dict(self.params)))

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, **{dict(self.params)!r})"


def _restore(text: str, msgid: str, params: dict[str, str]) -> Message:
    # The text as it was: a spelt() Message reads differently from its msgid.
    self = str.__new__(Message, text)
    self.msgid = msgid
    self.params = params
    return self


def spelt(text: str, msgid: str) -> Message:
    """A Message whose English reads ``text`` while it is looked up as ``msgid``: a content label
    lowercased inside a sentence ("skin changes") keeps the label's one catalogue entry."""
    return _restore(text, msgid, {})


class Joined(Message):
    """Items joined by a separator that is itself translated (" and " is "と" in Japanese)."""

    sep: Message
    items: tuple[str, ...]

    def __new__(cls, sep: Message, items: Iterable[str], /) -> Joined:
        parts = tuple(items)
        self = str.__new__(cls, sep.join(parts))
        self.msgid = str(self)
        self.params = {}
        self.sep = sep
        self.items = parts
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Joined, (self.sep, self.items))

    def __repr__(self) -> str:
        return f"Joined({self.sep!r}, {self.items!r})"


def join(sep: Message, items: Iterable[str]) -> Joined:
    return Joined(sep, items)
