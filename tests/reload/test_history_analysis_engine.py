"""The strategy's optional per-asset step (`analyse_history`) in the engine: once per asset per
cycle through the registry, the same decisions as without it, its errors handled like
`evaluate`'s, checked and smoke-tested by a reload, swapped with the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.market.feeds import SimFeed
from engine.market.market import Market
from engine.market.quotes import SLOW
from engine.reload.manager import ReloadManager
from engine.trading.slots import SlotSpec
from engine.trading.state import StateManager
from engine.trading.trader import CycleOutcome, Trader
from strategies.strategy import ASSETS
from tests.reload.helpers import append, line_of

SPECS = tuple(SlotSpec(asset, window_s) for asset in ASSETS for window_s in (300, 900))


def loaded(directory: Path, **kwargs: Any) -> ReloadManager:
    m = ReloadManager(directory, **kwargs)
    assert m.load_initial().ok
    return m


def trader(step_s: float = 2.5) -> Trader:
    # The slow (lagged) maker: against it the shipped strategy bets within these 400 cycles, so
    # entries and resolutions are compared too; the fair maker leaves it no edge to bet on.
    market = Market(SimFeed(ASSETS, seed=4), ASSETS, (300, 900), step_s=step_s, seed=4, maker=SLOW)
    market.start(0.0)
    return Trader(SPECS, StateManager(Path("/nonexistent/state.json")), market)


def cycle(t: Trader, evaluator: Any, params: Any, step: int) -> CycleOutcome:
    t.market.advance(step * t.market.step_s)
    t.ensure_slots()
    outcome = t.evaluate(evaluator, params, lambda slot_id: True)
    t.resolve(params, outcome)
    return outcome


class WithoutStep:
    """The registry as an evaluator that does not know the per-asset step."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def evaluate(self, view: Any, params: Any) -> Any:
        assert view.history_analysis is None
        return self.registry.evaluate(view, params)

    def describe_error(self, exc: BaseException) -> str:
        return self.registry.describe_error(exc)


class Counting:
    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self.analysed: list[int] = []  # ids of the histories analysed
        self.histories: set[int] = set()  # ids of the histories evaluated

    def evaluate(self, view: Any, params: Any) -> Any:
        assert view.history_analysis is not None and view.history_analysis.history is view.history
        self.histories.add(id(view.history))
        return self.registry.evaluate(view, params)

    def analyse_history(self, history: Any, step_s: float, params: Any) -> Any:
        self.analysed.append(id(history))
        return self.registry.analyse_history(history, step_s, params)

    def describe_error(self, exc: BaseException) -> str:
        return self.registry.describe_error(exc)


def signals(t: Trader) -> dict[str, Any]:
    return {slot_id: (s.signal, s.position, s.error) for slot_id, s in t.slots.items()}


def test_the_trader_decides_the_same_with_and_without_the_step(shipped_dir: Path) -> None:
    """Two identical markets, 400 cycles (window boundaries, entries, resolutions): every
    slot's signal, position and error the same to the bit; the step ran once per asset per cycle."""
    m = loaded(shipped_dir)
    assert m.registry.current.analyse_history is not None
    params = m.registry.params_model()
    with_step, without = trader(), trader()
    counting = Counting(m.registry)
    decided = entered = 0
    for step in range(1, 401):
        counting.analysed.clear()
        counting.histories.clear()
        a = cycle(with_step, counting, params, step)
        b = cycle(without, WithoutStep(m.registry), params, step)
        assert signals(with_step) == signals(without)
        assert (a.entered, a.resolutions, a.errors) == (b.entered, b.resolutions, b.errors)
        assert len(counting.analysed) == len(set(counting.analysed)) == len(counting.histories)
        decided += sum(s.signal is not None for s in with_step.slots.values())
        entered += len(a.entered)
    assert decided > 1000 and entered > 0


def test_an_error_in_the_step_is_each_slot_of_that_asset_s_error(shipped_dir: Path) -> None:
    m = loaded(shipped_dir)
    params = m.registry.params_model()
    t = trader()

    class Failing(Counting):
        def analyse_history(self, history: Any, step_s: float, params: Any) -> Any:
            if history is t._history_of_eth:
                raise ValueError("no ETH today")
            return super().analyse_history(history, step_s, params)

    original = t._history

    def history(asset: str) -> Any:
        h = original(asset)
        if asset == "ETH":
            t._history_of_eth = h  # type: ignore[attr-defined]
        return h

    t._history = history  # type: ignore[method-assign]
    for step in range(1, 60):
        outcome = cycle(t, Failing(m.registry), params, step)
    assert sorted(outcome.errors) == ["ETH-15m: ValueError: no ETH today", "ETH-5m: ValueError: no ETH today"]
    for slot_id, slot in t.slots.items():
        if slot_id.startswith("ETH-"):
            assert slot.error == "ValueError: no ETH today" and slot.signal is None
        else:
            assert slot.error is None and slot.signal is not None


def test_a_strategy_without_the_step_runs_as_before(fixture_dir: Path) -> None:
    m = loaded(fixture_dir)
    assert m.registry.current.analyse_history is None
    assert m.registry.analyse_history((1.0, 2.0), 1.0, m.registry.params_model()) is None
    t = trader()
    outcome = cycle(t, m.registry, m.registry.params_model(), 1)
    assert outcome.errors == []


