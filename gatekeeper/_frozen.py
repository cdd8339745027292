"""``@frozen``: a frozen dataclass whose ``__eq__``, ``__hash__`` and ``__repr__`` are not compiled.

On Python 3.11 ``@dataclass(frozen=True)`` writes six methods as source text
and compiles each with ``exec`` when the class is defined, at every start of
the process: ~0.8M instructions each, ~25 classes on the ``gatekeeper check``
path, a measurable part of a command that lives a fraction of a second
(docs/performance.md). ``@frozen`` lets the standard library generate
``__init__``, ``__setattr__`` and ``__delattr__`` (the parts that depend on
defaults, factories and field order) and gives the class the other three as
shared functions over its fields, with the standard library's meaning:

- ``__eq__``: the same class, and equal tuples of the fields that compare;
  otherwise ``NotImplemented``;
- ``__hash__``: the hash of the tuple of the fields that hash (``hash=None``
  means: if they compare);
- ``__repr__``: ``ClassName(field=value!r, ...)`` over the fields shown, with
  ``...`` for a recursive reference.

``tests/core/test_frozen.py`` holds every such class to a standard frozen
dataclass of the same fields: same ``==``, ``hash``, ``repr`` and
``dataclasses.replace``.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True)
def frozen(cls: type[T]) -> type[T]:
    """``@dataclass(frozen=True)`` with ``__eq__``, ``__hash__`` and ``__repr__`` not compiled."""
    cls = dataclasses.dataclass(frozen=True, repr=False, eq=False)(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    compared = tuple(f.name for f in fields if f.compare)
    hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
    shown = tuple(f.name for f in fields if f.repr)
    setattr(cls, "__eq__", _eq(compared))  # noqa: B010 (a dunder set on a class, not an instance)
    setattr(cls, "__hash__", _hash(hashed))  # noqa: B010
    setattr(cls, "__repr__", _repr(shown))  # noqa: B010
    return cls


def _eq(names: tuple[str, ...]) -> Callable[[Any, object], Any]:
    def __eq__(self: Any, other: object) -> Any:
        if other.__class__ is self.__class__:
            return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)
        return NotImplemented

    return __eq__


def _hash(names: tuple[str, ...]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(tuple(getattr(self, n) for n in names))

    return __hash__


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{self.__class__.__qualname__}({shown})"

    return __repr__
