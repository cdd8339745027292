"""``@frozen`` classes behave as ``@dataclass(frozen=True)`` would: ==, hash, repr, replace."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any

import pytest

import gatekeeper
from gatekeeper._frozen import frozen


def _frozen_classes() -> list[type[Any]]:
    found: dict[str, type[Any]] = {}
    for info in pkgutil.walk_packages(gatekeeper.__path__, "gatekeeper."):
        if info.name.startswith(("gatekeeper.server", "gatekeeper.__main__")):
            continue  # the server needs its extra; it defines no @frozen class
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == module.__name__
                and getattr(value.__eq__, "__qualname__", "") == "_eq.<locals>.__eq__"
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


FROZEN = _frozen_classes()


def _twin(cls: type[Any]) -> type[Any]:
    """A standard ``@dataclass(frozen=True)`` with the same fields as ``cls``."""
    specs = []
    for f in dataclasses.fields(cls):
        options: dict[str, Any] = {"repr": f.repr, "hash": f.hash, "compare": f.compare}
        if f.default is not dataclasses.MISSING:
            options["default"] = f.default
        if f.default_factory is not dataclasses.MISSING:
            options["default_factory"] = f.default_factory
        specs.append((f.name, f.type, dataclasses.field(**options)))
    twin = dataclasses.make_dataclass(cls.__name__, specs, frozen=True)
    twin.__qualname__ = cls.__qualname__
    return twin


def _values(cls: type[Any], offset: int) -> dict[str, Any]:
    # dataclasses check no types: distinct hashable values exercise every field
    return {f.name: (i + offset, f"v{i}") for i, f in enumerate(dataclasses.fields(cls))}


def test_the_check_path_classes_are_found() -> None:
    names = {f"{c.__module__}.{c.__qualname__}" for c in FROZEN}
    assert {"gatekeeper.engine.report.Report", "gatekeeper.store.base.Problem"} <= names
    assert len(FROZEN) >= 20


@pytest.mark.parametrize("cls", FROZEN, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_a_frozen_class_behaves_as_a_frozen_dataclass(cls: type[Any]) -> None:
    twin = _twin(cls)
    values = _values(cls, 0)
    ours, theirs = cls(**values), twin(**values)
    assert repr(ours) == repr(theirs)
    assert hash(ours) == hash(theirs)
    assert ours == cls(**values) and theirs == twin(**values)
    assert (ours == object()) is (theirs == object()) is False
    assert ours.__eq__(object()) is theirs.__eq__(object()) is NotImplemented
    for f in dataclasses.fields(cls):  # each field changed alone: equal as the twin says
        other = {**values, f.name: ("changed",)}
        assert (ours == cls(**other)) is (theirs == twin(**other)), f.name
        assert (hash(ours) == hash(cls(**other))) is (hash(theirs) == hash(twin(**other)))
    changed = dataclasses.replace(ours, **_values(cls, 100))
    assert repr(changed) == repr(dataclasses.replace(theirs, **_values(cls, 100)))
    first = dataclasses.fields(cls)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(ours, first, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(ours, first)
    assert [f.name for f in dataclasses.fields(cls)] == [f.name for f in dataclasses.fields(twin)]
    assert cls.__match_args__ == twin.__match_args__


def test_fields_left_out_of_compare_hash_and_repr_are_left_out() -> None:
    @frozen
    class Sample:
        a: int
        b: int = dataclasses.field(default=0, compare=False)
        c: int = dataclasses.field(default=0, repr=False)
        d: int = dataclasses.field(default=0, hash=False)

    @dataclasses.dataclass(frozen=True)
    class Standard:
        a: int
        b: int = dataclasses.field(default=0, compare=False)
        c: int = dataclasses.field(default=0, repr=False)
        d: int = dataclasses.field(default=0, hash=False)

    for args in [(1, 2, 3, 4), (1, 9, 3, 4), (1, 2, 9, 4), (1, 2, 3, 9)]:
        ours, theirs = Sample(*args), Standard(*args)
        assert repr(ours).replace("Sample", "X") == repr(theirs).replace("Standard", "X")
        assert hash(ours) == hash(theirs)
        assert (ours == Sample(1, 2, 3, 4)) is (theirs == Standard(1, 2, 3, 4))


def test_a_recursive_value_is_shown_as_dots() -> None:
    @frozen
    class Box:
        items: list[Any]

    box = Box([])
    box.items.append(box)
    assert repr(box) == "test_a_recursive_value_is_shown_as_dots.<locals>.Box(items=[...])"
