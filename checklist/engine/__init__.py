"""The engine: pure Python, no Django, importing nothing from outside ``checklist.engine``.

The shared language lives here: ``vocabulary`` (the stable codes), ``units``
(conversion into canonical units) and ``inputs`` (parsing and plausibility, with
errors that name the field). Each kind of clinical question has a room below it:
``diagnosis`` (criteria sets, differentials, cautions, treatment keying; clinical.md
§a-§g, §j), and, as they arrive, ``follow_up`` (§h) and ``screen`` (§i).
Use ``inputs.parse_case`` to validate a case, then ``diagnosis.evaluate.evaluate``
with a ``RuleBook`` built by ``diagnosis.book.from_records``.
"""
