"""Messages that bubble from widgets and screens up to the app, which does the writing."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class SlotPauseRequested(Message):
    """The operator wants this slot paused (True) or resumed (False)."""

    slot_id: str
    paused: bool


@dataclass
class SlotDetailRequested(Message):
    slot_id: str


@dataclass
class FilterChanged(Message):
    """The filter text changed; `done` when the operator left the filter line."""

    text: str
    done: bool = False
