"""The one path from raw case data to an evaluation, shared by the API, CLI and pages."""

from __future__ import annotations

import json
from typing import Any

from .content import snapshot
from .engine import FieldError, InputError, evaluate, parse_case
from .engine.inputs import duplicate_key_errors, object_without_duplicates


def evaluate_data(data: Any) -> dict[str, Any]:
    """Validate and evaluate decoded JSON. Raises InputError naming each bad field."""
    book = snapshot().book
    case = parse_case(data, book.sets)
    return evaluate(case, book)


def _reject_constant(name: str) -> float:
    # json accepts NaN and Infinity by default; they are not JSON and not a lab value.
    raise ValueError(f"{name} is not allowed; numbers must be finite")


def decode_json(text: str | bytes) -> Any:
    """Decode a JSON document strictly. Raises InputError on malformed input."""
    try:
        value = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=object_without_duplicates)
    except RecursionError:
        raise InputError([FieldError("(body)", "JSON is nested too deeply.")]) from None
    except UnicodeDecodeError:
        raise InputError([FieldError("(body)", "must be UTF-8 encoded JSON.")]) from None
    except ValueError as exc:
        raise InputError([FieldError("(body)", f"malformed JSON: {exc}")]) from None
    duplicates = duplicate_key_errors(value)
    if duplicates:
        raise InputError(duplicates)
    return value


def as_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
