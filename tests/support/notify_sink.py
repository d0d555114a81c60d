"""A notification service on 127.0.0.1: what apprise's json:// URLs post, collected for tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class NotifySink:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self.received: list[dict[str, Any]] = []
        self._cond = threading.Condition()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"json://{host}:{port}/notify"

    def add(self, body: dict[str, Any]) -> None:
        with self._cond:
            self.received.append(body)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20.0, what: str = "a notification") -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for body in self.received:
                    if predicate(body):
                        return body
                left = deadline - time.monotonic()
                if left <= 0:
                    titles = [b.get("title") for b in self.received]
                    raise AssertionError(f"no {what} within {timeout}s; received: {titles}")
                self._cond.wait(left)

    def titles(self) -> list[str]:
        with self._cond:
            return [str(b.get("title", "")) for b in self.received]


@contextmanager
def notify_sink() -> Iterator[NotifySink]:
    holder: list[NotifySink] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            holder[0].add(body)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink = NotifySink(server)
    holder.append(sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
