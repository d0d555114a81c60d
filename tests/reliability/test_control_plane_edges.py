"""The control plane does what the operator meant, at its edges (engine/control_intake.py,
engine/contract/control_writer.py, engine/strategy_api/params.py, engine/ctl/verbs.py): a link is not followed, a replayed
or hand-edited control file is never built on, each refusal speaks of its own write, override
types are strict, and `ctl status` says STOPPED once the engine stopped.

One engine serves every test here, in order; the last one stops it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.contract.fileio import atomic_write_bytes, atomic_write_model, read_model
from engine.contract.models import CONTROL_FILE, Control
from tests.support.engine_proc import EngineProcess, ctl


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    proc = EngineProcess(tmp_path_factory.mktemp("control") / "state").start()
    yield proc
    proc.stop()


def current(engine: EngineProcess) -> Control:
    control = read_model(engine.state_dir / CONTROL_FILE, Control).value
    assert control is not None
    return control


def test_a_control_link_to_a_file_of_valid_json_is_refused(engine: EngineProcess, tmp_path: Path) -> None:
    applied = engine.wait_generation(engine.writer.set_paused(False).control.generation).control.observed_generation
    planted = tmp_path / "elsewhere.json"
    intent = current(engine).model_copy(update={"generation": applied + 5, "paused": True})
    atomic_write_model(planted, intent)  # owned by the engine's user, mode 0600: only the link is wrong
    link = engine.state_dir / CONTROL_FILE
    link.unlink()
    link.symlink_to(planted)
    status = engine.wait_for(lambda s: "symbolic link" in (s.control.rejected_reason or ""), what="the link refused")
    assert not status.control.applied.paused and status.engine.state == "running"
    assert status.control.observed_generation == applied
    assert json.loads(planted.read_bytes())["paused"] is True  # the target is untouched
    link.unlink()
    engine.wait_generation(engine.writer.set_paused(False).control.generation)


def test_a_replayed_older_control_file_is_not_built_on(engine: EngineProcess) -> None:
    paused = engine.writer.set_paused(True).control.generation
    engine.wait_generation(paused)
    old_copy = (engine.state_dir / CONTROL_FILE).read_bytes()  # paused: true
    resumed = engine.writer.set_paused(False).control.generation
    engine.wait_generation(resumed)
    atomic_write_bytes(engine.state_dir / CONTROL_FILE, old_copy)  # an old backup put back
    engine.wait_for(lambda s: "older than the applied" in (s.control.rejected_reason or ""), what="the replay ignored")
    result = ctl(engine.state_dir, "set", "stake=6")
    assert result.returncode == 0, result.stderr
    assert f"generation {paused} is older than the engine's applied {resumed}" in result.stderr  # the note
    status = engine.wait_for(lambda s: s.params.values["stake"] == 6, what="stake 6")
    assert not status.control.applied.paused and status.engine.state == "running"  # not re-applied


def test_same_generation_with_other_content_is_refused_and_not_built_on(engine: EngineProcess) -> None:
    status = engine.wait_generation(current(engine).generation)
    edited = current(engine).model_copy(update={"paused": True})  # same generation, by hand
    atomic_write_model(engine.state_dir / CONTROL_FILE, edited)
    status = engine.wait_for(lambda s: "changed without a new generation" in (s.control.rejected_reason or ""), what="the edit refused")
    assert not status.control.applied.paused
    result = ctl(engine.state_dir, "pause-slot", "BTC-5m")
    assert result.returncode == 0, result.stderr
    status = engine.wait_for(lambda s: s.control.applied.paused_slots == ["BTC-5m"], what="BTC-5m paused")
    assert not status.control.applied.paused


def test_a_same_generation_edit_of_the_risk_limits_is_not_built_on(engine: EngineProcess) -> None:
    limited = ctl(engine.state_dir, "risk", "set", "max_daily_loss=30")
    assert limited.returncode == 0, limited.stderr
    edited = current(engine)
    edited.risk.max_daily_loss = None  # same generation, by hand: the engine keeps the limit
    atomic_write_model(engine.state_dir / CONTROL_FILE, edited)
    engine.wait_for(lambda s: "changed without a new generation" in (s.control.rejected_reason or ""), what="the edit refused")
    result = ctl(engine.state_dir, "pause-slot", "ETH-5m")
    assert result.returncode == 0, result.stderr
    assert "edited by hand?" in result.stderr  # the note: built on what the engine runs
    status = engine.wait_for(lambda s: "ETH-5m" in s.control.applied.paused_slots, what="ETH-5m paused")
    assert status.risk.limits == {"max_daily_loss": 30}
    assert ctl(engine.state_dir, "resume-slot", "ETH-5m").returncode == 0
    assert ctl(engine.state_dir, "risk", "unset", "max_daily_loss").returncode == 0


def test_a_control_file_the_engine_does_not_trust_is_not_built_on(engine: EngineProcess) -> None:
    stake = engine.wait_cycles(1).params.values["stake"]
    planted = current(engine)
    planted.generation += 1
    planted.overrides = {**planted.overrides, "stake": 99.0}
    path = engine.state_dir / CONTROL_FILE
    atomic_write_model(path, planted)
    path.chmod(0o660)  # writable by the group: the engine refuses it, like ssh's StrictModes
    engine.wait_for(lambda s: "writable by group or others" in (s.control.rejected_reason or ""), what="the file refused")
    settled = ctl(engine.state_dir, "status", "--wait", "--timeout", "5")  # the engine has answered: refused
    assert settled.returncode == 0 and "writable by group or others" in settled.stdout, settled.stderr
    result = ctl(engine.state_dir, "pause-slot", "ETH-5m")
    assert result.returncode == 0, result.stderr
    assert "writable by group or others" in result.stderr and "rebuilt from the engine's applied intent" in result.stderr
    status = engine.wait_for(lambda s: "ETH-5m" in s.control.applied.paused_slots, what="ETH-5m paused")
    assert status.params.values["stake"] == stake
    assert path.stat().st_mode & 0o777 == 0o600
    assert ctl(engine.state_dir, "resume-slot", "ETH-5m").returncode == 0


def test_a_refused_unreadable_control_file_is_warned_of_once_not_every_cycle(engine: EngineProcess) -> None:
    path = engine.state_dir / CONTROL_FILE
    kept = path.read_bytes()
    events = engine.state_dir / "events.jsonl"
    path.write_bytes(b"")  # a script's failed `> control.json`
    engine.wait_for(lambda s: any("control.json is empty" in w for w in s.control.warnings), what="the empty file refused")
    engine.wait_cycles(10)
    said = [line for line in events.read_text().splitlines() if "control.json is empty" in line]
    assert len(said) == 1, said
    atomic_write_bytes(path, kept)


REFUSED_WRITES = [
    ({"stake": "7"}, 'stake: Input should be a valid number, not the string "7"', "stake: a number is required"),
    ({"max_open_positions": True}, "max_open_positions: Input should be a valid integer, not the boolean true",
     "max_open_positions: a whole number is required"),
    ({"confidence_threshold": 5}, "confidence_threshold: Input should be less than or equal to", "confidence_threshold: must be <= 0.99"),
]  # fmt: skip


def test_three_refused_writes_in_a_row_each_with_its_own_reason(engine: EngineProcess) -> None:
    """Written as a script would (ctl refuses these before writing): the engine refuses each with
    its own reason, nothing of the refusals before it, and applies nothing."""
    for values, own_reason, ctl_reason in REFUSED_WRITES:
        before = engine.wait_cycles(1).control.applied.overrides
        generation = engine.writer.set_overrides(dict(values)).control.generation
        status = engine.wait_for(lambda s, g=generation: s.control.rejected_generation == g, what=f"generation {generation} refused")
        reason = status.control.rejected_reason or ""
        assert own_reason in reason, reason
        others = {"stake", "max_open_positions", "confidence_threshold"} - set(values)
        assert not [name for name in others if name in reason], reason  # nothing of earlier refusals
        assert isinstance(status.params.values["stake"], float) and status.control.applied.overrides == before  # nothing applied
        name, value = next(iter(values.items()))
        typed = ctl(engine.state_dir, "set", f"{name}={json.dumps(value)}")
        assert typed.returncode == 2 and f"refused before writing: {ctl_reason}" in typed.stderr, typed.stderr


def test_non_finite_numbers_are_refused_for_what_they_are(engine: EngineProcess) -> None:
    before = (engine.state_dir / CONTROL_FILE).read_bytes()
    result = ctl(engine.state_dir, "set", "stake=NaN")
    assert result.returncode == 2 and "refused before writing: stake: must be a finite number, not nan" in result.stderr
    assert (engine.state_dir / CONTROL_FILE).read_bytes() == before  # nothing written
    raw = json.loads(before)
    raw["generation"] += 10
    raw["overrides"]["stake"] = float("inf")
    atomic_write_bytes(engine.state_dir / CONTROL_FILE, json.dumps(raw).encode())  # "Infinity", by hand
    status = engine.wait_for(lambda s: s.control.rejected_generation == raw["generation"], what="the infinity refused")
    assert status.control.rejected_reason == "overrides refused: stake: must be a finite number, not inf"


def test_an_int_for_a_float_and_a_list_for_a_tuple_still_apply(engine: EngineProcess) -> None:
    result = ctl(engine.state_dir, "set", "stake=7", 'assets=["BTC","ETH"]')
    assert result.returncode == 0, result.stderr
    status = engine.wait_for(lambda s: s.params.values["stake"] == 7.0, what="stake 7")
    assert status.params.values["assets"] == ["BTC", "ETH"]


def test_a_generation_no_writer_could_follow_is_refused_and_ctl_still_reaches_the_engine(engine: EngineProcess) -> None:
    path = engine.state_dir / CONTROL_FILE
    engine.wait_generation(engine.writer.set_paused(False).control.generation)
    raw = json.loads(path.read_bytes())
    raw["generation"] = 10**40  # by hand: past any integer a JSON reader keeps exactly
    raw["paused_slots"] = ["ETH-5m"]
    atomic_write_bytes(path, json.dumps(raw).encode())
    status = engine.wait_for(lambda s: "generation" in (s.control.rejected_reason or ""), what="the generation refused")
    assert "ETH-5m" not in status.control.applied.paused_slots
    paused = ctl(engine.state_dir, "pause-slot", "BTC-15m")
    assert paused.returncode == 0, paused.stderr
    assert ctl(engine.state_dir, "resume-slot", "BTC-15m").returncode == 0


def test_ctl_status_says_stopped_after_a_clean_stop(engine: EngineProcess) -> None:
    assert "RUNNING" in ctl(engine.state_dir, "status").stdout
    assert engine.stop() == 0
    after = ctl(engine.state_dir, "status")
    assert after.returncode == 0
    first = after.stdout.splitlines()[0]
    assert first.startswith("engine   STOPPED pid"), after.stdout
    assert "(the engine stopped at" in after.stdout
    raw = json.loads((engine.state_dir / "status.json").read_bytes())
    assert raw["engine"]["stopped_at"]
    waited = ctl(engine.state_dir, "--timeout", "0.5", "pause")
    assert waited.returncode == 3 and f"the engine stopped at {raw['engine']['stopped_at']}; start it" in waited.stderr

