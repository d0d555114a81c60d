"""The parts of Mission Control without Textual: reading, deriving state, pending writes, code diffs."""

from __future__ import annotations

import os
from datetime import timedelta

from engine.contract.liveness import pid_alive
from engine.contract.models import Ack, Status
from foresight_tui.code_diff import changed_files
from foresight_tui.data_source import EngineState, PendingTracker, PendingWrite, StatusSource, resolve

from .conftest import FIXED_NOW, TEST_HOST, FakeClock, StateDir, make_status


def source(state: StateDir, clock: FakeClock, **kwargs) -> StatusSource:
    kwargs.setdefault("this_host", "elsewhere")
    return StatusSource(state.path, clock=clock, **kwargs)


def test_waiting_before_the_engine_wrote_anything(tmp_path, clock):
    src = StatusSource(tmp_path / "nothing-here", clock=clock)
    result = src.load()
    assert not result.changed and result.problem is None
    assert src.view().state is EngineState.WAITING


def test_running_paused_stale_and_down(state, clock):
    src = source(state, clock)
    assert src.load().changed
    assert src.view().state is EngineState.RUNNING
    state.update(lambda s: setattr(s.engine, "state", "paused"))
    src.load()
    assert src.view().state is EngineState.PAUSED
    clock.advance(3.5)  # more than 3 cycle intervals of 1 s since written_at
    assert src.view().state is EngineState.STALE
    down = source(state, clock, this_host=TEST_HOST, alive=lambda pid: False)
    down.load()
    assert down.view().state is EngineState.DOWN


def test_pid_alive_probe():
    assert pid_alive(os.getpid())
    assert not pid_alive(0)


def test_corrupt_then_good_keeps_the_last_good_status(state, clock):
    src = source(state, clock)
    src.load()
    good = src.status
    state.write_raw(b'{"schema_version": 1, "written_at": ')
    result = src.load()
    assert not result.changed and "not valid JSON" in (result.problem or "")
    assert src.status == good and src.view().problem == result.problem
    state.write_raw(good.model_dump_json(by_alias=True).replace('"schema_version":1', '"schema_version":99').encode())
    assert "unknown status schema_version 99" in (src.load().problem or "")
    state.update(lambda s: None)
    result = src.load()
    assert result.changed and result.problem is None and src.view().problem is None


def test_boot_id_change_is_a_restart(state, clock):
    src = source(state, clock)
    src.load()
    state.update(lambda s: setattr(s.engine, "boot_id", "boot-2"))
    assert src.load().restarted


def test_file_changed_is_one_cheap_stat(state, clock):
    src = source(state, clock)
    src.load()
    assert not src.file_changed()
    state.update(lambda s: None)
    assert src.file_changed()


def with_control(status: Status, **fields) -> Status:
    status = status.model_copy(deep=True)
    for key, value in fields.items():
        setattr(status.control, key, value)
    return status


def test_resolve_generation_writes():
    write = PendingWrite("pause engine", 5)
    base = make_status()
    assert resolve(write, with_control(base, observed_generation=4)) is None
    applied = resolve(write, with_control(base, observed_generation=5))
    assert applied is not None and applied.result == "applied" and applied.ok
    refused = resolve(write, with_control(base, observed_generation=5, rejected_generation=5, warnings=["stake: too big"]))
    assert refused is not None and not refused.ok and refused.detail == "stake: too big"
    # a later file carrying this write was refused whole before the engine saw this one
    later = resolve(write, with_control(base, observed_generation=4, rejected_generation=6, warnings=["bad"]))
    assert later is not None and later.result == "refused"
    # a later refusal does not undo a write the engine had applied
    kept = resolve(write, with_control(base, observed_generation=5, rejected_generation=6))
    assert kept is not None and kept.result == "applied"


def test_resolve_commands_wait_for_their_ack():
    write = PendingWrite("reload strategy code", 7, "reload-123")
    base = make_status()
    assert resolve(write, with_control(base, observed_generation=7)) is None
    ack = Ack(id="reload-123", type="reload", result="rejected", at=FIXED_NOW.isoformat(), detail="SyntaxError line 3")
    outcome = resolve(write, with_control(base, observed_generation=7, acks=[ack]))
    assert outcome is not None and outcome.result == "refused" and outcome.detail == "SyntaxError line 3"
    ack = ack.model_copy(update={"result": "rolled_back", "detail": "raised in first cycle"})
    outcome = resolve(write, with_control(base, observed_generation=7, acks=[ack]))
    # A rollback is not a success: the code the operator sent no longer runs.
    assert outcome is not None and not outcome.ok and outcome.result == "rolled back"
    assert outcome.title == "Rolled back" and outcome.severity == "error"


def test_a_check_passes_or_fails_it_is_never_applied():
    write = PendingWrite("check the code on disk", 7, "check-1", "check")
    base = make_status()
    passed = Ack(id="check-1", type="check", result="applied", at=FIXED_NOW.isoformat(), detail="v4 would load")
    outcome = resolve(write, with_control(base, observed_generation=7, acks=[passed]))
    assert outcome is not None and outcome.ok and outcome.title == "Check passed"
    assert outcome.text == "check the code on disk: check passed: v4 would load"
    failed = passed.model_copy(update={"result": "rejected", "detail": "SyntaxError line 3"})
    outcome = resolve(write, with_control(base, observed_generation=7, acks=[failed]))
    assert outcome is not None and not outcome.ok and outcome.title == "Check failed"


def test_an_old_ack_naming_a_version_not_running_says_which_runs():
    write = PendingWrite("reload strategy code", 7, "reload-9", "reload")
    ack = Ack(id="reload-9", type="reload", result="applied", at=FIXED_NOW.isoformat(), detail="now running v9-dead")
    outcome = resolve(write, with_control(make_status(), observed_generation=7, acks=[ack]))
    assert outcome is not None and outcome.text.endswith("now running v9-dead (running now: v3-1a2b3c)")


def test_tracker_settles_only_what_is_done():
    tracker = PendingTracker()
    tracker.add(PendingWrite("a", 4))
    tracker.add(PendingWrite("b", 5))
    outcomes = tracker.settle(with_control(make_status(), observed_generation=4))
    assert [o.write.label for o in outcomes] == ["a"] and len(tracker) == 1


def test_view_pending_compares_control_and_observed(state, clock):
    src = source(state, clock)
    src.load()
    assert not src.view().pending
    src.control_generation = 9
    assert src.view().pending


def test_changed_files_compares_hashes_on_disk(state):
    changes = changed_files(state.status)
    assert [(c.module, c.change) for c in changes] == [("strategies.strategy", "modified")]
    (state.strategies / "ta_engine.py").unlink()
    assert {c.change for c in changed_files(state.status)} == {"modified", "deleted"}
    assert changed_files(None) == []


def test_uptime_and_age_come_from_the_clock(state, clock):
    src = source(state, clock)
    src.load()
    view = src.view()
    assert view.age_s is not None and abs(view.age_s - 0.4) < 1e-6
    assert view.uptime_s == timedelta(hours=2, minutes=7).total_seconds()
