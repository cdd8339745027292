"""The console entry point: the CLI with a cheaper start and a cheaper exit.

A ``gatekeeper check`` lives for a fraction of a second, so interpreter
housekeeping is a measurable part of it (see docs/performance.md):

- the cyclic GC runs every 700 allocations by default and so runs dozens of
  times while pydantic builds its schemas, finding nothing to free; a high
  first threshold keeps it for long runs that do make garbage;
- pydantic looks for plugins through ``importlib.metadata`` (entry points of
  every installed distribution) at the first model; the gate uses none, and
  ``PYDANTIC_DISABLE_PLUGINS`` is pydantic's own switch (set only if the user
  has not set it);
- at exit the interpreter tears every module down and collects ~30k objects.
  Once output is flushed and ``atexit`` handlers have run, nothing of that is
  observable, so the process ends with ``os._exit`` and the same exit code.

Only the real ``main`` decides the exit code; this wrapper never changes it,
except for the interpreter's own rule that an unflushable stdout is exit 120.
"""

from __future__ import annotations

import gc
import os
import sys

_GC_THRESHOLD = 100_000
_FLUSH_FAILED_EXIT = 120  # what CPython returns when the final flush fails


def _flush() -> bool:
    ok = True
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except Exception:  # a closed or broken pipe; CPython reports it as exit 120
            ok = False
    return ok


def _exit_now(code: int) -> None:
    """Run atexit handlers, flush, then end the process without teardown."""
    import atexit
    import threading

    if threading.active_count() > 1:  # live non-main threads: let Python join them
        sys.exit(code)
    atexit._run_exitfuncs()
    if not _flush():  # CPython's Py_Exit: a failed final flush makes any status 120
        code = _FLUSH_FAILED_EXIT
    os._exit(code)


_PLUGIN_LOADER = "pydantic.plugin._loader"


def _skip_plugin_discovery() -> None:
    """With plugins disabled, never import pydantic's loader (it imports importlib.metadata).

    pydantic honours ``PYDANTIC_DISABLE_PLUGINS`` only after importing its
    loader, whose module level imports ``importlib.metadata`` (~15 ms). A stand-in
    answers ``get_plugins()`` with no plugins, exactly what the real one returns
    when disabled; any other name loads the real module.
    """
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in ("__all__", "1", "true"):
        return
    if _PLUGIN_LOADER in sys.modules:
        return
    import types

    stub = types.ModuleType(_PLUGIN_LOADER)

    def get_plugins() -> tuple[()]:
        return ()

    def __getattr__(name: str) -> object:  # anything else: the real module
        import importlib

        if name.startswith("__"):  # the import system probes __path__ and the like
            raise AttributeError(name)

        if sys.modules.get(_PLUGIN_LOADER) is stub:
            del sys.modules[_PLUGIN_LOADER]
        return getattr(importlib.import_module(_PLUGIN_LOADER), name)

    stub.get_plugins = get_plugins  # type: ignore[attr-defined]
    stub.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[_PLUGIN_LOADER] = stub


def run() -> None:
    gc.set_threshold(_GC_THRESHOLD, *gc.get_threshold()[1:])
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    _skip_plugin_discovery()
    from gatekeeper.cli import main

    code = main()
    _exit_now(code)
