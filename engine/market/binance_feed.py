"""Live prices: every asset's trades from Binance's public market-data websocket.

One combined-stream connection (`/stream?streams=btcusdt@trade/...`, each event
wrapped as `{"stream": ..., "data": {...}}`, no API key) runs in its own thread
with its own asyncio loop and only fills in the latest price per asset, so a
slow or dead network never delays a cycle: the cycle reads what is there.

The connection fails safely: any drop, the exchange's 24-hour disconnect (the
feed rolls over a little before it), a `serverShutdown` event or a silent
connection leads to a reconnect with exponential backoff and jitter. Pings are
answered by the websocket client. Malformed and unknown messages are counted
and skipped. A restarted engine starts with the last prices it persisted (shown
as waiting, so no entries) until the stream delivers new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from urllib.parse import urlsplit

from pydantic_core import from_json

from engine.market.binance_symbols import DEFAULT_URL, stream_url, symbol_map
from engine.market.feed_health import AssetFeedState, AssetHealth, FeedHealth, overall

BACKOFF_MIN_S = 0.25
BACKOFF_MAX_S = 30.0
ROLLOVER_S = 23.5 * 3600  # before the exchange's 24-hour disconnect
STEADY_S = 10.0  # a connection that lived this long resets the backoff
PING_INTERVAL_S = 20.0
PING_TIMEOUT_S = 20.0
MAX_MESSAGE_BYTES = 1 << 20
HOLD_MAX_S = 0.5  # the longest a cycle holds the feed's thread back (see BinanceFeed.held)


class Shutdown(Exception):
    """The server announced it is about to go away: reconnect now."""


class _Watchdog:
    """Expires a connection's `asyncio.timeout` when no message came for `silence_s` (the
    receiver then raises TimeoutError), or at `rollover_at` (and says so in `rolled`)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, deadline: asyncio.Timeout, silence_s: float, rollover_at: float) -> None:
        self.heard = loop.time()  # when the last message came (loop time): set by the receiver
        self.rolled = False
        self._loop = loop
        self._deadline = deadline
        self._silence_s = silence_s
        self._rollover_at = rollover_at
        self._timer: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        self._timer = self._loop.call_at(min(self.heard + self._silence_s, self._rollover_at), self._check)

    def _check(self) -> None:
        now = self._loop.time()
        if now >= self._rollover_at:
            self.rolled = True
        elif now < self.heard + self._silence_s:
            self._arm()  # a message came since: wait for the silence from it
            return
        self._deadline.reschedule(now)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


