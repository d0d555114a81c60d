"""Confirmation before a reload or a rollback: what runs now, and what changed on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from engine.contract.models import Status
from foresight_tui import formatting as fmt
from foresight_tui.code_diff import FileChange
from foresight_tui.screens.confirm import YesNoScreen

TITLES = {
    "reload": "Reload strategy code?",
    "rollback": "Roll back strategy code?",
}


def describe(kind: str, status: Status | None, changes: list[FileChange]) -> Text:
    lines: list[str] = []
    if status is None:
        lines.append("No status from the engine yet: the command waits in control.json until it starts.")
    else:
        code = status.code
        lines.append(f"Running code: {code.version} ({len(code.modules)} modules, {code.reloads} reloads so far)")
        if code.last_reload is not None:
            last = code.last_reload
            lines.append(f"Last {last.kind}: {'ok' if last.ok else 'failed'} at {fmt.utc_time(last.at)} UTC")
    lines.append("")
    if kind == "rollback":
        previous = status.code.previous_version if status else None
        if previous:
            lines.append(f"The engine returns to the version it kept in memory: {previous}.")
        else:
            lines.append("The engine reports no previous version: it will refuse the rollback.")
    elif changes:
        lines.append("Strategy files changed on disk since the running code was loaded:")
        lines.extend(f"  {change.change:<10} {change.module} ({Path(change.path).name})" for change in changes)
    else:
        lines.append("No strategy file changed on disk: the reload would load the same code.")
    return Text("\n".join(lines))


def diff_text(lines: list[str]) -> Text:
    text = Text()
    for line in lines:
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else "cyan" if line.startswith("@@") else ""
        if line.startswith(("+++", "---")):
            style = "bold"
        text.append(line + "\n", style=style)
    return text


class ConfirmCodeScreen(YesNoScreen):
    BINDINGS = [
        Binding("y", "confirm", "Confirm"),
        Binding("n,escape", "cancel", "Cancel"),
    ]

    def __init__(
        self, kind: str, status: Status | None, changes: list[FileChange], diff: list[str] | None = None,
        preview: Callable[[], list[str]] | None = None,
    ) -> None:
        super().__init__()
        self.preview = preview  # the lines of a check's preview, followed while the dialog is open
        self.diff = diff or []
        self.kind = kind
        self.engine_status = status
        self.changes = changes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-body", classes="dialog") as body:
            body.border_title = TITLES.get(self.kind, self.kind)
            body.border_subtitle = "y/enter confirm · n/esc cancel"
            yield Static(describe(self.kind, self.engine_status, self.changes), id="confirm-text")
            if self.preview is not None:
                yield Static(id="confirm-preview", markup=False)
            if self.diff:
                with VerticalScroll(id="confirm-diff"):
                    yield Static(diff_text(self.diff))
            with Horizontal(id="confirm-buttons"):
                yield Button(self.kind.capitalize(), id="confirm", variant="warning")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()
        if self.preview is not None:
            self._show_preview()
            self.set_interval(0.5, self._show_preview)

    def _show_preview(self) -> None:
        assert self.preview is not None
        lines = self.preview()
        shown = self.query_one("#confirm-preview", Static)
        shown.display = bool(lines)
        shown.update(Text("\n".join(lines)))
