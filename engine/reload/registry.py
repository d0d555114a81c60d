"""The one door from the engine to strategy code.

The engine never binds strategy names at import time: it holds one
`StrategyRegistry` for its whole life and calls `registry.evaluate(...)`. A
reload replaces `registry.current` (and `sys.modules`) in one step at a cycle
boundary, so the very next call runs the new code.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import linecache
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.json_schema import GenerateJsonSchema

from engine.reload.guard import Budgets, StrategyGuard
from engine.reload.module_loader import StrategyLoadError, describe_exception, load_error, locate
from engine.strategy_api.market_view import MarketView
from engine.strategy_api.params import frozen_model

SUPPORTED_API_VERSIONS = frozenset({1})
# Parameters the engine itself reads from the values in force (docs/strategy-api.md).
ENGINE_PARAMS = ("stake", "cooldown_s", "max_open_positions", "win_rate_window")
DECISION_FIELDS = ("direction", "confidence", "path", "enter", "prob_up", "edge", "reason")
ENTRY_MODULE = "strategy"
# The optional per-asset step (docs/strategy-api.md): analyse_history(history, history_step_s, params).
ANALYSE = "analyse_history"
MAX_TEXT = 500


class InvalidDecision(ValueError):
    """A strategy returned something that is not a valid `Decision`."""

    def __init__(self, message: str, *, slot_id: str = "", file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.slot_id = slot_id
        self.file = file
        self.line = line
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        super().__init__(f"{where}invalid decision{f' for {slot_id}' if slot_id else ''}: {message}")


class StaleParamsError(TypeError):
    """`evaluate` was given parameters of a code version that no longer runs."""


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
        return frozen_model(self.declared_params)

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


def check_api(version: CodeVersion, timed: Any = None) -> dict[str, Any]:
    """The new set exposes what the engine calls; raise `StrategyLoadError` otherwise.

    Returns the JSON Schema of its Params (the check had to build it anyway). `timed(fn,
    *args)` runs the strategy's own code (Params and its validators) under a budget."""
    timed = timed or (lambda fn, *args: fn(*args))
    module = version.strategy
    path = str(module.__file__)
    source = next(m.source for m in version.modules if m.name == ENTRY_MODULE)

    def fail(message: str, obj: Any = None) -> StrategyLoadError:
        line = first_line(obj, source) if obj is not None else None
        return StrategyLoadError(message, file=path, line=line, phase="api")

    api_version = getattr(module, "API_VERSION", None)
    if api_version is None:
        raise fail("API_VERSION is missing")
    if api_version not in SUPPORTED_API_VERSIONS:
        raise fail(f"API_VERSION {api_version!r} is not supported (this engine speaks {sorted(SUPPORTED_API_VERSIONS)})")

    params_model = getattr(module, "Params", None)
    if not (isinstance(params_model, type) and issubclass(params_model, BaseModel)):
        raise fail("Params is missing or is not a pydantic model")
    missing = [name for name in ENGINE_PARAMS if name not in params_model.model_fields]
    if missing:
        raise fail(f"Params does not declare {', '.join(missing)} (the engine reads them)", params_model)
    try:
        timed(params_model)
        schema = timed(functools.partial(params_model.model_json_schema, schema_generator=ParamsJsonSchema))
        json.dumps(schema)
    except Exception as exc:  # noqa: BLE001 - any failure is the strategy's, reported with its location
        error = load_error(exc, version.files, "api", prefix="Params with its defaults: ")
        if error.file is None:
            error = fail(f"Params with its defaults: {describe_exception(exc)}", params_model)
        raise error from exc

    evaluate = getattr(module, "evaluate", None)
    if not callable(evaluate):
        raise fail("evaluate(view, params) is missing or not callable")
    if not _takes_positional(evaluate, 2):
        raise fail("evaluate cannot be called as evaluate(view, params)", evaluate)

    if hasattr(module, ANALYSE):  # optional: checked only when the strategy defines it
        analyse = getattr(module, ANALYSE)
        if not callable(analyse):
            raise fail(f"{ANALYSE} is not callable (it is optional: define it as a function or not at all)")
        if not _takes_positional(analyse, 3):
            raise fail(f"{ANALYSE} cannot be called as {ANALYSE}(history, history_step_s, params)", analyse)

    decision = getattr(module, "Decision", None)
    if not (isinstance(decision, type) and dataclasses.is_dataclass(decision)):
        raise fail("Decision is missing or is not a dataclass")
    names = {f.name for f in dataclasses.fields(decision)}
    absent = [name for name in DECISION_FIELDS if name not in names]
    if absent:
        raise fail(f"Decision lacks the fields {', '.join(absent)}", decision)
    return schema


