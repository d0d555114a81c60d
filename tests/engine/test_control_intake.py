"""The engine's reading of control.json: all or nothing, with a reason, never twice the same command."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from engine.contract.control_writer import ControlWriter
from engine.contract.models import CONTROL_FILE
from engine.control_intake import ControlIntake

SLOTS = frozenset({"BTC-5m", "ETH-15m"})


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stake: float = Field(5.0, ge=0.5, le=100)
    cooldown_s: float = Field(60, ge=0, le=3600)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[ControlIntake, ControlWriter]:
    state = tmp_path / "state"
    return ControlIntake(state, SLOTS), ControlWriter(state, tool="test")


def never_handled(_: str) -> bool:
    return False


def test_missing_file_is_no_intent(setup) -> None:
    intake, _ = setup
    assert intake.read(0, Params, never_handled).kind == "none"


def test_new_intent_then_unchanged(setup) -> None:
    intake, writer = setup
    writer.set_overrides({"stake": 7})
    first = intake.read(0, Params, never_handled)
    assert first.kind == "new" and first.generation == 1
    assert first.params is not None and first.params.stake == 7
    assert intake.read(1, Params, never_handled).kind == "none"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"stake": 1000}, "less than or equal to 100"),
        ({"stake": "lots"}, "stake"),
        ({"stake": 6, "cooldown_s": -1}, "cooldown_s"),
        ({"leverage": 10}, "leverage"),
    ],
)
def test_bad_overrides_refuse_the_whole_file(setup, overrides: dict, expected: str) -> None:
    intake, writer = setup
    writer.set_overrides(overrides)
    result = intake.read(0, Params, never_handled)
    assert result.kind == "refused" and result.generation == 1
    assert expected in result.warnings[0]
    assert result.params is None and result.control is None
    # The same bytes again: still refused, but not reported as news.
    assert intake.read(0, Params, never_handled).kind == "refused-again"


def test_unknown_slot_is_refused(setup) -> None:
    intake, writer = setup
    writer.set_slot_paused("DOGE-1h", True)
    result = intake.read(0, Params, never_handled)
    assert result.kind == "refused" and "DOGE-1h" in result.warnings[0]


def test_generation_going_backwards_is_ignored_and_reported(setup) -> None:
    intake, writer = setup
    writer.set_paused(True)
    result = intake.read(5, Params, never_handled)
    assert result.kind == "refused"
    assert "older than the applied 5" in result.warnings[0]


def test_handled_commands_are_not_run_again(setup) -> None:
    intake, writer = setup
    _, first = writer.send_command("reload")
    result, second = writer.send_command("check")
    handled = {first.id}
    out = intake.read(0, Params, lambda cid: cid in handled)
    assert [c.id for c in out.new_commands] == [second.id]


def test_control_writable_by_others_is_refused(setup) -> None:
    intake, writer = setup
    writer.set_paused(True)
    os.chmod(intake.path, 0o666)
    result = intake.read(0, Params, never_handled)
    assert result.kind == "refused" and "writable by group or others" in result.warnings[0]
    os.chmod(intake.path, 0o600)
    assert intake.read(0, Params, never_handled).kind == "new"


def test_oversized_control_is_refused(setup) -> None:
    intake, _ = setup
    intake.state_dir.mkdir(parents=True, exist_ok=True)
    (intake.state_dir / CONTROL_FILE).write_bytes(b"{" + b" " * (1024 * 1024 + 10) + b"}")
    os.chmod(intake.state_dir / CONTROL_FILE, 0o600)
    result = intake.read(0, Params, never_handled)
    assert result.kind == "refused" and "larger than" in result.warnings[0]
