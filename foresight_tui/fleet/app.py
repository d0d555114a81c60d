"""The fleet view: one row per engine; Enter opens its Mission Control, quitting that comes back here."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from foresight_tui.fleet.sources import LocalFleet, NatsFleet
from foresight_tui.fleet.table import FleetTable
from foresight_tui.screens.confirm import ConfirmScreen

Source = LocalFleet | NatsFleet
REPAINT_EVERY_S = 0.25
AGE_EVERY_S = 1.0


class FleetApp(App[None]):
    TITLE = "Foresight fleet"
    # Absolute: a subclass elsewhere (the benchmark's) resolves relative paths from its own module.
    CSS_PATH = [Path(__file__).parent.parent / "app.tcss", Path(__file__).parent / "fleet.tcss"]
    BINDINGS = [
        Binding("p", "pause_one", "Pause"),
        Binding("r", "resume_one", "Resume"),
        Binding("P", "pause_all", "Pause all"),
        Binding("R", "resume_all", "Resume all"),
        Binding("q", "quit", "Quit", tooltip="Quits the fleet view; every engine keeps running"),
    ]

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source
        self._dirty = False
        self._opening = False
        self._suspended = False
        self._refreshed = 0.0  # monotonic time of the last refresh_table
        self._shown: dict[str, str] = {}  # each Static's text, as last set

    def compose(self) -> ComposeResult:
        yield Static(self.source.title, id="fleet-title")
        yield Static("", id="fleet-problem")
        table = FleetTable(id="fleet")
        yield Static(table.header_text(), id="fleet-header")
        yield table
        yield Static("", id="fleet-report")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = "read-only" if self.source.read_only else ""
        await self.source.start(self.changed)
        self.set_interval(REPAINT_EVERY_S, self.refresh_if_due)
        self.refresh_table()
        self.query_one(FleetTable).focus()

    async def on_unmount(self) -> None:
        await self.source.stop()

    def changed(self) -> None:
        self._dirty = True

    def refresh_if_due(self) -> None:
        # Statuses arriving together are one repaint; ages move without any new status. One
        # timer for both: a second timer's repaint would come just after this one's.
        if self._dirty or time.monotonic() - self._refreshed >= AGE_EVERY_S:
            self.refresh_table()

    def refresh_table(self) -> None:
        if self._suspended:
            return
        self._dirty = False
        self._refreshed = time.monotonic()
        table = self.query_one(FleetTable)
        rows = self.source.rows()
        if table.set_rows(rows):
            self._show("fleet-header", table.header_text())
        problem = self.source.problem or self._last_gap()
        if not rows and not problem:
            problem = "no engine yet: start one with its bridge (foresight bridge --state-dir DIR --nats URL --name NAME)"
        self._show("fleet-problem", problem)

    def _show(self, widget_id: str, text: str) -> None:
        # A Static's update lays the whole screen out again: worth it only when its text changed.
        if self._shown.get(widget_id) != text:
            self._shown[widget_id] = text
            self.query_one(f"#{widget_id}", Static).update(text)

    def _last_gap(self) -> str:
        """Our own outage of NATS, said after it ended: the rows do not show what happened in it."""
        gaps = getattr(self.source, "gaps", [])
        if not gaps:
            return ""
        start, end = gaps[-1]
        return f"NATS was unreachable {start[11:19]}-{end[11:19]} UTC ({len(gaps)} outage(s) since start); rows show the engines' newest status"

    def selected(self) -> str | None:
        return self.query_one(FleetTable).selected

    # -------------------------------------------------------------- opening one

    async def action_open(self) -> None:
        name = self.selected()
        if name is None or self._opening:
            return
        self._opening = True
        try:
            directory, release = await self.source.open(name)
            try:
                await self._mission_control(directory)
            finally:
                await release()
        except Exception as exc:
            self.notify(f"could not open {name}: {exc}", severity="error", markup=False)
        finally:
            self._opening = False
            self.refresh_table()

    async def _mission_control(self, directory: Path) -> None:
        """The engine's own Mission Control, every screen and key of it; its q comes back here."""
        command = [sys.executable, "-m", "foresight_tui", "--state-dir", str(directory)]
        if self.source.read_only:
            command.append("--read-only")
        self._suspended = True  # a repaint now would queue output no one reads, and block the loop
        try:
            with self.suspend():
                # Polled rather than awaited: asyncio's child watcher misses this child under Textual.
                proc = subprocess.Popen(command)
                while proc.poll() is None:
                    await asyncio.sleep(0.05)
        finally:
            self._suspended = False


    def on_fleet_table_opened(self, event: FleetTable.Opened) -> None:
        self.run_worker(self.action_open(), exclusive=True, group="open")

    # -------------------------------------------------------------- pause and resume

    def _refused_read_only(self, what: str) -> bool:
        if self.source.read_only:
            self.notify(f"{what}: not sent, the fleet view is read-only", severity="warning", markup=False)
        return self.source.read_only

    def action_pause_one(self) -> None:
        self._ask_one(True)

    def action_resume_one(self) -> None:
        self._ask_one(False)

    def _ask_one(self, paused: bool) -> None:
        name = self.selected()
        if name is None or self._refused_read_only("pause" if paused else "resume"):
            return
        self.send_paused([name], paused)

    def action_pause_all(self) -> None:
        self._ask_all(True)

    def action_resume_all(self) -> None:
        self._ask_all(False)

    def _ask_all(self, paused: bool) -> None:
        verb = "pause" if paused else "resume"
        if self._refused_read_only(f"{verb} all"):
            return
        names = [row.name for row in self.source.rows()]
        if not names:
            return
        lines = [f"{verb.capitalize()} new bets on {len(names)} engines (open bets still settle):", *(f"  {n}" for n in names)]

        def answered(ok: bool | None) -> None:
            if ok:
                self.send_paused(names, paused)

        self.push_screen(ConfirmScreen(f"{verb.capitalize()} all", lines, f"{verb.capitalize()} {len(names)}"), answered)

    @work(group="writes")
    async def send_paused(self, names: list[str], paused: bool) -> None:
        verb = "pause" if paused else "resume"
        report = self.query_one("#fleet-report", Static)
        report.update(f"{verb}: sent to {len(names)} engine(s), waiting for each...")

        async def one(name: str) -> str:
            try:
                return f"{name}: {await self.source.set_paused(name, paused)}"
            except Exception as exc:
                return f"{name}: not sent ({type(exc).__name__}: {exc})"

        answers = await asyncio.gather(*(one(n) for n in names))
        text = f"{verb}: " + "; ".join(answers)
        report.update(text)
        self.notify(text, title=f"{verb.capitalize()} {len(names)}", markup=False)
        self.refresh_table()
