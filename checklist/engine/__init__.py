"""The POEMS criteria engine: pure Python, no Django import.

Use ``parse_case`` to validate input, then ``evaluate`` with a ``RuleBook``
(built from content by ``checklist.content`` or ``rulebook.from_records``).
"""

from __future__ import annotations

from .evaluate import evaluate
from .inputs import Case, FieldError, InputError, parse_case, read_case
from .rulebook import RuleBook, RuleBookError, from_records

__all__ = [
    "Case",
    "FieldError",
    "InputError",
    "RuleBook",
    "RuleBookError",
    "evaluate",
    "from_records",
    "parse_case",
    "read_case",
]
