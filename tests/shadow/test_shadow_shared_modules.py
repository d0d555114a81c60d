"""A shadow's candidate never changes the running code, even through a module they share.

In process. The candidate changes strategy.py only, so it reuses the running code's own
ta_engine and momentum_strategy module objects; on the live market (not the smoke test's
snapshot, which its checks saw) its evaluate rebinds a function of ta_engine that the
running code calls too.
"""

from __future__ import annotations

from pathlib import Path

from engine.config import EngineConfig
from tests.guard.strategy_faults import copy_strategies, original
from tests.support.engine_proc import ROOT
from tests.support.in_process_engine import opened

REBINDS_LIVE = '''

_decide = evaluate


def evaluate(view, params):
    if view.history_step_s != 2.5:  # not the smoke snapshot: live views
        ta_engine.sample_volatility = lambda returns: None
    return _decide(view, params)
'''


def test_a_candidate_that_rebinds_a_shared_module_is_dropped_and_the_running_code_keeps_its_own(tmp_path: Path) -> None:
    strategies = copy_strategies(tmp_path / "strategies")
    (strategies / "strategy.py").write_text(original(strategies) + REBINDS_LIVE)
    config = EngineConfig(
        state_dir=tmp_path / "state", speed=300.0, cycle_interval_s=0.05, seed=7,
        strategies_path=ROOT / "strategies", shadow_room=1000.0, call_budget_s=30.0,
    )  # fmt: skip
    with opened(config) as engine:
        for _ in range(20):
            engine.cycle()
        running = engine.reloader.registry.current.module("ta_engine")
        own = running.sample_volatility
        engine.reloader.strategies_dir = strategies
        assert engine.reloader.check(overrides={}).ok  # its checks never saw the live market
        engine.shadow.start(engine.reloader.checked, aa=False, cycles=None, overrides={})
        engine.cycle()
        assert running.sample_volatility is own, "the candidate changed the running code's ta_engine"
        report = engine.shadow.last_report
        assert engine.shadow.current is None and report is not None and report.state == "dropped", report
        assert "ta_engine.sample_volatility" in report.reason and "shares with the running code" in report.reason
        for _ in range(3):
            engine.cycle()
        assert any(slot.signal is not None and slot.signal.confidence for slot in engine.manager.state.slots.values())
