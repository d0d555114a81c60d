"""The live feed against a local server speaking Binance's combined-stream trade format.

One engine subprocess (live: market time is the wall clock) on two assets and
3-second windows, with a fixture strategy that bets "up" whenever it may, so
its bets show which slots the engine lets enter. The steps share it: prices
follow the stream; malformed and unknown messages are counted and skipped; a
silent asset turns stale and takes no entries while its bet still resolves; a
dropped connection shows as reconnecting and comes back; a serverShutdown
event reconnects; a restart resumes on live prices with the state intact.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.contract.models import Status
from engine.market.binance_feed import BinanceFeed
from tests.support.engine_proc import EngineProcess, ctl, run_engine
from tests.support.fake_exchange import FakeBinance
from tests.support.waits import wait_until

ALWAYS_ENTER = Path(__file__).parent / "fixtures" / "always_enter"
LIVE = ("--cycle-interval", "0.05")  # speed 1: a live feed trades in real time


@pytest.fixture
def exchange() -> Iterator[FakeBinance]:
    server = FakeBinance().start()
    yield server
    server.stop()


def slot(status: Status, slot_id: str):  # type: ignore[no-untyped-def]
    return next(s for s in status.slots if s.id == slot_id)


def events(engine: EngineProcess) -> str:
    return (engine.state_dir / "events.jsonl").read_text()


def engine_on(state_dir: Path, url: str) -> EngineProcess:
    return EngineProcess(
        state_dir,
        "--feed", "binance", "--feed-url", url, "--assets", "BTC,ETH", "--windows", "3s",
        "--stale-after", "0.5", "--first-price-wait", "5", "--strategies-path", str(ALWAYS_ENTER),
        fast=LIVE,
    )  # fmt: skip


def test_live_prices_follow_the_stream_and_fail_safely(tmp_path: Path, exchange: FakeBinance) -> None:
    exchange.stream("btcusdt", 97_001.5)
    exchange.stream("ethusdt", 3_401.25)
    engine = engine_on(tmp_path / "state", exchange.url).start()
    try:
        # Prices follow the stream, on one combined-stream connection for both assets.
        status = engine.wait_for(
            lambda s: slot(s, "BTC-3s").price == 97_001.5 and slot(s, "ETH-3s").price == 3_401.25, what="first prices"
        )
        assert exchange.paths == ["/stream?streams=btcusdt@trade/ethusdt@trade"]
        assert status.engine.feed == "binance" and status.engine.maker.startswith("fair")
        exchange.stream("btcusdt", 97_250.0)
        status = engine.wait_for(lambda s: slot(s, "BTC-3s").price == 97_250.0, what="a new BTC price")
        assert status.feed.state == "connected" and status.feed.assets["BTC"].state == "connected"
        assert status.feed.assets["BTC"].price_age_s is not None and status.feed.assets["BTC"].symbol == "btcusdt"

        # Both assets bet once their first full window opens on a live price.
        engine.wait_for(lambda s: all(x.position is not None for x in s.slots), timeout=15, what="bets on both assets")

        # Malformed and unknown messages are counted and skipped; the feed keeps going.
        for text in (
            "not json",
            json.dumps([1, 2]),
            json.dumps({"stream": "btcusdt@trade", "data": {"e": "trade", "s": "BTCUSDT", "p": "abc"}}),
            json.dumps({"stream": "btcusdt@kline_1m", "data": {"e": "kline", "s": "BTCUSDT"}}),
            exchange.trade("dogeusdt", 0.4),
        ):
            exchange.send(text)
        exchange.stream("btcusdt", 97_300.0)
        status = engine.wait_for(
            lambda s: s.feed.malformed >= 3 and s.feed.unknown >= 2 and slot(s, "BTC-3s").price == 97_300.0,
            what="bad messages counted, prices still flowing",
        )
        assert status.feed.connects == 1 and status.feed.drops == 0 and slot(status, "BTC-3s").price != 0.4

        # Silence: ETH turns stale, on its card too; its open bet resolves at its window end on
        # the last good price, and no new ETH bet opens while BTC keeps betting window after window.
        exchange.silence("ethusdt")
        stale = engine.wait_for(lambda s: s.feed.assets["ETH"].state == "stale", what="ETH stale")
        assert slot(stale, "ETH-3s").feed == "stale" and stale.feed.state == "stale"
        told = ctl(engine.state_dir, "status")  # the scriptable twin tells it as the TUI's header does
        assert told.returncode == 0 and "feed stale: ETH stale" in told.stdout, told.stdout
        assert slot(stale, "BTC-3s").feed == "connected"
        since = stale.engine.sim_time
        later = engine.wait_for(
            lambda s: (b := slot(s, "BTC-3s")).position is not None and b.position.entered_at > since + 3.5,
            timeout=15,
            what="BTC bets in a window that opened after ETH went silent",
        )
        eth = slot(later, "ETH-3s")
        assert eth.position is None and eth.feed == "stale" and eth.window_start > since
        rows = ctl(engine.state_dir, "status").stdout.splitlines()
        eth_row = next(line for line in rows if line.startswith("ETH-3s"))
        assert "no new entries: ETH's feed is stale" in eth_row, eth_row
        assert later.stats.resolved >= stale.stats.resolved + 2  # ETH's stale bet resolved too
        assert "feed binance: ETH stale: no price for longer than the stale limit; no new entries" in events(engine)

        # ETH trades again: connected, and it bets again.
        exchange.stream("ethusdt", 3_390.0)
        engine.wait_for(
            lambda s: slot(s, "ETH-3s").feed == "connected" and slot(s, "ETH-3s").position is not None,
            timeout=10,
            what="ETH back and betting",
        )

        # A dropped connection: reconnecting while the server refuses, connected once it accepts.
        exchange.accepting = False
        exchange.drop()
        down = engine.wait_for(lambda s: s.feed.state == "reconnecting", what="reconnecting")
        assert down.feed.drops >= 1 and down.feed.last_error
        exchange.accepting = True
        exchange.stream("btcusdt", 97_400.0)
        back = engine.wait_for(
            lambda s: s.feed.state == "connected" and s.feed.connects > down.feed.connects and slot(s, "BTC-3s").price == 97_400.0,
            timeout=15,
            what="reconnected",
        )
        assert back.feed.assets["ETH"].state == "connected"
        assert "feed binance: connection lost" in events(engine) and "connected: prices arriving again; entries allowed" in events(engine)

        # The exchange announces a shutdown: the feed reconnects at once.
        exchange.send_shutdown()
        shut = engine.wait_for(
            lambda s: s.feed.connects > back.feed.connects and s.feed.state == "connected", timeout=15, what="reconnect after serverShutdown"
        )
        assert "serverShutdown" in (shut.feed.last_error or "")
        before = shut.stats
    finally:
        assert engine.stop() == 0
    # A stopped engine says goodbye to the exchange: a closing handshake, not a dropped socket.
    wait_until(lambda: exchange.clients == 0 and exchange.close_codes, "the engine's connection closed")
    assert exchange.close_codes[-1] == 1000

    # A restart resumes on live prices with the trading state intact.
    exchange.stream("btcusdt", 97_500.0)
    again = engine_on(tmp_path / "state", exchange.url).start()
    try:
        resumed = again.wait_for(lambda s: slot(s, "BTC-3s").price == 97_500.0 and s.feed.state == "connected", what="live prices after restart")
        assert resumed.stats.resolved >= before.resolved and resumed.engine.cycle > shut.engine.cycle
        assert resumed.engine.boot_id != shut.engine.boot_id
    finally:
        assert again.stop() == 0


def test_a_window_that_ended_while_the_engine_was_down_settles_at_the_first_live_price(tmp_path: Path, exchange: FakeBinance) -> None:
    exchange.stream("btcusdt", 97_000.0)
    exchange.stream("ethusdt", 3_400.0)
    engine = engine_on(tmp_path / "state", exchange.url).start()
    try:
        held = engine.wait_for(lambda s: slot(s, "BTC-3s").position is not None, timeout=15, what="a BTC bet")
    finally:
        assert engine.stop() == 0
    bet = slot(engine.status(), "BTC-3s")  # type: ignore[arg-type]
    assert bet.position is not None and bet.position.side == "up" and held.stats.resolved == engine.status().stats.resolved  # type: ignore[union-attr]
    # The exchange is out of reach at the restart, and the price fell meanwhile.
    exchange.accepting = False
    exchange.drop()
    wait_until(lambda: time.time() > bet.window_end + 0.5, "the bet's window to end while the engine is down")
    before = len(events(engine).splitlines())
    again = EngineProcess(
        tmp_path / "state",
        "--feed", "binance", "--feed-url", exchange.url, "--assets", "BTC,ETH", "--windows", "3s",
        "--stale-after", "0.5", "--first-price-wait", "0.2", "--strategies-path", str(ALWAYS_ENTER),
        fast=LIVE,
    )  # fmt: skip
    again.start()
    try:
        waiting = again.wait_cycles(10)
        assert waiting.feed.assets["BTC"].state == "waiting"
        kept = slot(waiting, "BTC-3s")
        assert kept.position is not None and kept.position.entered_at == bet.position.entered_at, "settled on no live price"
        assert '"resolution"' not in "\n".join(events(again).splitlines()[before:])
        exchange.accepting = True
        exchange.stream("btcusdt", 96_000.0)
        again.wait_for(lambda s: slot(s, "BTC-3s").position is None or slot(s, "BTC-3s").position.entered_at != bet.position.entered_at,  # type: ignore[union-attr]
                       timeout=15, what="the held bet settled")  # fmt: skip
        settled = [json.loads(line)["detail"] for line in events(again).splitlines()[before:] if '"resolution"' in line]
        btc = [e for e in settled if e["slot"] == "BTC-3s"][0]
        assert (btc["close"], btc["result"]) == (96_000.0, "lost") and btc["open"] == bet.open_price
        assert "BTC-3s: its window ended with no live BTC price" in events(again)
    finally:
        assert again.stop() == 0


@pytest.fixture
def feeds() -> Iterator[list[BinanceFeed]]:
    """The feeds a test opens, closed after it: none goes on reconnecting into the next test."""
    opened: list[BinanceFeed] = []
    yield opened
    for feed in opened:
        feed.close()


def test_a_silent_connection_is_taken_for_dead_and_reconnected(exchange: FakeBinance, feeds: list[BinanceFeed]) -> None:
    feed = BinanceFeed(["BTC"], url=exchange.url, stale_after_s=0.1)  # silence: no message for 3 s
    feeds.append(feed)
    wait_until(lambda: feed.connects >= 2, "a reconnect after the silence", timeout=30)
    assert feed.drops >= 1
    assert feed.last_error is not None and "no message for 3s" in feed.last_error


def test_a_closed_feed_says_goodbye_and_its_thread_ends(exchange: FakeBinance) -> None:
    exchange.stream("btcusdt", 97_001.5)
    feed = BinanceFeed(["BTC"], url=exchange.url, first_price_wait_s=10)
    assert feed.prices_at(0.0)["BTC"] == 97_001.5
    feed.close()
    assert not feed.running
    wait_until(lambda: exchange.clients == 0 and exchange.close_codes, "the feed's connection closed")
    assert exchange.close_codes == [1000]
    exchange.stream("btcusdt", 98_000.0)
    assert feed.prices_at(0.0)["BTC"] == 97_001.5  # the last price it had; nothing reconnected
    assert exchange.clients == 0 and feed.connects == 1
    feed.close()  # twice is harmless


def test_a_feed_closed_while_it_cannot_connect_ends_at_once() -> None:
    feed = BinanceFeed(["BTC"], url="ws://127.0.0.1:9/stream", first_price_wait_s=0)  # nothing listens on port 9
    wait_until(lambda: feed.last_error, "a failed connection")
    started = time.monotonic()
    feed.close()
    assert not feed.running and time.monotonic() - started < 3


def test_an_asset_with_no_trade_while_the_others_trade_is_named_with_its_symbol(exchange: FakeBinance, feeds: list[BinanceFeed]) -> None:
    # FOO's default symbol, foousdt, is traded nowhere: the operator is told which flag maps it.
    exchange.stream("btcusdt", 97_001.5)
    feed = BinanceFeed(["BTC", "FOO"], url=exchange.url, first_price_wait_s=1)
    feeds.append(feed)
    assert feed.prices_at(0.0)["BTC"] == 97_001.5
    (note,) = feed.health(0.0).notes
    assert "FOO" in note and "foousdt" in note and "--symbols FOO=" in note
    assert feed.health(0.0).assets["FOO"].state == "waiting"


def test_cycles_back_to_back_never_starve_the_feed(exchange: FakeBinance, feeds: list[BinanceFeed]) -> None:
    # Each cycle holds the feed's thread back while it runs; cycles with no time between them
    # (an overrun) must still leave it the time to follow the stream.
    exchange.stream("btcusdt", 97_001.5)
    feed = BinanceFeed(["BTC"], url=exchange.url, first_price_wait_s=10)
    feeds.append(feed)
    assert feed.prices_at(0.0)["BTC"] == 97_001.5
    exchange.stream("btcusdt", 97_250.0)
    deadline = time.monotonic() + 20
    price = 0.0
    while price != 97_250.0 and time.monotonic() < deadline:
        with feed.held():
            price = feed.prices_at(0.0)["BTC"]
            sum(range(20_000))  # the cycle's own work, holding the GIL
    assert price == 97_250.0


def test_the_first_price_wait_says_so_and_a_stop_during_it_is_a_clean_stop(tmp_path: Path) -> None:
    # Nothing listens on port 9: no price comes, and the engine waits its whole --first-price-wait.
    engine = EngineProcess(
        tmp_path / "state", "--feed", "binance", "--feed-url", "ws://127.0.0.1:9/stream", "--first-price-wait", "60", fast=LIVE
    ).start(wait=False)
    log = engine.state_dir / "events.jsonl"
    try:
        wait_until(lambda: log.exists() and "waiting up to 60s for the first price" in log.read_text(), "the wait said", timeout=30)
        assert "127.0.0.1:9" in events(engine)
        started = time.monotonic()
        assert engine.stop(timeout=20) == 0, engine.log()
        assert time.monotonic() - started < 10, "the stop waited out the first-price wait"
        assert "Traceback" not in engine.log(), engine.log()
        assert "engine stopped (SIGTERM) while starting" in events(engine)
    finally:
        engine.stop(signal.SIGKILL)


@pytest.mark.parametrize("price", [True, False])
def test_a_json_boolean_as_a_trade_price_is_counted_malformed_not_taken_as_a_price(
    exchange: FakeBinance, feeds: list[BinanceFeed], price: bool
) -> None:
    # float(True) is 1.0: BTC would show as connected at $1.00.
    feed = BinanceFeed(["BTC"], url=exchange.url, first_price_wait_s=0, fallback=lambda _asset: 97_000.0)
    feeds.append(feed)
    wait_until(lambda: exchange.clients == 1, "the feed connected")
    trade = json.loads(exchange.trade("btcusdt", 1.0))
    trade["data"]["p"] = price
    exchange.send(json.dumps(trade))
    wait_until(lambda: feed.health(0.0).malformed == 1, "the boolean price counted as malformed")
    health = feed.health(0.0)
    assert health.assets["BTC"].state == "waiting"
    assert feed.prices_at(0.0)["BTC"] == 97_000.0


def test_two_assets_on_one_exchange_symbol_are_refused_before_the_engine_starts(tmp_path: Path) -> None:
    # ETH would show BTC's trades and BTC wait forever, with a note blaming BTC's symbol.
    flags = ("--feed", "binance", "--feed-url", "ws://127.0.0.1:9/stream", "--first-price-wait", "0", "--max-cycles", "1")
    run = run_engine(tmp_path / "state", *flags, "--assets", "BTC,ETH", "--symbols", "BTC=btcusdt,ETH=btcusdt")
    assert run.returncode == 2, run.stderr
    assert "--symbols: BTC and ETH both trade as btcusdt: give each asset its own exchange symbol" in run.stderr
    # A mapping onto another asset's default symbol is the same clash.
    run = run_engine(tmp_path / "state", *flags, "--assets", "BTC,ETH", "--symbols", "ETH=btcusdt")
    assert run.returncode == 2, run.stderr
    assert "BTC and ETH both trade as btcusdt" in run.stderr
    assert not (tmp_path / "state" / "state.json").exists()
