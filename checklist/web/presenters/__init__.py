"""Presenters: what each output shows, as plain data (dataclasses of strings), no HTML.

One presenter per output, shared by every place that shows it, so they cannot drift:
``diagnosis`` for the diagnosis result (the checklist page, the live fragment at
``/result``, the print view at ``/report`` and the copied notes at ``/result/note``), and
``screen`` for the CIDP screen's answer (page, fragment, note, print); the follow-up's
presenter is ``checklist.web.follow_up.presenter``.
The markup is in templates (``templates/checklist/_result*.html``); the plain-text notes
are written from the same presented result by ``checklist.web.report``.
"""
