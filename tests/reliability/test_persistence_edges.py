"""Persistence failures are loud and bounded, and never cost a position (engine/trading/state.py,
engine/disk_trouble.py, engine/events.py, engine/commands.py): state files deleted under
the engine are written again at once, a command whose write-ahead mark is not durable does not
run, fifty cycles of failing writes give one warning, and the events waiting for the disk keep
every trade."""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.contract.models import STATE_FILE
from engine.events import UNWRITTEN_KEPT, EventLog, read_events
from engine.trading.state import journal_path, load_state
from tests.support.engine_proc import EngineProcess

EAGER = {"snipe_window_s": 900, "edge_margin": 0.0, "confidence_threshold": 0.5}
SLOW = ("--speed", "60", "--cycle-interval", "0.05")


def test_state_files_deleted_under_the_engine_are_rewritten_before_a_kill(engine_factory) -> None:
    engine: EngineProcess = engine_factory(fast=SLOW)
    engine.writer.update(lambda c: c.overrides.update(EAGER))
    engine.wait_for(lambda s: s.stats.open_positions >= 3, timeout=30, what="open positions")
    state_file = engine.state_dir / STATE_FILE
    state_file.unlink()  # an outside cleanup job
    journal_path(state_file).unlink()
    seen = engine.wait_for(
        lambda s: any("deleted or replaced under the engine" in w for w in s.control.warnings), what="the deletion reported"
    )
    assert "state.json and state.journal deleted or replaced" in " ".join(seen.control.warnings)
    held = {slot.id for slot in seen.slots if slot.position is not None}
    engine.kill9()
    saved = load_state(state_file)
    assert saved.value is not None, saved.reason
    assert saved.value.cycle >= seen.engine.cycle
    on_disk = {slot_id for slot_id, slot in saved.value.slots.items() if slot.position is not None}
    assert held <= on_disk | {slot_id for slot_id in held if saved.value.resolved > seen.stats.resolved}
    again = engine_factory(state_dir=engine.state_dir, fast=SLOW)
    assert again.first_status is not None and again.first_status.engine.cycle > seen.engine.cycle
    warnings = [e for e in read_events(engine.state_dir / "events.jsonl") if "deleted or replaced" in e["message"]]
    assert len(warnings) == 1

    # A link planted in place of events.jsonl while the engine runs is not written through.
    target = engine.state_dir.parent / "secret"
    target.write_bytes(b"root's own file\n")
    events = engine.state_dir / "events.jsonl"
    events.rename(engine.state_dir.parent / "events-before.jsonl")
    events.symlink_to(target)
    again.writer.set_paused(True)  # an event to append
    status = again.wait_for(lambda s: "events.jsonl is a symbolic link" in (s.engine.persist_error or ""), what="the link refused")
    assert not status.engine.persist_ok
    assert target.read_bytes() == b"root's own file\n"
    events.unlink()
    again.wait_for(lambda s: s.engine.persist_ok, what="events written again")
    assert any("control generation" in e["message"] for e in read_events(events))  # what waited reached the log


def test_a_command_whose_write_ahead_fails_does_not_run_even_after_a_kill(engine_factory, tmp_path: Path) -> None:
    faults = tmp_path / "faults"
    faults.mkdir()
    env = {"FORESIGHT_FAILPOINTS": f"dir={faults}"}
    engine: EngineProcess = engine_factory(env=env)
    engine.wait_cycles(3)
    (faults / "fail-write-state.json").touch()  # the disk is full for state.json from now on
    engine.wait_for(lambda s: not s.engine.persist_ok, what="persist trouble")
    _, command = engine.writer.send_command("check")
    status = engine.wait_ack(command.id)
    ack = next(a for a in status.control.acks if a.id == command.id)
    assert ack.result == "rejected" and "write-ahead mark could not be made durable" in ack.detail
    events = read_events(engine.state_dir / "events.jsonl")
    assert not [e for e in events if e["kind"] == "check"]  # it did not run
    engine.kill9()
    (faults / "fail-write-state.json").unlink()
    again = engine_factory(state_dir=engine.state_dir, env=env)
    again.wait_cycles(3)
    runs = [e for e in read_events(engine.state_dir / "events.jsonl") if e["kind"] == "check"]
    assert len(runs) <= 1  # at most once across the crash: never before its mark was durable


def test_fifty_cycles_of_failing_writes_give_one_warning(tmp_path: Path) -> None:
    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / "fail-write-state.json").touch()
    (faults / "fail-write-status.json").touch()  # two messages in turn, every cycle
    engine = EngineProcess(tmp_path / "state", "--max-cycles", "50", env={"FORESIGHT_FAILPOINTS": f"dir={faults}"})
    engine.start(wait=False)
    assert engine.proc is not None and engine.proc.wait(timeout=60) == 0
    events = read_events(engine.state_dir / "events.jsonl")
    warnings = [e for e in events if e["kind"] == "warning"]
    assert len(warnings) == 1, [w["message"] for w in warnings]
    assert "further write failures are counted" in warnings[0]["message"]
    assert any("engine stopped (finished) at cycle 50" in e["message"] for e in events)


def test_events_waiting_for_the_disk_keep_every_entry_and_resolution(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.mkdir()  # cannot be appended to: an EISDIR on every write
    log = EventLog(path)
    entries = 0
    for index in range(UNWRITTEN_KEPT + 1000):
        if index % 500 == 0:
            log.emit("entry", f"BTC-5m bought up $5 at 0.5 (#{index})", slot="BTC-5m")
            log.emit("resolution", f"BTC-5m up won +4.80 (#{index})", slot="BTC-5m")
            entries += 1
        log.emit("warning", f"cannot persist state.json (#{index})")
    assert log.write_error is not None
    shutil.rmtree(path)
    log.emit("engine", "the disk has room again")
    written = read_events(path, limit=100_000)
    assert sum(1 for e in written if e["kind"] == "entry") == entries
    assert sum(1 for e in written if e["kind"] == "resolution") == entries
    dropped = [e for e in written if "events without trades in them were dropped" in e["message"]]
    assert len(dropped) == 1 and dropped[0]["detail"]["dropped"] == 1000 + 1
    assert written[-1]["message"] == "the disk has room again"
