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
- psycopg and psycopg_binary each ask ``importlib.metadata`` for their own
  version at import; stand-ins for their version modules read the same
  ``Version:`` line of the same METADATA files directly
  (``_skip_version_lookups``), so a ``check --backend postgres`` does not
  import ``importlib.metadata`` either;
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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import types
    from importlib.machinery import ModuleSpec

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

    # Live non-daemon threads: let Python join them, as its own exit does. Daemon
    # threads it never joins (a Postgres deadline's cancelled timer may still be
    # winding down here); they only end sooner.
    main = threading.main_thread()
    if any(t is not main and not t.daemon for t in threading.enumerate()):
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


# psycopg's and psycopg_binary's version modules, and their distributions.
_VERSION_MODULES = {"psycopg.version": "psycopg", "psycopg_binary.version": "psycopg-binary"}


def distribution_version(distribution: str, package_file: str | None) -> str:
    """``importlib.metadata.version(distribution)``, read from beside the package.

    Read from the ``Version:`` header of the one ``<name>-*.dist-info``
    directory beside the package (``package_file`` is its ``__init__.py``):
    the file ``importlib.metadata`` reads. Anything else (no such directory,
    two of them, no header) is left to ``importlib.metadata`` itself, with
    the psycopg version modules' own fallback.
    """
    prefix = distribution.replace("-", "_") + "-"
    if package_file:
        site = os.path.dirname(os.path.dirname(package_file))
        try:
            found = [
                name
                for name in os.listdir(site)
                if name.startswith(prefix) and name.endswith(".dist-info")
            ]
            if len(found) == 1:
                with open(os.path.join(site, found[0], "METADATA"), encoding="utf-8") as f:
                    for line in f:
                        if not line.strip():  # the end of the headers
                            break
                        if line.startswith("Version:"):
                            return line.removeprefix("Version:").strip()
        except OSError:
            pass
    from importlib import metadata

    try:  # what psycopg/version.py and psycopg_binary/version.py do
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "0.0.0.0"


class _VersionLoader:
    """Makes a version module that only sets ``__version__``, as psycopg's do."""

    def __init__(self, distribution: str) -> None:
        self.distribution = distribution

    def create_module(self, spec: ModuleSpec) -> None:
        return None  # the import system's own module object

    def exec_module(self, module: types.ModuleType) -> None:
        package = sys.modules.get(module.__name__.rpartition(".")[0])
        where = getattr(package, "__file__", None)
        module.__version__ = distribution_version(self.distribution, where)  # type: ignore[attr-defined]


class _VersionFinder:
    """Finds psycopg's and psycopg_binary's version modules; for any other name, nothing."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        distribution = _VERSION_MODULES.get(name)
        if distribution is None:
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(name, _VersionLoader(distribution))  # type: ignore[arg-type]


def _skip_version_lookups() -> None:
    """Stand in for ``psycopg.version`` and ``psycopg_binary.version``.

    Each only sets ``__version__``, through ``importlib.metadata`` (whose
    import, with email, zipfile and csv, costs more than the connection's
    set-up). A finder ahead of the others makes them, when psycopg imports
    them, with :func:`distribution_version`; until then it answers nothing,
    and nothing is done once psycopg is imported.
    """
    if "psycopg" in sys.modules or any(isinstance(f, _VersionFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _VersionFinder())


def run() -> None:
    gc.set_threshold(_GC_THRESHOLD, *gc.get_threshold()[1:])
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    _skip_plugin_discovery()
    _skip_version_lookups()
    from gatekeeper.cli import main

    code = main()
    _exit_now(code)
