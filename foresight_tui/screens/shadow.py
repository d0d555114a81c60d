"""The shadow screen: a candidate beside the running code, its totals, and promote or drop."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.contract.models import Status
from foresight_tui.control_client import read_only_refusal
from foresight_tui.screens.confirm import ConfirmScreen
from foresight_tui.shadow_lines import most_differing, totals

# What the screen asks the app to send: ("shadow", aa) / ("promote", False) / ("drop", False).
Send = Callable[[str, bool], None]


class ShadowScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("s", "start(False)", "Shadow disk code"),
        Binding("a", "start(True)", "A/A control"),
        Binding("P", "promote", "Promote"),
        Binding("D", "drop", "Drop"),
        Binding("escape,q", "close", "Close"),
    ]

    status: reactive[Status | None] = reactive(None, layout=False, always_update=True)

    def __init__(self, status: Status | None, send: Send, *, read_only: bool = False) -> None:
        super().__init__()
        self.send = send
        self.read_only = read_only
        self.set_reactive(ShadowScreen.status, status)

    def compose(self) -> ComposeResult:
        with Vertical(id="shadow-body", classes="dialog") as body:
            body.border_title = "Shadow deploy"
            body.border_subtitle = "s shadow · a A/A · P promote · D drop · esc close"
            yield Static(id="shadow-totals", markup=False)
            yield Static(id="shadow-slots", markup=False)

    def on_mount(self) -> None:
        self._paint(self.status)
        self.set_interval(0.5, self._follow)

    def _follow(self) -> None:
        self.status = getattr(self.app, "status", None)

    def watch_status(self, status: Status | None) -> None:
        if self.is_mounted:
            self._paint(status)

    def _paint(self, status: Status | None) -> None:
        shadow = status.code.shadow if status is not None else None
        if shadow is None:
            head = "No shadow since the engine started.\ns runs the code on disk beside the running code (it never trades);\na runs the running code against itself first (A/A: it measures the noise)."
            self.query_one("#shadow-totals", Static).update(Text(head))
            self.query_one("#shadow-slots", Static).update("")
            return
        self.query_one("#shadow-totals", Static).update(Text("\n".join(totals(shadow))))
        self.query_one("#shadow-slots", Static).update(Text("\nslots that differ most:\n" + "\n".join(most_differing(shadow))))

    def _shadow_running(self) -> bool:
        shadow = self.status.code.shadow if self.status is not None else None
        return shadow is not None and shadow.state == "running"

    def _refused_read_only(self, what: str) -> bool:
        """In read-only mode each key says so at once, rather than asking a question it cannot act on."""
        if self.read_only:
            self.notify(read_only_refusal(what), title="Read-only", severity="warning", markup=False)
        return self.read_only

    def action_start(self, aa: bool) -> None:
        if self._refused_read_only("A/A control" if aa else "shadow"):
            return
        if aa:
            title, lines, label = "Run an A/A control?", [
                "The running code runs again beside itself each cycle, never trading:",
                "0 differences and equal P&L are expected; differences mean the strategy is not deterministic.",
            ], "Start A/A"
        else:
            title, lines, label = "Shadow the code on disk?", [
                "The code on disk goes through every check of a reload, then runs beside the running code",
                "each cycle on its own paper book, never trading; P promotes it, D drops it.",
            ], "Shadow"
        if self._shadow_running():
            lines.append("The shadow running now ends.")
        screen = ConfirmScreen(title, lines, label)
        self.app.push_screen(screen, lambda ok: self.send("shadow", aa) if ok else None)

    def action_promote(self) -> None:
        if self._refused_read_only("promote"):
            return
        shadow = self.status.code.shadow if self.status is not None else None
        if shadow is None or shadow.state != "running" or shadow.aa:
            self.notify("no candidate shadow is running: nothing to promote", severity="warning")
            return
        lines = [
            f"{shadow.version} becomes the live code at the next cycle boundary; positions and counters carry on.",
            f"{shadow.differ} of {shadow.compared} decisions differed; P&L live {shadow.pnl_live:+.2f} over {shadow.bets_live} bets,"
            f" shadow {shadow.pnl_shadow:+.2f} over {shadow.bets_shadow}.",
        ]
        screen = ConfirmScreen(f"Promote {shadow.version}?", lines, "Promote")
        self.app.push_screen(screen, lambda ok: self.send("promote", False) if ok else None)

    def action_drop(self) -> None:
        if self._refused_read_only("drop"):
            return
        if not self._shadow_running():
            self.notify("no shadow is running: nothing to drop", severity="warning")
            return
        screen = ConfirmScreen("Drop the shadow?", ["The shadow ends; the running code, positions and parameters stay as they are."], "Drop")
        self.app.push_screen(screen, lambda ok: self.send("drop", False) if ok else None)

    def action_close(self) -> None:
        self.dismiss(None)
