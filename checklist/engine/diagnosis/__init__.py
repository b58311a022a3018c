"""Diagnosis: does this case meet a criteria set today, and why (clinical.md §a-§g, §j).

Owns the criteria derivation (``derive``), the set rules (``sets``), differentials,
cautions, treatment keying, the rule book's plain-data types (``rulebook``, built by
``book.from_records``) and the words for its codes (``words``). Pure Python; it may import
the engine's shared language (vocabulary, units, inputs) and nothing else.
"""
