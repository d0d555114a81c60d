"""What the engine tells the operator outside the terminal, and when.

It listens to the engine's own events (events.jsonl's lines as they are emitted)
and picks those an operator must hear about at 3 a.m.: the engine started or
stopped, a reload refused or a reload or rollback undone, a version failing live
(rolled back), a risk limit tripped, persistence failing (and recovered). A
strategy error is told when it persists: every cycle for STRATEGY_ERROR_CYCLES
cycles in a row. Delivery is engine/ops/notify.py's: queued, never in the cycle's way.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any

from engine.contract.models import Event
from engine.events import EventLog
from engine.ops.notify import Notifier, Severity

STRATEGY_ERROR_CYCLES = 20
PERSIST_TROUBLE = ("cannot persist", "cannot write status.json", "cannot write ledger", "ledger.sqlite3 deleted", "ledger.sqlite3 replaced")


class EngineAlerts:
    """Owns the engine's notifier; fed by the event log and once a cycle."""

    def __init__(self, notifier: Notifier, events: EventLog, state_dir: str) -> None:
        self.notifier = notifier
        self.events = events
        self.where = f"{socket.gethostname()}:{state_dir}"
        self.error_cycles = 0
        self._told_failing: str | None = None
        self._persist_failing = False  # the last persistence notification said failing
        events.listeners.append(self.on_event)

    @classmethod
    def start(cls, urls: Sequence[str], events: EventLog, state_dir: str) -> EngineAlerts | None:
        return cls(Notifier(urls), events, state_dir) if urls else None

    def _send(self, title: str, body: str, severity: Severity = "info", key: str | None = None) -> None:
        self.notifier.send(f"foresight: {title}", f"{body}\n({self.where}, pid {os.getpid()})", severity, key)

    def on_event(self, event: Event) -> None:
        kind, message, detail = event.kind, event.message, event.detail
        if kind == "engine" and message.startswith("engine started"):
            self._send("engine started", message, "success")
        elif kind == "engine" and message.startswith("engine stopped"):
            self._send("engine stopped", message, "warning")
        elif kind == "reload" and detail.get("kind") == "auto_rollback":
            self._send("version failing live, rolled back", message, "failure", key="auto_rollback")
        elif kind == "reload" and detail.get("ok") is False and detail.get("kind") != "check":
            self._send(f"{detail.get('kind', 'reload')} refused", message, "failure", key="reload_refused")
        elif kind == "risk" and "limit" in detail and "threshold" in detail:
            # Each trip is news: a limit trips again only after an operator resumed it.
            self._send(f"risk limit {detail['limit']} tripped", message, "failure")
        elif kind == "warning" and message.startswith(PERSIST_TROUBLE):
            # Repeats while it fails are held back; a failure after its recovery never is, or the
            # last notification would say "recovered" while nothing persists.
            self._send("persistence failing", message, "failure", key="persist")
            self._persist_failing = True
        elif kind == "engine" and ("persistence caught up" in message or "the ledger caught up" in message):
            if self._persist_failing:
                self._send("persistence recovered", message, "success")
                self.notifier.forget("persist")
            self._persist_failing = False

    def cycle(self, strategy_errors: list[str]) -> None:
        """Once a cycle: a strategy error that persists is told once; the notifier's own trouble is logged."""
        if strategy_errors:
            self.error_cycles += 1
            if self.error_cycles == STRATEGY_ERROR_CYCLES:
                more = f" (and {len(strategy_errors) - 1} more slots)" if len(strategy_errors) > 1 else ""
                self._send(
                    "strategy error persists",
                    f"every cycle for {STRATEGY_ERROR_CYCLES} cycles: {strategy_errors[0]}{more}",
                    "failure",
                    key="strategy_error",
                )
        elif self.error_cycles:
            if self.error_cycles >= STRATEGY_ERROR_CYCLES:
                self._send("strategy error cleared", f"no strategy error after {self.error_cycles} cycles with one", "success")
            self.error_cycles = 0
        failing = self.notifier.failing
        if failing != self._told_failing and (failing is None or self._told_failing is None):
            if failing is not None:
                self.events.emit("warning", failing)
            self._told_failing = failing

    def close(self, timeout: float = 5.0) -> None:
        self.notifier.close(timeout)


def notify_urls(flags: Sequence[str] | None, env: str | None) -> tuple[str, ...]:
    """--notify URLs and FORESIGHT_NOTIFY's (whitespace-separated), each once."""
    urls: list[Any] = [*(flags or []), *(env.split() if env else [])]
    return tuple(dict.fromkeys(urls))
