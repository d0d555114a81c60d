"""An Engine opened in the test's own process (no subprocess), for tests that look inside it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from engine.config import EngineConfig
from engine.contract.paths import shipped_strategies_dir
from engine.loop import Engine


def engine_on(state_dir: Path) -> Engine:
    # The slow (lagged) maker: the shipped strategy finds its edge against it and bets within a
    # few hundred cycles, which the tests of open positions need; the fair maker leaves it none.
    config = EngineConfig(
        state_dir=state_dir, speed=1.0, cycle_interval_s=1.0, seed=3, strategies_path=shipped_strategies_dir(), maker="slow"
    )
    engine = Engine(config)
    engine.open()
    return engine


@contextmanager
def opened(config: EngineConfig, market_start: float | None = None) -> Iterator[Engine]:
    """`Engine(config)` opened, and let go at the end: its ledger closed, its lock released.

    `market_start`: the wall-clock time a new simulated market starts at (it takes the clock's
    otherwise), for tests whose windows must line up the same way on every run."""
    engine = Engine(config)
    if market_start is None:
        engine.open()
    else:
        with mock.patch("time.time", return_value=market_start):
            engine.open()
    try:
        yield engine
    finally:
        engine.ledger.close()
        engine.lock.release()
