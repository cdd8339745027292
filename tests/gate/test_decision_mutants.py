"""Mutation check of the decision rules: every mutant of the rules must be caught.

Each mutant changes one thing in ``gatekeeper/engine/decision.py`` or in the
ranking part of ``gatekeeper/engine/report.py`` (``DECISION_RANK``,
``EXIT_*``, ``EXIT_CODES``, ``most_severe``, ``Report.decision``, ``Report.exit_code``):

- a comparison negated (``==``/``!=``, ``<``/``>=``, ``>``/``<=``, ``in``/``not in``,
  ``is``/``is not``), ``and``/``or`` swapped, a ``not`` dropped;
- a decision or mode literal replaced by another one;
- a number of the ranking / exit-code table changed;
- two adjacent ``if`` statements of a function swapped (the order of the rules).

Each mutant is compiled and loaded as a module of its own, then
:func:`tests.gate.decision_rules.check_rules` must fail against it.
"""

from __future__ import annotations

import ast
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gatekeeper.engine import decision, report
from tests.gate.decision_rules import check_rules

ENGINE = Path(decision.__file__).parent
NEGATE: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt,
    ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip
LITERALS = {"pass": "warn", "warn": "block", "block": "error", "error": "pass", "shadow": "warn"}
# report.py: only the ranking is mutated
RANKING = {"DECISION_RANK", "EXIT_CODES", "EXIT_PASS", "EXIT_BLOCK", "EXIT_CONFIG", "EXIT_ERROR"}
RANKING_FUNCTIONS = {"most_severe", "decision", "exit_code"}

Mutation = Callable[[ast.AST], None]


def _skipped(tree: ast.AST) -> set[int]:
    """Nodes a mutation cannot change the behaviour of: docstrings, annotations, f-strings."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                mark(first)
        if isinstance(node, ast.arg):
            mark(node.annotation)
        if isinstance(node, ast.FunctionDef):
            mark(node.returns)
        if isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        if isinstance(node, ast.JoinedStr):
            mark(node)
    return skip


def _scope(tree: ast.Module, name: str) -> list[ast.AST]:
    """The parts of the module that are mutated."""
    if name == "decision":
        return [tree]
    parts: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in RANKING_FUNCTIONS:
            parts.append(node)
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in RANKING for t in targets):
                parts.append(node)
    return parts


def _points(tree: ast.Module, name: str) -> Iterator[tuple[str, Callable[[ast.Module], None]]]:
    """(description, mutate) for every mutation point; ``mutate`` edits a fresh copy."""
    skip = _skipped(tree)
    nodes = [n for part in _scope(tree, name) for n in ast.walk(part) if id(n) not in skip]
    index = {id(n): i for i, n in enumerate(ast.walk(tree))}

    def at(i: int) -> Callable[[ast.Module], ast.AST]:
        return lambda copy: list(ast.walk(copy))[i]

    for node in nodes:
        find = at(index[id(node)])
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):

                def negate(copy: ast.Module, find: Callable = find, k: int = k) -> None:  # type: ignore[type-arg]
                    target = find(copy)
                    target.ops[k] = NEGATE[type(target.ops[k])]()

                yield f"{name}:{line} negate {type(op).__name__}", negate
        elif isinstance(node, ast.BoolOp):

            def swap_bool(copy: ast.Module, find: Callable = find) -> None:  # type: ignore[type-arg]
                target = find(copy)
                target.op = ast.Or() if isinstance(target.op, ast.And) else ast.And()

            yield f"{name}:{line} and/or", swap_bool
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):

            def drop_not(copy: ast.Module, find: Callable = find) -> None:  # type: ignore[type-arg]
                target = find(copy)
                target.op = ast.UAdd()  # +bool keeps truthiness

            yield f"{name}:{line} drop not", drop_not
        elif isinstance(node, ast.Constant) and node.value in LITERALS:

            def literal(copy: ast.Module, find: Callable = find) -> None:  # type: ignore[type-arg]
                target = find(copy)
                target.value = LITERALS[target.value]

            yield f"{name}:{line} {node.value!r}->{LITERALS[node.value]!r}", literal
        elif isinstance(node, ast.Constant) and type(node.value) is int and name == "report":

            def number(copy: ast.Module, find: Callable = find) -> None:  # type: ignore[type-arg]
                target = find(copy)
                value = target.value
                target.value = value - 1 if value > 0 else 1

            yield f"{name}:{line} number {node.value}", number
        if isinstance(node, ast.FunctionDef):
            body = node.body
            for k in range(len(body) - 1):
                if isinstance(body[k], ast.If) and isinstance(body[k + 1], ast.If):

                    def swap(copy: ast.Module, find: Callable = find, k: int = k) -> None:  # type: ignore[type-arg]
                        stmts = find(copy).body
                        stmts[k], stmts[k + 1] = stmts[k + 1], stmts[k]

                    yield f"{name}:{line} swap ifs {k},{k + 1}", swap


def _load(name: str, tree: ast.Module, replacing: dict[str, types.ModuleType]) -> types.ModuleType:
    """Compile ``tree`` as a fresh module; ``replacing`` stands in for modules it imports."""
    module = types.ModuleType(f"_mutant_{name}")
    module.__file__ = str(ENGINE / f"{name}.py")
    saved = {k: sys.modules.get(k) for k in (*replacing, module.__name__)}
    sys.modules.update(replacing)
    sys.modules[module.__name__] = module
    try:
        exec(compile(ast.fix_missing_locations(tree), module.__file__, "exec"), module.__dict__)
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value
    return module


def _mutants() -> list[tuple[str, str, Callable[[ast.Module], None]]]:
    found = []
    for name in ("decision", "report"):
        tree = ast.parse((ENGINE / f"{name}.py").read_text(encoding="utf-8"))
        found += [(name, desc, mutate) for desc, mutate in _points(tree, name)]
    return found


MUTANTS = _mutants()


def _modules(
    name: str | None = None, mutate: Callable[[ast.Module], None] | None = None
) -> tuple[types.ModuleType, types.ModuleType]:
    trees = {
        n: ast.parse((ENGINE / f"{n}.py").read_text(encoding="utf-8"))
        for n in ("decision", "report")
    }
    if name is not None and mutate is not None:
        mutate(trees[name])
    report_mod = _load("report", trees["report"], {})
    decision_mod = _load("decision", trees["decision"], {"gatekeeper.engine.report": report_mod})
    return decision_mod, report_mod


def test_the_unmutated_copies_pass_the_rules() -> None:
    check_rules(*_modules())


def test_every_kind_of_mutation_is_present() -> None:
    kinds = {desc.split(" ", 1)[1].split(" ")[0] for _, desc, _ in MUTANTS}
    assert {"negate", "and/or", "number", "swap"} <= kinds
    assert any("'block'->'error'" in desc for _, desc, _ in MUTANTS)
    assert sum(1 for name, _, _ in MUTANTS if name == "report") >= 8
    assert len(MUTANTS) >= 40


@pytest.mark.parametrize(("name", "desc", "mutate"), MUTANTS, ids=[m[1] for m in MUTANTS])
def test_mutant_is_caught(name: str, desc: str, mutate: Callable[[ast.Module], None]) -> None:
    try:
        modules = _modules(name, mutate)
    except Exception:  # a mutant that does not even load is caught
        return
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure of the rules catches it
        check_rules(*modules)


def test_the_real_modules_are_the_ones_mutated() -> None:
    assert decision.__file__ == str(ENGINE / "decision.py")
    assert report.__file__ == str(ENGINE / "report.py")
