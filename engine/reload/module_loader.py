"""Strategy source into fresh module objects: the *prepare* step of a reload.

Nothing here uses `importlib.reload` or the import system's bytecode cache:

- each file in the reload scope is read once as bytes, hashed, and compiled
  from those very bytes (`compile(source, path, "exec")`), so an edit that keeps
  the size and mtime of the file is still seen, and the hash always describes
  the code that runs;
- every load builds a fresh package object (`strategies`, `__path__ = [dir]`)
  and fresh submodule objects, executed leaves first and registered in
  `sys.modules` under their real names while they execute, so
  `from strategies import ta_engine` inside `strategy.py` binds the new
  `ta_engine` (the fresh package only has the attributes set by this load).
  The one exception is `reuse`: the caller may hand over module objects of the
  running version for a prefix of the dependency order whose sources did not
  change; those are put in the fresh package as they are, and every module
  from the first changed one on is executed again (see `reusable_prefix`);
- `ModuleTransaction` snapshots the `strategies*` entries of `sys.modules` (and
  the scope attributes of the package they hold) and puts them back exactly on
  any failure.

The modules run with a builtins dict of their own whose `__import__` refuses
the engine, the TUI, strategy modules outside the reload scope and scope
modules that load later in dependency order: such imports would otherwise go
through the ordinary import system (cached bytecode, never reloaded) or give a
strategy a handle on engine state.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import stat
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from engine.reload.code_version import LoadedModule
from engine.reload.guard import StrategyFailure, text_of

PACKAGE = "strategies"
_PREFIX = PACKAGE + "."
# Top-level packages strategy code may never import (docs/strategy-api.md).
FORBIDDEN_IMPORTS = ("engine", "foresight_tui")
MAX_MODULE_BYTES = 16 * 2**20  # far beyond any strategy module; a file this size is a mistake


class StrategyLoadError(Exception):
    """Strategy code that does not load or does not pass its checks.

    `file` and `line` point at the offending source where they are known;
    `phase` says which step refused it (read, compile, import, api, smoke).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        phase: str = "import",
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.phase = phase
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.file or ""
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class SourceFile:
    """One module's source as read for one load attempt."""

    name: str  # short name inside the package, e.g. "ta_engine"
    path: Path
    source: bytes = field(repr=False)
    sha256: str

    @property
    def qualname(self) -> str:
        return f"{PACKAGE}.{self.name}"


def read_sources(directory: Path, scope: Sequence[str]) -> tuple[SourceFile, ...]:
    """Read every module of the scope once; what is hashed is what gets compiled."""
    files = []
    for name in scope:
        path = directory / f"{name}.py"
        try:
            source = _read_module(path)
        except OSError as exc:
            raise StrategyLoadError(
                f"cannot read module {PACKAGE}.{name}: {exc.strerror or exc}", file=str(path), phase="read"
            ) from exc
        files.append(SourceFile(name, path, source, hashlib.sha256(source).hexdigest()))
    return tuple(files)


