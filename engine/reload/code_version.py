"""A code version: the strategy modules of one load, their hashes, their entry points."""

from __future__ import annotations

import dataclasses
import functools
import linecache
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from engine.strategy_api.params import frozen_model

# Parameters the engine itself reads from the values in force (docs/strategy-api.md).


ENTRY_MODULE = "strategy"
# The optional per-asset step (docs/strategy-api.md): analyse_history(history, history_step_s, params).
ANALYSE = "analyse_history"


@dataclass(frozen=True)
class LoadedModule:
    name: str
    path: Path
    sha256: str
    loaded_at: str  # ISO 8601, UTC: when this module object was executed
    module: ModuleType = dataclasses.field(repr=False)
    source: bytes = dataclasses.field(repr=False, default=b"")
    # False when the module bound the package object: a later version must execute it again.
    reusable: bool = dataclasses.field(default=True, compare=False)

    @functools.cached_property
    def linecache_entry(self) -> tuple[int, None, list[str], str]:
        """What `publish_source` puts in linecache (an mtime of None is never re-checked)."""
        text = self.source.decode("utf-8", errors="replace")
        return (len(text), None, text.splitlines(True), str(self.path))


@dataclass(frozen=True)
class CodeVersion:
    """One complete, checked set of strategy modules."""

    version: str
    modules: tuple[LoadedModule, ...]
    package: ModuleType = dataclasses.field(repr=False)
    # Params.model_json_schema(), computed once by the check (read-only: do not mutate).
    params_schema: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False, compare=False)
    # Runs strategy code that validates parameters under the load budget (set by the reload manager).
    params_guard: Any = dataclasses.field(default=None, repr=False, compare=False)

    def module(self, name: str) -> ModuleType:
        for loaded in self.modules:
            if loaded.name == name:
                return loaded.module
        raise KeyError(name)

    @functools.cached_property  # looked up for every slot every cycle
    def strategy(self) -> ModuleType:
        return self.module(ENTRY_MODULE)

    @functools.cached_property
    def declared_params(self) -> type[BaseModel]:
        """The strategy's own Params class."""
        return self.strategy.Params  # type: ignore[no-any-return]

    @functools.cached_property
    def params_model(self) -> type[BaseModel]:
        """What the engine builds the values in force from: the strategy's Params, frozen, so
        that no call can change them for itself or for the slots after it."""
        return frozen_model(self.declared_params, self.params_guard)

    @functools.cached_property
    def analyse_history(self) -> Any:
        """The strategy's optional per-asset step, or None: looked up once per version."""
        step = getattr(self.strategy, ANALYSE, None)
        return step if callable(step) else None

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(str(m.path) for m in self.modules)

    def shas(self) -> dict[str, str]:
        return {m.name: m.sha256 for m in self.modules}

    def module_objects(self) -> dict[str, ModuleType]:
        return {m.name: m.module for m in self.modules}

    def __iter__(self) -> Iterator[LoadedModule]:
        return iter(self.modules)

    def publish_source(self) -> None:
        """Make tracebacks show the source this version was compiled from, even
        after the file on disk is edited (an mtime of None is never re-checked)."""
        for loaded in self.modules:
            linecache.cache[str(loaded.path)] = loaded.linecache_entry


def changed_modules(old: dict[str, str] | None, new: dict[str, str]) -> tuple[str, ...]:
    """Names (in dependency order) whose source differs between two versions."""
    if old is None:
        return tuple(new)
    return tuple(name for name, sha in new.items() if old.get(name) != sha)


# ------------------------------------------------------------------ the API check


def first_line(obj: Any, source: bytes = b"") -> int | None:
    """Where a function or class is defined. Classes are looked up in `source`, the
    bytes that were compiled (the file on disk or linecache may hold other text)."""
    code = getattr(obj, "__code__", None)
    if code is not None:
        return int(code.co_firstlineno)
    name = getattr(obj, "__name__", None)
    if isinstance(obj, type) and name and source:
        pattern = re.compile(rf"^\s*class\s+{re.escape(name)}\b")
        for number, text in enumerate(source.decode("utf-8", errors="replace").splitlines(), 1):
            if pattern.match(text):
                return number
    return None
