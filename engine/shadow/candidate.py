"""Calling candidate code beside the running code, and recording what the running code saw.

`CandidateEvaluator` is what a `Trader` calls for a candidate version (a shadow's,
a preview's): its own registry on the engine's guard, so every call is bounded and
validated as a live one, while the engine's registry keeps the running code.
`RecordingEvaluator` stands in for the engine's registry for one cycle and keeps
the view each slot was evaluated on, so a preview evaluates the candidate on
exactly those views.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from engine.reload.code_version import CodeVersion
from engine.reload.guard import Budgets, StrategyGuard
from engine.reload.registry import StrategyRegistry
from engine.strategy_api.market_view import MarketView


class CandidateFailed(Exception):
    """Not called: the candidate already failed in this cycle (one failure is enough to judge it,
    and a candidate that hangs must cost the cycle one call budget, not one per slot)."""

    kind = "exception"


class CandidateEvaluator:
    """A candidate version, called like the running one (the `Evaluator` a Trader takes).

    After its first failure in a cycle it is not called again until `new_cycle()`."""

    def __init__(self, version: CodeVersion, guard: StrategyGuard, budgets: Budgets) -> None:
        self.version = version
        self.registry = StrategyRegistry(guard, budgets)
        self.registry.swap(version, None)
        self.describe_error = self.registry.describe_error
        self.failed = False
        if version.analyse_history is None:
            self.analyse_history = None  # type: ignore[assignment,method-assign]

    def new_cycle(self) -> None:
        self.failed = False

    def evaluate(self, view: MarketView, params: BaseModel) -> Any:
        # Called for every slot of the book: the check and the failure's record spelled out
        # here rather than through `_call`, one call fewer a slot.
        if self.failed:
            raise CandidateFailed("not called: the candidate already failed in this cycle")
        try:
            return self.registry.evaluate(view, params)
        except Exception:
            self.failed = True
            raise

    def analyse_history(self, history: Any, history_step_s: float, params: BaseModel) -> Any:  # type: ignore[no-redef]
        return self._call(self.registry.analyse_history, history, history_step_s, params)

    def _call(self, fn: Any, *args: Any) -> Any:
        if self.failed:
            raise CandidateFailed("not called: the candidate already failed in this cycle")
        try:
            return fn(*args)
        except Exception:
            self.failed = True
            raise

    def params(self, overrides: dict[str, Any]) -> tuple[BaseModel, list[str]]:
        """The candidate's values in force: the operator's overrides it accepts, and what it drops."""
        from engine.strategy_api.params import revalidate

        params, _, dropped = revalidate(self.version.params_model, dict(overrides))
        return params, dropped


class RecordingEvaluator:
    """The engine's registry for one cycle, keeping each slot's view (`views`, by slot id)."""

    def __init__(self, registry: StrategyRegistry) -> None:
        self.registry = registry
        self.views: dict[str, MarketView] = {}
        self.describe_error = registry.describe_error
        self.analyse_history = registry.analyse_history

    def evaluate(self, view: MarketView, params: BaseModel) -> Any:
        self.views[view.slot_id] = view
        return self.registry.evaluate(view, params)
