"""A cycle with no room left for the shadow skips it, counted, and never the reverse.

In process (as benchmarks/cycle_time.py runs the engine): a cycle interval of 1 ms and
`--shadow-room 0.05` leave the shadow 50 us of each cycle, less than the live part of a
16-slot cycle takes: it skips every cycle, while its book still settles the windows that
end and the live cycle trades as before.
"""

from __future__ import annotations

from pathlib import Path

from engine.config import EngineConfig
from engine.contract.fileio import read_model
from engine.contract.models import STATUS_FILE, Status
from tests.guard.strategy_faults import copy_strategies, original
from tests.support.engine_proc import ROOT
from tests.support.in_process_engine import opened


def test_a_cycle_without_room_skips_the_shadow(tmp_path: Path) -> None:
    config = EngineConfig(
        state_dir=tmp_path / "state", speed=60_000.0, cycle_interval_s=0.001, seed=7,
        strategies_path=ROOT / "strategies", shadow_room=0.05, maker="slow",
    )  # fmt: skip
    with opened(config) as engine:
        for _ in range(40):
            engine.cycle()
        for _ in range(500):  # until a bet is open, for the book to copy
            if engine.manager.open_positions():
                break
            engine.cycle()
        assert engine.manager.open_positions()
        engine.shadow.start(None, aa=True, cycles=30, overrides={})
        resolved = engine.manager.state.resolved
        for _ in range(30):
            engine.cycle()
        report = engine.shadow.last_report
        assert report is not None and report.state == "ended" and report.cycles == 30
        assert report.skipped == 30 and report.compared == 0 and report.entries_shadow == 0
        assert report.entries_live > 0 and engine.manager.state.resolved > resolved  # the live book went on
        assert report.bets_live == engine.manager.state.resolved - resolved
        # Skipping, its book still settled the bets it held from the start (a copy of the live ones).
        assert 0 < report.bets_shadow <= report.bets_live


# The shipped strategy, slower only for its first 16 live calls: one stalled shadow cycle of
# 160 ms or more (a host stall, as a loaded machine has), then as fast as the live code.
STALL_ONCE = '''

import time as _time

_decide = evaluate
_stalled = [0]


def evaluate(view, params):
    if view.history_step_s != 2.5 and _stalled[0] < 16:  # not the smoke snapshot: live views
        _stalled[0] += 1
        _time.sleep(0.01)
    return _decide(view, params)
'''


def test_one_stalled_shadow_cycle_neither_keeps_it_skipped_nor_shows_stale_differences(tmp_path: Path) -> None:
    strategies = copy_strategies(tmp_path / "strategies")
    (strategies / "strategy.py").write_text(original(strategies) + STALL_ONCE)
    config = EngineConfig(
        state_dir=tmp_path / "state", speed=300.0, cycle_interval_s=0.05, seed=7,
        strategies_path=ROOT / "strategies", shadow_room=0.8,
    )  # fmt: skip
    with opened(config) as engine:
        for _ in range(20):
            engine.cycle()
        engine.reloader.strategies_dir = strategies  # the candidate: the same decisions, one stall
        assert engine.reloader.check(overrides={}).ok
        prepared = engine.reloader.checked
        engine.shadow.start(prepared, aa=False, cycles=80, overrides={})
        differing: list[tuple[int, list[str]]] = []
        for _ in range(80):
            engine.cycle()
            status = read_model(config.state_dir / STATUS_FILE, Status).value
            assert status is not None
            shadow = status.code.shadow
            assert shadow is not None
            if rows := [row.slot for row in shadow.slots if row.differs]:
                differing.append((shadow.cycles, rows))
        report = engine.shadow.last_report
        assert report is not None and report.state == "ended" and report.cycles == 80
        # It decides as the live code: no cycle, skipped or not, shows a slot differing.
        assert report.differ == 0 and not differing, differing
        # The stall cost it some cycles, not the rest of the shadow.
        assert report.skipped < 40 and report.compared > 16 * 40, (report.skipped, report.compared)


# A market start (a 15-minute boundary + 60 s) whose 21st and 22nd cycles (30 market seconds
# each) end no window: every slot is evaluated in them, so the stall is whole. Left to the
# clock, one start in ten ended the 5-minute windows in the 21st cycle, and those slots are
# settled there, not evaluated: half the stall.
QUIET_21ST_CYCLE = 1796198400.0 + 60


def test_a_new_shadow_is_not_judged_by_the_cost_of_the_one_it_replaced(tmp_path: Path) -> None:
    # The first shadow's candidate stalls its first cycle (160 ms, twice the cycle's room);
    # the A/A shadow started right after it is the running code, as fast as the live cycle.
    strategies = copy_strategies(tmp_path / "strategies")
    (strategies / "strategy.py").write_text(original(strategies) + STALL_ONCE)
    config = EngineConfig(
        state_dir=tmp_path / "state", speed=300.0, cycle_interval_s=0.1, seed=7,
        strategies_path=ROOT / "strategies", shadow_room=0.8,
    )  # fmt: skip
    with opened(config, market_start=QUIET_21ST_CYCLE) as engine:
        for _ in range(20):
            engine.cycle()
        engine.reloader.strategies_dir = strategies
        assert engine.reloader.check(overrides={}).ok
        engine.shadow.start(engine.reloader.checked, aa=False, cycles=None, overrides={})
        engine.cycle()
        first = engine.shadow.current
        assert first is not None and first.report.skipped == 0 and first.report.last_ms >= 160
        engine.shadow.start(None, aa=True, cycles=None, overrides={})
        engine.cycle()
        second = engine.shadow.current
        assert second is not None and second.report.aa
        assert second.report.skipped == 0 and second.report.compared > 0, second.report
