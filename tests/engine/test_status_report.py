"""status.json as the engine renders it (engine/status_report.py). Its slots are typed rows
serialised without being validated first, so these check that what readers validate as
`Status` holds every slot as the engine holds it."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from engine.contract.fileio import read_model
from engine.contract.models import STATUS_FILE, AppliedIntent, Signal, SlotStatus, Status
from engine.status_report import SlotRow
from engine.trading.state import SignalRecord
from tests.support.in_process_engine import engine_on


def _same_fields(written: type, model: type[BaseModel]) -> tuple[dict[str, Any], dict[str, Any]]:
    fields = {name: field.annotation for name, field in model.model_fields.items()}
    hints = typing.get_type_hints(written)
    assert list(hints) == list(fields)
    return hints, fields


def test_a_slot_row_is_slot_status_field_for_field() -> None:
    hints, fields = _same_fields(SlotRow, SlotStatus)
    # The signal is the state's SignalRecord, serialised as the contract's Signal.
    assert hints.pop("signal") == SignalRecord | None and fields.pop("signal") == Signal | None
    assert hints.pop("shadow_signal") == SignalRecord | None and fields.pop("shadow_signal") == Signal | None
    assert hints == fields


def test_a_signal_record_is_signal_field_for_field_with_its_defaults() -> None:
    hints, fields = _same_fields(SignalRecord, Signal)
    assert hints == fields
    defaults = {f.name: f.default for f in dataclasses.fields(SignalRecord) if f.default is not dataclasses.MISSING}
    assert defaults == {name: field.default for name, field in Signal.model_fields.items() if not field.is_required()}


def test_readers_see_every_slot_as_the_engine_holds_it(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    engine = engine_on(state_dir)
    try:
        engine.manager.state.applied = AppliedIntent(paused_slots=["ETH-15m"])
        slots = engine.manager.state.slots
        # Until a bet is open and signals are out (a window's snipe stretch, after the history fills).
        for _ in range(900):
            engine.cycle()
            if any(s.position is not None for s in slots.values()) and any(s.signal is not None for s in slots.values()):
                break
        read = read_model(state_dir / STATUS_FILE, Status)
        assert read.value is not None, read.reason
        status = read.value
        assert [slot.id for slot in status.slots] == list(engine.trader.slot_ids)
        assert any(slot.position is not None for slot in status.slots)
        assert any(slot.signal is not None for slot in status.slots)
        for slot in status.slots:
            record = slots[slot.id]
            assert slot.asset == record.asset and slot.window_s == record.window_s
            assert slot.state == engine.trader.slot_state(record)
            assert slot.paused == (slot.id == "ETH-15m")
            assert (slot.window_start, slot.window_end) == (record.window_start, record.window_start + record.window_s)
            assert (slot.open_price, slot.price) == (record.open_price, engine.market.prices[record.asset])
            assert (slot.up_ask, slot.down_ask) == (record.up_ask, record.down_ask)
            assert slot.position == record.position
            assert (slot.signal and slot.signal.model_dump()) == (record.signal and dataclasses.asdict(record.signal))
            assert (slot.last_result, slot.last_pnl, slot.error) == (record.last_result, record.last_pnl, record.error)
        assert set(status.price_history) == {slot.asset for slot in status.slots}
        assert status.engine.cycle == engine.manager.state.cycle
    finally:
        engine.manager.close_journal()
        engine.lock.release()
