"""A websocket server on 127.0.0.1 that speaks Binance's combined-stream trade format.

It runs its own asyncio loop in a thread and streams a trade every `every_s`
for each asset the test keeps live, at the price the test sets; the test can
also send any message, drop every connection, refuse new ones for a while, or
announce a shutdown, as the exchange does.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Coroutine
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response


class FakeBinance:
    def __init__(self, every_s: float = 0.05, repeat: int = 1) -> None:
        self.every_s = every_s
        self.repeat = repeat  # trades per live symbol per tick
        self.prices: dict[str, float] = {}  # exchange symbol (btcusdt) -> price streamed
        self.live: set[str] = set()  # symbols whose trades stream now
        self.accepting = True
        self.paths: list[str] = []
        self.close_codes: list[int | None] = []  # how each client's connection ended (1000: a clean close)
        self._clients: set[ServerConnection] = set()
        self._trade_id = 0
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-binance", daemon=True)

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeBinance:
        self._thread.start()
        async def open_server() -> Server:
            return await serve(self._handler, "127.0.0.1", 0, process_request=self._gate)

        self._server = self._call(open_server())

        async def start_pump() -> asyncio.Task[None]:
            return asyncio.get_running_loop().create_task(self._pump())

        self._pump_task = self._call(start_pump())
        return self

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._pump_task.cancel()
            self._server.close()
            await self._server.wait_closed()

        self._call(close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/stream"

    # ------------------------------------------------------------- what tests do

    def stream(self, symbol: str, price: float) -> None:
        self.prices[symbol] = price
        self.live.add(symbol)

    def silence(self, symbol: str) -> None:
        self.live.discard(symbol)

    def send(self, text: str) -> None:
        self._call(self._broadcast(text))

    def send_shutdown(self) -> None:
        self.send(json.dumps({"event": {"e": "serverShutdown", "E": int(time.time() * 1000)}}))

    def drop(self) -> None:
        """Every connection cut without a closing handshake, as a network failure does."""

        async def cut() -> None:
            for client in list(self._clients):
                client.transport.abort()

        self._call(cut())

    @property
    def clients(self) -> int:
        return len(self._clients)

    # ------------------------------------------------------------------ insides

    def trade(self, symbol: str, price: float) -> str:
        self._trade_id += 1
        now = int(time.time() * 1000)
        data = {"e": "trade", "E": now, "s": symbol.upper(), "t": self._trade_id, "p": f"{price:.8f}", "q": "0.01000000", "T": now, "m": False, "M": True}
        return json.dumps({"stream": f"{symbol}@trade", "data": data})

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def _gate(self, connection: ServerConnection, request: Request) -> Response | None:
        if not self.accepting:
            return connection.respond(503, "not accepting connections\n")
        return None

    async def _handler(self, connection: ServerConnection) -> None:
        self.paths.append(connection.request.path if connection.request else "")
        self._clients.add(connection)
        try:
            await connection.wait_closed()
        finally:
            self._clients.discard(connection)
            self.close_codes.append(connection.close_code)

    async def _broadcast(self, text: str) -> None:
        for client in list(self._clients):
            try:
                await client.send(text)
            except Exception:  # a client going away mid-send is the client's business
                pass

    async def _pump(self) -> None:
        while True:
            for symbol in list(self.live):
                for _ in range(self.repeat):
                    await self._broadcast(self.trade(symbol, self.prices[symbol]))
            await asyncio.sleep(self.every_s)


def main() -> None:
    """`python -m tests.support.fake_exchange RATE`: stream the eight assets' USDT trades at about
    RATE a second, print the URL, run until killed (the benchmarks' exchange, in its own process)."""
    import sys

    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 500.0
    symbols = ("btcusdt", "ethusdt", "solusdt", "xrpusdt", "dogeusdt", "bnbusdt", "adausdt", "avaxusdt")
    repeat = 4
    server = FakeBinance(every_s=len(symbols) * repeat / rate, repeat=repeat).start()
    for i, symbol in enumerate(symbols):
        server.stream(symbol, 100.0 + i)
    print(server.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
