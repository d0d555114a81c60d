"""A notification service that refuses connections leaves the cycle time unchanged (goal: p50 within
0.25 ms or 10 % of the same engine without notifications; p95 and p99 of both reported: on a
shared machine they move by milliseconds from one run to the next with or without notifications).

Two engines in process (16 slots, 60 market seconds a cycle, as benchmarks/ledger_cycle.py),
run interleaved in blocks of 50 cycles so both see the same machine: one without
`--notify`, one with `--notify json://127.0.0.1:PORT/` where nothing listens on PORT
(every delivery is refused and retried), and an alert queued every cycle on top of
what the engine sends by itself, so its worker thread always has a failing delivery
to retry while the cycles run.

    .venv/bin/python -m benchmarks.notify_down [--quick]
"""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path

from benchmarks.common import SHIPPED_STRATEGIES, Figure, percentile, summary
from engine.config import EngineConfig
from engine.loop import Engine

ASSETS = ("BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "AVAX")
BLOCK = 50
CYCLES = 1000  # per engine
WARM_UP = 130


def refused_url() -> str:
    """A json:// URL on 127.0.0.1 whose port nothing listens on (bound, then closed)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"json://127.0.0.1:{port}/notify"


def _engine(tmp: Path, name: str, notify: tuple[str, ...]) -> Engine:
    config = EngineConfig(
        state_dir=tmp / name, speed=60.0, cycle_interval_s=1.0, seed=7, strategies_path=SHIPPED_STRATEGIES,
        assets=ASSETS, windows=("5m", "15m"), notify=notify,
    )  # fmt: skip
    engine = Engine(config)
    engine.open()
    return engine


def measure(cycles: int, warm_up: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        quiet = _engine(Path(tmp), "quiet", ())
        down = _engine(Path(tmp), "down", (refused_url(),))
        times: dict[str, list[float]] = {"quiet": [], "down": []}
        try:
            for engine in (quiet, down):
                for _ in range(warm_up):
                    engine.cycle()
                    engine.between.wait_until(time.monotonic())
            for start in range(0, cycles, BLOCK):
                for name, engine in (("quiet", quiet), ("down", down)):
                    for index in range(min(BLOCK, cycles - start)):
                        if engine.alerts is not None:
                            engine.alerts.notifier.send("bench", f"alert {start + index}")
                        began = time.perf_counter()
                        engine.cycle()
                        times[name].append((time.perf_counter() - began) * 1000)
                        engine.between.wait_until(time.monotonic())
            assert down.alerts is not None
            notifier = down.alerts.notifier
            state = {"pending": notifier.pending(), "dropped": notifier.dropped, "sent": notifier.sent, "failing": notifier.failing}
        finally:
            for engine in (quiet, down):
                if engine.alerts is not None:
                    engine.alerts.close(timeout=1.0)
                engine.ledger.close()
                engine.lock.release()
    return {"quiet": times["quiet"], "down": times["down"], "notifier": state}


def run(quick: bool = False) -> list[Figure]:
    cycles, warm_up = (20, 3) if quick else (CYCLES, WARM_UP)
    result = measure(cycles, warm_up)
    quiet, down = result["quiet"], result["down"]
    assert isinstance(quiet, list) and isinstance(down, list)
    p50_quiet, p50_down = percentile(quiet, 50), percentile(down, 50)
    allowed = max(p50_quiet * 1.10, p50_quiet + 0.25)
    notifier = result["notifier"]
    return [
        Figure(
            key="notify_down_cycle_16",
            title="16-slot cycle while the notification service refuses connections",
            goal="p50 within 0.25 ms or 10 % of no notifications",
            unit="ms",
            p50=p50_down,
            tail=percentile(down, 99),
            runs=len(down),
            value=p50_down,
            passed=p50_down <= allowed,
            details={"down_ms": summary(down), "quiet_ms": summary(quiet), "allowed_p50_ms": allowed, "notifier": notifier},
            notes=[
                f"without notifications (interleaved blocks of {BLOCK}): p50 {p50_quiet:.2f} ms, "
                f"p95 {percentile(quiet, 95):.2f} ms, p99 {percentile(quiet, 99):.2f} ms; with the service down: "
                f"p95 {percentile(down, 95):.2f} ms",
                f"the notifier at the end: {notifier}",
            ],
        )
    ]


if __name__ == "__main__":
    from benchmarks.runner import main_for

    raise SystemExit(main_for(__name__))
