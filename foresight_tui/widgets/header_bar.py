"""The top two lines: engine state, process, loop, code, pending changes, heartbeat."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label, Static

from foresight_tui import formatting as fmt
from foresight_tui.data_source import EngineState, View

STATE_CLASSES = {
    EngineState.RUNNING: "-running",
    EngineState.PAUSED: "-paused",
    EngineState.STALE: "-stale",
    EngineState.DOWN: "-down",
    EngineState.WAITING: "-waiting",
}


def engine_line(view: View) -> str:
    status = view.status
    if status is None:
        return "no status.json yet: start the engine (foresight engine) on this state directory"
    e = status.engine
    said = f"last said {e.state} · " if view.state.value.lower() != e.state else ""
    return (
        f"{said}pid {e.pid}@{e.host}  up {fmt.duration(view.uptime_s)}  "
        f"cycle {e.cycle} · {e.last_cycle_ms:.0f}ms of {e.cycle_interval_s * 1000:.0f}ms  "
        f"heartbeat {fmt.age(view.age_s)}"
    )


def code_line(view: View, changed_on_disk: int) -> str:
    status = view.status
    if status is None:
        return ""
    code = status.code
    text = f"code {code.version} ({code.reloads} reloads)"
    last = code.last_reload
    if last is not None:
        outcome = "ok" if last.ok else "FAILED"
        changed = f", {len(last.changed)} changed" if last.changed else ""
        text += f"  last {last.kind} {outcome} at {fmt.utc_time(last.at)} ({last.duration_ms:.0f}ms{changed})"
        if last.error:
            text += f": {last.error}"
    if changed_on_disk:
        text += f"  · {changed_on_disk} file{'s' if changed_on_disk > 1 else ''} changed on disk"
    failure = code.last_failure
    if failure is not None:
        text += f"  · {failure.version} FAILED ({failure.how}, {', '.join(failure.slots[:3])})"
    return text


def pending_line(view: View, local_pending: int) -> str:
    if view.pending or local_pending:
        return f"pending: gen {view.control_generation} > observed {view.observed_generation} ({local_pending} mine)"
    return f"applied gen {view.observed_generation}"


class HeaderBar(Widget):
    def compose(self) -> ComposeResult:
        with Horizontal(id="header-row1"):
            yield Label(EngineState.WAITING.value, id="state-badge", classes="-waiting")
            yield Static(id="engine-info", markup=False)
            yield Label("", id="mode-badge")
        with Horizontal(id="header-row2"):
            yield Static(id="code-info", markup=False)
            yield Static(id="pending-info", markup=False)
        yield Static(id="problem", markup=False)

    def _set(self, selector: str, text: str) -> None:
        widget = self.query_one(selector, Static)
        if getattr(widget, "_last_text", None) != text:
            widget._last_text = text  # type: ignore[attr-defined]
            widget.update(Text(text), layout=False)

    def show(
        self,
        view: View,
        *,
        local_pending: int = 0,
        changed_on_disk: int = 0,
        read_only: bool = False,
        filter_text: str = "",
    ) -> None:
        badge = self.query_one("#state-badge", Label)
        if str(badge.content) != view.state.value:
            badge.update(view.state.value)
            badge.set_classes(STATE_CLASSES[view.state])
        self._set("#engine-info", engine_line(view))
        self._set("#code-info", code_line(view, changed_on_disk))
        self._set("#pending-info", pending_line(view, local_pending))
        self.query_one("#pending-info").set_class(view.pending or local_pending > 0, "-pending")
        modes = []
        if filter_text:
            modes.append(f"filter: {filter_text}")
        if read_only:
            modes.append("READ-ONLY")
        self._set("#mode-badge", "  ".join(modes))
        problem = self.query_one("#problem", Static)
        self._set("#problem", f"⚠ {view.problem} (showing the last good status)" if view.problem else "")
        problem.display = bool(view.problem)
