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


class SameQuotes:
    """The market as the shadow's book sees it: the asks the live slots were quoted this cycle.

    The paper maker draws its noise from one generator per cycle, in slot order: quoting
    the shadow after the live slots would give it other asks than the live ones (and than
    the candidate would get as live). Its slots get the asks of the live view of the same
    window; one the live code did not evaluate is quoted from a generator of its own."""

    def __init__(self, market: Market) -> None:
        self._market = market
        self._rng = random.Random(f"shadow:{market.seed}")
        self._asks: dict[tuple[str, float, float], Quote] = {}

    def use(self, live_views: Mapping[str, MarketView]) -> None:
        """This cycle's live views, whose asks the book's slots get."""
        self._asks = {(v.asset, v.window_end, v.open_price): Quote(v.up_ask, v.down_ask) for v in live_views.values()}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._market, name)

    def quote(self, asset: str, open_price: float, window_end: float) -> Quote:
        asks = self._asks.get((asset, window_end, open_price))
        if asks is not None:
            return asks
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
        self.market = SameQuotes(market)
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
        self.market.use(live_views)
        # The candidate sees each asset's history as the live code saw it: the very same object.
        histories = {view.asset: view.history for view in live_views.values()}
        outcome = self.trader.evaluate(evaluator, params, may_enter, histories)
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
