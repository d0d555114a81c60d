"""The engine as a real subprocess on a temp state directory: write control, watch status."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.contract.models import CONTROL_FILE, STATE_FILE, STATUS_FILE, Status
from engine.events import read_events
from engine.market.market import SPARK_POINTS, display_round
from engine.trading.state import load_state
from tests.support.engine_proc import ROOT, EngineProcess, ctl, run_engine
from tests.support.waits import wait_until

# Make every slot bet early in its window, so positions are open most of the time.
EAGER = {"snipe_window_s": 900, "edge_margin": 0.0, "confidence_threshold": 0.5}


def events_after(state_dir: Path, marker: str) -> list[dict]:
    events = read_events(state_dir / "events.jsonl", limit=100_000)
    for index, event in enumerate(events):
        if marker in event["message"]:
            return events[index + 1 :]
    raise AssertionError(f"no event containing {marker!r}")


def test_pause_resume_apply_at_a_cycle_boundary(engine: EngineProcess) -> None:
    result = engine.writer.update(lambda c: c.overrides.update(EAGER))
    engine.wait_generation(result.control.generation)
    # At this market speed a window ends every second: a window boundary may settle every open
    # bet between the request and the cycle that applies it. Only a pause that lands with bets
    # open shows what a pause does to them; take another one otherwise.
    for _ in range(5):
        engine.wait_for(lambda s: s.stats.open_positions >= 3, what="open positions")
        paused = engine.writer.set_paused(True).control.generation
        status = engine.wait_generation(paused)
        assert status.engine.state == "paused"
        assert status.control.applied.paused
        if status.stats.open_positions >= 1:
            break
        engine.wait_generation(engine.writer.set_paused(False).control.generation)
    open_at_pause = status.stats.open_positions
    assert open_at_pause >= 1
    # Paused: open positions keep being tracked and resolve; nothing new is entered.
    status = engine.wait_for(lambda s: s.stats.open_positions == 0, timeout=20, what="positions resolving while paused")
    after = events_after(engine.state_dir, f"control generation {paused} applied")
    assert not [e for e in after if e["kind"] == "entry"]
    assert len([e for e in after if e["kind"] == "resolution"]) >= open_at_pause

    resumed = engine.writer.set_paused(False).control.generation
    assert engine.wait_generation(resumed).engine.state == "running"
    engine.wait_for(lambda s: s.stats.open_positions >= 1, what="entries after resume")


def test_override_applies_and_new_bets_use_it(engine: EngineProcess) -> None:
    result = engine.writer.update(lambda c: c.overrides.update({**EAGER, "stake": 7.25}))
    status = engine.wait_generation(result.control.generation)
    assert status.params.values["stake"] == 7.25
    assert status.control.applied.overrides["stake"] == 7.25
    status = engine.wait_for(
        lambda s: any(slot.position and slot.position.entered_at > 0 and slot.position.stake == 7.25 for slot in s.slots),
        what="a bet at the new stake",
    )
    schema = status.params.schema_
    assert schema["properties"]["stake"]["maximum"] == 100


def test_per_slot_pause(engine: EngineProcess) -> None:
    engine.writer.update(lambda c: c.overrides.update(EAGER))
    generation = engine.writer.set_slot_paused("BTC-5m", True).control.generation
    status = engine.wait_generation(generation)
    slots = {s.id: s for s in status.slots}
    assert slots["BTC-5m"].paused and not slots["ETH-5m"].paused
    engine.wait_for(lambda s: s.stats.resolved >= 20, timeout=20, what="20 resolutions")
    after = events_after(engine.state_dir, f"control generation {generation} applied")
    entered = {e["detail"]["slot"] for e in after if e["kind"] == "entry"}
    assert "BTC-5m" not in entered
    assert len(entered) >= 5


def test_bad_control_keeps_the_last_good_intent(engine: EngineProcess) -> None:
    good = engine.writer.set_paused(True).control.generation
    engine.wait_generation(good)
    control = engine.state_dir / CONTROL_FILE
    for garbage, reason in ((b"{ not json", "not valid JSON"), (b"", "empty"), (b'{"schema_version": 9, "generation": 99}', "schema_version 9")):
        control.write_bytes(garbage)
        status = engine.wait_for(lambda s, r=reason: any(r in w for w in s.control.warnings), what=f"warning {reason}")
        assert status.engine.state == "paused" and status.control.observed_generation == good
    cycle = engine.status().engine.cycle
    engine.wait_for(lambda s: s.engine.cycle > cycle + 3, what="cycles going on")
    fixed = engine.writer.set_paused(False)
    assert fixed.note and "unusable" in fixed.note
    status = engine.wait_generation(fixed.control.generation)
    assert status.engine.state == "running" and status.control.warnings == []
    warnings = [e["message"] for e in read_events(engine.state_dir / "events.jsonl") if e["kind"] == "warning"]
    assert any("not valid JSON" in w for w in warnings)


def test_kill9_with_open_positions_then_restart_keeps_everything(engine_factory) -> None:
    # A slower market clock (3 market seconds a cycle) keeps positions open for seconds of
    # wall time, so the kill lands on them even when a loaded machine delays this test.
    engine: EngineProcess = engine_factory(fast=("--speed", "60", "--cycle-interval", "0.05"))
    engine.writer.update(lambda c: c.overrides.update(EAGER))
    engine.writer.set_slot_paused("ADA-15m", True)
    _, check = engine.writer.send_command("check")
    engine.wait_ack(check.id)

    def lasting_positions(s) -> bool:
        # Positions whose windows still run for 50+ cycles, so they are open when the kill lands.
        lasting = [x for x in s.slots if x.position and x.window_end - s.engine.sim_time >= 150]
        return len(lasting) >= 4 and s.stats.resolved >= 3

    seen = engine.wait_for(lasting_positions, timeout=30, what="lasting positions and results")
    engine.kill9()

    saved = load_state(engine.state_dir / STATE_FILE).value.model_dump(mode="json")
    positions = {sid: slot["position"] for sid, slot in saved["slots"].items() if slot["position"]}
    # State is persisted (state.json and its journal) before status is written: what the test saw is on disk.
    assert saved["cycle"] >= seen.engine.cycle
    assert len(positions) >= 3

    again: EngineProcess = engine_factory(state_dir=engine.state_dir, fast=("--speed", "60", "--cycle-interval", "0.05"))
    status = again.first_status
    assert status is not None and status.engine.pid == again.pid
    # A cycle or so has run since the restart: every saved position is still open, or resolved on the same side.
    resolved_now = {e["detail"]["slot"]: e["detail"] for e in events_after(again.state_dir, "resumed state.json") if e["kind"] == "resolution"}
    slots = {s.id: s for s in status.slots}
    for sid, position in positions.items():
        live = slots[sid].position
        if live is not None:
            assert (live.side, live.stake, live.odds, live.entered_at) == (
                position["side"], position["stake"], position["odds"], position["entered_at"]
            )
        else:
            assert resolved_now[sid]["side"] == position["side"]
    assert saved["cycle"] < status.engine.cycle <= saved["cycle"] + 3  # the counter goes on from the saved one
    assert status.stats.resolved >= saved["resolved"]
    assert status.control.applied.paused_slots == ["ADA-15m"]
    assert status.params.values["snipe_window_s"] == 900
    assert any(a.id == check.id for a in status.control.acks)
    log = read_events(again.state_dir / "events.jsonl")
    assert sum(1 for e in log if e["kind"] == "check") == 1  # the check ran once, not again after restart
    assert any("resumed state.json" in e["message"] for e in log)


def test_status_carries_each_assets_sparkline_once(engine: EngineProcess) -> None:
    """Every slot of an asset shows the asset's one `price_history` (none per slot): its
    recent prices, the last of them the slot's price, rounded for display."""
    engine.wait_for(lambda s: len(s.price_history.get("BTC", ())) == SPARK_POINTS, what="a full sparkline")
    data = (engine.state_dir / STATUS_FILE).read_bytes()
    raw = json.loads(data)
    assert not [slot["id"] for slot in raw["slots"] if "history" in slot]
    status = Status.model_validate_json(data)
    assert set(status.price_history) == {slot.asset for slot in status.slots}
    assert len(status.slots) == 2 * len(status.price_history)  # both windows of each asset
    for slot in status.slots:
        history = status.price_history[slot.asset]
        assert len(history) == SPARK_POINTS and history[-1] == display_round(slot.price), slot.id


