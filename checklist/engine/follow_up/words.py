"""The follow-up's words that go into its reasons and cautions (issue 23), as ``Message``s.

Each is its English text, so the JSON reads as before; the web layer and the API say it in
the reader's language (checklist/content/say.py).
"""

from __future__ import annotations

from typing import Any

from ..message import Message

# A domain evaluated at a visit before any treatment started (H-B4).
NO_LINE = Message("No treatment started before this visit; response needs a baseline before treatment.")
SPECIMEN = {"serum": Message("serum"), "plasma": Message("plasma"), "unknown": Message("unknown")}
# "; " between the parts of one reason.
SEMICOLON = Message("; ")
# A clinical feature named in "new since baseline: ..." (the code with spaces, as before).
FEATURE = {
    "peripheral_edema": Message("peripheral edema"),
    "pleural_effusion": Message("pleural effusion"),
    "ascites": Message("ascites"),
    "pericardial_effusion": Message("pericardial effusion"),
    "skin_changes": Message("skin changes"),
    "endocrinopathy": Message("endocrinopathy"),
    "papilledema": Message("papilledema"),
}


class Cased(Message):
    """A Message whose English is written in another letter case than its msgid ("copd" where a
    list was lower-cased after its first letter), so the English stays exactly as it was while
    a translation reads the word by its msgid."""

    def __new__(cls, english: str, msgid: str, /) -> Cased:
        out = str.__new__(cls, english)
        out.msgid = msgid
        out.params = {}
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        return (Cased, (str(self), self.msgid))