PROBATION = """

_analyse_before = analyse_history


def analyse_history(history, history_step_s, params):
    if history_step_s == 1.0:
        raise ValueError("broken analysis")  # probation
    return _analyse_before(history, history_step_s, params)
"""


def test_an_error_in_the_step_after_a_reload_rolls_back_by_itself(shipped_dir: Path) -> None:
    """The smoke snapshot's spacing is 2.5 s: the fault shows only in the live cycles (1 s)."""
    m = loaded(shipped_dir, probation_cycles=3)
    good = m.registry.current
    path = shipped_dir / "strategy.py"
    append(path, PROBATION)
    assert m.reload().ok and m.registry.current.analyse_history is not None
    t = trader(step_s=1.0)
    outcome = cycle(t, m.registry, m.registry.params_model(), 1)
    line = line_of(path, "# probation")
    assert len(outcome.errors) == len(SPECS)
    assert all(e.endswith(f"{path}:{line}: ValueError: broken analysis") for e in outcome.errors)
    rolled = m.report_cycle(outcome.errors)
    assert rolled is not None and rolled.kind == "auto_rollback" and m.registry.current is good
    assert cycle(t, m.registry, m.registry.params_model(), 2).errors == []


def test_a_reload_swaps_the_step_with_the_rest(fixture_dir: Path) -> None:
    """The fixture strategy has no step; a reload adds one (its result reaches the views), a
    rollback takes it away again."""
    m = loaded(fixture_dir)
    assert m.registry.current.analyse_history is None
    append(fixture_dir / "strategy.py", "\n\ndef analyse_history(history, history_step_s, params):\n    return ('analysed', len(history))\n")
    assert m.reload().ok and m.registry.current.analyse_history is not None
    params = m.registry.params_model()
    seen = []

    class Seeing(WithoutStep):
        def evaluate(self, view: Any, params: Any) -> Any:
            seen.append(view.history_analysis)
            return self.registry.evaluate(view, params)

        def analyse_history(self, history: Any, step_s: float, params: Any) -> Any:
            return self.registry.analyse_history(history, step_s, params)

    t = trader()
    assert cycle(t, Seeing(m.registry), params, 1).errors == []
    assert seen and all(a == ("analysed", len(t.market.history["BTC"])) for a in seen)
    assert m.rollback().ok and m.registry.current.analyse_history is None
    seen.clear()
    assert cycle(t, Seeing(m.registry), m.registry.params_model(), 2).errors == []
    assert seen and all(a is None for a in seen)


def _refused(m: ReloadManager, path: Path, line: int | None, text: str) -> None:
    current = m.registry.current
    for outcome in (m.check(), m.reload()):
        assert not outcome.ok and outcome.ack_result == "rejected", outcome
        assert text in outcome.error, outcome.error
        assert outcome.error_file == str(path) and outcome.error_line == line, outcome.error
        assert outcome.error.startswith(f"{path}:{line}: " if line else f"{path}: ")
    assert m.registry.current is current


def test_a_step_that_is_not_callable_is_refused(shipped_dir: Path) -> None:
    m = loaded(shipped_dir)
    path = shipped_dir / "strategy.py"
    append(path, "\n\nanalyse_history = 3\n")
    _refused(m, path, None, "analyse_history is not callable")


def test_a_step_with_the_wrong_signature_is_refused(shipped_dir: Path) -> None:
    m = loaded(shipped_dir)
    path = shipped_dir / "strategy.py"
    append(path, "\n\ndef analyse_history(history):  # one argument\n    return None\n")
    _refused(m, path, line_of(path, "# one argument"), "cannot be called as analyse_history(history, history_step_s, params)")


def test_a_step_that_raises_in_the_smoke_evaluation_is_refused(shipped_dir: Path) -> None:
    m = loaded(shipped_dir)
    path = shipped_dir / "strategy.py"
    append(path, PROBATION.replace("history_step_s == 1.0", "history[-1] > 1000"))
    # evaluate without the analysis runs the step itself: that is where the smoke meets the error
    _refused(m, path, line_of(path, "# probation"), "smoke evaluation of BTC-5m at 15s of 300s raised ValueError: broken analysis")


WRONG_WITH_ANALYSIS = """

_evaluate_before = evaluate


def evaluate(view, params):  # v2
    if getattr(view, "history_analysis", None) is not None and CONDITION:
        view = view._replace(up_ask=min(0.99, view.up_ask + 0.01))  # wrong with the analysis only
    return _evaluate_before(view, params)
"""


def test_a_strategy_deciding_otherwise_with_the_analysis_is_refused(shipped_dir: Path) -> None:
    m = loaded(shipped_dir)
    path = shipped_dir / "strategy.py"
    append(path, WRONG_WITH_ANALYSIS.replace("CONDITION", "True"))
    _refused(m, path, line_of(path, "# v2"), "decides otherwise with analyse_history's result than without it")


def test_the_smoke_evaluation_compares_the_views_of_the_overrides_too(shipped_dir: Path) -> None:
    m = loaded(shipped_dir)
    append(shipped_dir / "strategy.py", WRONG_WITH_ANALYSIS.replace("CONDITION", "params.vol_lookback == 50"))
    assert m.check().ok  # the defaults (60) do not show it
    outcome = m.check({"vol_lookback": 50})
    assert not outcome.ok and "decides otherwise" in outcome.error, outcome.error
