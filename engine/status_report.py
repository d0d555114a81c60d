"""Building status.json from the engine's state, once a cycle."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter

from engine.contract import (
    SCHEMA_VERSION,
    CodeStatus,
    ControlStatus,
    EngineInfo,
    Event,
    ParamsStatus,
    SlotStatus,
    Stats,
    Status,
    utc_now_iso,
)
from engine.market import SPARK_POINTS
from engine.slots import window_label
from engine.state import StateManager
from engine.trading import Trader

__all__ = ["SPARK_POINTS", "LoopFigures", "build_status", "price_history", "slot_rows", "slot_statuses"]


@dataclass
class LoopFigures:
    cycle_interval_s: float
    last_cycle_ms: float = 0.0
    worst_cycle_ms: float = 0.0
    overruns: int = 0


# One validation call for every slot (pydantic-core loops in Rust): per-object model
# construction cost several microseconds per slot, milliseconds at a thousand slots.
_SLOT_LIST = TypeAdapter(list[SlotStatus])


def slot_rows(trader: Trader, paused_slots: set[str]) -> list[dict[str, Any]]:
    """Every slot of `trader` as SlotStatus fields, in slot order."""
    market = trader.market
    now = market.now
    prices = market.prices
    labels: dict[int, str] = {}
    records = trader.manager.state.slots
    rows = []
    for spec, slot_id in zip(trader.specs, trader.slot_ids):
        slot = records[slot_id]
        asset = slot.asset
        label = labels.get(slot.window_s)
        if label is None:
            label = labels[slot.window_s] = window_label(slot.window_s)
        signal = slot.signal
        position = slot.position
        cooldown = slot.cooldown_until
        rows.append(
            {
                "id": slot.id,
                "asset": asset,
                "window": label,
                "window_s": slot.window_s,
                "state": trader.slot_state(slot),
                "paused": slot_id in paused_slots,
                "window_start": slot.window_start,
                "window_end": slot.window_start + slot.window_s,
                "open_price": slot.open_price,
                "price": prices[asset],
                "up_ask": slot.up_ask,
                "down_ask": slot.down_ask,
                # The state keeps the contract's own Signal and Position models: passed as they
                # are, pydantic takes the instances without validating them again.
                "signal": signal,
                "position": position,
                "cooldown_until": cooldown if cooldown and cooldown > now else None,
                "last_result": slot.last_result,
                "last_pnl": slot.last_pnl,
                "error": slot.error,
            }
        )
    return rows


def slot_statuses(trader: Trader, paused_slots: set[str]) -> list[SlotStatus]:
    """Every slot's SlotStatus, validated in one call."""
    return _SLOT_LIST.validate_python(slot_rows(trader, paused_slots))


def price_history(trader: Trader) -> dict[str, list[float]]:
    """status.json's `price_history`: the sparkline of every asset that has a slot, once:
    the market's own floats, rounded for display as they arrive."""
    spark = trader.market.spark
    return {asset: list(spark[asset]) for asset in dict.fromkeys(slot.asset for slot in trader.specs)}


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
    status = Status(
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
        slots=slot_statuses(trader, paused_slots),
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
    # model_copy takes the sparklines as they are: validating them again (0.35 ms at 512 assets)
    # would only check that the market's floats are floats.
    return status.model_copy(update={"price_history": price_history(trader)})
