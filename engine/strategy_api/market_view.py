"""What a strategy sees of one slot at one instant (see docs/strategy-api.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

# The most recent prices a view's history holds, one every `history_step_s` (docs/strategy-api.md).
HISTORY_POINTS = 120


class History(tuple):  # type: ignore[type-arg]
    """A view's `history`: the prices, oldest first, with `log_returns`, ln(p[i] / p[i-1]) of
    each pair of consecutive points, measured once per asset per cycle for all its windows
    (strategies.ta_engine.log_returns takes them instead of measuring them again)."""

    log_returns: tuple[float, ...]

    @classmethod
    def of(cls, prices: Iterable[float], log_returns: Iterable[float]) -> History:
        history = cls(prices)
        history.log_returns = tuple(log_returns)
        return history


class MarketView(NamedTuple):
    """Immutable. A NamedTuple rather than a frozen dataclass: the engine builds one per slot per
    cycle, and a frozen dataclass sets each field through object.__setattr__, several times the
    cost (benchmarks/findings.md). Copies with changes: `_replace`."""

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
    # What the strategy's optional per-asset step (`analyse_history`) returned for `history`
    # this cycle, shared by the asset's windows; None when the strategy has no such step.
    history_analysis: Any = None
