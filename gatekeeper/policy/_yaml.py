"""YAML that remembers where everything came from.

``yaml.safe_load`` forgets line numbers, yet every policy error must name
``file:line``. :func:`load_yaml` builds the same plain data, except that
mappings are :class:`LineDict` and sequences :class:`LineList`, which know the
line of each key / item. :func:`locate` walks a pydantic error location through
that data to the closest line.

Two YAML 1.1 surprises are also switched off here because policies are full of
clock times: ``16:00`` would be the base-60 integer 960, so scalars with a colon
that resolve to numbers are kept as strings. Duplicate keys, which safe_load
silently lets the last one win, are errors.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gatekeeper.errors import ConfigError


class LineDict(dict[Any, Any]):
    """A mapping that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]


class LineList(list[Any]):
    """A sequence that knows its own line and the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _PurePolicyLoader(yaml.SafeLoader):
    """SafeLoader that records line numbers and refuses duplicate keys."""


# libyaml's parser (when PyYAML was built with it) is ~10x faster and gives the
# same nodes and marks; the constructors below are shared, so the data and the
# line numbers are identical either way (tests load every policy with both).
_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None)
if _CSafeLoader is not None:

    class _CPolicyLoader(_CSafeLoader):  # type: ignore[misc]
        """CSafeLoader that records line numbers and refuses duplicate keys."""

    LOADERS: tuple[Any, ...] = (_CPolicyLoader, _PurePolicyLoader)
else:  # pragma: no cover - PyYAML built without libyaml
    LOADERS = (_PurePolicyLoader,)

_PolicyLoader = _PurePolicyLoader  # the constructors' type; any loader in LOADERS works


def _construct_mapping(loader: _PolicyLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise _DuplicateKey(problem="unhashable key", problem_mark=key_node.start_mark)
        if key in result:
            raise _DuplicateKey(problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _PolicyLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_number(loader: _PolicyLoader, node: yaml.ScalarNode) -> Any:
    # "16:00" is a clock time in a policy, never the base-60 number 960.
    if ":" in str(node.value):
        return str(node.value)
    if node.tag.endswith(":int"):
        return loader.construct_yaml_int(node)
    return loader.construct_yaml_float(node)


for _loader in LOADERS:
    _loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
    _loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
    _loader.add_constructor("tag:yaml.org,2002:int", _construct_number)
    _loader.add_constructor("tag:yaml.org,2002:float", _construct_number)


def load_yaml(path: Path, loader: Any = None) -> Any:
    """Parse ``path`` as YAML with line numbers kept; errors become :class:`ConfigError`.

    ``loader`` is one of :data:`LOADERS` (default: the fastest available).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("policy file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read policy file: {exc}", where=str(path)) from exc
    try:
        # every loader is a SafeLoader subclass: no arbitrary objects
        return yaml.load(text, Loader=loader or LOADERS[0])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"invalid YAML: {problem}", where=where) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", where=str(path)) from exc


def line_of(data: Any, default: int = 1) -> int:
    """The line a mapping or sequence starts on, or ``default`` for plain values."""
    return getattr(data, "line", 0) or default


def locate(data: Any, loc: Sequence[int | str], default: int = 1) -> int:
    """The line of the deepest part of ``loc`` (a pydantic error location) found in ``data``."""
    line = line_of(data, default)
    node = data
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line, node = node.key_lines[part], node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.item_lines[part], node[part]
        else:
            break
    return line


_MAPPING, _LIST = "a mapping", "a list"
_SHAPES = {
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
    "dict_type": _MAPPING,
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "frozen_set_type": _LIST,
}


def validation_error(
    exc: ValidationError,
    path: Path,
    data: Any,
    *,
    at: tuple[int | str, ...] = (),
    label: str = "",
) -> ConfigError:
    """A :class:`ConfigError` for ``exc`` pointing at the line of the offending field.

    ``data`` is the raw YAML that holds the validated value at ``at``; ``label``
    prefixes the field name in the message (e.g. ``gates.followup_watch.``).
    """
    first = exc.errors()[0]
    line = locate(data, (*at, *first["loc"]), default=line_of(data))
    field = (label + ".".join(str(part) for part in first["loc"])).rstrip(".")
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] in _SHAPES:  # pydantic's words name our classes ("instance of Waiver")
        message = f"expected {_SHAPES[first['type']]}, found {describe_found(first.get('input'))}"
    elif isinstance(first.get("input"), str | int | float) and first["type"] != "missing":
        got = repr(first["input"])
        message += "" if got in message else f", got {got}"
    return ConfigError(message, where=f"{path}:{line}, {field or 'top level'}")


def describe_found(data: Any) -> str:
    """What a YAML document or value is, in the words of a policy author."""
    if data is None:
        return "nothing"
    if isinstance(data, dict):
        return "a mapping"
    if isinstance(data, list):
        return "a list"
    if isinstance(data, bool):
        return "a boolean"
    if isinstance(data, int | float):
        return "a number"
    if isinstance(data, str):
        return "a string"
    return "a date" if hasattr(data, "isoformat") else "a value"
