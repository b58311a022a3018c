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

from typing import Any

from django.utils.translation import trans_real

from checklist.engine.message import Joined, Message

__all__ = [
    "ENGLISH",
    "Said",
    "accept_language",
    "is_english",
    "say",
    "translate_follow_up",
    "translate_result",
    "translate_screen",
]

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
        return sep.join(_part(item, catalogue) for item in message.items)
    msgid = message.msgid if isinstance(message, Message) else message
    translated = catalogue.gettext(msgid)
    if isinstance(message, Message) and message.params:
        said = {k: _text(v, catalogue) if isinstance(v, Message) else None for k, v in message.params.items()}
        # A template may read the same in both languages ("%(specimen)s VEGF" in Chinese):
        # untranslated only when neither it nor any of its params has a translation.
        if translated == msgid and not any(said.values()):
            return None
        try:
            return translated % {k: t or message.params[k] for k, t in said.items()}
        except (KeyError, ValueError, TypeError):
            # A catalogue whose placeholders were edited wrongly: the English, never a 500.
            return None
    return None if translated == msgid else translated


def _part(item: str, catalogue: trans_real.DjangoTranslation) -> str:
    """A param or list item: a Message is translated; a plain string (a content label, a value
    as entered) goes in as it is, even where a catalogue happens to hold the same words."""
    return (_text(item, catalogue) or item) if isinstance(item, Message) else item


def say(message: str, language: str | None) -> Said:
    """``message`` in ``language`` (a Django language code such as "ja" or "zh-hans")."""
    if is_english(language) or not message:
        return Said(message)
    translated = _text(message, trans_real.translation(str(language)))
    return Said(message, ENGLISH) if translated is None else Said(translated)


def accept_language(header: str) -> str | None:
    """The language an API or CDS Hooks request asks for in Accept-Language: "ja" or "zh-hans",
    else None (English). The first language it names that the site has wins, so "en, ja" is
    English; browsers' zh-CN / zh-SG / zh are Simplified Chinese."""
    for code, _q in trans_real.parse_accept_lang_header(header or ""):
        lowered = code.lower()
        if lowered == "*":
            break
        if lowered in ("zh", "zh-cn", "zh-sg", "zh-hans-cn"):
            lowered = "zh-hans"
        try:
            found = trans_real.get_supported_language_variant(lowered)
        except LookupError:
            continue
        return None if is_english(found) else found
    return None


def _said(value: Any, language: str) -> Any:
    return str(say(value, language)) if isinstance(value, str) else value


def _each(items: Any, language: str, *fields: str, lists: tuple[str, ...] = ()) -> None:
    for item in items or ():
        for f in fields:
            if isinstance(item.get(f), str):
                item[f] = _said(item[f], language)
        for f in lists:
            if isinstance(item.get(f), list):
                item[f] = [_said(t, language) for t in item[f]]


def translate_result(result: dict[str, Any], language: str | None) -> dict[str, Any]:
    """The evaluation's JSON with its reasons, cautions, to-settle and work-up texts in
    ``language``, in place; every code, status, number, threshold, unit, name and source as it
    was (names and sources are content, the content room's to translate). English: unchanged."""
    if is_english(language):
        return result
    lang = str(language)
    _each(result.get("criteria"), lang, "to_settle", lists=("reasons",))
    _each(result.get("differentials"), lang, lists=("reasons",))
    _each(result.get("cautions"), lang, "message", "detail")
    _each([result["treatment"]] if result.get("treatment") else [], lang, lists=("reasons",))
    _each(result.get("staging_missing"), lang, "test", "why", "settles")
    _each([result["extent"]] if result.get("extent") else [], lang, "to_settle", lists=("reasons",))
    _each(result.get("risk_factors_present"), lang, "factor", "wording")
    _each(result.get("drug_cautions"), lang, "message")
    _each(result.get("comparison"), lang, "explanation")
    return result


def translate_follow_up(result: dict[str, Any], language: str | None) -> dict[str, Any]:
    """The follow-up's JSON (design.md §3.9) with each domain's reason, its cautions' messages,
    the progression label and the triggers' reasons in ``language``, in place; every category,
    rule, source, evidence tag, value, unit, date and percentage as it was. English: unchanged."""
    if is_english(language):
        return result
    lang = str(language)
    for visit in result.get("visits") or ():
        for domain in (visit.get("domains") or {}).values():
            _each([domain], lang, "reason")
            _each(domain.get("cautions"), lang, "message")
        _each([visit], lang, "progression_label")
        _each(visit.get("progression_triggers"), lang, "reason")
    return result


def translate_screen(out: dict[str, Any], language: str | None) -> dict[str, Any]:
    """The screen's JSON (design.md §3.10) with its message, red-flag reasons, tests' why and notes
    in ``language``, in place; codes, categories, sources, the not-assessed codes, the version
    and the disclaimer (content) as they were. English: unchanged."""
    if is_english(language) or "errors" in out:
        return out
    lang = str(language)
    if isinstance(out.get("message"), str):
        out["message"] = _said(out["message"], lang)
    _each(out.get("red_flags"), lang, "reason")
    _each(out.get("tests"), lang, "why")
    _each(out.get("notes"), lang, "message")
    return out
