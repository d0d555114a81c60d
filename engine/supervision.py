"""The engine's side of supervision: a stop signal interrupts a strategy call, a call that
never lets go abandons the process to its supervisor with its version marked failed, a clean
stop is recorded, and signal handlers strategy code replaced are put back after each cycle."""

from __future__ import annotations

from engine.events import EventLog
from engine.ops.sd_notify import SdNotify
from engine.process_guard import StopSignal
from engine.reload.guard import Abandon
from engine.reload.manager import ReloadManager
from engine.reload.version_store import VersionStore

# How long a stop waits for the version store's last fsyncs.
STORE_DRAIN_S = 2.0


class Supervision:
    """Owns what a stop or an abandoned process must reach: the code, its store, the stop signal."""

    def __init__(
        self, reloader: ReloadManager, store: VersionStore, stop: StopSignal, events: EventLog, notifier: SdNotify
    ) -> None:
        self.reloader = reloader
        self.store = store
        self.stop = stop
        self.events = events
        self.notifier = notifier
        guard = reloader.guard
        stop.on_stop = guard.stop_current
        guard.on_abandon = self.abandon

    def abandon(self, info: Abandon) -> None:
        """On the watchdog thread: the main thread is still inside strategy code. The last cycle
        is persisted already; record why the process goes, so the restart runs the last good code."""
        reloader = self.reloader
        reason = (
            f"a strategy call was still running {info.overrun_s:.1f} s past its {info.budget_s * 1000:.0f} ms budget "
            "after repeated interrupts (it swallows them, or is stuck in C code)"
        )
        loading = reloader.loading if info.what == "load" else None
        # A candidate hung while loading (check, reload, prepare): the running version is innocent,
        # the candidate is never loaded again. A live call hung: the running version failed.
        version = loading or (reloader.registry.version if reloader.registry.loaded else "?")
        try:
            reloader.flush_store()
            if loading is not None:
                self.store.poison(loading, reason)
            else:
                self.store.mark_failed(version, reason)
        except OSError:
            pass
        self.store.drain(STORE_DRAIN_S)
        self.events.emit(
            "engine",
            f"version {version}: {reason}; abandoning the process to its supervisor, the restart runs "
            + ("the running version and refuses this code" if loading else "the last good version"),
            version=version,
            overrun_s=round(info.overrun_s, 3),
        )
        self.notifier.send(f"STATUS=abandoned: version {version} hung")

    def keep_signals(self) -> None:
        """Once a cycle: strategy code that installed its own SIGTERM/SIGINT handler must not leave
        the engine deaf to a stop (a few microseconds)."""
        self.stop.reinstall()
        self.reloader.guard.reinstall_signal()

    def stopped(self) -> None:
        self.reloader.flush_store()
        try:
            self.store.mark_stopped()
        except OSError:
            pass
        # A clean stop leaves the record durable; a disk that hangs does not hold the exit for long.
        self.store.drain(STORE_DRAIN_S)