def test_sigterm_finishes_the_cycle_and_exits_zero(engine: EngineProcess) -> None:
    engine.wait_cycles(3)
    assert engine.stop() == 0
    saved = json.loads((engine.state_dir / STATE_FILE).read_text())
    assert saved["cycle"] >= 3
    assert stat.S_IMODE(os.stat(engine.state_dir).st_mode) == 0o700
    for path in engine.state_dir.rglob("*"):
        assert stat.S_IMODE(os.stat(path).st_mode) == (0o700 if path.is_dir() else 0o600), path.name
    assert "engine stopped (SIGTERM)" in (engine.state_dir / "events.jsonl").read_text()


def test_a_hangup_stops_the_engine_cleanly_unless_it_runs_under_nohup(engine_factory, tmp_path: Path) -> None:
    # The SSH session that started it closes: a clean stop (state saved, STOPPED, "engine stopped"
    # said and notified), not a death the TUI and the watcher can only call DOWN.
    hung_up = engine_factory(state_dir=tmp_path / "a")
    hung_up.wait_cycles(3)
    assert hung_up.stop(signal.SIGHUP) == 0
    assert "engine stopped (SIGHUP)" in (hung_up.state_dir / "events.jsonl").read_text()
    stopped = hung_up.status()
    assert stopped is not None and stopped.engine.stopped_at is not None
    # Under nohup (SIGHUP ignored when the engine starts) a hangup changes nothing.
    nohup = engine_factory(state_dir=tmp_path / "b", start=False)
    nohup.proc = subprocess.Popen(
        ["nohup", *nohup.command], cwd=ROOT, env=nohup.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    nohup.wait_cycles(3, timeout=20)
    nohup.proc.send_signal(signal.SIGHUP)
    nohup.wait_cycles(5)  # still cycling
    assert nohup.stop() == 0


def test_an_engine_whose_state_directory_is_removed_stops_and_says_why(engine_factory, tmp_path: Path) -> None:
    # Its lock went with the directory: going on would trade from memory with nothing persisted,
    # invisible to every reader, while a second engine could start on a new directory there.
    engine = engine_factory(state_dir=tmp_path / "state")
    engine.wait_cycles(3)
    shutil.rmtree(engine.state_dir)
    assert engine.proc is not None
    assert engine.proc.wait(timeout=20) == 5
    said = engine.log()
    assert f"state directory {engine.state_dir} was removed while the engine ran" in said
    assert not engine.state_dir.exists()  # nothing half-written in its place


def test_a_lock_file_deleted_under_the_engine_is_taken_again_or_the_engine_yields(engine_factory, tmp_path: Path) -> None:
    engine = engine_factory(state_dir=tmp_path / "state")
    engine.wait_cycles(2)
    lock = engine.state_dir / "engine.lock"
    lock.unlink()  # an outside cleanup
    wait_until(lambda: "engine.lock was deleted or replaced under the engine; locked again" in events_text(engine), "the lock taken again")
    second = run_engine(engine.state_dir, "--max-cycles", "1", "--quiet")
    assert second.returncode == 3 and "already runs" in second.stderr
    # Replaced by a file another process holds: that one has the directory, this engine stops.
    lock.unlink()
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, b"424242\n")
        assert engine.proc is not None and engine.proc.wait(timeout=20) == 3
    finally:
        os.close(fd)
    assert "engine.lock was replaced while the engine ran, and another engine (pid 424242)" in engine.log()


