"""A cycle with no room left for the shadow skips it, counted, and never the reverse.

In process (as benchmarks/cycle_time.py runs the engine): a cycle interval of 1 ms and
`--shadow-room 0.05` leave the shadow 50 us of each cycle, less than the live part of a
16-slot cycle takes: it skips every cycle, while its book still settles the windows that
end and the live cycle trades as before.
"""

from __future__ import annotations

from pathlib import Path

from engine.config import EngineConfig
from engine.loop import Engine
from tests.support.engine_proc import ROOT


def test_a_cycle_without_room_skips_the_shadow(tmp_path: Path) -> None:
    config = EngineConfig(
        state_dir=tmp_path / "state", speed=60_000.0, cycle_interval_s=0.001, seed=7,
        strategies_path=ROOT / "strategies", shadow_room=0.05, maker="slow",
    )  # fmt: skip
    engine = Engine(config)
    engine.open()
    try:
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
    finally:
        engine.ledger.close()
        engine.lock.release()