def _takes_positional(function: Any, count: int) -> bool:
    """False only when `function`'s signature refuses `count` positional arguments: one with
    no signature to inspect (a builtin) is left to the smoke evaluation to judge."""
    try:
        inspect.signature(function).bind(*[None] * count)
    except TypeError:
        return False
    except ValueError:
        pass
    return True


_PLAIN_SCALARS = (str, int, bool, type(None))


def _plain_json(value: Any) -> bool:
    """A value pydantic's JSON mode writes as it is (a tuple or list: as a list of its items)."""
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is tuple or kind is list:
        return all(type(x) in _PLAIN_SCALARS or (type(x) is float and math.isfinite(x)) for x in value)
    return False


class ParamsJsonSchema(GenerateJsonSchema):
    """pydantic's own JSON Schema generator, with a shortcut for plain defaults.

    To write a field's default, pydantic builds a `TypeAdapter` for the default's
    type and dumps the value in JSON mode, a large part of the schema's cost.
    A default of exactly str, int, bool, None or a finite float (or a tuple or
    list of those) dumps to itself (a list for a sequence) whatever the model's
    config, so it is written directly; any other default goes through pydantic
    as before. The result is
    the same schema (tests/reload/test_registry_schema.py compares them).
    """

    def encode_default(self, dft: Any) -> Any:
        if _plain_json(dft):
            return list(dft) if type(dft) is tuple else (dft[:] if type(dft) is list else dft)
        return super().encode_default(dft)


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


# ------------------------------------------------------- validating one decision


def _probability(value: Any) -> bool:
    return _number(value) and 0.0 <= float(value) <= 1.0


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_decision(decision: Any) -> None:
    """Raise `InvalidDecision` unless `decision` is None or a well-formed Decision."""
    if decision is None or _plainly_valid(decision):
        return
    if isinstance(decision, dict):
        # A dict's keys are not its attributes: saying "has no field 'direction'" of a dict that has
        # that key reads as a lie.
        raise InvalidDecision(
            f"evaluate returned a dict (keys {', '.join(map(str, decision)) or 'none'}); return a Decision "
            f"(or an object with the attributes {', '.join(DECISION_FIELDS)}): a dict's keys are not read"
        )
    values = {}
    for name in DECISION_FIELDS:
        try:
            values[name] = getattr(decision, name)
        except AttributeError:
            raise InvalidDecision(f"{type(decision).__name__} has no field {name!r}") from None
    problems = []
    if values["direction"] not in ("up", "down") or not isinstance(values["direction"], str):
        problems.append(f"direction={values['direction']!r} is not 'up' or 'down'")
    for name in ("confidence", "prob_up"):
        if not _probability(values[name]):
            problems.append(f"{name}={values[name]!r} is not a finite number in [0, 1]")
    if not _number(values["edge"]):
        problems.append(f"edge={values['edge']!r} is not a finite number")
    if not isinstance(values["enter"], bool):
        problems.append(f"enter={values['enter']!r} is not a bool")
    if not (isinstance(values["path"], str) and 0 < len(values["path"]) <= 64):
        problems.append(f"path={values['path']!r} is not a short non-empty str")
    if not (isinstance(values["reason"], str) and len(values["reason"]) <= MAX_TEXT):
        problems.append(f"reason is not a str of at most {MAX_TEXT} characters")
    if problems:
        raise InvalidDecision("; ".join(problems))


def _plainly_valid(decision: Any) -> bool:
    """The common case in one expression (it runs for every slot every cycle): floats in
    range (a NaN fails every comparison), exact str and bool. Anything else, ints included,
    goes through the checks above, which also say what is wrong."""
    try:
        direction, confidence, prob_up, edge = decision.direction, decision.confidence, decision.prob_up, decision.edge
        enter, path, reason = decision.enter, decision.path, decision.reason
    except AttributeError:
        return False
    return (
        type(direction) is str
        and (direction == "up" or direction == "down")
        and type(confidence) is float
        and 0.0 <= confidence <= 1.0
        and type(prob_up) is float
        and 0.0 <= prob_up <= 1.0
        and type(edge) is float
        and -math.inf < edge < math.inf
        and type(enter) is bool
        and type(path) is str
        and 0 < len(path) <= 64
        and type(reason) is str
        and len(reason) <= MAX_TEXT
    )


