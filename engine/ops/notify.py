"""Notifications through apprise, from a queue a worker thread drains: a send never waits.

Any URL apprise knows (tgram://, slack://, discord://, ntfy://, mailto://, json://, ...).
Each URL is delivered to on its own, in order: a service that is down is retried
with a growing delay (capped at RETRY_MAX_S) while the others go on; the queue is
bounded (the oldest is dropped, and counted, when a service stays down that long).
Repeats of one key (the same trouble every cycle) are sent at most once per
`repeat_s`; the next one says how many were held back.

Used by the engine (engine/ops/alerts.py) and by `foresight watch` (engine/ops/watch.py).
apprise is imported only when a URL is given.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["info", "success", "warning", "failure"]
QUEUE_MAX = 200
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 60.0
REPEAT_S = 600.0


@dataclass
class Notification:
    title: str
    body: str
    severity: Severity = "info"
    targets: set[int] = field(default_factory=set)  # the URLs (by index) still to deliver to


def redact(url: str) -> str:
    """A URL as it may be shown: its scheme and host, never a token or password."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}/..." if rest else url


class Notifier:
    """Owns the apprise targets, the queue and the worker thread that delivers."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        repeat_s: float = REPEAT_S,
        queue_max: int = QUEUE_MAX,
        retry_first_s: float = RETRY_FIRST_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import apprise  # a second of imports that only a notifying process pays

        logging.getLogger("apprise").setLevel(logging.CRITICAL)  # failures are reported by `failing`
        self.urls = list(urls)
        self._targets: list[Any] = []
        for url in self.urls:
            if not url.strip():  # a script's unset variable: say so, not "apprise does not know"
                raise ValueError("--notify is empty: give an apprise URL (e.g. ntfy://my-topic, tgram://TOKEN/CHAT)")
            target = apprise.Apprise()
            if not target.add(url):
                raise ValueError(f"--notify {redact(url)}: apprise does not know this URL (see https://github.com/caronc/apprise/wiki)")
            self._targets.append(target)
        self.repeat_s = repeat_s
        self.retry_first_s = retry_first_s
        self.clock = clock
        self.queue_max = queue_max
        self.dropped = 0
        self.sent = 0
        self.failing: str | None = None  # why the oldest undelivered notification waits, if it does
        self._queue: deque[Notification] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._closed = threading.Event()
        self._last_of: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._thread = threading.Thread(target=self._work, name="notify", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ the sender's side

    def send(self, title: str, body: str, severity: Severity = "info", key: str | None = None) -> bool:
        """Queue a notification (never blocks on the network); False when held back as a repeat."""
        now = self.clock()
        with self._cond:
            if key is not None:
                last = self._last_of.get(key)
                if last is not None and now - last < self.repeat_s:
                    self._held[key] = self._held.get(key, 0) + 1
                    return False
                self._last_of[key] = now
                held = self._held.pop(key, 0)
                if held:
                    body += f"\n({held} more like this in the last {self.repeat_s / 60:g} min were not sent)"
            self._queue.append(Notification(title, body, severity, set(range(len(self._targets)))))
            while len(self._queue) > self.queue_max:
                self._queue.popleft()
                self.dropped += 1
            self._cond.notify()
        return True

    def forget(self, key: str) -> None:
        """The condition `key` repeats has ended: its next notification is news, not a repeat."""
        with self._cond:
            self._last_of.pop(key, None)
            self._held.pop(key, None)

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued, for at most `timeout` seconds, then stop the worker."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self.failing is not None:
            self._closed.set()  # a down service: do not wait out its retries
        self._thread.join(max(0.0, deadline - time.monotonic()))

    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    # ------------------------------------------------------------ the worker

    def _work(self) -> None:
        delay = self.retry_first_s
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                note = self._queue[0]
            for index in sorted(note.targets):
                if self._deliver(index, note):
                    note.targets.discard(index)
            if not note.targets:
                with self._cond:
                    if self._queue and self._queue[0] is note:
                        self._queue.popleft()
                self.sent += 1
                self.failing = None
                delay = self.retry_first_s
                continue
            names = ", ".join(redact(self.urls[i]) for i in sorted(note.targets))
            self.failing = f"notifications to {names} are not delivered; retried (next in {delay:g}s)"
            # Wait out the delay on the closing event, not the queue's condition: a new
            # notification must not cut a down service's backoff short.
            if self._closed.wait(delay):
                return  # stopping: what a down service did not take is given up
            delay = min(delay * 2, RETRY_MAX_S)

    def _deliver(self, index: int, note: Notification) -> bool:
        import apprise

        kind = {
            "info": apprise.NotifyType.INFO,
            "success": apprise.NotifyType.SUCCESS,
            "warning": apprise.NotifyType.WARNING,
            "failure": apprise.NotifyType.FAILURE,
        }[note.severity]
        try:
            return bool(self._targets[index].notify(body=note.body, title=note.title, notify_type=kind))
        except Exception:  # a plugin's bug is a failed delivery, retried, never the caller's problem
            return False
