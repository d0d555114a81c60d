"""The top three lines: state, market mode, loop, heartbeat; code and pending writes; intent in force."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label, Static

from foresight_tui.data_source import EngineState, View
from foresight_tui.header_lines import Row, code_row, engine_row, fit, intent_row, pending_part

STATE_CLASSES = {
    EngineState.RUNNING: "-running",
    EngineState.PAUSED: "-paused",
    EngineState.STALE: "-stale",
    EngineState.DOWN: "-down",
    EngineState.WAITING: "-waiting",
}
STYLE_VARIABLES = {"warning": "warning", "error": "error", "accent": "accent", "success": "success"}


@dataclass(frozen=True)
class HeaderInput:
    view: View
    local_pending: int = 0
    changed_on_disk: int = 0
    read_only: bool = False
    filter_text: str = ""


class HeaderBar(Widget):
    def __init__(self, state_dir: Path, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.state_dir = state_dir
        self._last: HeaderInput | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="header-row1"):
            yield Label(EngineState.WAITING.value, id="state-badge", classes="-waiting")
            yield Static(id="engine-info", markup=False)
        yield Static(id="code-info", markup=False)
        yield Static(id="intent-info", markup=False)
        yield Static(id="problem", markup=False)

    def _styled(self, segments: list[tuple[str, str]]) -> Text:
        colours = self.app.theme_variables
        text = Text(no_wrap=True, overflow="crop")
        for chunk, style in segments:
            colour = "dim" if style == "muted" else colours.get(STYLE_VARIABLES.get(style, ""), "")
            text.append(chunk, style=f"bold {colour}" if style in ("warning", "error") else colour)
        return text

    def _set(self, selector: str, row: Row) -> None:
        widget = self.query_one(selector, Static)
        # Each row is exactly as wide as its widget, which never depends on the text: no layout.
        segments = fit(row, widget.size.width or self.size.width or 80)
        if getattr(widget, "_last_segments", None) != segments:
            widget._last_segments = segments  # type: ignore[attr-defined]
            widget.update(self._styled(segments), layout=False)

    def show(
        self,
        view: View,
        *,
        local_pending: int = 0,
        changed_on_disk: int = 0,
        read_only: bool = False,
        filter_text: str = "",
    ) -> None:
        self._last = HeaderInput(view, local_pending, changed_on_disk, read_only, filter_text)
        self._paint(self._last)

    def _paint(self, data: HeaderInput) -> None:
        view = data.view
        badge = self.query_one("#state-badge", Label)
        if str(badge.content) != view.state.value:
            badge.update(view.state.value)
            badge.set_classes(STATE_CLASSES[view.state])
        self._set("#engine-info", engine_row(view))
        self._set("#code-info", code_row(view, data.changed_on_disk, pending_part(view, data.local_pending)))
        modes = []
        if data.filter_text:
            modes.append(f"filter: {data.filter_text}")
        if data.read_only:
            modes.append("READ-ONLY")
        self._set("#intent-info", intent_row(view, self.state_dir, modes))
        problem = self.query_one("#problem", Static)
        shown = " (showing the last good status)" if view.status is not None else ""
        text = f"⚠ {view.problem}{shown}" if view.problem else ""
        if getattr(problem, "_last_text", None) != text:
            problem._last_text = text  # type: ignore[attr-defined]
            problem.update(Text(text))
        problem.display = bool(view.problem)

    def on_resize(self) -> None:
        self.call_after_refresh(self._repaint)

    def _repaint(self) -> None:
        # What is shown by then, not at the resize: a write may have been shown meanwhile.
        if self._last is not None:
            self._paint(self._last)