class BinanceFeed:
    name = "binance"
    live = True  # market time is the wall clock

    def __init__(
        self,
        assets: Iterable[str],
        *,
        url: str = DEFAULT_URL,
        symbols: Mapping[str, str] | None = None,
        stale_after_s: float = 10.0,
        first_price_wait_s: float = 10.0,
        fallback: Callable[[str], float] = lambda asset: 1.0,
        clock: Callable[[], float] = time.time,
        stopping: Callable[[], bool] = lambda: False,
        announce: Callable[[str], None] = lambda _text: None,
    ) -> None:
        self.assets = tuple(assets)
        self.symbols = symbol_map(self.assets, symbols or {})
        self._asset_of = {symbol: asset for asset, symbol in self.symbols.items()}
        self.url = stream_url(url, self.symbols.values())
        self.stale_after_s = stale_after_s
        # A connection with no message at all for this long is taken for dead.
        self.silence_s = max(6 * stale_after_s, 3.0)
        self.first_price_wait_s = first_price_wait_s
        self._clock = clock
        self._stopping = stopping
        self._announce = announce
        self._lock = threading.Lock()
        self._latest: dict[str, tuple[float, float]] = {}  # asset -> (price, wall time received)
        self._first: dict[str, float] = {}
        self._fallback = {asset: fallback(asset) for asset in self.assets}
        self._all_priced = threading.Event()
        self._connected = False
        self.connects = 0
        self.drops = 0
        self.messages = 0
        self.malformed = 0
        self.unknown = 0
        self.last_error: str | None = None
        self._waited = False
        self._notes: list[str] = []  # said once at start (Engine._open_market)
        # Set while the feed's thread may handle messages; cleared while a cycle holds it back.
        self._free = threading.Event()
        self._free.set()
        self._hold_s = 0.0  # how long the last cycle took
        self._released_at = -math.inf  # when it ended (monotonic)
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, name="binance-feed", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout_s: float = 3.0) -> None:
        """End the feed: the connection is closed with a closing handshake (the exchange sees a
        client leaving, not a dropped socket), nothing reconnects, and the thread ends. The last
        prices stay readable."""
        with self._lock:
            self._closing = True
            loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                loop.call_soon_threadsafe(task.cancel)
        self._free.set()
        self._thread.join(timeout_s)

    # ------------------------------------------------------------- the cycle's side

    def start_time(self) -> float | None:
        return None  # the wall clock

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Around a cycle: the feed's thread handles no message while it runs (at most
        HOLD_MAX_S), so the two do not take turns at the GIL inside the cycle, each turn
        the other's delay. Trades that arrive meanwhile wait in the socket and are handled
        after it; the cycle has read its prices by then. Only when the feed has had at
        least as long to run since the last cycle as that cycle took: cycles back to back
        (an overrun) never starve it."""
        started = time.monotonic()
        hold = started - self._released_at >= self._hold_s
        if hold:
            self._free.clear()
        try:
            yield
        finally:
            self._free.set()
            ended = time.monotonic()
            self._hold_s, self._released_at = ended - started, ended

    def prices_at(self, t: float) -> dict[str, float]:
        if not self._waited:
            # Once, at start: give the stream a moment to deliver every asset's first price.
            self._waited = True
            held = not self._free.is_set()
            self._free.set()
            self._wait_first_prices()
            if held:
                self._free.clear()
            self._notes = self._unpriced_notes()
        with self._lock:
            latest = dict(self._latest)
        return {asset: latest[asset][0] if asset in latest else self._fallback[asset] for asset in self.assets}

    def _wait_first_prices(self) -> None:
        """Up to first_price_wait_s for every asset's first price, said before it starts (a wait
        of seconds with nothing on the screen looks hung); a stop asked meanwhile ends it."""
        if self.first_price_wait_s <= 0:
            return
        self._announce(
            f"feed binance: connecting to {self.url.partition('?')[0]}; waiting up to {self.first_price_wait_s:g}s "
            f"for the first price of {', '.join(self.assets)}"
        )
        deadline = time.monotonic() + self.first_price_wait_s
        while not self._stopping() and (left := deadline - time.monotonic()) > 0:
            if self._all_priced.wait(min(left, 0.1)):
                return

    def _unpriced_notes(self) -> list[str]:
        """After the first wait: assets with no trade while others traded are most likely a
        symbol the exchange does not have (with none at all, the connection is the trouble,
        and the feed's state says so)."""
        with self._lock:
            priced = set(self._first)
        silent = [asset for asset in self.assets if asset not in priced]
        if not priced and not self._stopping() and self.first_price_wait_s > 0:
            why = self.last_error or "connected, but no trade came; the feed keeps listening"
            return [
                f"feed binance: no price in the first {self.first_price_wait_s:g}s ({why}); no asset takes entries "
                "until its prices come"
            ]
        if not priced or not silent:
            return []
        return [
            f"feed binance: no trade for {asset} ({self.symbols[asset]}) in the first {self.first_price_wait_s:g}s while "
            f"the other assets traded; if {self.symbols[asset]} is not its exchange symbol, restart with "
            f"--symbols {asset}=<symbol>"
            for asset in silent
        ]

    def health(self, t: float) -> FeedHealth:
        now = self._clock()
        with self._lock:
            latest = dict(self._latest)
            first = dict(self._first)
            connected = self._connected
        assets: dict[str, AssetHealth] = {}
        for asset in self.assets:
            symbol = self.symbols[asset]
            if asset not in latest:
                assets[asset] = AssetHealth("waiting", None, None, symbol)
                continue
            age = max(0.0, now - latest[asset][1])
            state: AssetFeedState = "stale" if age > self.stale_after_s else "connected" if connected else "reconnecting"
            assets[asset] = AssetHealth(state, round(age, 3), first[asset], symbol)
        states = [h.state for h in assets.values()]
        return FeedHealth(
            self.name,
            "reconnecting" if not connected else overall(states),
            assets,
            url=self.url,
            connects=self.connects,
            drops=self.drops,
            messages=self.messages,
            malformed=self.malformed,
            unknown=self.unknown,
            last_error=self.last_error,
            notes=self._notes,
        )

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {"prices": {asset: price for asset, (price, _) in self._latest.items()}}

    def restore(self, snapshot: dict[str, object], t: float) -> None:
        prices = snapshot.get("prices")
        if isinstance(prices, dict):
            for asset in self.assets:
                value = prices.get(asset)
                if isinstance(value, int | float) and math.isfinite(value) and value > 0:
                    self._fallback[asset] = float(value)

    # ------------------------------------------------------------ the feed's thread

    def _run(self) -> None:
        with asyncio.Runner() as runner:
            loop = runner.get_loop()
            with self._lock:
                if self._closing:
                    return
                self._loop, self._task = loop, loop.create_task(self._connect_forever())
            with contextlib.suppress(asyncio.CancelledError):
                runner.run(self._wait(self._task))

    @staticmethod
    async def _wait(task: asyncio.Task[None]) -> None:
        await task

    async def _connect_forever(self) -> None:
        from websockets.asyncio.client import connect

        delay = BACKOFF_MIN_S
        while True:
            opened = time.monotonic()
            try:
                async with connect(
                    self.url,
                    ping_interval=PING_INTERVAL_S,
                    ping_timeout=PING_TIMEOUT_S,
                    open_timeout=10,
                    close_timeout=2,
                    max_size=MAX_MESSAGE_BYTES,
                ) as ws:
                    with self._lock:
                        self._connected = True
                        self.connects += 1
                    try:
                        await self._receive(ws, opened)
                    except asyncio.CancelledError:  # closed: a normal goodbye, not the 1011 an error sends
                        await ws.close()
                        raise
                    self.last_error = "connection rolled over before the exchange's 24-hour limit"
            except Shutdown:
                self.last_error = "the server announced a shutdown (serverShutdown): reconnecting"
            except TimeoutError:
                self.last_error = f"no message for {self.silence_s:g}s: reconnecting"
            except Exception as exc:  # any failure of the network or the server: reconnect, never die
                where = urlsplit(self.url).netloc
                self.last_error = f"connection to {where} failed ({type(exc).__name__}: {exc}); retrying"[:300]
            with self._lock:
                if self._connected:
                    self.drops += 1
                self._connected = False
            if time.monotonic() - opened > STEADY_S:
                delay = BACKOFF_MIN_S
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, BACKOFF_MAX_S)

    async def _receive(self, ws, opened: float) -> None:  # type: ignore[no-untyped-def]
        """Every message until the rollover (a normal return) or a silence (TimeoutError).

        One watchdog for the connection, not a timeout per message: `recv` returns without
        a trip through the event loop while messages wait in its queue (a socket read brings
        many), where a timeout per call would schedule a task and a timer for each."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(None) as deadline:
            watch = _Watchdog(loop, deadline, self.silence_s, rollover_at=loop.time() + ROLLOVER_S - (time.monotonic() - opened))
            free = self._free
            try:
                while True:
                    if not free.is_set():
                        free.wait(HOLD_MAX_S)  # a cycle runs: this thread (and its loop) waits for its end
                    raw = await ws.recv(decode=False)
                    watch.heard = loop.time()
                    self.handle(raw)
            except TimeoutError:
                if watch.rolled:
                    return
                raise
            finally:
                watch.cancel()

    def handle(self, raw: str | bytes) -> None:
        """One message: a trade fills in its asset's price; a shutdown notice raises Shutdown;
        anything else is counted (malformed or unknown) and skipped."""
        self.messages += 1
        try:
            message = from_json(raw)  # what json.loads reads, in half its time: hundreds a second
        except ValueError:
            self.malformed += 1
            return
        if not isinstance(message, dict):
            self.malformed += 1
            return
        data = message.get("data", message)
        event = message.get("event")
        for candidate in (data, event):
            if isinstance(candidate, dict) and candidate.get("e") == "serverShutdown":
                raise Shutdown()
        if not isinstance(data, dict) or data.get("e") != "trade":
            if "result" in message and "id" in message:
                return  # the reply to a subscription request
            self.unknown += 1
            return
        asset = self._asset_of.get(str(data.get("s", "")).lower())
        if asset is None:
            self.unknown += 1
            return
        text = data.get("p")
        # A JSON true is an int to Python (float(True) == 1.0): not a price.
        if isinstance(text, bool) or not isinstance(text, str | int | float):
            self.malformed += 1
            return
        try:
            price = float(text)
        except ValueError:
            self.malformed += 1
            return
        if not math.isfinite(price) or price <= 0:
            self.malformed += 1
            return
        now = self._clock()
        with self._lock:
            self._latest[asset] = (price, now)
            if asset not in self._first:
                self._first[asset] = now
                if len(self._first) == len(self.assets):
                    self._all_priced.set()