# --------------------------------------------------------------------- registry


class StrategyRegistry:
    """Holds the running code version (and the previous one) and calls it."""

    def __init__(self, guard: StrategyGuard | None = None, budgets: Budgets | None = None) -> None:
        self._current: CodeVersion | None = None
        self._previous: CodeVersion | None = None
        self.budgets = budgets or Budgets()
        self.guard = guard or StrategyGuard(self.budgets.grace_s)
        self._call = self.guard.call
        self._call_s = self.budgets.call_s

    @property
    def loaded(self) -> bool:
        return self._current is not None

    @property
    def current(self) -> CodeVersion:
        if self._current is None:
            raise RuntimeError("no strategy code loaded yet (ReloadManager.load_initial first)")
        return self._current

    @property
    def previous(self) -> CodeVersion | None:
        return self._previous

    @property
    def params_model(self) -> type[BaseModel]:
        return self.current.params_model

    @property
    def params_schema(self) -> dict[str, Any]:
        """The running Params' JSON Schema, built once per version (read-only)."""
        return self.current.params_schema

    @property
    def version(self) -> str:
        return self.current.version

    def swap(self, current: CodeVersion, previous: CodeVersion | None) -> None:
        """Only the reload manager calls this, together with the `sys.modules` swap."""
        self._current = current
        self._previous = previous

    def evaluate(self, view: MarketView, params: BaseModel) -> Any:
        """The running strategy's decision for one slot, validated.

        Exceptions from the strategy propagate unchanged (`describe_error` says
        where they come from); a malformed result raises `InvalidDecision`; a call past
        its budget raises `StrategyTimeout`, a SystemExit or other BaseException from
        the strategy `StrategyExit` (engine/reload/guard.py): all are ordinary Exceptions.
        """
        current = self.current
        if not isinstance(params, current.declared_params):
            raise _stale(params, current)
        decision = self._call(self._call_s, current.strategy.evaluate, view, params)
        try:
            validate_decision(decision)
        except InvalidDecision as exc:
            evaluate = current.strategy.evaluate
            raise InvalidDecision(
                exc.message,
                slot_id=getattr(view, "slot_id", ""),
                file=str(current.strategy.__file__),
                line=first_line(evaluate),
            ) from None
        return decision

    def analyse_history(self, history: Any, history_step_s: float, params: BaseModel) -> Any:
        """The running strategy's per-asset step for one asset's history, or None when it has none.

        The result goes to `evaluate` as the views' `history_analysis`; it is opaque to the
        engine (the decisions are validated). Exceptions propagate unchanged, as `evaluate`'s.
        """
        current = self.current
        analyse = current.analyse_history
        if analyse is None:
            return None
        if not isinstance(params, current.declared_params):
            raise _stale(params, current)
        return self._call(self._call_s, analyse, history, history_step_s, params)

    def describe_error(self, exc: BaseException) -> str:
        """`file:line: Type: message` for an exception raised by the running strategy."""
        if isinstance(exc, InvalidDecision):
            return str(exc)
        files = self.current.files if self._current is not None else ()
        file, line = locate(exc, files)
        text = _frozen_assignment(exc) or describe_exception(exc)
        if file is None:
            return text
        return f"{file}:{line}: {text}" if line is not None else f"{file}: {text}"


def _frozen_assignment(exc: BaseException) -> str | None:
    """pydantic's refusal of `params.x = ...` on the frozen values in force, said plainly."""
    if not isinstance(exc, ValidationError):
        return None
    errors = exc.errors()
    if not errors or errors[0].get("type") != "frozen_instance":
        return None
    name = ".".join(str(p) for p in errors[0].get("loc", ())) or "?"
    return (
        f"params are read-only (frozen): evaluate assigned params.{name}; the values in force are shared by "
        "every slot (use a local variable, or params.model_copy(update=...))"
    )


def _stale(params: BaseModel, current: CodeVersion) -> StaleParamsError:
    return StaleParamsError(
        f"params is a {type(params).__module__}.{type(params).__qualname__} that is not the running code's "
        f"Params (version {current.version}): re-validate the values after every code swap"
    )
