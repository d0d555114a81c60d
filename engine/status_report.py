"""Building status.json from the engine's state, once a cycle."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel

from engine.contract import (
    SCHEMA_VERSION,
    CodeStatus,
    ControlStatus,
    EngineInfo,
    Event,
    ParamsStatus,
    Position,
    Signal,
    SlotStatus,
    Stats,
    Status,
    utc_now_iso,
)
from engine.slots import window_label
from engine.state import SlotRecord, StateManager
from engine.trading import Trader

SPARK_POINTS = 40


@dataclass
class LoopFigures:
    cycle_interval_s: float
    last_cycle_ms: float = 0.0
    worst_cycle_ms: float = 0.0
    overruns: int = 0


def slot_status(trader: Trader, slot: SlotRecord, paused: bool) -> SlotStatus:
    market = trader.market
    signal = slot.signal
    position = slot.position
    return SlotStatus(
        id=slot.id,
        asset=slot.asset,
        window=window_label(slot.window_s),
        window_s=slot.window_s,
        state=trader.slot_state(slot),
        paused=paused,
        window_start=slot.window_start,
        window_end=slot.window_start + slot.window_s,
        open_price=slot.open_price,
        price=market.price(slot.asset),
        up_ask=slot.up_ask,
        down_ask=slot.down_ask,
        signal=Signal(**signal.model_dump()) if signal else None,
        position=Position(**position.model_dump()) if position else None,
        cooldown_until=slot.cooldown_until if slot.cooldown_until and slot.cooldown_until > market.now else None,
        last_result=slot.last_result,
        last_pnl=slot.last_pnl,
        history=list(market.history[slot.asset])[-SPARK_POINTS:],
        error=slot.error,
    )


def build_status(
    *,
    engine: EngineInfo,
    manager: StateManager,
    trader: Trader,
    code: CodeStatus,
    params: BaseModel,
    params_schema: dict,
    warnings: Iterable[str],
    events: Iterable[Event],
) -> Status:
    state = manager.state
    applied = state.applied
    paused_slots = set(applied.paused_slots)
    window = int(getattr(params, "win_rate_window", 50))
    rate = manager.win_rate(window)
    return Status(
        schema_version=SCHEMA_VERSION,
        written_at=utc_now_iso(),
        engine=engine,
        control=ControlStatus(
            observed_generation=state.last_generation,
            rejected_generation=state.rejected_generation,
            acks=list(state.acks),
            warnings=list(warnings),
            applied=applied,
        ),
        code=code,
        params=ParamsStatus(schema=params_schema, values=params.model_dump(mode="json")),
        slots=[slot_status(trader, state.slots[spec.id], spec.id in paused_slots) for spec in trader.specs],
        stats=Stats(
            open_positions=manager.open_positions(),
            resolved=state.resolved,
            wins=state.wins,
            win_rate=round(rate, 4) if rate is not None else None,
            win_rate_window=window,
            pnl=round(state.pnl, 4),
            staked=round(state.staked, 4),
            pnl_history=list(state.pnl_history),
        ),
        events=list(events),
    )
