"""The one path from raw case data to an evaluation, shared by the API, CLI and pages."""

from __future__ import annotations

import json
import re
from typing import Any

from checklist.content.rule_book import snapshot
from checklist.engine.diagnosis.evaluate import evaluate
from checklist.engine.inputs import (
    FieldError,
    InputError,
    ObjectWithDuplicates,
    duplicate_key_errors,
    object_without_duplicates,
    parse_case,
)


def evaluate_data(data: Any) -> dict[str, Any]:
    """Validate and evaluate decoded JSON. Raises InputError naming each bad field."""
    book = snapshot().book
    case = parse_case(data, book.sets, drafts=book.draft_messages)
    return evaluate(case, book)


def _reject_constant(name: str) -> float:
    # json accepts NaN and Infinity by default; they are not JSON and not a lab value.
    raise ValueError(f"{name} is not allowed; numbers must be finite")


# No lab value or count needs more digits than this; a longer integer (a 309-digit one
# overflows a float) is rejected while decoding, before any code tries to use it.
MAX_INT_DIGITS = 15


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"integers may have at most {MAX_INT_DIGITS} digits")
    return int(text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(value: Any) -> bool:
    """True if any string (key or value) holds a lone UTF-16 surrogate.

    "\\ud800" is valid JSON syntax but no character: it cannot be encoded as UTF-8, so
    echoing it in an error message or a log line would fail later with a 500.
    """
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _malformed(message: str) -> InputError:
    return InputError([FieldError("(body)", message)])


def decode_json(text: str | bytes) -> Any:
    """Decode a JSON document strictly. Raises InputError on malformed input.

    The messages name what is wrong and where (line and column), never the offending text,
    so they can be shown to the sender without echoing hostile bytes.
    """
    if isinstance(text, bytes):
        # Strict UTF-8 (RFC 8259). json.loads would also guess UTF-16/32 and let encoded
        # surrogates through ("surrogatepass"); after this only a \u escape can make one.
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("must be UTF-8 encoded JSON.") from None
        may_hold_surrogates = "\\u" in text
    else:
        may_hold_surrogates = True  # text from a file or stdin may carry escaped bytes
    duplicated: list[bool] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = object_without_duplicates(pairs)
        if isinstance(obj, ObjectWithDuplicates):  # it compared the lengths already
            duplicated.append(True)
        return obj

    try:
        value = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_int=_parse_int,
            object_pairs_hook=pairs_hook,
        )
    except RecursionError:
        raise _malformed("JSON is nested too deeply.") from None
    except json.JSONDecodeError as exc:
        raise _malformed(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.") from None
    except ValueError as exc:  # from _reject_constant, _parse_int or int()'s own digit limit
        raise _malformed(f"malformed JSON: {exc}.") from None
    if may_hold_surrogates and _has_lone_surrogate(value):
        raise _malformed("a \\u escape encodes half a character (a lone surrogate); send valid Unicode.")
    # A key given twice is an error, never "last wins" (clinical.md §f.2 A7).
    # The walk that names each duplicate's path runs only when the decoder saw one.
    if duplicated:
        raise InputError(duplicate_key_errors(value))
    return value


def as_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
