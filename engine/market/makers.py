"""The paper market's makers by name, with the command line's overrides of their parameters.

`fair` is the default: an operator reading a win rate or a P&L must be able to
trust that it did not come from a maker that lags the price. `slow` keeps the
lagged maker as an explicit scenario (`--maker slow`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.market.quotes import SLOW, QuoteModel

FAIR = QuoteModel("fair", spread=0.02, fee=0.01, lag_s=0.0, noise=0.0, shrink=1.0, measured_vol=True)
MAKERS: dict[str, QuoteModel] = {"fair": FAIR, "slow": SLOW}


def maker(
    name: str = "fair",
    *,
    spread: float | None = None,
    fee: float | None = None,
    lag_s: float | None = None,
    noise: float | None = None,
) -> QuoteModel:
    """The named maker with any parameter given replaced; a clear error for a bad name or value."""
    base = MAKERS.get(name)
    if base is None:
        raise ValueError(f"unknown maker {name!r}: use {' or '.join(MAKERS)}")
    changes: dict[str, Any] = {k: v for k, v in (("spread", spread), ("fee", fee), ("lag_s", lag_s), ("noise", noise)) if v is not None}
    for key, value in changes.items():
        if not 0.0 <= value <= (3600.0 if key == "lag_s" else 1.0):
            flag = "--lag" if key == "lag_s" else f"--{key}"
            limit = "3600 seconds" if key == "lag_s" else "1"
            raise ValueError(f"{flag} {value:g} is out of range: between 0 and {limit}")
    return replace(base, **changes)


def describe(model: QuoteModel) -> str:
    """One line for status.json and the header: which maker quotes, with its parameters."""
    text = f"{model.name} (spread {model.spread:g}, fee {model.fee:g}"
    if model.lag_s:
        text += f", lag {model.lag_s:g}s"
    if model.noise:
        text += f", noise {model.noise:g}"
    if model.shrink != 1.0:
        text += f", shrink {model.shrink:g}"
    return text + ")"
