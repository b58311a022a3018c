"""POEMSaid's one Django app (label ``checklist``), in rooms whose imports point down only.

- ``engine/``: pure Python, no Django; the shared language (vocabulary, units, inputs) and
  one room per clinical question: ``diagnosis`` (§a-§g, §j), ``follow_up`` (§h), ``screen`` (§i).
- ``content/``: the models editors change in the admin, publishing, the cached rule book.
- ``web/``, ``api/``, ``ehr/``: the pages, the JSON API and the EHR services, side by side;
  each may import content and the engine, never one another.

``models.py`` and ``admin.py`` here only gather the rooms' models and admin, so that Django
finds them under the one app label (the tables and migrations keep their names).
"""
