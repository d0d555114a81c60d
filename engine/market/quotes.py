"""The binary market's prices for the up and down shares.

Two named makers quote them (engine/market/makers.py picks one):

- `fair` (the default): fair value of the share from the price now, the time
  left and the asset's measured volatility, plus half the spread and the fee on
  each side. A strategy with no information loses about that much per share.
- `slow`: the maker of the first versions, a scenario to test strategies
  against: it quotes from a price ~20 market seconds old, shrinks the evidence
  of the move, adds noise and charges a fee, so a strategy that estimates the
  true probability well has a real edge.

Both are one formula with different parameters (`QuoteModel`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import NamedTuple

from engine.market.feeds import YEAR_S

LAG_S = 20.0
SHRINK = 0.7
NOISE = 0.15
FEE = 0.01
MIN_TAU_S = 1.0
MIN_ASK = 0.01
MAX_ASK = 0.99


@dataclass(frozen=True, slots=True)
class QuoteModel:
    """How a maker turns (open, price, time left, volatility) into two asks."""

    name: str
    spread: float  # bid-ask spread around fair value; half of it on each ask
    fee: float  # added to each ask
    lag_s: float  # market seconds old the price the maker quotes from is
    noise: float  # standard deviation of the maker's error, in z-score units
    shrink: float = 1.0  # how much of the move's z-score the maker believes
    measured_vol: bool = True  # volatility measured from the asset's returns, else its profile

    @property
    def half_spread_plus_fee(self) -> float:
        """What a share costs above fair value on either side: a coin flip's expected loss per share."""
        return self.spread / 2 + self.fee


SLOW = QuoteModel("slow", spread=0.0, fee=FEE, lag_s=LAG_S, noise=NOISE, shrink=SHRINK, measured_vol=False)


class Quote(NamedTuple):
    """Immutable; a NamedTuple, the cheapest immutable record to build, as one is per slot per cycle."""

    up_ask: float
    down_ask: float


def normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def true_prob_up(open_price: float, price: float, time_left_s: float, annual_vol: float) -> float:
    tau = max(time_left_s, MIN_TAU_S) / YEAR_S
    return normal_cdf(math.log(price / open_price) / (annual_vol * math.sqrt(tau)))


def quote(
    open_price: float,
    quoted_price: float,
    time_left_s: float,
    annual_vol: float,
    rng: random.Random,
    model: QuoteModel = SLOW,
) -> Quote:
    tau = max(time_left_s, MIN_TAU_S) / YEAR_S
    z = model.shrink * math.log(quoted_price / open_price) / (annual_vol * math.sqrt(tau))
    if model.noise:
        z += rng.gauss(0.0, model.noise)
    p = normal_cdf(z)
    markup = model.half_spread_plus_fee
    return Quote(up_ask=round(_ask(p + markup), 4), down_ask=round(_ask(1.0 - p + markup), 4))


def _ask(price: float) -> float:
    """A share's price within [MIN_ASK, MAX_ASK]; MIN_ASK for a NaN."""
    return min(MAX_ASK, max(MIN_ASK, price))
