"""What a strategy sees of one slot at one instant (see docs/strategy-api.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MarketView:
    slot_id: str
    asset: str
    window_s: int
    now: float
    window_start: float
    window_end: float
    open_price: float
    price: float
    history: tuple[float, ...]
    history_step_s: float
    up_ask: float
    down_ask: float
    in_cooldown: bool = False
    has_position: bool = False
    open_positions: int = 0
