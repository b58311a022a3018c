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
- Interface strings are ``{{ _("literal") }}`` (or ``_("... %(name)s ...", name=value)``), with
  Jinja2's i18n extension enabled. They are translated when the template is compiled, not at
  each render: one environment per language (``for_language``), each with that language's
  catalogue installed and its own compiled templates, and ``_("literal")`` replaced by the
  translated constant before code generation (``_translate_literals``). A plain call per string
  cost about 5x the panel's render time (631 vs 122 us, newstyle gettext); a constant costs
  nothing, and a constant output is even escaped once, at compile time. A call whose message is
  not a literal still goes to the installed gettext at render time.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.visitor import NodeTransformer

_INLINE = re.compile(r'\{%-?\s*inline\s+"([^"]+)"\s*-?%\}')
INLINE_TAG = _INLINE
# The templates rendered by this environment (under templates/), the rest being Django's:
# makemessages reads these with Jinja2's extraction (checklist/management/commands/makemessages.py).
JINJA_TEMPLATES = ("checklist/_result*.html", "checklist/_screen_answer*.html")
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


# The names a template calls to translate a message (Jinja2's i18n extension installs them).
_GETTEXT = frozenset({"_", "gettext"})


class _Translations(Protocol):
    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


class _LiteralTranslator(NodeTransformer):
    """``_("literal")`` to the translated constant, ``_("... %(x)s", x=e)`` to the translated
    constant formatted with its keywords (as newstyle gettext does), when compiled."""

    def __init__(self, translations: _Translations) -> None:
        self.translations = translations

    def visit_Call(self, call: nodes.Call) -> nodes.Node:
        node = self.generic_visit(call)
        if not (
            isinstance(node, nodes.Call)
            and isinstance(node.node, nodes.Name)
            and node.node.name in _GETTEXT
            and len(node.args) == 1
            and isinstance(node.args[0], nodes.Const)
            and isinstance(node.args[0].value, str)
            and node.dyn_args is None
            and node.dyn_kwargs is None
        ):
            return node
        text = self.translations.gettext(node.args[0].value)
        if not node.kwargs:
            return nodes.Const(text, lineno=node.lineno)
        values = nodes.Dict(
            [nodes.Pair(nodes.Const(k.key), k.value, lineno=node.lineno) for k in node.kwargs],
            lineno=node.lineno,
        )
        return nodes.Mod(nodes.Const(text), values, lineno=node.lineno)


class _Environment(Environment):
    code_generator_class = FastAttributes
    translations: _Translations | None = None

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        if self.translations is None:
            return tree
        translated: nodes.Template = _LiteralTranslator(self.translations).visit(tree)
        return translated


def escape(value: Any) -> str:
    """Django's escaping of one value; text without a special character is returned as is."""
    if type(value) is not str:  # checked first: hasattr on a str raises inside, and is slow
        if hasattr(value, "__html__"):
            return str(value.__html__())
        value = str(value)
    return html.escape(value, quote=True) if _SPECIAL.search(value) else value


def environment(**options: Any) -> Environment:
    """The backend's environment: English, as the source strings are. ``for_language`` gives
    the one of another language, with the same options."""
    given = options.pop("loader", None)
    folders = given.searchpath if isinstance(given, FileSystemLoader) else []
    options.update(
        loader=InliningLoader(folders),
        finalize=escape,
        autoescape=False,  # finalize escapes every expression (see above)
        undefined=StrictUndefined,  # a misspelt field fails, rather than showing nothing
        extensions=[*options.get("extensions", ()), "jinja2.ext.i18n"],
    )
    env = _Environment(**options)
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]  # the i18n extension's
    _OPTIONS.clear()
    _OPTIONS.update(options)
    _BY_LANGUAGE.clear()
    return env


# The backend's options, and one environment per language made from them (each compiles and
# caches its own templates, with that language's strings in them).
_OPTIONS: dict[str, Any] = {}
_BY_LANGUAGE: dict[str, Environment] = {}
_LOCK = threading.Lock()


def for_language(language: str, translations: _Translations) -> Environment:
    """The environment whose templates are compiled in ``language`` (``translations`` is its
    catalogue, read once when the environment is made)."""
    env = _BY_LANGUAGE.get(language)
    if env is None:
        with _LOCK:
            env = _BY_LANGUAGE.get(language)
            if env is None:
                if not _OPTIONS:
                    raise RuntimeError("the jinja2 template backend is not set up yet")
                made = _Environment(**_OPTIONS)
                made.translations = translations
                made.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
                env = _BY_LANGUAGE[language] = made
    return env
