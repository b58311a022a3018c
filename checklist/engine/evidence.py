"""What every room's content shares: the evidence tags, and the one way content is refused.

The tags are clinical.md §h's opening table; each content number and rule carries one,
and a room's rules builder refuses any other word (``check_tag``). A builder collects
every problem before refusing (``RulesError``), so an editor sees them all at once.

A threshold also says where its number comes from (``Basis``): a number a source
publishes, or a default the app chose where no source gives one (the serum VEGF
1920 pg/mL, until its primary source is found: clinical.md §f.3 A14). The two are
separate: an app default can still be sourced (as secondary), and a published
number can be read only second-hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Evidence(StrEnum):
    """How strongly a rule is sourced: clinical.md §h's opening table, strongest first."""

    READ_ABSTRACT = "read_abstract"
    READ_TABLE = "read_table"
    SECONDARY = "secondary"
    UNVERIFIED = "unverified"
    APP_CONVENTION = "app_convention"


class Basis(StrEnum):
    """Where a threshold's number comes from."""

    PUBLISHED = "published"  # a source gives this number (its citation travels with it)
    APP_DEFAULT = "app_default"  # no source settles it: the app's default, editable in content


EVIDENCE_TAGS: tuple[str, ...] = tuple(e.value for e in Evidence)
BASES: tuple[str, ...] = tuple(b.value for b in Basis)
_RANK = {e: i for i, e in enumerate(Evidence)}


def weakest(tags: Iterable[Evidence]) -> Evidence | None:
    """The weakest of ``tags`` (a rule is only as strong as the weakest number it applies)."""
    found = list(tags)
    return max(found, key=_RANK.__getitem__) if found else None


class RulesError(ValueError):
    """The content cannot be used as it is; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def check_tag(where: str, tag: object, problems: list[str]) -> bool:
    """Whether ``tag`` is an evidence tag; if not, a problem naming ``where`` is added."""
    if tag in EVIDENCE_TAGS:
        return True
    problems.append(f"{where}: evidence tag {tag!r}; use one of {', '.join(EVIDENCE_TAGS)}")
    return False
