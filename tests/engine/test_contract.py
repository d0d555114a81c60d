"""The contract: models round-trip, schemas in docs/ are current, every bad file is refused with a reason."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.contract import schema_docs
from engine.contract.control_writer import ControlWriter
from engine.contract.fileio import atomic_write_bytes, atomic_write_model, clean_temp_files, read_model, with_member, write_all
from engine.contract.models import (
    CONTROL_FILE,
    MAX_FILE_BYTES,
    MAX_STATUS_BYTES,
    SCHEMA_VERSION,
    STATUS_FILE,
    Ack,
    CodeStatus,
    Command,
    Control,
    ControlStatus,
    EngineInfo,
    SlotStatus,
    Status,
    utc_now_iso,
)


def make_status(**control: object) -> Status:
    return Status(
        schema_version=SCHEMA_VERSION,
        written_at=utc_now_iso(),
        engine=EngineInfo(
            pid=1, host="h", started_at=utc_now_iso(), boot_id="b", state="running", cycle=3, cycle_interval_s=1.0, last_cycle_ms=0.5
        ),
        control=ControlStatus(**control),
        code=CodeStatus(version="abc"),
    )


def test_control_round_trip() -> None:
    control = Control(
        schema_version=SCHEMA_VERSION,
        generation=4,
        paused=True,
        paused_slots=["ETH-15m", "BTC-5m"],
        overrides={"stake": 7.5, "assets": ["BTC"]},
        commands=[Command(id="reload-1", type="reload", issued_at=utc_now_iso())],
    )
    again = Control.model_validate_json(control.model_dump_json())
    assert again == control
    assert again.paused_slots == ["BTC-5m", "ETH-15m"]  # normalised order


def test_status_round_trip_keeps_schema_alias() -> None:
    status = make_status(observed_generation=2)
    status.params.schema_ = {"properties": {"stake": {"type": "number"}}}
    raw = json.loads(status.model_dump_json(by_alias=True))
    assert "schema" in raw["params"]
    again = Status.model_validate(raw)
    assert again.params.schema_ == status.params.schema_
    assert again.control.observed_generation == 2


@pytest.mark.parametrize("name", sorted(schema_docs.SCHEMAS))
def test_generated_schemas_are_current(name: str) -> None:
    on_disk = (schema_docs.DOCS / name).read_text()
    assert on_disk == schema_docs.render(name), f"docs/{name} is out of date: run `make schemas`"


BAD_CONTROL = {
    "empty": (b"", "empty"),
    "blank": (b"   \n", "empty"),
    "not json": (b"{paused: yes", "not valid JSON"),
    "truncated": (b'{"schema_version": 1, "generation": 3', "not valid JSON"),
    "array": (b"[1, 2]", "control.json"),
    "unknown version": (b'{"schema_version": 99, "generation": 1}', "unknown schema_version 99"),
    "unknown field": (b'{"schema_version": 1, "generation": 1, "pasued": true}', "pasued"),
    "wrong type": (b'{"schema_version": 1, "generation": "7"}', "generation"),
    "negative generation": (b'{"schema_version": 1, "generation": -1}', "generation"),
    "bad slot id": (b'{"schema_version": 1, "generation": 1, "paused_slots": ["../etc"]}', "slot id"),
    "unknown command": (
        b'{"schema_version": 1, "generation": 1, "commands": [{"id": "x1", "type": "exec", "issued_at": "t"}]}',
        "commands",
    ),
    "duplicated command id": (
        b'{"schema_version": 1, "generation": 1, "commands": ['
        b'{"id": "x1", "type": "reload", "issued_at": "t"}, {"id": "x1", "type": "check", "issued_at": "t"}]}',
        "duplicated command id",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CONTROL))
def test_bad_control_files_are_refused_with_a_reason(tmp_path: Path, case: str) -> None:
    data, expected = BAD_CONTROL[case]
    (tmp_path / CONTROL_FILE).write_bytes(data)
    result = read_model(tmp_path / CONTROL_FILE, Control)
    assert result.value is None
    assert result.reason and expected in result.reason


def test_missing_and_oversized_files(tmp_path: Path) -> None:
    missing = read_model(tmp_path / STATUS_FILE, Status)
    assert missing.value is None and missing.missing and "does not exist" in (missing.reason or "")
    (tmp_path / STATUS_FILE).write_bytes(b" " * (MAX_STATUS_BYTES + 1))
    big = read_model(tmp_path / STATUS_FILE, Status)
    assert big.value is None and not big.missing and "larger than" in (big.reason or "")
    (tmp_path / CONTROL_FILE).write_bytes(b" " * (MAX_FILE_BYTES + 1))
    big = read_model(tmp_path / CONTROL_FILE, Control)
    assert big.value is None and "larger than 1024 KiB" in (big.reason or "")


def test_a_status_of_thousands_of_slots_is_read(tmp_path: Path) -> None:
    """Over the 1 MiB every other contract file is held to: status.json grows with the slots."""
    status = make_status()
    status.slots = [
        SlotStatus(
            id=f"A{i}-5m", asset=f"A{i}", window="5m", window_s=300, state="watching", window_start=0.0,
            window_end=300.0, open_price=1.0, price=1.01, up_ask=0.52, down_ask=0.49,
        )  # fmt: skip
        for i in range(2500)
    ]
    status.price_history = {f"A{i}": [1.0 + j / 1e4 for j in range(40)] for i in range(2500)}
    data = status.model_dump_json(by_alias=True).encode()
    assert len(data) > MAX_FILE_BYTES
    (tmp_path / STATUS_FILE).write_bytes(data)
    result = read_model(tmp_path / STATUS_FILE, Status)
    assert result.value is not None and len(result.value.slots) == 2500, result.reason


def test_a_status_from_an_older_or_newer_engine_reads_without_a_wrong_sparkline() -> None:
    """Still schema version 1: a reader ignores a per-slot `history` (engines before
    `price_history`) and shows no sparkline rather than a wrong one; a status without
    `price_history` reads as having none."""
    raw = json.loads(make_status().model_dump_json(by_alias=True))
    assert raw["price_history"] == {}
    del raw["price_history"]
    slot = {"id": "BTC-5m", "asset": "BTC", "window": "5m", "window_s": 300, "state": "watching",
            "window_start": 0.0, "window_end": 300.0, "open_price": 1.0, "price": 1.01}  # fmt: skip
    raw["slots"] = [slot | {"history": [1.0, 1.01]}]
    old = Status.model_validate(raw)
    assert old.price_history == {} and "history" not in old.slots[0].model_dump()
    raw["price_history"] = {"BTC": [1.0, 1.01]}
    assert Status.model_validate(raw).price_history == {"BTC": [1.0, 1.01]}


def test_unknown_status_version_is_refused(tmp_path: Path) -> None:
    raw = json.loads(make_status().model_dump_json(by_alias=True))
    raw["schema_version"] = 2
    (tmp_path / STATUS_FILE).write_text(json.dumps(raw))
    result = read_model(tmp_path / STATUS_FILE, Status)
    assert result.value is None and "schema_version 2" in (result.reason or "")


def test_atomic_write_is_private_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    atomic_write_bytes(target, b"{}")
    atomic_write_model(target, make_status())
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
    (tmp_path / ".state.json.abc.tmp").write_text("half")
    removed = clean_temp_files(tmp_path)
    assert [p.name for p in removed] == [".state.json.abc.tmp"]
    assert read_model(target, Status).ok


def test_with_member_adds_a_serialised_value_to_a_serialised_object() -> None:
    joined = with_member(b'{"a":1,"b":"x}"}', "rows", b'[{"c":null}]')
    assert json.loads(joined) == {"a": 1, "b": "x}", "rows": [{"c": None}]}


def test_write_all_retries_a_short_write_and_refuses_a_write_of_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[bytes] = []
    monkeypatch.setattr(os, "write", lambda fd, data: written.append(bytes(data[:3])) or min(3, len(data)))
    write_all(7, b"abcdefgh")
    assert b"".join(written) == b"abcdefgh"
    monkeypatch.setattr(os, "write", lambda fd, data: 0)
    with pytest.raises(OSError, match="short write"):
        write_all(7, b"abc")


def test_writer_generation_moves_past_file_and_status(tmp_path: Path) -> None:
    writer = ControlWriter(tmp_path / "s", tool="test")
    assert writer.set_paused(True).control.generation == 1
    assert writer.set_slot_paused("BTC-5m", True).control.generation == 2
    # The engine has seen further than the file (e.g. control.json was restored from an old copy):
    # the next write moves past both, and builds on what the engine runs, not on the old copy.
    status = make_status(observed_generation=40)
    status.control.applied.paused_slots = ["ETH-5m"]
    atomic_write_model(tmp_path / "s" / STATUS_FILE, status)
    result = writer.set_overrides({"stake": 6})
    assert result.control.generation == 41
    assert not result.control.paused and result.control.paused_slots == ["ETH-5m"]
    assert result.control.overrides == {"stake": 6}
    assert result.note and "generation 2 is older than the engine's applied 40" in result.note
    assert stat.S_IMODE(os.stat(tmp_path / "s").st_mode) == 0o700


def test_writer_rebuilds_from_applied_intent_when_file_is_corrupt(tmp_path: Path) -> None:
    state = tmp_path / "s"
    state.mkdir()
    status = make_status(observed_generation=5)
    status.control.applied.paused = True
    status.control.applied.overrides = {"stake": 9}
    atomic_write_model(state / STATUS_FILE, status)
    (state / CONTROL_FILE).write_text("{ not json")
    result = ControlWriter(state).set_slot_paused("ETH-5m", True)
    assert result.note and "unusable" in result.note
    assert result.control.generation == 6
    assert result.control.paused and result.control.overrides == {"stake": 9}
    assert result.control.paused_slots == ["ETH-5m"]


def test_writer_builds_on_applied_intent_after_a_refusal(tmp_path: Path) -> None:
    state = tmp_path / "s"
    writer = ControlWriter(state)
    writer.set_overrides({"stake": 1000})  # generation 1, which the engine refuses
    status = make_status(observed_generation=0, rejected_generation=1, warnings=["stake: too large"])
    atomic_write_model(state / STATUS_FILE, status)
    result = writer.set_paused(True)
    assert result.note and "refused" in result.note
    assert result.control.overrides == {}
    assert result.control.paused and result.control.generation == 2


def test_writer_validates_before_writing(tmp_path: Path) -> None:
    writer = ControlWriter(tmp_path / "s")
    writer.set_paused(True)
    before = (tmp_path / "s" / CONTROL_FILE).read_bytes()
    with pytest.raises(ValidationError):
        writer.set_slot_paused("not a slot", True)
    assert (tmp_path / "s" / CONTROL_FILE).read_bytes() == before


def test_writer_drops_acknowledged_commands(tmp_path: Path) -> None:
    state = tmp_path / "s"
    writer = ControlWriter(state)
    _, first = writer.send_command("reload")
    atomic_write_model(
        state / STATUS_FILE,
        make_status(observed_generation=1, acks=[Ack(id=first.id, type="reload", result="applied", at=utc_now_iso())]),
    )
    result, second = writer.send_command("check")
    assert [c.id for c in result.control.commands] == [second.id]