def _read_module(path: Path) -> bytes:
    """A module file's bytes. Opened without blocking and checked on the descriptor: a FIFO or a
    device put in a module's place would hold the cycle loop for as long as nothing writes."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"{path.name} is not a regular file")
        if info.st_size > MAX_MODULE_BYTES:
            raise OSError(errno.EFBIG, f"{path.name} is larger than {MAX_MODULE_BYTES // 2**20} MiB")
        # Read to the end at the file's own size: a buffer of the limit's size for every read
        # fragments the heap under the sources each kept version holds, and the RSS grows.
        with open(fd, "rb", closefd=False) as module:
            return module.read()
    finally:
        os.close(fd)


def version_of(pairs: Iterable[tuple[str, str]]) -> str:
    """Short hash naming a set of modules: over (name, sha256) in dependency order."""
    digest = hashlib.sha256()
    for name, sha in pairs:
        digest.update(f"{name} {sha}\n".encode())
    return digest.hexdigest()[:12]


class CodeCache:
    """The last code object compiled for each file, keyed by the sha256 of its source.

    Compiling is deterministic in (source bytes, file name, flags), so bytes that
    hash the same need not be compiled again: unlike `.pyc` validation by mtime
    and size, a content hash cannot serve stale code. One entry per file.
    """

    def __init__(self) -> None:
        self._codes: dict[str, tuple[str, Any]] = {}

    def get(self, src: SourceFile) -> Any | None:
        hit = self._codes.get(str(src.path))
        return hit[1] if hit is not None and hit[0] == src.sha256 else None

    def put(self, src: SourceFile, code: Any) -> None:
        self._codes[str(src.path)] = (src.sha256, code)


def compile_sources(sources: Sequence[SourceFile], cache: CodeCache | None = None) -> dict[str, Any]:
    """Compile every file before executing any, so a syntax error anywhere costs nothing."""
    codes = {}
    for src in sources:
        cached = cache.get(src) if cache is not None else None
        if cached is not None:
            codes[src.name] = cached
            continue
        try:
            # dont_inherit: this module's own `from __future__` flags must not leak in.
            codes[src.name] = compile(src.source, str(src.path), "exec", dont_inherit=True)
        except SyntaxError as exc:  # includes IndentationError, TabError
            raise StrategyLoadError(
                f"{type(exc).__name__}: {exc.msg}", file=str(src.path), line=exc.lineno, phase="compile"
            ) from exc
        except (ValueError, UnicodeDecodeError) as exc:  # null bytes, bad encoding cookie
            raise StrategyLoadError(f"{type(exc).__name__}: {exc}", file=str(src.path), phase="compile") from exc
        if cache is not None:
            cache.put(src, codes[src.name])
    return codes


def locate(exc: BaseException, files: Iterable[str]) -> tuple[str | None, int | None]:
    """The last traceback frame inside one of `files`: where the strategy went wrong."""
    if isinstance(exc, SyntaxError) and exc.filename in set(files):
        return exc.filename, exc.lineno
    wanted = set(files)
    found: tuple[str | None, int | None] = (None, None)
    # A guarded call's failure carries the traceback from inside the strategy.
    tb: TracebackType | None = exc.trace if isinstance(exc, StrategyFailure) else exc.__traceback__
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename in wanted:
            found = (frame.f_code.co_filename, lineno)
    return found


def describe_exception(exc: BaseException) -> str:
    if isinstance(exc, StrategyFailure):
        return str(exc)  # already says what happened: timed out, SystemExit raised, ...
    text = text_of(lambda: str(exc)).strip().splitlines()
    first = text[0] if text else ""
    more = " ..." if len(text) > 1 else ""
    return f"{type(exc).__name__}: {first}{more}" if first else type(exc).__name__


def load_error(exc: BaseException, files: Iterable[str], phase: str, prefix: str = "") -> StrategyLoadError:
    file, line = locate(exc, files)
    error = StrategyLoadError(f"{prefix}{describe_exception(exc)}", file=file, line=line, phase=phase)
    error.__cause__ = exc
    return error


class _SourceLoader(importlib.abc.Loader):
    """`__loader__` of a loaded strategy module: serves its source, refuses importlib.reload."""

    def __init__(self, source: bytes) -> None:
        self._source = source

    def get_source(self, fullname: str) -> str:
        return importlib.util.decode_source(self._source)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        raise ImportError(f"{module.__name__} is loaded by the engine's reload manager; importlib.reload does not apply")


class ImportGuard:
    """The builtins namespace strategy modules run with, whose `__import__` enforces
    the rules, and a record of which modules bound the package object itself.

    `import strategies` or `import strategies.ta_engine` (no fromlist) binds the
    package object: a module holding it reaches its siblings through the package's
    attributes at call time, so it must never serve a later version, whose package
    is a new object (`binds_package`, filled while a load executes; the loader
    clears it before each load).
    """

    def __init__(self, scope: Sequence[str]) -> None:
        self.scope = tuple(scope)
        self.binds_package: set[str] = set()
        self.namespace = guarded_builtins(self.scope, self.binds_package)


def guarded_builtins(scope: Sequence[str], binds_package: set[str] | None = None) -> dict[str, Any]:
    """A builtins namespace for strategy modules whose `__import__` enforces the rules.

    When `binds_package` is given, the name of every module whose import
    statement returns the package object to it (no fromlist) is added to it."""
    allowed = frozenset(scope)
    real_import = builtins.__import__

    def check(target: str, importer: str) -> None:
        top = target.partition(".")[0]
        if top in FORBIDDEN_IMPORTS:
            raise ImportError(f"{importer} may not import {target}: strategies never import the engine or the TUI")
        if top != PACKAGE or target == PACKAGE:
            return
        sub = target.split(".")[1]
        if sub not in allowed:
            raise ImportError(f"{target} is not in the reload scope ({', '.join(scope)})")
        package = sys.modules.get(PACKAGE)
        if not isinstance(getattr(package, sub, None), ModuleType):
            raise ImportError(
                f"{importer} imports {target}, which loads after it in dependency order ({' -> '.join(scope)})"
            )

    def strategy_import(
        name: str,
        globals: dict[str, Any] | None = None,  # noqa: A002 - the signature of __import__
        locals: Any = None,  # noqa: A002
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> ModuleType:
        importer = (globals or {}).get("__name__", "?")
        target = name
        if level:
            package = (globals or {}).get("__package__") or ""
            target = importlib.util.resolve_name("." * level + name, package)
        check(target, importer)
        if target == PACKAGE:
            for item in fromlist or ():
                if item != "*":
                    check(f"{PACKAGE}.{item}", importer)
        if binds_package is not None and not fromlist and (target == PACKAGE or target.startswith(_PREFIX)):
            binds_package.add(importer)
        return real_import(name, globals, locals, fromlist or (), level)

    namespace = dict(builtins.__dict__)
    namespace["__import__"] = strategy_import
    return namespace


def new_package(directory: Path) -> ModuleType:
    """A fresh `strategies` package object. Its `__init__.py`, if any, is not run:
    the package is only the namespace holding the modules of the scope."""
    package = ModuleType(PACKAGE, "Strategy modules loaded by the engine's reload manager.")
    spec = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(directory)]
    package.__spec__ = spec
    package.__path__ = [str(directory)]
    package.__package__ = PACKAGE
    package.__loader__ = None
    return package


def new_module(src: SourceFile, namespace: dict[str, Any]) -> ModuleType:
    module = ModuleType(src.qualname)
    loader = _SourceLoader(src.source)
    spec = importlib.machinery.ModuleSpec(src.qualname, loader, origin=str(src.path))
    spec.has_location = True
    module.__spec__ = spec
    module.__loader__ = loader
    module.__file__ = str(src.path)
    module.__cached__ = None  # type: ignore[attr-defined]
    module.__package__ = PACKAGE
    module.__dict__["__builtins__"] = namespace
    return module


def reusable_prefix(
    sources: Sequence[SourceFile], running: dict[str, tuple[str, ModuleType, bool]] | None
) -> dict[str, ModuleType]:
    """The running module objects a new load may keep: the longest prefix of the
    dependency order whose sources are unchanged and whose modules may be reused.

    `running` maps a name to (sha256, module object, reusable) of the running
    version. A module can only import modules before it in the order when it is
    executed (the import guard refuses the others), so a module before the first
    changed one holds nothing of a changed module; every module from the first
    changed one on is executed again, so no dependant of a changed module keeps a
    binding to its old version. A module that bound the package object is not
    reusable (it would reach its siblings through the old package), and neither is
    anything after it.
    """
    kept: dict[str, ModuleType] = {}
    if not running:
        return kept
    for src in sources:
        entry = running.get(src.name)
        if entry is None or entry[0] != src.sha256 or not entry[2]:
            break
        kept[src.name] = entry[1]
    return kept


def execute(
    sources: Sequence[SourceFile],
    directory: Path,
    guard: ImportGuard,
    codes: dict[str, Any] | None = None,
    reuse: dict[str, ModuleType] | None = None,
    timed: Callable[..., Any] | None = None,
) -> tuple[ModuleType, dict[str, ModuleType], frozenset[str]]:
    """Execute the modules into fresh objects, leaves first (compiling first unless `codes` are given).

    `reuse` (from `reusable_prefix`) names module objects of the running version
    that go into the fresh package unchanged instead of being executed again.
    `timed(fn, *args)` runs each module's top level (under the guard's load budget, see
    engine/reload/guard.py); without it the top level runs unguarded.
    Returns the fresh package, every module by name, and the names of the
    modules executed here that may not be reused by a later load (they bound
    the package object).

    Must run inside a `ModuleTransaction`: it leaves the new package and modules
    in `sys.modules` (that is what lets them import each other), and only the
    transaction can put the old ones back.
    """
    reuse = reuse or {}
    codes = codes if codes is not None else compile_sources([s for s in sources if s.name not in reuse])
    files = [str(src.path) for src in sources]
    package = new_package(directory)
    sys.modules[PACKAGE] = package
    modules: dict[str, ModuleType] = {}
    guard.binds_package.clear()
    for src in sources:
        module = reuse.get(src.name)
        if module is None:
            module = new_module(src, guard.namespace)
            sys.modules[src.qualname] = module
            try:
                if timed is not None:
                    timed(exec, codes[src.name], module.__dict__)
                else:
                    exec(codes[src.name], module.__dict__)
            except (Exception, SystemExit) as exc:
                raise load_error(exc, files, "import", prefix=f"while importing {src.qualname}: ") from exc
            if any(value is package for value in module.__dict__.values()):
                guard.binds_package.add(src.qualname)  # got hold of it some other way than an import
        else:
            sys.modules[src.qualname] = module
        setattr(package, src.name, module)
        modules[src.name] = module
    not_reusable = frozenset(
        src.name for src in sources if src.name not in reuse and src.qualname in guard.binds_package
    )
    return package, modules, not_reusable


def install(package: ModuleType, modules: dict[str, ModuleType]) -> None:
    """Point `sys.modules` at an already loaded set (used by rollback)."""
    sys.modules[PACKAGE] = package
    for name, module in modules.items():
        sys.modules[f"{PACKAGE}.{name}"] = module


class ModuleTransaction:
    """What `sys.modules` says about `strategies` now, and a way to go back to it exactly."""

    def __init__(self, scope: Sequence[str]) -> None:
        modules = sys.modules
        self._saved = {k: modules[k] for k in _our_keys()}
        package = self._saved.get(PACKAGE)
        missing = object()
        self._package_attrs = (
            {name: package.__dict__.get(name, missing) for name in scope} if package is not None else {}
        )
        self._missing = missing

    def restore(self) -> None:
        for key in _our_keys():
            if key not in self._saved:
                del sys.modules[key]
        sys.modules.update(self._saved)
        package = self._saved.get(PACKAGE)
        for name, value in self._package_attrs.items():
            if value is self._missing:
                package.__dict__.pop(name, None)  # type: ignore[union-attr]
            else:
                package.__dict__[name] = value  # type: ignore[union-attr]


class SharedModules:
    """The namespaces of the modules a candidate reuses from the running code, as they were.

    The modules before the first changed one are not loaded again: the candidate imports the
    running code's own objects. Anything it assigns into one (at import, in its checks) would
    change the running code under its unchanged version, so `restore` puts every such name back
    and says which it found changed."""

    def __init__(self, modules: Mapping[str, ModuleType]) -> None:
        self._saved = {name: (module, dict(module.__dict__)) for name, module in modules.items()}

    def restore(self) -> list[str]:
        """`module.name` of each global that was added, removed or rebound, put back as it was."""
        missing = object()
        touched = []
        for name, (module, saved) in self._saved.items():
            now = module.__dict__
            changed = sorted(k for k in saved.keys() | now.keys() if saved.get(k, missing) is not now.get(k, missing))
            if changed:
                touched += [f"{name}.{key}" for key in changed]
                now.clear()
                now.update(saved)
        return touched


def shared_modules(candidate: Iterable[LoadedModule], running: Iterable[LoadedModule]) -> dict[str, ModuleType]:
    """The candidate's modules that are the running code's own objects (reused, not loaded again)."""
    ours = {id(m.module) for m in running}
    return {m.name: m.module for m in candidate if id(m.module) in ours}


def shared_change(touched: list[str]) -> str:
    """What `SharedModules.restore` found, in words."""
    modules = "modules it shares" if len({t.split(".")[0] for t in touched}) > 1 else "a module it shares"
    return (
        f"assigned {', '.join(touched[:5])}{' ...' if len(touched) > 5 else ''}: {modules} with the running code "
        "(unchanged modules are not loaded again), so the running code would change under its own version; put back"
    )


def _our_keys() -> list[str]:
    """The `strategies` entries of sys.modules (a snapshot of the keys: the dict may change)."""
    return [k for k in list(sys.modules) if k.startswith(PACKAGE) and (k == PACKAGE or k.startswith(_PREFIX))]
