"""A shadow's hypothetical bets are the bets its code would take as live.

Two engines replay the same recorded market (same seed, same file): A runs the shipped
strategy and shadows a copy with a higher confidence_threshold default; B runs that copy
as its live code. The shadow's decisions differ from A's, it enters less, and its settled
P&L, bets and entries are B's to the cent. Every entry and resolution, in events.jsonl and
in the ledger, names the code version and the parameters' hash that took it.

Both engines run one cycle first and are restarted: A restarts on its stored version with
the stricter copy on disk, so the shadow queued meanwhile starts at the first boundary of
the second run (or the next, once prepared), from a book that is B's at the same cycle (no bet yet: the recording starts
at a 15-minute boundary, far from every window's snipe zone). `--shadow-room 100`: the
shadow never skips a cycle for a loaded machine's sake (a skipped cycle misses entries).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.shadow.helpers import ROOMY, events, recorded_market, strategies_copy, stricter
from tests.support.engine_proc import EngineProcess, ctl

CYCLES = 80


def _run_to_end(market: Path, cycles: int, *runs: tuple[Path, Path]) -> list[EngineProcess]:
    """Engines on (state dir, strategies dir), in parallel, each until its cycle `cycles`."""
    engines = [
        EngineProcess(
            state, "--feed", f"replay:{market}", "--assets", "BTC,ETH,SOL,XRP", "--maker", "slow",
            "--strategies-path", str(strategies), "--max-cycles", str(cycles), "--shadow-room", "100", fast=ROOMY,
        ).start(wait=False)
        for state, strategies in runs
    ]  # fmt: skip
    for engine in engines:
        assert engine.proc is not None
        assert engine.proc.wait(60) == 0, engine.log()[-2000:]
    return engines


def test_shadow_pnl_is_the_pnl_of_that_code_as_live(tmp_path: Path) -> None:
    market = recorded_market(tmp_path / "market.csv")
    live_code = strategies_copy(tmp_path / "live-strategies")
    candidate_code = strategies_copy(tmp_path / "candidate-strategies")
    stricter(candidate_code)
    runs = ((tmp_path / "a", live_code), (tmp_path / "b", candidate_code))
    a, b = _run_to_end(market, 1, *runs)
    first_a, first_b = a.status(), b.status()
    assert first_a and first_b and first_a.engine.cycle == first_b.engine.cycle == 1
    assert first_a.stats.open_positions == first_b.stats.open_positions == 0
    v0 = first_a.code.version

    stricter(live_code)  # on disk only: A restarts on its stored version
    queued = ctl(a.state_dir, "shadow", "--queue")
    assert queued.returncode == 0 and "queued" in queued.stdout, queued
    a, b = _run_to_end(market, CYCLES, *runs)

    sa, sb = a.status(), b.status()
    assert sa is not None and sb is not None
    assert sa.code.version == v0 and sb.code.version != v0
    shadow = sa.code.shadow
    assert shadow is not None, a.log()[-2000:]
    assert shadow.version == sb.code.version and shadow.base_version == v0 and not shadow.aa
    # Prepared in the wait after the first boundary of the second run, it starts at the next.
    assert shadow.state == "running" and shadow.started_cycle <= 2 and shadow.cycles == CYCLES - shadow.started_cycle
    assert shadow.failures == 0 and shadow.skipped == 0

    # The stricter code differs and enters less ...
    assert shadow.differ > 0 and shadow.compared >= shadow.differ
    assert shadow.entries_shadow < shadow.entries_live, shadow
    # ... and its paper book is what that code does as live, on the same market.
    b_entries = events(b.state_dir, "entry")
    assert shadow.entries_shadow == len(b_entries) > 0
    assert shadow.bets_shadow == sb.stats.resolved
    assert abs(shadow.pnl_shadow - sb.stats.pnl) < 1e-3, (shadow.pnl_shadow, sb.stats.pnl)
    # The live side of the report is the live book.
    assert shadow.entries_live == len(events(a.state_dir, "entry"))
    assert shadow.bets_live == sa.stats.resolved and abs(shadow.pnl_live - sa.stats.pnl) < 1e-3
    # Live trading never saw the shadow: A is exactly an engine without one would be.
    assert sa.stats.resolved > 0

    # Every entry and resolution names the code and the parameters that took it.
    for engine, version in ((a, v0), (b, sb.code.version)):
        for kind in ("entry", "resolution"):
            rows = events(engine.state_dir, kind)
            assert rows, f"no {kind} in {engine.state_dir}"
            assert {(e["detail"]["code_version"], len(e["detail"]["params_hash"])) for e in rows} == {(version, 16)}
        with sqlite3.connect(engine.state_dir / "ledger.sqlite3") as db:
            resolved = db.execute("SELECT code_version, params_hash FROM bets WHERE outcome IS NOT NULL").fetchall()
        assert resolved and {v for v, _ in resolved} == {version} and all(len(h) == 16 for _, h in resolved)
