"""A faster ``__init__`` for frozen slots dataclasses, the engine's value objects."""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, TypeVar

T = TypeVar("T")

_NOT_GIVEN = object()


def slot_init(cls: type[T]) -> type[T]:
    """Give a frozen slots dataclass an ``__init__`` that stores each field through its slot.

    Apply it above ``@dataclass(frozen=True, slots=True)``. A frozen dataclass has to store
    its fields past its own raising ``__setattr__``; the standard library does it with
    ``object.__setattr__``, about 150 ns a field. An evaluation builds a dozen such objects,
    and that was a fifth of its instructions (529k -> 425k per evaluation when measured
    without ``frozen``). Each slot's own descriptor stores the same value in about a third
    of the time (529k -> 473k). Same signature, defaults and default factories; still
    frozen, hashable and a dataclass, so ``dataclasses.fields`` and the OpenAPI generation
    see no difference. The code is generated once, at import, as ``dataclasses`` does.
    """
    # What this __init__ does not do, it refuses rather than skips.
    if hasattr(cls, "__post_init__") or any(not f.init for f in fields(cls)):  # type: ignore[arg-type]
        raise TypeError(f"slot_init: {cls.__name__} has __post_init__ or an init=False field")
    namespace: dict[str, Any] = {"_NOT_GIVEN": _NOT_GIVEN}
    params: list[str] = []
    body: list[str] = []
    for f in fields(cls):  # type: ignore[arg-type]
        name = f.name
        namespace[f"_set_{name}"] = getattr(cls, name).__set__
        if f.default is not MISSING:
            namespace[f"_default_{name}"] = f.default
            params.append(f"{name}=_default_{name}")
        elif f.default_factory is not MISSING:
            namespace[f"_factory_{name}"] = f.default_factory
            params.append(f"{name}=_NOT_GIVEN")
            body.append(f"    if {name} is _NOT_GIVEN:\n        {name} = _factory_{name}()\n")
        else:
            params.append(name)
        body.append(f"    _set_{name}(self, {name})\n")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("".join(body) or "    pass\n")
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
