"""A yes/no question before a destructive action, listing what it drops."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class YesNoScreen(ModalScreen[bool]):
    """A question answered True by `confirm` (its key or the #confirm button), False by `cancel`."""

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    def confirm_pressed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.dismiss(False)


class ConfirmScreen(YesNoScreen):
    BINDINGS = [
        Binding("y", "confirm", "Confirm"),
        Binding("n,escape", "cancel", "Cancel"),
    ]

    def __init__(self, title: str, lines: list[str], confirm_label: str) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(id="ask-body", classes="dialog") as body:
            body.border_title = self.title_text
            body.border_subtitle = "y confirm · n/esc cancel"
            yield Static(Text("\n".join(self.lines)), id="ask-text")
            with Horizontal(id="ask-buttons"):
                yield Button(self.confirm_label, id="confirm", variant="error")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # the safe answer under enter
