"""The ledger's screens: trades (sort, filter, open only) and performance (groups, P&L chart),
on a fixed ledger, at 80x24 and 160x48. Update with --snapshot-update and read the SVGs."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from engine.contract.ledger_schema import LEDGER_FILE, SCHEMA
from foresight_tui.screens.performance import PerformanceScreen
from foresight_tui.screens.trades import TradesScreen

from .conftest import screen_text

SIZES = [(80, 24), (160, 48)]
T0 = 1_748_736_000.0  # 2025-06-01T00:00:00Z, the market clock of tests/tui/conftest.py
COLUMNS = ("book, slot, asset, window, side, stake, ask, shares, edge, entered_at, window_end, resolved_at, outcome, pnl,"
           " open_price, close_price, code_version, params_hash, boot_id")  # fmt: skip


def write_ledger(state_dir: Path, bets: int = 60) -> None:
    """A fixed day and a half of bets: 4 assets, 2 windows, 2 code versions, one open bet."""
    rng = random.Random(16)
    rows = []
    for index in range(bets):
        asset = ("BTC", "ETH", "SOL", "XRP")[index % 4]
        window = "5m" if index % 3 else "15m"
        entered = T0 + index * 1500.0
        ask = round(rng.uniform(0.35, 0.8), 2)
        won = rng.random() < 0.62
        shares = round(5.0 / ask, 6)
        last = index == bets - 1
        pnl = None if last else round(shares - 5.0 if won else -5.0, 6)
        outcome = None if last else ("won" if won else "lost")
        version = "3f2a9c1d04be" if index < bets // 2 else "a81c7e55d2f0"
        rows.append(("b", f"{asset}-{window}", asset, window, "up" if rng.random() < 0.5 else "down", 5.0, ask, shares,
                     round(rng.uniform(0.01, 0.2), 3), entered, entered + 300, None if last else entered + 300, outcome,
                     pnl, 100.0, 101.0, version, "0123456789abcdef", "boot"))  # fmt: skip
    db = sqlite3.connect(state_dir / LEDGER_FILE)
    db.executescript(SCHEMA)
    db.executemany(f"INSERT INTO bets ({COLUMNS}) VALUES ({', '.join('?' * 19)})", rows)
    db.commit()
    db.close()


@pytest.fixture
def make_app(snapshot_app):  # the header names the state directory: relative, the same every run
    return snapshot_app


@pytest.fixture
def books(state) -> Path:
    write_ledger(state.path)
    return state.path


class TestTrades:
    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_trades_screen(self, books, make_app, snap_compare, size):
        assert snap_compare(make_app(), terminal_size=size, press=["t"])

    def test_sorted_by_pnl_and_filtered(self, books, make_app, snap_compare):
        async def sort_and_filter(pilot) -> None:
            await pilot.press("t")
            screen = pilot.app.screen
            assert isinstance(screen, TradesScreen)
            screen.sort_by = "pnl"
            await pilot.press("slash", *"btc won", "enter")
            await pilot.pause()

        assert snap_compare(make_app(), terminal_size=(160, 48), run_before=sort_and_filter)


class TestPerformance:
    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_performance_screen(self, books, make_app, snap_compare, size):
        assert snap_compare(make_app(), terminal_size=size, press=["g"])

    def test_by_day(self, books, make_app, snap_compare):
        assert snap_compare(make_app(), terminal_size=(160, 48), press=["g", "d"])


async def test_trades_screen_filters_sorts_and_goes_live(books, make_app) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("t")
        screen = app.screen
        assert isinstance(screen, TradesScreen)
        table = screen.query_one("#trades-table")
        assert table.row_count == 60
        await pilot.press("o")
        assert table.row_count == 1  # the open bet
        await pilot.press("o", "slash", *"eth lost")
        shown = [table.get_row_at(i) for i in range(table.row_count)]
        assert shown and all(row[1].plain.startswith("ETH") and row[6].plain == "lost" for row in shown)
        await pilot.press("escape", "escape")  # clears the filter, then hides it
        assert table.row_count == 60
        screen.sort_by = "pnl"
        screen.descending = False
        await pilot.pause()
        assert table.get_row_at(0)[7].plain == "-5.00"
        # A bet written by the engine meanwhile shows at the next refresh.
        write_more = sqlite3.connect(books / LEDGER_FILE)
        write_more.execute("UPDATE bets SET outcome='won', pnl=4.0, resolved_at=entered_at+300 WHERE outcome IS NULL")
        write_more.commit()
        write_more.close()
        screen.refresh_trades()
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.view.trades[0].outcome == "won"
        await pilot.press("escape")
        assert not isinstance(app.screen, TradesScreen)


async def test_performance_groups_and_a_missing_ledger(state, make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("g")
        screen = app.screen
        assert isinstance(screen, PerformanceScreen)
        title = str(screen.query_one("#performance-title").render())
        assert "no ledger at" in title and "foresight engine --state-dir" in title
        write_ledger(state.path)
        await pilot.press("v")
        table = screen.query_one("#performance-table")
        keys = [table.get_row_at(i)[0].plain for i in range(table.row_count)]
        assert keys == ["3f2a9c1d04be", "a81c7e55d2f0", "total"]


async def test_a_tripped_limit_shows_in_the_header_and_r_resumes_it(state, make_app) -> None:
    from engine.contract.models import RiskTrip

    from .conftest import header_text, read_control

    def tripped(status) -> None:
        status.engine.state = "paused"
        status.risk.limits = {"max_drawdown": 5.0}
        status.risk.tripped = RiskTrip(id="trip1234", limit="max_drawdown", figure=5.0, threshold=5.0,
                                       message="max_drawdown=5 reached", at=0.0, day="2025-06-01")  # fmt: skip

    state.update(tripped)
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert "RISK max_drawdown TRIPPED (5 >= 5): entries paused, r resumes" in header_text(app)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        assert read_control(state).risk_resume == "trip1234"


class TestRiskForm:
    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_risk_limits_form(self, state, make_app, snap_compare, size):
        def limited(status) -> None:
            status.risk.limits = {"max_drawdown": 50.0, "max_consecutive_losses": 6}
            status.risk.figures.drawdown = 12.5
            status.risk.figures.consecutive_losses = 2

        state.update(limited)

        async def open_form(pilot) -> None:
            await pilot.press("L")
            for widget in pilot.app.screen.query("Input"):
                widget.cursor_blink = False
            await pilot.pause()

        assert snap_compare(make_app(), terminal_size=size, run_before=open_form)


async def test_the_risk_form_writes_all_limits_or_none(state, make_app) -> None:
    from .conftest import read_control

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("L")
        screen = app.screen
        screen.query_one("#risk-max_daily_loss").value = "20"
        screen.query_one("#risk-max_consecutive_losses").value = "2.5"
        await pilot.press("ctrl+s")
        assert "whole number" in str(screen.query_one("#risk-error-max_consecutive_losses").render())
        assert not state.control_path.exists()  # nothing written
        screen.query_one("#risk-max_consecutive_losses").value = "6"
        screen.query_one("#risk-max_open_stake").value = "-1"
        await pilot.press("ctrl+s")
        assert "greater than 0" in str(screen.query_one("#risk-error-max_open_stake").render())
        screen.query_one("#risk-max_open_stake").value = ""
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        risk = read_control(state).risk
        assert (risk.max_daily_loss, risk.max_consecutive_losses, risk.max_drawdown, risk.max_open_stake) == (20.0, 6, None, None)


def row_of(app, name: str) -> str:
    [row] = [line for line in screen_text(app) if f" {name} " in line]
    return row


async def test_the_risk_form_shows_each_limit_and_what_is_typed(state, make_app) -> None:
    def limited(status) -> None:
        status.risk.limits = {"max_daily_loss": 20.0, "max_consecutive_losses": 6}

    state.update(limited)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("L")
        await pilot.pause()
        assert "20" in row_of(app, "max_daily_loss").split("max_daily_loss", 1)[1]
        assert "6" in row_of(app, "max_consecutive_losses").split("max_consecutive_losses", 1)[1]
        assert "no limit" in row_of(app, "max_drawdown")  # an empty field says what empty means
        await pilot.press("end", "9", "9")
        await pilot.pause()
        assert "2099" in row_of(app, "max_daily_loss")


async def test_the_risk_form_shows_limits_exactly_and_rewrites_none_left_alone(state, make_app) -> None:
    from .conftest import read_control

    exact = {"max_daily_loss": 1234567.5, "max_drawdown": 1234.567, "max_open_stake": 12345.67}
    state.update(lambda status: setattr(status.risk, "limits", dict(exact)))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("L")
        await pilot.pause()
        for name, value in exact.items():
            assert repr(value) in row_of(app, name)
        await pilot.press("ctrl+s")  # nothing typed: nothing to write
        await app.workers.wait_for_complete()
        assert not state.control_path.exists()
        assert "Nothing changed" in " ".join(screen_text(app))
        screen = app.screen
        screen.query_one("#risk-max_consecutive_losses").value = "4"
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        risk = read_control(state).risk
        assert risk.model_dump(exclude_none=True) == {**exact, "max_consecutive_losses": 4}


async def test_at_80_columns_the_risk_form_says_why_a_limit_is_refused_in_full(state, make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("L")
        await pilot.pause()
        app.screen.query_one("#risk-max_daily_loss").value = "-1"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "greater than 0" in " ".join(screen_text(app))
