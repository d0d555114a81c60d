"""Mission Control: composes the panels, holds the live status, routes messages to writes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen

from engine.contract.liveness import pid_alive
from engine.contract.models import STATUS_FILE, Status
from foresight_tui import shadow_lines
from foresight_tui.code_diff import FileChange, changed_files, strategies_dir
from foresight_tui.commands import MissionControlCommands
from foresight_tui.control_client import ControlClient, ReadOnlyError, read_only_refusal
from foresight_tui.data_source import (
    Clock,
    EngineState,
    Outcome,
    PendingTracker,
    PendingWrite,
    PidAlive,
    StatusSource,
    system_clock,
)
from foresight_tui.engine_log import log_tail
from foresight_tui.messages import FilterChanged, SlotDetailRequested, SlotPauseRequested
from foresight_tui.screens.confirm_code import ConfirmCodeScreen
from foresight_tui.screens.events import EventsScreen
from foresight_tui.screens.help import HelpScreen, KeySection, key_rows
from foresight_tui.screens.info import InfoScreen
from foresight_tui.screens.overrides import OverrideRequest, OverridesScreen
from foresight_tui.screens.risk_limits import LimitChanges, RiskLimitsScreen
from foresight_tui.screens.shadow import ShadowScreen
from foresight_tui.screens.slot_detail import SlotDetailScreen
from foresight_tui.screens.trades import TradesScreen
from foresight_tui.screens.versions import VersionsScreen
from foresight_tui.source_diff import SourceMemory, default_changes
from foresight_tui.terminal import controlling_fd, terminal_gone
from foresight_tui.watching import only_named, watch_directory
from foresight_tui.widgets.event_log import EventLog
from foresight_tui.widgets.filter_bar import FilterBar
from foresight_tui.widgets.header_bar import HeaderBar
from foresight_tui.widgets.key_footer import KeyFooter
from foresight_tui.widgets.slot_card import SlotCard
from foresight_tui.widgets.slot_grid import SlotGrid
from foresight_tui.widgets.stats_panel import StatsPanel

HANGUP_GRACE_S = 2.0  # after the terminal is gone, how long a graceful exit may take
HANGUP_EXIT_CODE = 129  # 128 + SIGHUP, as a shell reports it


class MainScreen(Screen[None]):
    """The panels' screen; it tells the app when a dialog above it has closed."""

    def on_screen_resume(self) -> None:
        self.app.catch_up()  # type: ignore[attr-defined]


