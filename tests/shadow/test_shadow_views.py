"""The candidate of a shadow is asked about exactly the views the running code was shown.

In process: an A/A shadow on the slow maker (bets open and settle, so the book's positions
and cooldowns move) with call budgets and shadow room no loaded machine reaches, every view the candidate gets recorded beside the live views of the
same cycle. In an A/A the book moves as the live slots do, so each candidate view equals
the live one of its slot, field for field, history and its log returns included; only the
per-asset analysis is each side's own (the candidate's own call, equal in value).

The market starts on a 5-minute boundary ten minutes into a 15-minute window: the first
5-minute and 15-minute windows of an asset then end together at the same open price, the
same window as far as the market's price is concerned, and still each slot has its own asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.config import EngineConfig
from engine.contract.paths import shipped_strategies_dir
from engine.strategy_api.market_view import MarketView
from tests.support.in_process_engine import opened

MARKET_START = 1796199000.0  # 2026-12-02 08:10 UTC


def test_the_candidate_sees_the_live_views(tmp_path: Path) -> None:
    # Budgets no loaded machine reaches: a live call timed out (an error where the candidate has
    # a decision) or a skipped shadow cycle would be a difference this test is not about.
    config = EngineConfig(
        state_dir=tmp_path / "state", speed=1.0, cycle_interval_s=1.0, seed=3, strategies_path=shipped_strategies_dir(),
        maker="slow", call_budget_s=30.0, shadow_room=1000.0,
    )  # fmt: skip
    with opened(config, market_start=MARKET_START) as engine:
        for _ in range(130):  # past the 120-point history: full-length views
            engine.cycle()
        engine.shadow.start(None, aa=True, cycles=None, overrides={})
        shadow = engine.shadow.current
        assert shadow is not None
        cycles: list[tuple[dict[str, MarketView], list[MarketView]]] = []
        candidate_evaluate, book_trade = shadow.candidate.evaluate, shadow.book.trade

        def evaluate(view: MarketView, params: Any) -> Any:
            cycles[-1][1].append(view)
            return candidate_evaluate(view, params)

        def trade(*args: Any) -> Any:
            live_views: Mapping[str, MarketView] = args[-1]
            cycles.append((dict(live_views), []))
            return book_trade(*args)

        shadow.candidate.evaluate = evaluate  # type: ignore[method-assign]
        shadow.book.trade = trade  # type: ignore[method-assign]
        for _ in range(400):
            engine.cycle()
        report = engine.shadow.current.report if engine.shadow.current else None
        assert report is not None and report.differ == 0 and report.skipped == 0
        assert report.entries_shadow > 0  # positions opened on the book, so its views moved
        compared = 0
        for live_views, candidate_views in cycles:
            assert len(candidate_views) == len(live_views)
            for view in candidate_views:
                live = live_views[view.slot_id]
                assert view._replace(history_analysis=None) == live._replace(history_analysis=None)
                assert view.history.log_returns == live.history.log_returns  # type: ignore[attr-defined]
                assert view.history_analysis == live.history_analysis
                compared += 1
        assert len(cycles) == 400 and compared > 300 * 16
