"""Building status.json from the engine's state, once a cycle.

The slots are written as typed rows (`SlotRow`), serialised without being validated
into SlotStatus models first: they come from the engine's own typed records, and
validating a thousand models a cycle would more than double the cost of writing
them (benchmarks/findings.md). The rest of the status is built as the contract's
models. Readers validate the whole file as `Status`; a test keeps SlotRow in step
with SlotStatus.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, TypeAdapter
from typing_extensions import TypedDict  # pydantic serialises typing.TypedDict only from Python 3.12

from engine.contract.fileio import model_json, with_member
from engine.contract.models import (
    SCHEMA_VERSION,
    CodeStatus,
    ControlStatus,
    EngineInfo,
    Event,
    FeedState,
    ParamsStatus,
    Position,
    RiskStatus,
    SlotState,
    Stats,
    Status,
    utc_now_iso,
)
from engine.market.feed_report import feed_status
from engine.market.market import SPARK_POINTS
from engine.trading.slots import window_label
from engine.trading.state import SignalRecord, SlotRecord, StateManager
from engine.trading.trader import Trader

__all__ = ["SPARK_POINTS", "LoopFigures", "SlotRow", "price_history", "render_status", "slot_rows"]


@dataclass
class LoopFigures:
    cycle_interval_s: float
    last_cycle_ms: float = 0.0
    worst_cycle_ms: float = 0.0
    overruns: int = 0


class SlotRow(TypedDict):
    """One slot of status.json as the engine writes it: SlotStatus's fields, every one."""

    id: str
    asset: str
    window: str
    window_s: int
    state: SlotState
    paused: bool
    window_start: float
    window_end: float
    open_price: float
    price: float
    up_ask: float | None
    down_ask: float | None
    signal: SignalRecord | None  # serialised as the contract's Signal
    position: Position | None
    cooldown_until: float | None
    last_result: Literal["won", "lost"] | None
    last_pnl: float | None
    error: str | None
    feed: FeedState
    price_age_s: float | None
    shadow_signal: SignalRecord | None  # serialised as the contract's Signal


_ROWS = TypeAdapter(list[SlotRow])


def slot_rows(trader: Trader, paused_slots: set[str], shadow: Mapping[str, SlotRecord] | None = None) -> list[SlotRow]:
    """Every slot of `trader` as SlotStatus fields, in slot order (`shadow`: a shadow's book, engine/shadow/runner.py)."""
    market = trader.market
    now = market.now
    prices = market.prices
    labels: dict[int, str] = {}
    records = trader.manager.state.slots
    rows: list[SlotRow] = []
    health = market.health.assets if market.health is not None else {}
    for slot_id in trader.slot_ids:
        slot = records[slot_id]
        asset = slot.asset
        label = labels.get(slot.window_s)
        if label is None:
            label = labels[slot.window_s] = window_label(slot.window_s)
        signal = slot.signal
        position = slot.position
        cooldown = slot.cooldown_until
        feed = health.get(asset)
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
                # Serialised as they are: the contract's Position model, and a SignalRecord.
                "signal": signal,
                "position": position,
                "cooldown_until": cooldown if cooldown and cooldown > now else None,
                "last_result": slot.last_result,
                "last_pnl": slot.last_pnl,
                "error": slot.error,
                "feed": feed.state if feed is not None else "connected",
                "price_age_s": feed.age_s if feed is not None else None,
                "shadow_signal": shadow[slot_id].signal if shadow is not None else None,
            }
        )
    return rows


def price_history(trader: Trader) -> dict[str, list[float]]:
    """status.json's `price_history`: the sparkline of every asset that has a slot, once:
    the market's own floats, rounded for display as they arrive."""
    spark = trader.market.spark
    return {asset: list(spark[asset]) for asset in dict.fromkeys(slot.asset for slot in trader.specs)}


def render_status(
    *,
    engine: EngineInfo,
    manager: StateManager,
    trader: Trader,
    code: CodeStatus,
    params: BaseModel,
    params_schema: dict,
    warnings: Iterable[str],
    events: Iterable[Event],
    risk: RiskStatus | None = None,
    shadow_slots: Mapping[str, SlotRecord] | None = None,
) -> bytes:
    """status.json's bytes for this cycle: the contract's Status, its slots as `SlotRow`s."""
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
            rejected_reason=state.rejected_reason or None,
            acks=manager.visible_acks(manager.pending_commands),
            warnings=list(warnings),
            applied=applied,
            applied_digest=state.applied_digest,
        ),
        code=code,
        params=ParamsStatus(schema=params_schema, values=params.model_dump(mode="json")),
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
        risk=risk or RiskStatus(),
    )
    # model_copy takes the sparklines as they are: validating them again (0.35 ms at 512 assets)
    # would only check that the market's floats are floats.
    status = status.model_copy(update={"price_history": price_history(trader), "feed": feed_status(trader.market)})
    # The slots go last, joined to the object the rest serialised to (a JSON object's key
    # order means nothing to its readers).
    head = model_json(status, by_alias=True, exclude={"slots"})
    return with_member(head, "slots", _ROWS.dump_json(slot_rows(trader, paused_slots, shadow_slots)))
