"""The paper market is honest: on the default (fair) maker a coin flip loses about the spread and
the fee per bet; on `--maker slow` the shipped strategy's edge against the lagged maker shows.

Both run the engine's own Market and Trader over a replay of recorded prices (a driftless GBM per
asset, written as OHLCV files) with the real feed, quotes and settlement, in process.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from engine.contract.paths import shipped_strategies_dir
from engine.market.feeds import PROFILES, YEAR_S, ReplayFeed
from engine.market.makers import FAIR
from engine.market.market import Market
from engine.market.quotes import SLOW, QuoteModel
from engine.market.replay_layouts import read_recording
from engine.reload.manager import ReloadManager
from engine.trading.slots import SlotSpec
from engine.trading.state import StateManager
from engine.trading.trader import CycleOutcome, Trader

T0 = 1_798_761_600  # a multiple of 15 minutes
Z = 4.0  # tolerance in standard errors of the mean: a false alarm about once in 16,000 runs


def write_recording(directory: Path, assets: tuple[str, ...], bar_s: int, bars: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for asset in assets:
        sd = PROFILES[asset].annual_vol * math.sqrt(bar_s / YEAR_S)
        price = PROFILES[asset].start_price
        lines = ["timestamp,open,high,low,close,volume"]
        for i in range(bars):
            start = price
            price *= math.exp(sd * rng.gauss(0.0, 1.0) - 0.5 * sd * sd)
            lines.append(f"{T0 + i * bar_s},{start},{max(start, price)},{min(start, price)},{price},1.0")
        path = directory / f"{asset}.csv"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


@dataclass(frozen=True)
class Bet:
    ask: float
    won: bool

    @property
    def per_share(self) -> float:
        """What one $1 share bought at the ask returned: 1 - ask if it won, -ask if not."""
        return float(self.won) - self.ask


def replay(paths: list[Path], assets: tuple[str, ...], windows: tuple[int, ...], step_s: float, maker: QuoteModel, evaluator: Any, params: BaseModel) -> list[Bet]:
    feed = ReplayFeed(paths, assets)
    market = Market(feed, assets, windows, step_s=step_s, seed=1, maker=maker)
    start = feed.start_time()
    assert start is not None
    market.start(start)
    trader = Trader(tuple(SlotSpec(a, w) for a in assets for w in windows), StateManager(Path("/nonexistent/state.json")), market)
    trader.ensure_slots()
    asks: dict[str, float] = {}
    bets: list[Bet] = []
    t = start
    end = max(max(dict(points)) for path in paths for points in read_recording(path, assets).series.values())
    while t < end:
        t += step_s
        market.advance(t)
        outcome = trader.evaluate(evaluator, params, lambda slot_id: True)
        for slot_id in outcome.entered:
            position = trader.slots[slot_id].position
            assert position is not None
            asks[slot_id] = position.odds
        resolved = CycleOutcome()
        trader.resolve(params, resolved)
        bets += [Bet(asks.pop(r["slot"]), r["result"] == "won") for r in resolved.resolutions]
    return bets


def mean_and_stderr(xs: list[float]) -> tuple[float, float]:
    n = len(xs)
    mean = sum(xs) / n
    return mean, math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1) / n)


@dataclass(frozen=True)
class CoinFlip:
    """Bets a fair coin's side once a window, at its first look: no information at all."""

    direction: str
    confidence: float = 0.5
    path: str = "coin"
    prob_up: float = 0.5
    edge: float = 0.0
    enter: bool = True
    reason: str = "coin flip"


class CoinFlipper:
    def evaluate(self, view: Any, params: BaseModel) -> CoinFlip:
        heads = random.Random(f"{view.slot_id}:{view.window_start}").random() < 0.5
        return CoinFlip("up" if heads else "down", enter=not view.has_position)

    def describe_error(self, exc: BaseException) -> str:
        return repr(exc)


class CoinParams(BaseModel):
    stake: float = 5.0
    cooldown_s: float = 0.0


def test_a_coin_flip_loses_about_the_spread_and_fee_per_bet_on_the_default_maker(tmp_path: Path) -> None:
    assets = tuple(PROFILES)  # the eight
    # 1-minute bars for 1,000 five-minute windows (and 333 fifteen-minute ones) per asset.
    paths = write_recording(tmp_path, assets, bar_s=60, bars=1000 * 5 + 5, seed=11)
    bets = replay(paths, assets, (300, 900), 60.0, FAIR, CoinFlipper(), CoinParams())
    assert len(bets) >= 8 * 1000
    mean, stderr = mean_and_stderr([b.per_share for b in bets])
    cost = FAIR.half_spread_plus_fee  # 0.01 of the spread's half plus the 0.01 fee on each share
    assert abs(mean - -cost) <= Z * stderr, f"{len(bets)} bets lost {-mean:.4f} a share, expected {cost} +- {Z * stderr:.4f}"
    assert mean + Z * stderr < 0  # and it does lose


def test_the_shipped_strategy_shows_its_edge_on_the_slow_maker(tmp_path: Path) -> None:
    assets = ("BTC", "DOGE")
    # 5-second bars: the slow maker quotes from the price 20 s (4 bars) old.
    paths = write_recording(tmp_path, assets, bar_s=5, bars=250 * 60 + 60, seed=12)
    reloader = ReloadManager(shipped_strategies_dir())
    assert reloader.load_initial().ok
    registry = reloader.registry
    params = registry.params_model()
    bets = replay(paths, assets, (300,), 5.0, SLOW, registry, params)
    assert len(bets) >= 100
    mean, stderr = mean_and_stderr([b.per_share for b in bets])
    wins = sum(b.won for b in bets) / len(bets)
    assert mean - Z * stderr > 0, f"{len(bets)} bets made {mean:+.4f} a share +- {stderr:.4f}"
    assert wins > 0.7
