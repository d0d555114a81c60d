"""The entry point the engine calls: one decision per slot per cycle.

Two paths estimate the probability that the window closes up:

- predictive: the price is a driftless random walk in log space, so with the
  move so far ``ln(S/S0)``, the time left ``tau`` and the volatility ``sigma``
  estimated from ``history``, P(up) = Phi(ln(S/S0) / (sigma * sqrt(tau)))
  (less a negligible -sigma^2 tau / 2 drift of the log of a martingale price);
- reactive: momentum since the window opened (``momentum_strategy``).

Their probabilities are blended by the path weights. The strategy bets the
side it favours only late in the window, where the market's lagging price is
most wrong, and only when its probability beats the ask by ``edge_margin``.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from strategies import momentum_strategy, ta_engine

API_VERSION: int = 1

Asset = Literal["BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "AVAX"]
ASSETS: tuple[Asset, ...] = get_args(Asset)
Direction = Literal["up", "down"]
Path = Literal["reactive", "predictive", "blend"]

# The time left is floored so a decision in the last instant of a window
# stays finite (the engine should not ask after the end anyway).
_MIN_TIME_LEFT_S = 1.0
# A path "drove" a decision when it supplied at least this share of the pull
# away from 50/50 in the chosen direction; otherwise both did ("blend").
_DOMINANT_SHARE = 2.0 / 3.0


class MarketView(Protocol):
    """What the engine shows of one slot at one instant (docs/strategy-api.md).

    Read-only properties, so the engine's immutable view (a NamedTuple) matches structurally.
    """

    @property
    def slot_id(self) -> str: ...
    @property
    def asset(self) -> str: ...
    @property
    def window_s(self) -> int: ...
    @property
    def now(self) -> float: ...
    @property
    def window_start(self) -> float: ...
    @property
    def window_end(self) -> float: ...
    @property
    def open_price(self) -> float: ...
    @property
    def price(self) -> float: ...
    @property
    def history(self) -> tuple[float, ...]: ...
    @property
    def history_step_s(self) -> float: ...
    @property
    def up_ask(self) -> float: ...
    @property
    def down_ask(self) -> float: ...
    @property
    def in_cooldown(self) -> bool: ...
    @property
    def has_position(self) -> bool: ...
    @property
    def open_positions(self) -> int: ...
    # What `analyse_history` returned for this view's history (the engine's views carry it,
    # None when not measured); `evaluate` reads it with getattr, so a view may lack it.
    @property
    def history_analysis(self) -> object: ...


class Params(BaseModel):
    """Every tunable of the strategy; the engine validates overrides against it."""

    model_config = ConfigDict(extra="forbid")

    stake: float = Field(default=5.0, ge=0.5, le=100.0, description="USD staked per bet")
    snipe_window_s: float = Field(
        default=90.0, ge=5.0, le=900.0,
        description="entries only in the last N market seconds of a window",
    )
    confidence_threshold: float = Field(
        default=0.6, ge=0.5, le=0.99,
        description="minimum probability that the favoured side wins",
    )
    edge_margin: float = Field(
        default=0.03, ge=0.0, le=0.5,
        description="minimum advantage of that probability over the ask",
    )
    reactive_weight: float = Field(
        default=0.25, ge=0.0, le=1.0, description="weight of the reactive (momentum) path"
    )
    predictive_weight: float = Field(
        default=0.75, ge=0.0, le=1.0, description="weight of the predictive (probability) path"
    )
    assets: tuple[Asset, ...] = Field(
        default=ASSETS, min_length=0, max_length=len(ASSETS),
        description="assets the strategy may enter; the others are only watched",
    )
    cooldown_s: float = Field(
        default=60.0, ge=0.0, le=3600.0,
        description="market seconds a slot rests after a resolution",
    )
    max_open_positions: int = Field(
        default=8, ge=0, le=64, description="no entry while this many bets are open"
    )
    win_rate_window: int = Field(
        default=50, ge=5, le=1000, description="resolved bets the rolling win rate spans"
    )
    min_history: int = Field(
        default=20, ge=3, le=120, description="history points needed before any opinion"
    )
    vol_lookback: int = Field(
        default=60, ge=2, le=120, description="history points the volatility estimate spans"
    )
    min_volatility: float = Field(
        default=0.2, ge=0.01, le=5.0,
        description="annualised floor on the volatility estimated from history",
    )
    fast_ema_period: int = Field(
        default=5, ge=2, le=60, description="fast EMA of the reactive path's trend check (points)"
    )
    slow_ema_period: int = Field(
        default=20, ge=3, le=120, description="slow EMA of the reactive path's trend check (points)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> "Params":
        if self.reactive_weight + self.predictive_weight <= 0:
            raise ValueError("reactive_weight and predictive_weight cannot both be 0")
        if self.fast_ema_period >= self.slow_ema_period:
            raise ValueError("fast_ema_period must be less than slow_ema_period")
        if len(set(self.assets)) != len(self.assets):
            raise ValueError("assets must not repeat")
        return self


@dataclass(frozen=True, slots=True)
class Decision:
    """One slot's decision (docs/strategy-api.md). Having a docstring also spares
    `dataclass` from writing one out of the signature on every reload."""

    direction: Direction
    confidence: float  # probability that `direction` wins, in [0.5, 1]
    path: Path
    enter: bool
    prob_up: float  # in [0, 1]
    edge: float  # confidence - ask of `direction`
    reason: str


def normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def predictive_prob_up(
    *, open_price: float, price: float, sigma_annual: float, time_left_s: float
) -> float:
    """P(price at window end >= open_price) for a driftless GBM."""
    move = math.log(price / open_price)
    tau = max(time_left_s, _MIN_TIME_LEFT_S) / ta_engine.SECONDS_PER_YEAR
    spread = sigma_annual * math.sqrt(tau)
    return normal_cdf((move - 0.5 * spread * spread) / spread)


class HistoryAnalysis(NamedTuple):
    """What :func:`analyse_history` found in one asset's history for one ``Params``: the part
    of a decision that depends on nothing else, shared by every slot (window) of the asset.

    Immutable (a NamedTuple: every reload executes this module again, and a NamedTuple class
    is much cheaper to build than a dataclass). It keeps the history, spacing and
    params it was made from, so :func:`evaluate` uses it only for those very inputs.
    """

    history: Sequence[float]  # the object analysed (compared by identity)
    history_step_s: float
    params: Params  # compared by identity
    step_vol: float | None  # per-step volatility; None: no opinion on any view of this history
    sigma: float  # annualised volatility, floored at params.min_volatility
    trend: tuple[float | None, float | None]  # fast and slow EMAs of the reactive trend check


def analyse_history(history: Sequence[float], history_step_s: float, params: Params) -> HistoryAnalysis:
    """The per-asset step (optional in the API): everything :func:`evaluate` derives from the
    history, its spacing and the params alone, measured once for all the asset's windows.

    The engine calls it once per asset per cycle and hands the result to ``evaluate`` as
    ``view.history_analysis``; ``evaluate`` without it (or with one made from other inputs)
    calls it itself, so the decision is the same either way, to the bit.
    """
    prices = history if isinstance(history, tuple) else tuple(history)
    nothing = HistoryAnalysis(
        history=history, history_step_s=history_step_s, params=params, step_vol=None, sigma=0.0, trend=(None, None)
    )
    if len(prices) < params.min_history or not (history_step_s > 0 and math.isfinite(history_step_s)):
        return nothing
    # The engine's history carries its log returns, measured once per asset per cycle, and
    # taking them checks the prices (positive, finite) on the way. Any other history is checked
    # whole, and only the `vol_lookback` returns the volatility takes are measured.
    lookback = params.vol_lookback
    recent = prices
    if not hasattr(prices, "log_returns"):
        if not ta_engine.all_positive_finite(prices):
            return nothing
        recent = prices[-(lookback + 1) :]
    try:
        returns = ta_engine.log_returns(recent)
    except ValueError:
        return nothing
    step_vol = ta_engine.sample_volatility(returns[-lookback:])
    if step_vol is None:
        return nothing
    sigma = max(ta_engine.annualise_volatility(step_vol, history_step_s), params.min_volatility)
    trend = momentum_strategy.trend_emas(prices, params.fast_ema_period, params.slow_ema_period)
    return HistoryAnalysis(
        history=history, history_step_s=history_step_s, params=params, step_vol=step_vol, sigma=sigma, trend=trend
    )


def evaluate(view: MarketView, params: Params) -> Decision | None:
    """The decision for one slot now, or ``None`` without an opinion.

    ``None`` when history is shorter than ``params.min_history`` or the view
    holds numbers no price can have (non-positive, non-finite).
    """
    history = view.history
    analysis = getattr(view, "history_analysis", None)
    if (
        type(analysis) is not HistoryAnalysis
        or analysis.history is not history
        or analysis.params is not params
        or analysis.history_step_s != view.history_step_s
    ):
        analysis = analyse_history(history, view.history_step_s, params)
    step_vol = analysis.step_vol
    if step_vol is None or not _sane(view):
        return None
    time_left = view.window_end - view.now
    # Both paths take what the asset's analysis measured once; this slot adds its open, price
    # and time left.
    p_predictive = predictive_prob_up(
        open_price=view.open_price, price=view.price, sigma_annual=analysis.sigma, time_left_s=time_left
    )
    reactive = momentum_strategy.momentum_signal(
        open_price=view.open_price,
        price=view.price,
        history=history,
        history_step_s=view.history_step_s,
        time_left_s=time_left,
        min_volatility=params.min_volatility,
        fast_period=params.fast_ema_period,
        slow_period=params.slow_ema_period,
        min_time_left_s=_MIN_TIME_LEFT_S,
        step_vol=step_vol,
        trend=analysis.trend,
    )
    blended = _blend(p_predictive, reactive, params)
    if blended is None:
        return None
    prob_up, path = blended

    direction: Direction = "up" if prob_up >= 0.5 else "down"
    confidence = max(prob_up, 1.0 - prob_up)
    edge = confidence - (view.up_ask if direction == "up" else view.down_ask)
    blocker = _blocker(view, params, time_left, confidence, edge)
    return Decision(
        direction=direction,
        confidence=confidence,
        path=path,
        enter=blocker is None,
        prob_up=prob_up,
        edge=edge,
        reason=blocker or f"edge {edge:.3f} >= margin {params.edge_margin:.3f}",
    )


def _sane(view: MarketView) -> bool:
    """The view's own numbers (its history is :func:`analyse_history`'s to check)."""
    positive = (view.open_price, view.price, view.history_step_s)
    finite = (view.now, view.window_end, view.up_ask, view.down_ask)
    # A finite sum proves every term finite (NaN and infinities propagate); only when
    # it is not (a bad value, or an overflowing sum) are the values looked at one by one.
    if min(positive) > 0 and math.isfinite(sum(positive) + sum(finite)):
        return True
    return all(x > 0 and math.isfinite(x) for x in positive) and all(math.isfinite(x) for x in finite)


def _blend(
    p_predictive: float,
    reactive: momentum_strategy.MomentumSignal | None,
    params: Params,
) -> tuple[float, Path] | None:
    w_pred, w_react = params.predictive_weight, params.reactive_weight
    if reactive is None or w_react == 0:
        return (p_predictive, "predictive") if w_pred > 0 else None
    p_reactive = reactive.confidence if reactive.direction == "up" else 1.0 - reactive.confidence
    if w_pred == 0:
        return p_reactive, "reactive"

    prob_up = (w_pred * p_predictive + w_react * p_reactive) / (w_pred + w_react)
    prob_up = min(1.0, max(0.0, prob_up))
    # Only pulls towards the chosen side count as driving it.
    side = 1.0 if prob_up >= 0.5 else -1.0
    pull_pred = max(0.0, side * w_pred * (p_predictive - 0.5))
    pull_react = max(0.0, side * w_react * (p_reactive - 0.5))
    total = pull_pred + pull_react
    if total > 0 and pull_pred / total >= _DOMINANT_SHARE:
        return prob_up, "predictive"
    if total > 0 and pull_react / total >= _DOMINANT_SHARE:
        return prob_up, "reactive"
    return prob_up, "blend"


def _blocker(
    view: MarketView, params: Params, time_left: float, confidence: float, edge: float
) -> str | None:
    """Why not to enter now, or ``None`` when every gate is open."""
    if time_left <= 0:
        return "window closed"
    if view.asset not in params.assets:
        return "asset filtered"
    if view.in_cooldown:
        return "cooldown"
    if view.has_position:
        return "has position"
    if view.open_positions >= params.max_open_positions:
        return f"max open positions ({params.max_open_positions})"
    if time_left > params.snipe_window_s:
        return f"outside snipe window ({time_left:.1f}s left > {params.snipe_window_s:g}s)"
    if confidence < params.confidence_threshold:
        return f"confidence {confidence:.3f} < threshold {params.confidence_threshold:.3f}"
    if edge < params.edge_margin:
        return f"edge {edge:.3f} < margin {params.edge_margin:.3f}"
    return None
