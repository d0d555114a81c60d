"""Following a NATS KV watch for as long as its reader runs, NATS going away included.

A JetStream watch may not survive a reconnect, and NATS may be away for a while: the
watch is opened again after any error (after `retry`), and when its reader asks for a
fresh one (`renew`), or, with `renew_when_quiet`, after `quiet_s` without an update.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from nats.js.kv import KeyValue


async def follow(
    open_watch: Callable[[], Awaitable[KeyValue.KeyWatcher]],
    on_entry: Callable[[KeyValue.Entry], None],
    *,
    running: Callable[[], bool] = lambda: True,
    renew: Callable[[], bool] = lambda: False,
    on_open: Callable[[], None] = lambda: None,
    renew_when_quiet: bool = False,
    quiet_s: float = 1.0,
    retry: Callable[[], Awaitable[object]] = lambda: asyncio.sleep(0.5),
) -> None:
    """Call `on_entry` with each entry the watch yields (never a None) until `running()` is false."""
    while running():
        watcher = None
        try:
            watcher = await open_watch()
            on_open()
            while running() and not renew():
                try:
                    entry = await watcher.updates(timeout=quiet_s)
                except Exception as exc:
                    if type(exc).__name__ != "TimeoutError":  # nats' own TimeoutError: nothing new
                        raise
                    if renew_when_quiet:
                        break
                    continue
                if entry is not None:
                    on_entry(entry)
        except asyncio.CancelledError:
            raise
        except Exception:
            await retry()  # NATS away: what the watch feeds ages, and its readers say so
        finally:
            if watcher is not None:
                with contextlib.suppress(Exception):
                    await watcher.stop()
