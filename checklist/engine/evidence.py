"""What every room's content shares: the evidence tags, and the one way content is refused.

The tags are clinical.md §h's opening table; each content number and rule carries one,
and a room's rules builder refuses any other word (``check_tag``). A builder collects
every problem before refusing (``RulesError``), so an editor sees them all at once.
"""

from __future__ import annotations

EVIDENCE_TAGS: tuple[str, ...] = ("read_abstract", "read_table", "secondary", "unverified", "app_convention")


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
