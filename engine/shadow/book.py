"""The shadow's own book: a copy of the live slots that the candidate trades on paper.

It starts as a copy of the live trading state (windows, positions, cooldowns), so
the candidate's views are those it would see as live, and from then on only the
candidate's decisions move it. Its bets are settled by the same `Trader` code on
the same market as the real ones: a hypothetical bet is a real one that was never
placed. Nothing here touches the live state, the ledger or the disk.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from engine.market.market import Market
from engine.market.quotes import Quote
from engine.strategy_api.market_view import MarketView
from engine.trading.slots import SlotSpec
from engine.trading.state import StateManager, TradingState
from engine.trading.trader import CycleOutcome, Evaluator, Trader

# Never opened: the book lives in memory only.
_NO_FILE = Path("shadow-book.json")


class OwnQuotes:
    """The market as the shadow's book sees it where the live code did not quote a slot.

    The paper maker draws its noise from one generator per cycle, in slot order: quoting the
    book after the live slots would move the live generator and give the book other asks than
    the live ones. A slot of the book in the window its live twin was quoted in gets that ask
    (see `ShadowBook.trade`); any other is quoted here, from a generator of its own."""

    def __init__(self, market: Market) -> None:
        self._market = market
        self._rng = random.Random(f"shadow:{market.seed}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._market, name)

    def quote(self, asset: str, open_price: float, window_end: float) -> Quote:
        market = self._market
        saved = market._quote_rng
        market._quote_rng = self._rng  # the live generator is left where it was
        try:
            return market.quote(asset, open_price, window_end)
        finally:
            market._quote_rng = saved


class ShadowBook:
    def __init__(self, specs: tuple[SlotSpec, ...], live: StateManager, market: Market) -> None:
        source = live.state
        state = TradingState(
            cycle=source.cycle,
            sim_time=source.sim_time,
            slots={slot_id: dataclasses.replace(record) for slot_id, record in source.slots.items()},
            staked=source.staked,
        )
        self.manager = StateManager(_NO_FILE, state)
        self.market = OwnQuotes(market)
        self.trader = Trader(specs, self.manager, self.market)  # type: ignore[arg-type]

    @property
    def slots(self):  # type: ignore[no-untyped-def]
        return self.manager.state.slots

    @property
    def pnl(self) -> float:
        return self.manager.state.pnl

    @property
    def resolved(self) -> int:
        return self.manager.state.resolved

    def trade(
        self, evaluator: Evaluator, params: BaseModel, may_enter: Callable[[str], bool], version: str, params_hash: str,
        live_views: Mapping[str, MarketView],
    ) -> CycleOutcome:
        """One cycle of the candidate on its book: decisions, paper entries, then settlement."""
        # The candidate sees each asset's history as the live code saw it: the very same object.
        histories = {view.asset: view.history for view in live_views.values()}
        # Each slot gets the asks its live twin was quoted, by slot and not by window: the 5- and
        # 15-minute windows of an asset can end together at the same open price, the same
        # market to the maker, and still each slot was quoted its own asks.
        slots = self.slots
        asks = {
            slot_id: Quote(view.up_ask, view.down_ask)
            for slot_id, view in live_views.items()
            if slots[slot_id].window_start == view.window_start and slots[slot_id].open_price == view.open_price
        }
        outcome = self.trader.evaluate(evaluator, params, may_enter, histories, asks)
        for slot_id in outcome.entered:
            position = self.slots[slot_id].position
            assert position is not None
            position.code_version, position.params_hash = version, params_hash
        self.trader.resolve(params, outcome)
        return outcome

    def settle(self, params: BaseModel) -> CycleOutcome:
        """A cycle the shadow skipped: no decisions, but its ended windows still settle."""
        outcome = CycleOutcome()
        self.trader.resolve(params, outcome)
        return outcome
