"""The engine's texts in the reader's language (issue 23).

``say(message, language)`` looks an engine ``Message`` up in that language's catalogues
(Django's gettext: the app's checklist/locale/ and the interface's locale/) and fills its
params in again, each param that is itself a Message translated in its turn; plain params
(a content label, a value as entered, a threshold such as ">= 200 pg/mL") go in unchanged, so
no code or number can change. A text with no translation comes back in English, with
``lang`` "en-GB" so the page can mark it. It lives in the content room because the pages,
the API and CDS Hooks all present engine texts, and none of them may import another.
"""

from __future__ import annotations

from django.utils.translation import trans_real

from checklist.engine.message import Joined, Message

__all__ = ["ENGLISH", "Said", "is_english", "say"]

ENGLISH = "en-GB"


class Said(str):
    """A text as shown, with the language it is in when that is not the page's ("" otherwise)."""

    lang: str

    def __new__(cls, text: str, lang: str = "") -> Said:
        self = str.__new__(cls, text)
        self.lang = lang
        return self


def is_english(language: str | None) -> bool:
    return not language or language.lower().startswith("en")


def _text(message: str, catalogue: trans_real.DjangoTranslation) -> str | None:
    """The translation, or None when the catalogue has none for the message itself."""
    if isinstance(message, Joined):
        sep = catalogue.gettext(message.sep.msgid)
        return sep.join(_text(item, catalogue) or item for item in message.items)
    msgid = message.msgid if isinstance(message, Message) else message
    translated = catalogue.gettext(msgid)
    if translated == msgid:
        return None
    if isinstance(message, Message) and message.params:
        params = {k: _text(v, catalogue) or v for k, v in message.params.items()}
        try:
            return translated % params
        except (KeyError, ValueError, TypeError):
            # A catalogue whose placeholders were edited wrongly: the English, never a 500.
            return None
    return translated


def say(message: str, language: str | None) -> Said:
    """``message`` in ``language`` (a Django language code such as "ja" or "zh-hans")."""
    if is_english(language) or not message:
        return Said(message)
    translated = _text(message, trans_real.translation(str(language)))
    return Said(message, ENGLISH) if translated is None else Said(translated)
