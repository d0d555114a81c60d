"""The ledger's WAL is copied into the database between cycles (engine/trading/ledger.py): with
SQLite's own checkpoint on commit turned off, the WAL must still stay bounded and the rows
reach the database file itself, for a reader that opens it without the WAL."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from engine.config import EngineConfig
from engine.contract.ledger_schema import LEDGER_FILE
from engine.contract.paths import shipped_strategies_dir
from engine.trading.ledger import CHECKPOINT_EVERY
from tests.support.in_process_engine import opened

PAGE = 4096


@pytest.mark.slow
def test_the_wal_is_checkpointed_between_cycles_and_stays_bounded(tmp_path: Path) -> None:
    config = EngineConfig(
        state_dir=tmp_path / "state", speed=60.0, cycle_interval_s=1.0, seed=7, strategies_path=shipped_strategies_dir(),
        assets=("BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "AVAX"), windows=("5m", "15m"), maker="slow",
    )  # fmt: skip
    wal = config.state_dir / (LEDGER_FILE + "-wal")
    sizes = []
    with opened(config) as engine:
        for _ in range(6 * CHECKPOINT_EVERY * 5):  # a boundary every 5 cycles, each a commit or two
            engine.cycle()
            engine.between.wait_until(time.monotonic())
            sizes.append(wal.stat().st_size)
        committed = engine.ledger.db.execute("SELECT count(*) FROM bets").fetchone()[0]
        # The database file alone (the WAL ignored) holds rows: the checkpoints copied them in.
        alone = sqlite3.connect(f"file:{config.state_dir / LEDGER_FILE}?mode=ro&immutable=1", uri=True)
        in_file = alone.execute("SELECT count(*) FROM bets").fetchone()[0]
        alone.close()
    assert committed > 500
    assert in_file >= committed // 2
    # Reused from its start after each checkpoint: the WAL stops growing (unchecked, its size
    # would triple from the first third of the run to the end).
    third = len(sizes) // 3
    assert max(sizes) <= 1.5 * max(sizes[:third])
    assert max(sizes) < 1000 * PAGE
