"""The `/` filter line above the grid: live filtering, enter keeps it, esc clears it."""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.widgets import Input

from foresight_tui.messages import FilterChanged


class FilterBar(Input):
    BINDINGS = [Binding("escape", "cancel", "Clear filter", show=False)]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(placeholder="filter slots: asset, window, id or state (enter keeps, esc clears)", **kwargs)  # type: ignore[arg-type]

    @on(Input.Changed)
    def changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(FilterChanged(event.value))

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(FilterChanged(event.value, done=True))

    def action_cancel(self) -> None:
        self.value = ""
        self.post_message(FilterChanged("", done=True))
