"""Mission Control's writes against a real engine subprocess (Pilot, the real watcher)."""

from __future__ import annotations

from foresight_tui.app import MissionControlApp
from tests.support.waits import until

from .conftest import log_text


async def test_a_pause_refused_for_another_writers_change_is_written_again(engine_factory) -> None:
    # Cycles of 3 s: the other operator's write and the pause land before the engine's next read.
    engine = engine_factory(fast=("--speed", "300", "--cycle-interval", "3"))
    app = MissionControlApp(engine.state_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.status is not None, "the engine's first status")
        # Another operator's value, valid alone, that the strategy's own rule refuses (fast < slow EMA).
        engine.writer.set_overrides({"fast_ema_period": 30})
        await pilot.press("p")
        await until(pilot, lambda: (s := engine.status()) is not None and s.engine.state == "paused",
                    "the engine paused", timeout=20)  # fmt: skip
        await until(pilot, lambda: "written again" in log_text(app), "the second write said in the event log")
        assert "pause engine: applied" in log_text(app)
        assert "fast_ema_period" not in engine.status().control.applied.overrides  # type: ignore[union-attr]