def events_text(engine: EngineProcess) -> str:
    return (engine.state_dir / "events.jsonl").read_text()


def test_second_engine_on_the_same_directory_is_refused(engine: EngineProcess) -> None:
    second = subprocess.run(
        [sys.executable, "-m", "engine", "engine", "--state-dir", str(engine.state_dir), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )
    assert second.returncode == 3
    assert f"another engine (pid {engine.pid}) already runs" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1  # the refusal alone, no "state in ..." before it
    assert engine.proc is not None and engine.proc.poll() is None


def test_ctl_exit_codes_say_what_happened(engine: EngineProcess) -> None:
    ok = ctl(engine.state_dir, "pause")
    assert ok.returncode == 0 and "applied" in ok.stdout
    out_of_bounds = ctl(engine.state_dir, "set", "stake=1000")
    assert out_of_bounds.returncode == 2 and "stake: must be <= 100" in out_of_bounds.stderr  # nothing written
    refused = ctl(engine.state_dir, "set", "fast_ema_period=50", "slow_ema_period=10")  # a rule only the engine knows
    assert refused.returncode == 1 and "fast_ema_period must be less than slow_ema_period" in refused.stderr
    unknown = ctl(engine.state_dir, "set", "leverage=10")
    assert unknown.returncode == 2 and "unknown parameter 'leverage'" in unknown.stderr
    # The refused value does not block the next change.
    again = ctl(engine.state_dir, "set", "stake=6")
    assert again.returncode == 0, again.stderr
    check = ctl(engine.state_dir, "check")
    assert check.returncode == 0 and check.stdout.startswith("check passed: ")
    summary = ctl(engine.state_dir, "status", "--wait")
    assert summary.returncode == 0 and "PAUSED" in summary.stdout and '"stake":6' in summary.stdout


def test_ctl_says_at_once_when_no_engine_runs_there_and_writes_nothing(tmp_path: Path) -> None:
    result = ctl(tmp_path / "nobody", "pause")  # the default 15 s timeout: it must not be waited
    assert result.returncode == 3
    assert "no engine has run in" in result.stderr and "nothing written" in result.stderr
    assert not (tmp_path / "nobody" / "control.json").exists()
    queued = ctl(tmp_path / "nobody", "pause", "--queue")
    assert queued.returncode == 0 and "queued" in queued.stdout
    assert (tmp_path / "nobody" / "control.json").exists()



@pytest.mark.parametrize("pid", [0, -1])
def test_ctl_takes_a_status_naming_no_process_for_no_engine(engine: EngineProcess, pid: int) -> None:
    # A damaged status.json that names pid 0 or a negative pid: signal 0 to those probes a
    # process group, which always exists, so it must not pass for a running engine.
    engine.wait_cycles(1)
    engine.kill9()
    status_file = engine.state_dir / "status.json"
    raw = json.loads(status_file.read_text())
    raw["engine"]["pid"] = pid
    status_file.write_text(json.dumps(raw))
    before = (engine.state_dir / "control.json").read_bytes() if (engine.state_dir / "control.json").exists() else None
    result = ctl(engine.state_dir, "pause")  # the default 15 s timeout: it must not be waited
    assert result.returncode == 3, result.stderr
    assert f"(pid {pid}) has stopped" in result.stderr and "nothing written" in result.stderr
    after = (engine.state_dir / "control.json").read_bytes() if (engine.state_dir / "control.json").exists() else None
    assert after == before

def test_ctl_takes_an_unreadable_status_with_no_engine_holding_the_directory_for_no_engine(engine: EngineProcess) -> None:
    engine.wait_cycles(1)
    engine.kill9()
    (engine.state_dir / "status.json").write_text("{not json")
    control = engine.state_dir / "control.json"
    before = control.read_bytes() if control.exists() else None
    result = ctl(engine.state_dir, "pause")  # the default 15 s timeout: it must not be waited
    assert result.returncode == 3, result.stderr
    assert "status.json in" in result.stderr and "is unreadable (status.json is not valid JSON" in result.stderr
    assert "no engine runs there" in result.stderr and "nothing written" in result.stderr
    assert (control.read_bytes() if control.exists() else None) == before
    shown = ctl(engine.state_dir, "status")
    assert shown.returncode == 3 and "is unreadable (status.json is not valid JSON" in shown.stderr
    assert "start one (foresight engine --state-dir" in shown.stderr


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from engine.contract.control_writer import ControlWriter
    writer = ControlWriter(Path(sys.argv[1]), tool=sys.argv[2])
    key = "count_" + sys.argv[2]
    for _ in range(int(sys.argv[3])):
        writer.update(lambda c: c.overrides.__setitem__(key, int(c.overrides.get(key, 0)) + 1))
    """
)


def test_two_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(state), name, "200"], cwd=ROOT)
        for name in ("a", "b")
    ]
    assert [p.wait(120) for p in procs] == [0, 0]
    control = json.loads((state / CONTROL_FILE).read_text())
    assert control["generation"] == 400
    assert control["overrides"] == {"count_a": 200, "count_b": 200}


PAUSER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from engine.contract.control_writer import ControlWriter
    writer = ControlWriter(Path(sys.argv[1]), tool="w" + sys.argv[2])
    for i in range(int(sys.argv[3])):
        writer.set_paused(i % 2 == 0)
    """
)


def test_concurrent_writers_against_a_running_engine(engine: EngineProcess) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", PAUSER, str(engine.state_dir), str(n), "200"], cwd=ROOT) for n in (1, 2)]
    assert [p.wait(120) for p in procs] == [0, 0]
    status = engine.wait_generation(400)
    assert status.control.observed_generation == 400
    assert status.control.rejected_generation == 0
    assert status.engine.state == "running"  # each writer's last write was resume
