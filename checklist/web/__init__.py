"""Web: the pages a clinician uses (checklist, print view, copied note, content pages,
the CIDP screen at ``/screen`` and the follow-up at ``/follow-up``).

Owns the views (``views``, ``screen``, ``follow_up/``), the forms, the presenters
(``presenters/``), the notes' text (``report``), the Jinja2 environment of the live
fragments (``jinja``), the template tags and the page URLs. Imports content and the
engine; never the API or EHR rooms.
"""
