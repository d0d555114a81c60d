"""The market: feeds, window edges, quotes, and paper bets settled at the exact window edge."""

from __future__ import annotations

import math
import random
from itertools import pairwise
from pathlib import Path

import pytest
from pydantic import BaseModel

from engine.contract.models import Position
from engine.market.feeds import YEAR_S, ReplayError, ReplayFeed, SimFeed, profile
from engine.market.makers import maker
from engine.market.market import Market
from engine.market.quotes import quote, true_prob_up
from engine.trading.slots import SlotSpec, parse_window, slot_set
from engine.trading.state import StateManager
from engine.trading.trader import CycleOutcome, Trader
from tests.support.engine_proc import run_engine


class ScriptedFeed:
    """Prices chosen by the test, one function of time per asset."""

    name = "scripted"

    def __init__(self, price_of) -> None:
        self.price_of = price_of

    def start_time(self) -> float | None:
        return None

    def prices_at(self, t: float) -> dict[str, float]:
        return {"BTC": self.price_of(t)}

    def snapshot(self) -> dict:
        return {}

    def restore(self, snapshot: dict, t: float) -> None:
        pass


class Params(BaseModel):
    stake: float = 5.0
    cooldown_s: float = 60.0
    max_open_positions: int = 8


def test_slot_set_is_sixteen_by_default() -> None:
    slots = slot_set()
    assert len(slots) == 16
    assert slots[0].id == "BTC-5m" and slots[-1].id == "AVAX-15m"
    with pytest.raises(ValueError, match="window"):
        parse_window("0m")
    with pytest.raises(ValueError, match="asset"):
        slot_set(("btc",))


def test_window_edges_between_cycles() -> None:
    market = Market(ScriptedFeed(lambda t: 100.0), ["BTC"], [300, 900], step_s=15, seed=1)
    assert market._edges_between(290, 310) == [300]
    assert market._edges_between(0, 900) == [300, 600, 900]
    assert market._edges_between(300, 310) == []


def test_position_settles_at_the_window_edge_price_not_the_later_one() -> None:
    # Up until the edge at t=300, then a crash right after: the "up" bet must still win.
    feed = ScriptedFeed(lambda t: 100.0 + t / 100 if t <= 300 else 50.0)
    market = Market(feed, ["BTC"], [300], step_s=20, seed=1)
    market.start(0.0)
    manager = StateManager(Path("/nonexistent/state.json"))
    trader = Trader((SlotSpec("BTC", 300),), manager, market)
    trader.ensure_slots()
    slot = manager.state.slots["BTC-5m"]
    assert slot.open_price == 100.0
    slot.position = Position(side="up", stake=5.0, odds=0.5, shares=10.0, entered_at=280.0)
    market.advance(310.0)
    outcome = CycleOutcome()
    trader.resolve(Params(), outcome)
    assert outcome.resolutions[0]["close"] == pytest.approx(103.0)
    assert outcome.resolutions[0]["result"] == "won"
    assert manager.state.pnl == pytest.approx(5.0)  # 10 shares paid $1 each, minus the $5 stake
    assert slot.position is None and slot.window_start == 300.0 and slot.open_price == pytest.approx(103.0)
    assert outcome.rolled == 1  # the window rolled: the cycle persists its trading state
    assert trader.slot_state(slot) == "won"
    assert slot.cooldown_until == 360.0
    market.advance(345.0)
    assert trader.slot_state(slot) == "cooldown"
    market.advance(365.0)
    assert trader.slot_state(slot) == "watching"


def test_log_returns_follow_the_history_and_survive_a_restore() -> None:
    market = Market(SimFeed(["BTC", "DOGE"], seed=2), ["BTC", "DOGE"], [300], step_s=1.0, seed=2)
    market.start(0.0)
    for t in range(1, 150):
        market.advance(float(t))
    for asset in ("BTC", "DOGE"):
        history = tuple(market.history[asset])
        assert len(history) == 120
        # What the strategies' own ta_engine.log_returns would compute, to the bit.
        assert tuple(market.returns[asset]) == tuple(math.log(b / a) for a, b in pairwise(history))
    again = Market(SimFeed(["BTC", "DOGE"], seed=2), ["BTC", "DOGE"], [300], step_s=1.0, seed=2)
    again.restore(market.record(), market.now)
    assert {a: tuple(r) for a, r in again.returns.items()} == {a: tuple(r) for a, r in market.returns.items()}


