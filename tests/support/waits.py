"""Waiting on a condition, never on a fixed sleep: poll until it holds, fail with what was awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], what: str, timeout: float = 30.0, every: float = 0.005) -> T:
    """The first truthy value of `condition()`; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not seen within {timeout:g} s"
        time.sleep(every)
    return value


async def until(pilot: Any, condition: Callable[[], T], what: str, timeout: float = 5.0) -> T:
    """`wait_until` for a Textual pilot: the app runs its messages between looks."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not seen within {timeout:g} s"
        await pilot.pause()
        await asyncio.sleep(0.005)
    return value
