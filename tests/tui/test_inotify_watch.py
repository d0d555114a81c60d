"""The inotify watcher: an atomic replace of the watched name calls back, other names do not,
and a directory that goes away ends the watch (the caller waits for it to return)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from foresight_tui import inotify_watch

pytestmark = pytest.mark.skipif(not inotify_watch.available(), reason="needs Linux inotify")


async def test_a_replace_of_the_watched_name_calls_back_and_others_do_not(tmp_path: Path) -> None:
    seen: list[int] = []
    stop = asyncio.Event()
    changed = asyncio.Event()

    def on_change() -> None:
        seen.append(1)
        changed.set()

    task = asyncio.create_task(inotify_watch.watch_once(tmp_path, on_change, lambda n: n == "status.json", stop))
    await asyncio.sleep(0.05)  # the watch is added once the task runs
    (tmp_path / "other.json").write_text("{}")
    (tmp_path / ".status.json.tmp").write_text("{}")
    os.replace(tmp_path / ".status.json.tmp", tmp_path / "status.json")
    await asyncio.wait_for(changed.wait(), 2)
    assert seen == [1]
    stop.set()
    await asyncio.wait_for(task, 2)


async def test_the_watch_ends_when_the_directory_goes(tmp_path: Path) -> None:
    watched = tmp_path / "state"
    watched.mkdir()
    task = asyncio.create_task(inotify_watch.watch_once(watched, lambda: None, lambda n: True, asyncio.Event()))
    await asyncio.sleep(0.05)
    watched.rmdir()
    await asyncio.wait_for(task, 2)


def test_events_are_parsed_with_their_names() -> None:
    record = inotify_watch.HEADER.pack(1, inotify_watch.IN_MOVED_TO, 0, 16) + b"status.json".ljust(16, b"\0")
    gone = inotify_watch.HEADER.pack(1, inotify_watch.IN_IGNORED, 0, 0)
    assert inotify_watch.names_in(record + gone) == (["status.json"], True)
