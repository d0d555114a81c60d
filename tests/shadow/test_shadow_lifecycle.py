"""Shadow deploys on one real engine, as an operator drives them with `foresight ctl`.

A/A first (the running code against itself: no difference, the same bets and P&L over
100 cycles), then a check's preview (its live decisions are the engine's of that cycle),
a shadow of a stricter copy promoted (positions, cycle counter and process kept, the
candidate live), a shadow dropped (nothing else changes), and a candidate that raises on
one asset, dropped by itself while the live code trades on untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.contract.models import Status
from tests.guard.strategy_faults import write_faulty
from tests.shadow.helpers import ROOMY, events, strategies_copy, stricter
from tests.support.engine_proc import EngineProcess, ctl


def _positions(status: Status) -> dict[str, tuple]:
    return {s.id: (s.window_start, s.position.side, s.position.stake, s.position.entered_at) for s in status.slots if s.position}


def _kept(before: Status, after: Status) -> None:
    """Every position open before is still open after, unless its window ended meanwhile."""
    windows = {s.id: s.window_start for s in after.slots}
    now = _positions(after)
    for slot_id, position in _positions(before).items():
        if windows[slot_id] == position[0]:
            assert now.get(slot_id) == position, (slot_id, position, now.get(slot_id))
    assert after.stats.resolved >= before.stats.resolved
    assert (after.engine.pid, after.engine.boot_id) == (before.engine.pid, before.engine.boot_id)
    assert after.engine.cycle > before.engine.cycle


def _brief(signal) -> tuple | None:  # type: ignore[no-untyped-def]
    return None if signal is None else (signal.direction, round(signal.confidence, 6), signal.enter, signal.reason)


@pytest.mark.slow
def test_shadow_aa_preview_promote_drop_and_a_failing_shadow(engine_factory, tmp_path: Path) -> None:
    strategies = strategies_copy(tmp_path / "strategies")
    # --shadow-room 100: a loaded machine's slow cycle never makes the A/A skip (and differ).
    engine: EngineProcess = engine_factory("--strategies-path", str(strategies), "--maker", "slow", "--shadow-room", "100", fast=ROOMY)
    state = engine.state_dir
    v0 = engine.first_status.code.version

    # Nothing to promote or drop yet.
    assert ctl(state, "promote").returncode == 1
    dropped = ctl(state, "drop")
    assert dropped.returncode == 1 and "no shadow is running" in dropped.stderr

    # A/A: 100 cycles of the running code against itself.
    started = ctl(state, "shadow", "--aa", "--cycles", "100")
    assert started.returncode == 0 and "A/A" in started.stdout, started
    aa = engine.wait_for(lambda s: s.code.shadow is not None and s.code.shadow.state != "running", 40, "the A/A's end").code.shadow
    assert aa is not None and aa.aa and aa.version == v0 and aa.state == "ended" and aa.cycles == 100, aa.reason
    assert aa.skipped == 0 and aa.failures == 0
    assert aa.compared > 1000 and aa.differ == 0
    assert aa.entries_live == aa.entries_shadow > 0
    assert (aa.bets_live, aa.pnl_live) == (aa.bets_shadow, aa.pnl_shadow)
    assert all(not s.differs and s.live == s.shadow for s in aa.slots)
    report = ctl(state, "shadow", "--report")
    assert report.returncode == 0 and "ENDED" in report.stdout and "0 differ" in report.stdout, report

    # A check previews the stricter copy on the cycle's market beside the running code.
    stricter(strategies)
    checked = ctl(state, "check", "--json")
    assert checked.returncode == 0, checked
    answer = json.loads(checked.stdout)
    assert len(answer["preview"]) == 16 and set(answer["preview"][0]) == {"slot", "live", "candidate", "differs"}
    assert {"name": "confidence_threshold", "change": "default", "old": 0.6, "new": 0.8} in answer["params"]
    assert "+        default=0.8," in answer["diff"] and answer["summary"].startswith("would change ")
    flags = [row["differs"] for row in answer["preview"]]
    assert flags == sorted(flags, reverse=True)  # the differing slots first
    # Its live decisions are the ones the engine took that cycle (status.json of that cycle).
    caught = None
    for _ in range(5):
        _, command = engine.writer.send_command("check")
        seen = engine.wait_for(lambda s, c=command: s.code.preview is not None and c.id in s.code.preview.commands, 15, "the preview")
        if seen.engine.cycle == seen.code.preview.cycle:
            caught = seen
            break
    assert caught is not None, "never read the status of the preview's own cycle"
    live = {s.id: _brief(s.signal) for s in caught.slots}
    rows = caught.code.preview.rows
    assert {r.slot: _brief(r.live) for r in rows} == live
    assert any(v is not None for v in live.values())

    # Shadow the stricter copy, then promote it: the state carries on, the candidate is live.
    shadowed = ctl(state, "shadow")
    assert shadowed.returncode == 0 and "beside " + v0 in shadowed.stdout, shadowed
    running = engine.wait_for(lambda s: s.code.shadow is not None and s.code.shadow.cycles >= 20, 20, "20 shadow cycles")
    candidate = running.code.shadow.version
    assert candidate != v0 and running.code.shadow.state == "running" and running.code.version == v0
    # Each slot shows the shadow's decision beside its live one.
    assert sum(s.shadow_signal is not None for s in running.slots) >= sum(s.signal is not None for s in running.slots) - 2
    # Its report starts with the A/A control run before it on the same code: the noise to read it against.
    assert running.code.shadow.aa_control.startswith("A/A control over 100 cycles: 0 of "), running.code.shadow.aa_control
    assert "equal P&L (deterministic)" in running.code.shadow.aa_control
    before = engine.status()
    promoted = ctl(state, "promote")
    assert promoted.returncode == 0 and f"now running {candidate}" in promoted.stdout, promoted
    after = engine.wait_cycles(1)
    _kept(before, after)
    assert after.code.version == candidate and after.params.values["confidence_threshold"] == 0.8
    assert after.code.shadow is not None and after.code.shadow.state == "promoted"
    assert after.code.last_reload is not None and after.code.last_reload.kind == "promote"

    # Drop changes nothing but the shadow.
    assert ctl(state, "shadow", "--aa").returncode == 0
    before = engine.wait_for(lambda s: s.code.shadow.cycles >= 3, 10, "3 A/A cycles")
    dropped = ctl(state, "drop")
    assert dropped.returncode == 0 and "dropped" in dropped.stdout, dropped
    after = engine.wait_cycles(2)
    _kept(before, after)
    assert after.code.shadow.state == "dropped" and after.code.shadow.reason == "dropped by an operator"
    assert (after.code.version, after.params.values, after.control.applied) == (
        before.code.version, before.params.values, before.control.applied,
    )  # fmt: skip

    # A candidate that raises on one asset on live data is dropped by itself; live goes on.
    write_faulty(strategies, 'if _LIVE(view) and view.asset == "ETH":\n    raise RuntimeError("shadow bug on ETH")')
    before = engine.status()
    assert ctl(state, "shadow").returncode == 0
    after = engine.wait_for(lambda s: s.code.shadow.state == "dropped" and not s.code.shadow.aa, 10, "the failing shadow dropped")
    failed = after.code.shadow
    assert failed.failures >= 1 and "RuntimeError" in failed.reason and "shadow bug on ETH" in failed.reason
    later = engine.wait_cycles(3)
    _kept(before, later)
    assert later.code.version == candidate and later.code.last_failure == before.code.last_failure
    assert all(s.error is None for s in later.slots)
    assert all(s.signal is not None for s in later.slots if s.asset == "ETH" and s.state == "watching")
    assert not [e for e in events(state) if e["kind"] in ("slot_error", "error") and "shadow bug" in e["message"]]
