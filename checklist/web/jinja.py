"""The Jinja2 environment of the ``jinja2`` template backend (settings ``TEMPLATES``).

Used for the result panel, rendered on every click of the live result
(``templatetags/result_panel.py`` says why Jinja2; bench/README.md has the figures). Two
things differ from a stock environment, both measured on the ``/result`` hot path:

- ``{% inline "name" %}`` puts a partial's source in place when the template is compiled
  (``InliningLoader``), so a partial per item kind (a criterion's reason, a caution, a
  work-up line) costs nothing at render time: an ``{% include %}`` or a macro call per item
  cost about 8 us each, some 30 of them per panel. The partial sees the variables where it
  stands, as an include would; a change to it reloads whatever inlines it.
- Every ``{{ expression }}`` is escaped by ``finalize``, with Django's own escaping (the
  standard library's ``html.escape``: ``&quot;``, ``&#x27;``, as ``django.utils.html.escape``
  gives) rather than markupsafe's, so the bytes are the ones Django's engine would give;
  Jinja's own autoescape is therefore off, as it would escape a second time. A value with
  ``__html__`` (Django's ``SafeString``, markupsafe's ``Markup``) passes as it is. Macros,
  whose output is plain text here, are not used in these templates for that reason.
- ``a.b`` compiles to Python's own ``getattr(a, "b")`` (``FastAttributes``) instead of the
  environment's lookup, which tries ``a["b"]`` as well and answers an undefined value when
  both fail: some 600 lookups per panel, each a Python call. The panel's values are the
  presenter's dataclasses; a dict is read as ``d["key"]``, and a misspelt field is an error.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame

_INLINE = re.compile(r'\{%-?\s*inline\s+"([^"]+)"\s*-?%\}')
_SPECIAL = re.compile(r"[&<>\"']")


class InliningLoader(FileSystemLoader):
    """Templates from the given folders, with every ``{% inline "name" %}`` replaced by that
    template's source (recursively), up to date while every file it was built from is."""

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        return self._expanded(environment, template, 0)

    def _expanded(
        self, environment: Environment, template: str, depth: int
    ) -> tuple[str, str, Callable[[], bool]]:
        if depth > 8:
            raise RuntimeError(f"{template}: partials inlined more than 8 deep (a cycle?)")
        source, filename, uptodate = super().get_source(environment, template)
        checks = [uptodate]

        def inline(match: re.Match[str]) -> str:
            part, _, part_uptodate = self._expanded(environment, match.group(1), depth + 1)
            checks.append(part_uptodate)
            return part

        expanded = _INLINE.sub(inline, source)
        return expanded, filename, lambda: all(check() for check in checks)


class FastAttributes(CodeGenerator):
    """``a.b`` as ``getattr(a, "b")``: an AttributeError, not an undefined value, when missing."""

    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        self.write("getattr(")
        self.visit(node.node, frame)
        self.write(f", {node.attr!r})")


class _Environment(Environment):
    code_generator_class = FastAttributes


def escape(value: Any) -> str:
    """Django's escaping of one value; text without a special character is returned as is."""
    if type(value) is not str:  # checked first: hasattr on a str raises inside, and is slow
        if hasattr(value, "__html__"):
            return str(value.__html__())
        value = str(value)
    return html.escape(value, quote=True) if _SPECIAL.search(value) else value


def environment(**options: Any) -> Environment:
    given = options.pop("loader", None)
    folders = given.searchpath if isinstance(given, FileSystemLoader) else []
    options.update(
        loader=InliningLoader(folders),
        finalize=escape,
        autoescape=False,  # finalize escapes every expression (see above)
        undefined=StrictUndefined,  # a misspelt field fails, rather than showing nothing
    )
    return _Environment(**options)
