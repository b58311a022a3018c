"""Django's ``makemessages``, which also reads the Jinja2 templates of the live result.

Django's own extraction reads every template as a Django template. The result panel's and the
screen answer's templates (``checklist.web.jinja.JINJA_TEMPLATES``) are Jinja2, with
``{{ _("...", name=value) }}`` calls that Django's reader would miss or misread, so they are
left out of its pass and read with Jinja2's own extraction instead (the i18n extension's
``extract_translations``, with ``{% inline %}`` taken out: that tag is ours, and a partial is
read as a file of its own). Their messages go into the ``django.pot`` of ``locale/`` before
Django merges it into each language's ``django.po``, so they are kept, merged and marked
obsolete exactly as the others are.

    .venv/bin/python manage.py makemessages -l ja -l zh_Hans --ignore=.venv --ignore=tests \
        --ignore=staticfiles --ignore=node_modules
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any

import polib  # type: ignore[import-untyped]
from django.conf import settings
from django.core.management.commands import makemessages
from jinja2 import Environment

from checklist.web.jinja import INLINE_TAG, JINJA_TEMPLATES


def is_jinja(path: str) -> bool:
    """Whether a file under templates/ is one of the Jinja2 templates."""
    parts = Path(path).as_posix()
    return any(fnmatch.fnmatch(parts, f"*templates/{pattern}") for pattern in JINJA_TEMPLATES)


def jinja_messages(folder: Path) -> list[tuple[str, int, str, str | None]]:
    """(file, line, msgid, msgid_plural) of every message in the Jinja2 templates under ``folder``."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    found: list[tuple[str, int, str, str | None]] = []
    for pattern in JINJA_TEMPLATES:
        for path in sorted(folder.glob(pattern)):
            source = INLINE_TAG.sub("", path.read_text("utf-8"))
            relative = os.path.relpath(path, settings.BASE_DIR)
            for line, _function, message in env.extract_translations(source):  # type: ignore[attr-defined]
                if isinstance(message, str):
                    found.append((relative, line, message, None))
                elif message and isinstance(message[0], str):
                    plural = message[1] if len(message) > 1 and isinstance(message[1], str) else None
                    found.append((relative, line, message[0], plural))
    return found


def add_to_pot(potfile: str, messages: list[tuple[str, int, str, str | None]]) -> None:
    pot = polib.pofile(potfile, wrapwidth=79)
    for relative, line, msgid, plural in messages:
        entry = pot.find(msgid)
        if entry is None:
            entry = polib.POEntry(msgid=msgid, msgstr="")
            if plural:
                entry.msgid_plural = plural
                entry.msgstr_plural = {0: "", 1: ""}
            if "%(" in msgid:
                entry.flags.append("python-format")
            pot.append(entry)
        if (relative, str(line)) not in entry.occurrences:
            entry.occurrences.append((relative, str(line)))
    pot.save(potfile)


class Command(makemessages.Command):
    def find_files(self, root: str) -> list[Any]:
        files = super().find_files(root)
        return [f for f in files if not is_jinja(f.path)]

    def build_potfiles(self) -> list[str]:
        potfiles: list[str] = super().build_potfiles()
        if self.domain != "django":
            return potfiles
        messages = jinja_messages(Path(settings.BASE_DIR) / "templates")
        for potfile in potfiles:
            # The templates' messages belong to the project's catalogue (LOCALE_PATHS' first),
            # as Django files every template in templates/ there.
            if Path(potfile).parent.resolve() == Path(settings.LOCALE_PATHS[0]).resolve():
                add_to_pot(potfile, messages)
        return potfiles
