"""Web: the pages a clinician uses (checklist, print view, copied note, content pages).

Owns the views, forms, the note's presenter (``report``), the template tags and the
page URLs. Imports content and the engine; never the API or EHR rooms.
"""
