"""Watching a directory for the TUI, forever and never fatally (no Textual here).

The directory, not the file: an atomic replace makes a watch on the file itself
go deaf. The directory may not exist yet (the TUI starts before the engine), and
any error of the watcher is reported and the watch starts again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from watchfiles import DefaultFilter, awatch

from foresight_tui import inotify_watch

RUST_TIMEOUT_MS = 300  # how long the watcher thread may take to notice it should stop
RETRY_S = 1.0


def only_named(name: str) -> Callable[[object, str], bool]:
    def accept(_change: object, path: str) -> bool:
        return Path(path).name == name

    return accept


async def watch_directory(
    directory: Path,
    on_change: Callable[[], None],
    on_error: Callable[[Exception], None],
    stop: asyncio.Event,
    *,
    accept: Callable[[object, str], bool] | None = None,
    recursive: bool = True,
    step_ms: int = 20,
) -> None:
    """Call `on_change` after each batch of changes in `directory` until `stop` is set.

    One directory level on Linux goes through inotify on the event loop (no polling step in
    the way of each change); a tree, or another system, through watchfiles.
    """
    while not stop.is_set():
        try:
            if not directory.is_dir():
                await asyncio.sleep(RETRY_S)
                continue
            if not recursive and inotify_watch.available():
                def named(name: str) -> bool:
                    return accept is None or accept(None, str(directory / name))

                await inotify_watch.watch_once(directory, on_change, named, stop)
                continue
            async for _changes in awatch(
                directory,
                watch_filter=accept or DefaultFilter(),
                step=step_ms,
                recursive=recursive,
                stop_event=stop,
                rust_timeout=RUST_TIMEOUT_MS,
            ):
                on_change()
        except Exception as exc:  # never fatal: show it, then watch again
            on_error(exc)
            await asyncio.sleep(RETRY_S)