def test_sim_feed_is_reproducible_and_has_the_asset_volatility() -> None:
    a, b = SimFeed(["BTC", "DOGE"], seed=3), SimFeed(["BTC", "DOGE"], seed=3)
    step = 60.0
    returns = []
    last = a.prices_at(0.0)["DOGE"]
    b.prices_at(0.0)
    for i in range(1, 4001):
        price = a.prices_at(i * step)["DOGE"]
        assert b.prices_at(i * step)["DOGE"] == price
        returns.append(math.log(price / last))
        last = price
    mean = sum(returns) / len(returns)
    realised = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)) * math.sqrt(YEAR_S / step)
    assert realised == pytest.approx(profile("DOGE").annual_vol, rel=0.1)


def test_quotes_lag_the_truth_and_charge_a_fee() -> None:
    rng = random.Random(0)
    q = quote(100.0, 100.0, 150.0, 0.55, rng)
    assert 0.01 <= q.up_ask <= 0.99 and 0.01 <= q.down_ask <= 0.99
    assert q.up_ask + q.down_ask == pytest.approx(1.02, abs=1e-3)
    # After a strong move the truth is near certain; the lagging market still sells "up" cheaper.
    truth = true_prob_up(100.0, 100.2, 60.0, 0.55)
    lagged = sum(quote(100.0, 100.05, 60.0, 0.55, rng).up_ask for _ in range(200)) / 200
    assert truth > 0.95 and lagged < truth - 0.05


def test_replay_feed_reads_csv(tmp_path: Path) -> None:
    t0 = 1_798_761_600  # 2027-01-01: a recording's times lie between 2000 and 2100
    csv = tmp_path / "prices.csv"
    csv.write_text(f"timestamp,asset,price\n{t0},BTC,100\n{t0 + 10},BTC,101\n{t0 + 5},ETH,10\n{t0 + 20},ETH,11\n")
    feed = ReplayFeed(csv, ["BTC", "ETH"])
    assert feed.start_time() == t0
    assert feed.prices_at(t0 + 7) == {"BTC": 100.0, "ETH": 10.0}
    assert feed.prices_at(t0 + 4000) == {"BTC": 101.0, "ETH": 11.0}


def test_replay_feed_errors_name_the_line(tmp_path: Path) -> None:
    t0 = 1_798_761_600
    csv = tmp_path / "prices.csv"
    csv.write_text(f"{t0},BTC,100\n{t0 + 10},BTC,abc\n")
    with pytest.raises(ReplayError, match=r"prices.csv:2"):
        ReplayFeed(csv, ["BTC"])
    csv.write_text(f"{t0},BTC,100\n")
    with pytest.raises(ReplayError, match="no prices for ETH"):
        ReplayFeed(csv, ["BTC", "ETH"])


@pytest.mark.parametrize(("lag_s", "step_s"), [(3600.0, 3.0), (20.0, 0.1), (20.0, 15.0)])
def test_the_maker_quotes_from_the_price_as_old_as_its_lag_whatever_the_step(tmp_path: Path, lag_s: float, step_s: float) -> None:
    # A recording whose price is 1000 + its second: the price quoted from tells its own age.
    t0 = 1_798_761_600
    csv = tmp_path / "BTC.csv"
    csv.write_text("timestamp,asset,price\n" + "".join(f"{t0 + i},BTC,{1000 + i}\n" for i in range(5000)))
    slow = maker("slow", lag_s=lag_s, noise=0.0)
    market = Market(ReplayFeed(csv, ["BTC"]), ["BTC"], [300], step_s=step_s, seed=0, maker=slow)
    t = float(t0)
    market.start(t)
    seen = [t]
    while t < t0 + lag_s + 100:
        t = round(t + step_s, 6)
        market.advance(t)
        seen.append(t)
    # The market knows the prices of its cycles: the one nearest lag_s ago (the older on a tie).
    sampled = min(reversed(seen), key=lambda s: abs(s - (t - lag_s)))
    then = math.floor(sampled + 1e-6) - t0 + 1000.0
    assert abs((t - sampled) - lag_s) <= step_s / 2
    end = (math.floor(t / 300) + 1) * 300
    # Opened at that price: a quote from any other price leans up or down.
    assert market.quote("BTC", then, end) == quote(then, then, end - t, profile("BTC").annual_vol, random.Random(0), slow)


def test_a_lag_longer_than_the_maker_can_keep_at_the_step_is_refused_with_the_largest_possible(tmp_path: Path) -> None:
    run = run_engine(tmp_path / "state", "--maker", "slow", "--lag", "3600", "--cycle-interval", "0.01", "--max-cycles", "1")
    assert run.returncode == 2, run.stderr
    assert "--lag 3600s at a 0.01s step" in run.stderr
    assert "the largest lag at this step is 360s" in run.stderr
    assert not (tmp_path / "state" / "state.json").exists()
