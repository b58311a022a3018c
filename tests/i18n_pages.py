"""What a Japanese or Chinese page still shows in English (issue 23): the reader for
``tests/test_i18n_every_page.py``.

A page's text nodes and its readable attributes (``aria-label``, ``title``, ``alt``,
``placeholder``) are read with the standard library's HTML parser. One counts as English left
untranslated when it holds no Japanese or Chinese character and at least one English word: three
or more letters, not an acronym (all capitals, or with a digit) and not one of the few names and
unit symbols below, which stay as they are in every language. Text the page itself declares
English (``lang="en…"`` on it or an ancestor: a citation, a content field not yet translated,
the English evidence tag beside its translation) is exempt, as are code, scripts and styles.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
WORD = re.compile(r"[A-Za-zµ][A-Za-zµ'’-]+")
# Names and symbols written the same in ja and zh-hans pages: the product, units as entered
# (never translated, design.md §3.12), the immunoglobulin classes, lab abbreviations in
# mixed case, and the Latin names of the scales and stains clinicians use as they are.
KEPT = {
    "POEMSaid",
    "POEMS",
    "mL",
    "dL",
    "min",
    "mmHg",
    "mmol",
    "µmol",
    "pmol",
    "nmol",
    "pg",
    "ng",
    "mg",
    "µg",
    "IgA",
    "IgG",
    "IgM",
    "IgD",
    "IgE",
    "eGFR",
    "SUVmax",
    "uL",
    "µL",
}
SKIPPED_TAGS = {"script", "style", "noscript", "code", "kbd", "samp", "template"}
VOID = {"br", "img", "input", "meta", "link", "hr", "wbr", "source", "col", "area", "base", "track"}
ATTRIBUTES = ("aria-label", "title", "alt", "placeholder")


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, exempt from here down)
        self.found: list[tuple[str, str]] = []  # (where, text)

    def _exempt(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        exempt = self._exempt() or tag in SKIPPED_TAGS or a.get("lang", "").lower().startswith("en")
        if not exempt:
            for name in ATTRIBUTES:
                if a.get(name):
                    self.found.append((f"{tag}[{name}]", a[name]))
        if tag not in VOID:
            self.stack.append((tag, exempt))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._exempt():
            self.found.append((self.stack[-1][0] if self.stack else "", text))


def is_english(text: str) -> bool:
    """A text with no CJK character and an English word that is not kept as it is."""
    if CJK.search(text):
        return False
    for word in WORD.findall(text):
        core = word.strip("'’-")
        if len(core) < 3 or core in KEPT or core.isupper() or any(c.isdigit() for c in core):
            continue
        return True
    return False


def untranslated(html: str) -> list[tuple[str, str]]:
    """(where, text) of every English text the page does not declare English, in page order."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return [(where, text) for where, text in reader.found if is_english(text)]
