"""The engine's risk limits apply to a shadow's book as to the live one, each on its own figures.

In process, an A/A shadow on the slow maker (the shipped strategy bets against it) with
`max_open_stake` low enough to hold entries back: the running code against itself must
still show no difference, and the live book's skipped entries are its own.
"""

from __future__ import annotations

from pathlib import Path

from engine.config import EngineConfig
from engine.contract.control_writer import ControlWriter
from engine.contract.models import RiskLimits
from engine.contract.paths import shipped_strategies_dir
from tests.support.in_process_engine import opened

MARKET_START = 1796199000.0  # 2026-12-02 08:10 UTC: the windows line up the same way on every run


def test_an_aa_shadow_under_an_open_stake_cap_shows_no_difference(tmp_path: Path) -> None:
    config = EngineConfig(
        state_dir=tmp_path / "state", speed=1.0, cycle_interval_s=1.0, seed=3, strategies_path=shipped_strategies_dir(),
        maker="slow", call_budget_s=30.0, shadow_room=1000.0,
    )  # fmt: skip
    ControlWriter(config.state_dir, tool="test").update(lambda c: setattr(c, "risk", RiskLimits(max_open_stake=10)))
    with opened(config, market_start=MARKET_START) as engine:
        for _ in range(130):
            engine.cycle()
        engine.shadow.start(None, aa=True, cycles=None, overrides={})
        skipped = engine.risk.skipped_entries
        for _ in range(400):
            engine.cycle()
        report = engine.shadow.current.report if engine.shadow.current else None
        assert report is not None and report.skipped == 0
        assert report.entries_live > 0 and engine.risk.skipped_entries > skipped  # the cap held entries back
        assert (report.differ, report.entries_shadow) == (0, report.entries_live), report
        assert report.pnl_shadow == report.pnl_live
