"""The engine: pure Python, no Django, importing nothing from outside ``checklist.engine``.

The shared language lives here: ``vocabulary`` (the stable codes), ``units``
(conversion into canonical units) and ``inputs`` (parsing and plausibility, with
errors that name the field). Each kind of clinical question has a room below it:
``diagnosis`` (criteria sets, differentials, cautions, treatment keying; clinical.md
§a-§g, §j), ``follow_up`` (response and progression over dated visits, §h) and
``screen`` (the CIDP clinic screen and its order-hook trigger, §i). Beside them,
``exact`` (exact threshold comparison without a Fraction per request), ``evidence`` (the
evidence tags of §h's table) and ``slots`` (dataclass helpers).
Use ``inputs.parse_case`` to validate a case, then ``diagnosis.evaluate.evaluate``
with a ``RuleBook`` built by ``diagnosis.book.from_records``; ``follow_up`` and ``screen``
export their own parse/evaluate pair.
"""
