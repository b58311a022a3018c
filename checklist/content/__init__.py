"""Content: what editors change in the admin, and how it reaches the engine.

Owns the content models (``models``), their admin (``admin``), publishing with its
regression gate (``publishing``, ``regression``), the cached, published rule book every
request reads (``rule_book.snapshot``) and the one path from raw case data to an
evaluation (``evaluation``). Imports the engine; never the web, API or EHR rooms.
"""
