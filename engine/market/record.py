"""The market's part of the trading state: what a restart needs to resume the same market."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class MarketRecord(BaseModel):
    # Finite numbers only, as in the rest of the trading state: a NaN price is damage, not state.
    model_config = ConfigDict(extra="ignore", validate_assignment=False, allow_inf_nan=False)

    # Which market made this record (market_setup.market_source): another one's prices and
    # times are never resumed as its own. Empty in a state made before it was kept.
    source: str = ""
    feed: dict[str, JsonValue] = Field(default_factory=dict)
    history: dict[str, list[float]] = Field(default_factory=dict)
    boundary_prices: dict[str, dict[str, float]] = Field(default_factory=dict)