class MissionControlApp(App[None]):
    TITLE = "Foresight Mission Control"
    CSS_PATH = "app.tcss"
    AUTO_FOCUS = None  # the first slot card takes focus once the status arrives
    COMMANDS = App.COMMANDS | {MissionControlCommands}
    # Under 32 rows the screen is `-short`: three-line cards and a shorter log (app.tcss).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit", tooltip="Quits Mission Control; the engine keeps running"),
        Binding("p", "pause_engine", "Pause"),
        Binding("r", "resume_engine", "Resume"),
        Binding("R", "reload", "Reload"),
        Binding("c", "check", "Check"),
        Binding("b", "rollback", "Rollback"),
        Binding("o", "overrides", "Overrides"),
        Binding("t", "trades", "Trades", show=False),
        Binding("g", "performance", "Performance", show=False),
        Binding("L", "risk_limits", "Risk limits", show=False),
        Binding("v", "versions", "Versions", show=False),  # in help and the palette; the footer is full
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("e", "events", "Events"),
        Binding("i", "info", "In force"),
        Binding("S", "shadow", "Shadow deploy", show=False),
        Binding("ctrl+p", "command_palette", "Command palette", show=False, priority=True, key_display="ctrl+p"),
        Binding("colon", "command_palette", "Command palette", show=False, key_display=":"),
        Binding("escape", "clear_filter", "Clear filter", show=False, key_display="esc"),
    ]

    # repaint=False: a new status refreshes only the widgets whose data changed, never the whole screen
    status: reactive[Status | None] = reactive(None, init=False, always_update=True, repaint=False)

    def __init__(
        self,
        state_dir: Path,
        *,
        read_only: bool = False,
        clock: Clock = system_clock,
        alive: PidAlive = pid_alive,
        this_host: str | None = None,
        watch: bool = True,
        engine_process: subprocess.Popen[bytes] | None = None,
        on_hangup: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.state_dir = state_dir
        self.read_only = read_only
        self.source = StatusSource(state_dir, clock=clock, alive=alive, this_host=this_host)
        self.client = ControlClient(state_dir, read_only=read_only)
        self.tracker = PendingTracker()
        self.code_changes: list[FileChange] = []
        self.sources = SourceMemory()  # the running strategy text, for the reload dialog's diff
        self.live = watch
        self.engine_process = engine_process
        self.on_hangup = on_hangup
        self._hung_up = False
        self._panels_behind = False
        self._write_lock = asyncio.Lock()
        self._answer_to: dict[int, Callable[[Outcome | str], None]] = {}  # generation -> an open form
        self._stop_watching = asyncio.Event()
        self._last_problem: str | None = None
        self._status_shown_at: datetime | None = None  # by the source's clock
        self._state_shown: EngineState | None = None
        self._watched_code_dir: Path | None = None
        self._tty_fd: int | None = None

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield HeaderBar(self.state_dir, id="header")
        yield FilterBar(id="filter")
        yield SlotGrid(id="grid")
        with Horizontal(id="bottom"):
            yield StatsPanel(id="stats")
            yield EventLog(id="events")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = str(self.state_dir)
        if self.read_only:
            self.query_one(EventLog).add_line(self.now_iso(), "info", "read-only mode: nothing will be written")
        self.load_status()
        self.set_interval(1.0, self.tick)
        if self.live:
            self.watch_status_dir()
        if not self.is_headless:
            self._tty_fd = controlling_fd()
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, self.terminal_lost)
            loop.add_signal_handler(signal.SIGTERM, self.exit)

    def say(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
    ) -> None:
        """A toast of ours: it carries the engine's text (reasons, paths, errors), so plain, never
        markup. Textual's own toasts keep their markup."""
        self.notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def terminal_lost(self) -> None:
        """SSH dropped: exit, and never hang doing it.

        Textual's shutdown writes terminal resets to a terminal that is gone and can
        block on its output queue; a watchdog ends the process (after `on_hangup`,
        e.g. the demo stopping its engine) if the graceful exit does not finish.
        """
        if self._hung_up:
            return
        self._hung_up = True
        threading.Thread(target=self._hangup_watchdog, name="hangup-watchdog", daemon=True).start()
        self.exit(return_code=HANGUP_EXIT_CODE)

    def _hangup_watchdog(self) -> None:
        time.sleep(HANGUP_GRACE_S)
        try:
            if self.on_hangup is not None:
                self.on_hangup()
        finally:
            os._exit(HANGUP_EXIT_CODE)

    def exit(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        self._stop_watching.set()
        super().exit(*args, **kwargs)  # type: ignore[arg-type]

    # --------------------------------------------------------------- reading

    def load_status(self) -> None:
        """Read status.json now; new data flows to the widgets through `status`."""
        if not self.is_running:  # a watcher or timer firing during shutdown
            return
        result = self.source.load()
        if result.problem != self._last_problem:
            self._last_problem = result.problem
            if result.problem:
                self.query_one(EventLog).add_line(self.now_iso(), "warning", f"status refused: {result.problem}")
        if result.restarted:
            message = "the engine restarted (new boot id)"
            self.say(message, title="Engine restarted", severity="warning")
            self.query_one(EventLog).add_line(self.now_iso(), "restart", message)
        if result.changed:
            self.status = self.source.status
        else:
            self.refresh_header()

    def watch_status(self, previous: Status | None, status: Status | None) -> None:
        if status is None:
            return
        if previous is None or previous.code != status.code:
            self.sources.remember(status)
            if previous is not None and previous.code.version != status.code.version:
                moved = default_changes(previous.params.schema_, status.params.schema_)
                if moved:
                    self.query_one(EventLog).add_line(
                        self.now_iso(), "params", f"code {status.code.version}: " + "; ".join(moved)
                    )
            self.code_changes = changed_files(status)
            self._follow_code_dir(strategies_dir(status))
        if len(self.screen_stack) == 1:
            # The engine's events first: our lines about the same status come after them, in time order.
            self.query_one(EventLog).add_events(status.events)
        for outcome in self.tracker.settle(status):
            self.report(outcome)
        self.refresh_header()
        self._status_shown_at = self.source.clock()
        if len(self.screen_stack) > 1:
            # A dialog is open: repainting the panels under it costs the most CPU of all
            # (every change is composited through the dialog). Catch up when it closes.
            if not self._panels_behind:
                self._panels_behind = True
                self._mark_panels_behind(True)
            return
        self.show_panels(status)

    def _mark_panels_behind(self, behind: bool) -> None:
        """Panels left in view under a dialog say they are not following (the header still is):
        once when the first status goes unshown, once when they catch up."""
        suffix = " · paused under dialog" if behind else ""
        main = self.screen_stack[0]
        main.query_one(StatsPanel).border_title = "Stats" + suffix
        main.query_one(EventLog).border_title = "Events" + suffix
        main.set_class(behind, "-behind")

    def show_panels(self, status: Status) -> None:
        if self._panels_behind:
            self._panels_behind = False
            self._mark_panels_behind(False)
        now = status.engine.sim_time or self.source.clock().timestamp()
        grid = self.query_one(SlotGrid)
        first = not grid.cards
        with self.batch_update():
            grid.show(status.slots, status.price_history, now)
            grid.show_shadow(shadow_lines.card_lines(status))
            self.query_one(StatsPanel).show(status.stats)
            self.query_one(EventLog).add_events(status.events)
        if first and self.screen.focused is None:  # the operator may have pressed / already
            grid.focus_first()

    def catch_up(self) -> None:
        """Back on the main screen after a dialog: show what arrived meanwhile."""
        if self._panels_behind and self.status is not None and len(self.screen_stack) == 1:
            self.show_panels(self.status)

    def get_default_screen(self) -> Screen:
        return MainScreen(id="_default")

    def refresh_header(self) -> None:
        if not self.is_running:
            return
        view = self.source.view()
        self.announce_state(self._state_shown, view.state)
        self._state_shown = view.state
        self.query_one(HeaderBar).show(
            view,
            local_pending=len(self.tracker),
            changed_on_disk=len(self.code_changes),
            read_only=self.read_only,
            filter_text=self.query_one(SlotGrid).filter_text,
        )

    def announce_state(self, before: EngineState | None, now: EngineState) -> None:
        """An engine going silent or away is news: logged and toasted once, and its return too."""
        if before is None or before == now:
            return
        quiet = (EngineState.STALE, EngineState.DOWN)
        if now in quiet:
            age = self.source.view().age_s or 0.0
            message = (f"the engine is DOWN: its pid is gone (last status {age:.0f}s ago)" if now is EngineState.DOWN
                       else f"the engine is STALE: no status for {age:.1f}s (stuck, stopped or overloaded?)")  # fmt: skip
            self.say(message, title=f"Engine {now.value}", severity="error", timeout=30)
            self.query_one(EventLog).add_line(self.now_iso(), now.value.lower(), message)
        elif before in quiet:
            message = f"the engine answers again ({now.value})"
            self.say(message, title="Engine back")
            self.query_one(EventLog).add_line(self.now_iso(), "engine", message)

    def tick(self) -> None:
        """Once a second: ages and STALE/DOWN, a missed file change, a vanished terminal."""
        if not self.is_running:
            return
        if terminal_gone(self._tty_fd):
            self.terminal_lost()
            return
        if self.source.file_changed():
            self.load_status()
        elif not self.header_is_fresh():
            self.refresh_header()
        process = self.engine_process
        if process is not None and process.poll() is not None:
            self.engine_process = None
            self.source.exited = f"demo engine exited with code {process.returncode}{self._engine_said()}"
            message = f"the {self.source.exited}; engine.log in {self.state_dir}"
            self.refresh_header()
            self.say(message, title="Engine exited", severity="error", timeout=30)
            self.query_one(EventLog).add_line(self.now_iso(), "error", message)

    def _engine_said(self) -> str:
        """The last line of the demo engine's log (where it says why it stopped), as ': LINE'."""
        last = log_tail(self.state_dir, lines=1)
        return f": {last[0].removeprefix('foresight engine: ')}" if last else ""

    def header_is_fresh(self) -> bool:
        """A status painted the header less than a second ago and the engine state shown still holds.

        The tick would then only move the heartbeat by a fraction of a second, for a
        repaint of its own: at 1 Hz statuses that is every other frame. STALE and DOWN
        still show at the first tick that sees them.
        """
        if self._status_shown_at is None:
            return False
        if (self.source.clock() - self._status_shown_at).total_seconds() >= 1.0:
            return False
        return self.source.view().state == self._state_shown

    @work(exclusive=True, group="status-watch")
    async def watch_status_dir(self) -> None:
        """Reload on every replace of status.json (the 1 s tick is the fallback)."""

        def failed(exc: Exception) -> None:
            self.say(f"watching {self.state_dir} failed: {exc}", severity="warning")

        await watch_directory(
            self.state_dir, self.load_status, failed, self._stop_watching,
            accept=only_named(STATUS_FILE), recursive=False,
        )  # fmt: skip

    def _follow_code_dir(self, directory: Path | None) -> None:
        if directory != self._watched_code_dir and self.live:
            self._watched_code_dir = directory
            if directory is not None:
                self.watch_code_dir(directory)

    @work(exclusive=True, group="code-watch")
    async def watch_code_dir(self, directory: Path) -> None:
        """Keep the count of strategy files changed on disk current, for the header and `R`."""

        def changed() -> None:
            self.code_changes = changed_files(self.status)
            self.refresh_header()

        def failed(exc: Exception) -> None:
            self.say(f"watching strategies in {directory} failed: {exc}", severity="warning")

        await watch_directory(directory, changed, failed, self._stop_watching)

    # --------------------------------------------------------------- writing

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return True  # read-only keys stay visible and say why they do nothing (refused_read_only)

    def refused_read_only(self, what: str) -> bool:
        """True (and says so) in read-only mode: a key that does nothing silently looks broken."""
        if self.read_only:
            self.say(read_only_refusal(what), title="Read-only", severity="warning")
        return self.read_only

    def submit(
        self, write: Callable[[ControlClient], PendingWrite], on_answer: Callable[[Outcome | str], None] | None = None
    ) -> None:
        """Write in a worker. `on_answer` (a form that stays open) hears the engine's Outcome, or
        the text of why nothing was written."""

        async def run() -> None:
            pending = await self._submit(write, on_answer)
            if isinstance(pending, str) and on_answer is not None:
                on_answer(pending)

        self.run_worker(run(), group="writes")

    async def _submit(
        self, write: Callable[[ControlClient], PendingWrite], on_answer: Callable[[Outcome | str], None] | None = None
    ) -> PendingWrite | str:
        async with self._write_lock:  # FIFO: writes land in the order they were asked
            try:
                pending = await asyncio.to_thread(write, self.client)
            except ReadOnlyError as exc:
                self.say(str(exc), severity="warning")
                return str(exc)
            except ValidationError as exc:
                first = exc.errors()[0]
                self.say(f"not written: {first['msg']}", title="Refused before writing", severity="error")
                return f"not written: {first['msg']}"
            except Exception as exc:  # OSError, lock trouble: show, never crash
                self.say(f"not written: {exc}", title="Write failed", severity="error")
                return f"not written: {exc}"
        if not self.is_running:
            return "Mission Control is closing"
        self.tracker.add(pending)
        if on_answer is not None:
            self._answer_to[pending.generation] = on_answer
        self.source.note_written(pending.generation)
        if self.client.last_note:
            self.say(self.client.last_note, severity="warning")
        self.query_one(EventLog).add_line(
            self.now_iso(), "command", f"{pending.label}: written as generation {pending.generation}, pending"
        )
        absent = self._absent_engine()
        if absent is None:
            self.say(f"{pending.label}: pending (generation {pending.generation})", title="Sent")
        else:  # the write is kept, as `ctl --queue` keeps it; say that nothing acts on it yet
            self.say(
                f"{pending.label}: written as generation {pending.generation}, but {absent}: "
                "it waits in control.json and applies when one starts there",
                title="Queued", severity="warning",
            )  # fmt: skip
        if self.status is not None:
            for outcome in self.tracker.settle(self.status):
                self.report(outcome)
        self.refresh_header()
        return pending

    def _absent_engine(self) -> str | None:
        """Why no engine would act on a write now, or None when one runs."""
        view = self.source.view()
        if view.state is EngineState.WAITING:
            return f"no engine runs in {self.state_dir} (no status.json)"
        if view.state is EngineState.DOWN and view.status is not None:
            return f"the engine (pid {view.status.engine.pid}) is down"
        return None

    def report(self, outcome: Outcome) -> None:
        """The engine's answer to one of our writes, named for what it is (never "ok unless refused")."""
        text = outcome.text
        timeout = None if outcome.ok else 15
        self.say(text, title=outcome.title, severity=outcome.severity, timeout=timeout)  # type: ignore[arg-type]
        self.query_one(EventLog).add_line(self.now_iso(), outcome.event_kind, text)
        on_answer = self._answer_to.pop(outcome.write.generation, None)
        if on_answer is not None:
            on_answer(outcome)

    def now_iso(self) -> str:
        return self.source.clock().isoformat(timespec="milliseconds")

    def focused_card(self) -> SlotCard | None:
        """The selected card while the grid has focus (the focus ring)."""
        grid = self.query_one(SlotGrid)
        return grid.cursor_card if self.screen.focused is grid else None

    # --------------------------------------------------------------- actions

    def submit_switch(self, write: Callable[[ControlClient], PendingWrite]) -> None:
        """A pause, a resume or a slot's switch, which nothing can refuse: refused, the file carried
        another writer's change the engine refused (each write builds on the file, to lose no
        update). Written once more, it builds on the intent the engine runs, without that change."""

        def answered(outcome: Outcome | str) -> None:
            if isinstance(outcome, Outcome) and outcome.result == "refused":
                text = f"{outcome.write.label}: written again on the engine's applied intent (the refusal was for another writer's change)"
                self.query_one(EventLog).add_line(self.now_iso(), "command", text)
                self.submit(write)

        self.submit(write, answered)

    def action_pause_engine(self) -> None:
        if self.refused_read_only("pause engine"):
            return
        self.submit_switch(lambda client: client.set_engine_paused(True))

    def action_resume_engine(self) -> None:
        if self.refused_read_only("resume engine"):
            return
        self.submit_switch(lambda client: client.set_engine_paused(False))

    def _card_or_say(self, what: str) -> SlotCard | None:
        """The focused card; without one (focus is elsewhere, or no slot is shown) says so."""
        card = self.focused_card()
        if card is None:
            self.say(f"{what}: no slot card is focused; move to one first (arrows, 1..9, a click)", severity="warning")
        return card

    def action_toggle_slot_pause(self) -> None:
        if self._card_or_say("pause/resume slot") is not None:
            self.query_one(SlotGrid).action_toggle_pause()

    @on(SlotPauseRequested)
    def slot_pause_requested(self, message: SlotPauseRequested) -> None:
        if self.refused_read_only(f"{'pause' if message.paused else 'resume'} {message.slot_id}"):
            return
        self.submit_switch(lambda client: client.set_slot_paused(message.slot_id, message.paused))

    def action_slot_detail(self) -> None:
        card = self._card_or_say("slot detail")
        if card is not None:
            self.push_screen(SlotDetailScreen(card.slot_id))

    def action_first_slot(self) -> None:
        self.query_one(SlotGrid).focus_first()

    @on(SlotDetailRequested)
    def slot_detail_requested(self, message: SlotDetailRequested) -> None:
        self.push_screen(SlotDetailScreen(message.slot_id))

    def _confirm_command(self, kind: str) -> None:
        if self.refused_read_only(kind):
            return
        def confirmed(ok: bool | None) -> None:
            if ok:
                self.submit(lambda client: client.send_command(kind))  # type: ignore[arg-type]

        changes = changed_files(self.status)
        self.code_changes = changes
        diff = self.sources.diff(self.status, changes) if kind == "reload" else []
        preview = None
        if kind == "reload":
            # What the code on disk would decide now beside the running code: a check's preview.
            if shadow_lines.preview_stale(self.status) and not self.read_only:
                self.submit(lambda client: client.send_command("check"))
            preview = lambda: shadow_lines.preview_lines(self.status)  # noqa: E731
        self.push_screen(ConfirmCodeScreen(kind, self.status, changes, diff, preview), confirmed)

    def action_reload(self) -> None:
        self._confirm_command("reload")

    def action_rollback(self) -> None:
        self._confirm_command("rollback")

    def action_check(self) -> None:
        if self.refused_read_only("check"):
            return
        self.submit(lambda client: client.send_command("check"))

    def action_versions(self) -> None:
        if self.status is None:
            self.say("No status from the engine yet: its kept versions are unknown.", severity="warning")
            return

        def chosen(version: str | None) -> None:
            if version:
                self.submit(lambda client: client.rollback_to(version))

        self.push_screen(VersionsScreen(self.status, self.state_dir, read_only=self.read_only), chosen)

    def action_overrides(self) -> None:
        if self.refused_read_only("overrides"):
            return
        status = self.status
        if status is None:
            self.say("No status from the engine yet: its parameters are unknown.", severity="warning")
            return

        def send(request: OverrideRequest, on_answer: Callable[[Outcome | str], None]) -> None:
            if request.clear:
                self.submit(lambda client: client.clear_overrides(), on_answer)
            else:
                self.submit(lambda client: client.set_overrides(request.values, request.unset), on_answer)

        screen = OverridesScreen(
            status.params.schema_, status.params.values, status.control.applied.overrides, send=send
        )
        self.push_screen(screen)

    def action_shadow(self) -> None:
        def send(kind: str, aa: bool) -> None:
            if self.refused_read_only(kind):
                return
            if kind == "shadow":
                self.submit(lambda client: client.send_shadow(aa=aa))
            else:
                self.submit(lambda client: client.send_command(kind))  # type: ignore[arg-type]

        self.push_screen(ShadowScreen(self.status, send, read_only=self.read_only))

    def action_events(self) -> None:
        self.push_screen(EventsScreen(self.state_dir))

    def action_info(self) -> None:
        self.push_screen(InfoScreen(self.state_dir))

    def action_trades(self) -> None:
        self.push_screen(TradesScreen(self.state_dir, live=self.live))

    def action_performance(self) -> None:
        from foresight_tui.screens.performance import PerformanceScreen  # plotext: ~40 ms of start-up spared

        self.push_screen(PerformanceScreen(self.state_dir, live=self.live))

    def action_risk_limits(self) -> None:
        if self.refused_read_only("risk limits"):
            return
        if self.status is None:
            self.say("No status from the engine yet: its risk limits are unknown.", severity="warning")
            return

        def done(changes: LimitChanges | None) -> None:
            if changes:
                self.submit(lambda client: client.set_risk_limits(changes))

        self.push_screen(RiskLimitsScreen(self.status.risk), done)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_sections()))

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.display = True
        # At once, not after a refresh (Widget.focus): a letter typed right after / is the filter's,
        # never a key of the app (e opens the events).
        self.screen.set_focus(bar)

    def action_clear_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.value = ""
        self.apply_filter("", done=True)

    @on(FilterChanged)
    def filter_changed(self, message: FilterChanged) -> None:
        self.apply_filter(message.text, done=message.done)

    def apply_filter(self, text: str, *, done: bool) -> None:
        grid = self.query_one(SlotGrid)
        grid.set_filter(text)
        if text and done and not grid.visible_cards and grid.cards:
            self.say(f"no slot matches {text!r}: try an asset, a window, a state or 'paused' (esc clears)",
                     title="Filter", severity="warning")  # fmt: skip
        if done:
            bar = self.query_one(FilterBar)
            bar.display = bool(text)
            grid.focus_first()
            if not grid.visible_cards:  # out of the box all the same: app keys (?, q, esc) work again
                grid.focus()
        self.refresh_header()

    @classmethod
    def key_sections(cls) -> list[KeySection]:
        return [
            ("Engine and code", key_rows([b for b in cls.BINDINGS if isinstance(b, Binding)])),
            ("Slots", key_rows(SlotGrid.BINDINGS)),  # type: ignore[arg-type]
            ("Anywhere", [("esc", "Back out of a dialog, the filter or the palette")]),
            ("Overrides form", key_rows(OverridesScreen.BINDINGS)),  # type: ignore[arg-type]
            ("Events screen", key_rows(EventsScreen.BINDINGS)),  # type: ignore[arg-type]
            ("Confirmations", key_rows(ConfirmCodeScreen.BINDINGS)),  # type: ignore[arg-type]
        ]
