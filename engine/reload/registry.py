"""The one door from the engine to strategy code.

The engine never binds strategy names at import time: it holds one
`StrategyRegistry` for its whole life and calls `registry.evaluate(...)`. A
reload replaces `registry.current` (and `sys.modules`) in one step at a cycle
boundary, so the very next call runs the new code.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from engine.reload.code_version import CodeVersion, first_line
from engine.reload.guard import Budgets, StrategyGuard
from engine.reload.module_loader import describe_exception, locate
from engine.strategy_api.decision import InvalidDecision, validate_decision
from engine.strategy_api.market_view import MarketView


class StaleParamsError(TypeError):
    """`evaluate` was given parameters of a code version that no longer runs."""


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
