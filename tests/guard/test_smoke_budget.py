"""The smoke evaluation's time budget follows the machine's and the operator's budgets.

On a loaded or slow machine the shipped strategy's 32-view smoke took 220 ms of a fixed 200:
the demo's engine refused to start (exit 4) on code that runs fine live. A strategy that takes
a few milliseconds a call, well inside the per-call budget, must start and reload; the operator
can still tighten the smoke budget, and the refusal then names the flag that sets it.
"""

from __future__ import annotations

from pathlib import Path

from tests.guard.strategy_faults import copy_strategies, write_faulty
from tests.guard.test_live_failures import ctl
from tests.support.engine_proc import EngineProcess

# 5 ms a call: the smoke's 32 views, each evaluated with and without the history analysis, take
# about 320 ms; one live call takes 5 ms of its 250 ms budget.
SLOW_CALLS = "_time.sleep(0.005)"


def test_a_strategy_a_few_ms_a_call_starts_and_reloads(engine_factory, tmp_path: Path) -> None:
    strategies = copy_strategies(tmp_path / "strategies")
    write_faulty(strategies, SLOW_CALLS)
    engine: EngineProcess = engine_factory("--strategies-path", str(strategies))
    engine.wait_cycles(2)

    write_faulty(strategies, SLOW_CALLS + "\n# another version")
    reloaded = ctl(engine.state_dir, "reload")
    assert reloaded.returncode == 0, reloaded
    assert engine.status().code.version != engine.first_status.code.version


def test_a_tightened_smoke_budget_refuses_and_names_its_flag(engine_factory, tmp_path: Path) -> None:
    strategies = copy_strategies(tmp_path / "strategies")
    engine: EngineProcess = engine_factory("--strategies-path", str(strategies), "--smoke-budget", "0.1")
    running = engine.first_status.code.version

    write_faulty(strategies, SLOW_CALLS)
    checked = ctl(engine.state_dir, "check")
    assert checked.returncode == 1, checked
    assert "over its time budget" in checked.stderr and "--smoke-budget" in checked.stderr
    assert engine.status().code.version == running
