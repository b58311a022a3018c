"""The rooms of design.md §2 and the direction of their imports, read from the import graph.

Every ``import`` and ``from ... import`` in ``checklist/`` counts, including those inside a
function (a lazy import is still an arrow). The rule is about rooms, not files: a new module
in a room obeys it without being listed here.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "checklist"

# A room's rank: a module may import its own room and rooms of a lower rank, never a sibling
# or a higher one. The app's entry modules (Django's models/admin/apps, management commands,
# migrations) sit above every room.
RANK = {"engine": 0, "content": 1, "web": 2, "api": 2, "ehr": 2}
ENTRY = {"models", "admin", "apps", "__init__", "management", "migrations"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Absolute names of the checklist modules (or packages) a file imports."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            # ``from pkg import module`` is an arrow to the module.
            found.update(f"{target}.{a.name}" for a in node.names)
    return {n for n in found if n == "checklist" or n.startswith("checklist.")}


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in APP.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges[name] = {t for t in imports_of(path) if t in modules and t != name}
    return edges


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def upward(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for source, targets in edges.items():
        here = room(source)
        if here in ENTRY or here not in RANK:
            continue
        for target in targets:
            there = room(target)
            # Importing the app package itself (``checklist``) names no room.
            if there == "__init__" and target == "checklist":
                continue
            if there == here:
                continue
            if there in ENTRY or there not in RANK or RANK[there] >= RANK[here]:
                wrong.append(f"{source} -> {target}")
    return sorted(wrong)


def test_every_module_is_in_a_room_or_is_an_entry_point():
    strays = sorted(m for m in graph() if room(m) not in RANK and room(m) not in ENTRY)
    assert strays == [], f"modules outside the rooms of design.md §2: {strays}"


def test_no_import_cycle_not_even_a_lazy_one():
    assert cycles(graph()) == []


def test_imports_point_down_only():
    assert upward(graph()) == []


def engine_imports_outside(files: dict[str, str]) -> list[str]:
    """Imports of engine modules (name -> source) that leave the standard library and the engine.

    Anything else (Django, ``poemsaid``, another room, a third-party package) would tie the
    engine to something it cannot be tested without; relative imports count by where they land.
    """
    allowed_top = set(sys.stdlib_module_names) | {"__future__"}
    outside = []
    for name, source in files.items():
        package = name.rpartition(".")[0] if not name.endswith("__init__") else name
        package = package.removesuffix(".__init__")
        for node in ast.walk(ast.parse(source)):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package
                    for _ in range(node.level - 1):
                        base = base.rpartition(".")[0]
                    names = [f"{base}.{node.module}" if node.module else base]
                else:
                    names = [node.module or ""]
            for n in names:
                inside = n == "checklist.engine" or n.startswith("checklist.engine.")
                if not inside and n.split(".")[0] not in allowed_top:
                    outside.append(f"{name} imports {n}")
    return outside


def test_the_engine_imports_only_the_standard_library_and_itself():
    files = {}
    for path in (APP / "engine").rglob("*.py"):
        name = module_name(path) + (".__init__" if path.name == "__init__.py" else "")
        files[name] = path.read_text(encoding="utf-8")
    assert engine_imports_outside(files) == []


@pytest.mark.parametrize(
    "source",
    [
        "import django.utils",
        "from poemsaid import settings",
        "import orjson",
        "from checklist.content import models",
        "from ...content import models",  # relative, but it lands in content
        "def lazy():\n    from checklist.web import views",
    ],
)
def test_the_engine_check_catches_what_leaves_the_engine(source):
    assert engine_imports_outside({"checklist.engine.diagnosis.x": source}) != []


def test_the_engine_check_lets_the_standard_library_and_the_engine_through():
    source = "from __future__ import annotations\nimport re\nfrom fractions import Fraction\n"
    source += "from ..inputs import Case\nfrom checklist.engine.units import x\n"
    assert engine_imports_outside({"checklist.engine.diagnosis.x": source}) == []


@pytest.mark.parametrize(
    ("edges", "expect_cycles", "expect_upward"),
    [
        # A ring inside the engine, such as the lazy import that once closed eleven modules.
        ({"checklist.engine.a": {"checklist.engine.b"}, "checklist.engine.b": {"checklist.engine.a"}}, 1, 0),
        # The content room reaching up into the web room.
        ({"checklist.content.x": {"checklist.web.y"}, "checklist.web.y": set()}, 0, 1),
        # Siblings: the EHR room importing the web room.
        ({"checklist.ehr.x": {"checklist.web.y"}, "checklist.web.y": set()}, 0, 1),
        # Down is fine.
        ({"checklist.web.y": {"checklist.content.x"}, "checklist.content.x": {"checklist.engine.z"}}, 0, 0),
    ],
)
def test_the_checks_catch_a_cycle_and_an_upward_arrow(edges, expect_cycles, expect_upward):
    """The two checks above can fail: each is shown a graph with the fault it looks for."""
    assert len(cycles(edges)) == expect_cycles
    assert len(upward(edges)) == expect_upward
