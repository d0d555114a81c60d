"""The kept strategy versions (status.json `code.versions`), and the source diff of the
highlighted one against the running version, read from the engine's version store
(STATE_DIR/versions/blobs/SHA256). `t` twice returns to the highlighted version (the
first asks); in read-only mode `t` says it was not sent."""

from __future__ import annotations

import difflib
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from engine.contract.models import KeptVersion, Status
from foresight_tui.control_client import read_only_refusal

BLOBS = Path("versions") / "blobs"
MAX_DIFF_LINES = 2000


def version_diff(state_dir: Path, version: KeptVersion, running: KeptVersion | None) -> str:
    """A unified diff per module, `running` -> `version`; the reason when a source is missing."""
    if running is None:
        return "the running version is not in the store"
    if version.version == running.version:
        return f"{version.version} is the running version"
    theirs = {m.name: m.sha256 for m in running.modules}
    parts: list[str] = []
    for module in version.modules:
        old_sha = theirs.get(module.name)
        if old_sha == module.sha256:
            continue
        old = _source(state_dir, old_sha) if old_sha else ""
        new = _source(state_dir, module.sha256)
        if old is None or new is None:
            parts.append(f"{module.name}: source not kept any more")
            continue
        parts.extend(
            difflib.unified_diff(
                old.splitlines(), new.splitlines(), f"{module.name} ({running.version}, running)", f"{module.name} ({version.version})", lineterm=""
            )
        )
    if not parts:
        return "same sources as the running version"
    return "\n".join(parts[:MAX_DIFF_LINES])


def _source(state_dir: Path, sha256: str) -> str | None:
    try:
        return (state_dir / BLOBS / sha256).read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None


def label(version: KeptVersion, running: str) -> Text:
    mark = "▶ " if version.version == running else "  "
    text = Text(f"{mark}{version.version}  {version.state:<11} {version.loaded_at[:19]}")
    if version.state == "failed":
        text.stylize("bold red")
    return text


class VersionsScreen(ModalScreen[str | None]):
    AUTO_FOCUS = "*"  # the app focuses nothing by itself: without this, arrows and End do nothing here
    BINDINGS = [
        Binding("escape,q", "dismiss_none", "Close"),
        Binding("t", "roll_back_to", "Return to this version"),
    ]

    def __init__(self, status: Status, state_dir: Path, *, read_only: bool = False) -> None:
        super().__init__()
        self.status = status
        self.state_dir = state_dir
        self.read_only = read_only
        self.versions = list(reversed(status.code.versions))  # newest first
        self._confirming: str | None = None  # the version a first `t` asked about

    def compose(self) -> ComposeResult:
        running = self.status.code.version
        with Horizontal(id="versions-body", classes="dialog") as body:
            body.border_title = "Strategy versions"
            body.border_subtitle = "esc closes" + ("" if self.read_only else " · t t returns to the highlighted version")
            yield OptionList(*(Option(label(v, running), id=v.version) for v in self.versions), id="versions-list")
            with VerticalScroll(id="versions-diff"):
                yield Static("", id="versions-diff-text", markup=False)

    def on_mount(self) -> None:
        if not self.versions:
            self.query_one("#versions-diff-text", Static).update("no kept versions in status.json (an older engine?)")
            return
        self.query_one(OptionList).highlighted = 0
        self.show_diff(0)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.show_diff(event.option_index)

    def show_diff(self, index: int) -> None:
        version = self.versions[index]
        self._confirming = None
        running = self._running_version()
        head = f"{version.version}: {version.state}" + (f" ({version.reason})" if version.reason else "")
        self.query_one("#versions-diff-text", Static).update(f"{head}\n\n{version_diff(self.state_dir, version, running)}")

    def highlighted(self) -> KeptVersion | None:
        index = self.query_one(OptionList).highlighted
        return self.versions[index] if index is not None and self.versions else None

    def action_roll_back_to(self) -> None:
        """Asks first: a second `t` on the same version confirms it."""
        version = self.highlighted()
        if version is None:
            return
        if version.version == self.status.code.version:
            self.notify(f"{version.version} is the running version: highlight another (up/down) to return to it",
                        severity="warning", markup=False)  # fmt: skip
            return
        if self.read_only:
            self.notify(read_only_refusal(f"return to {version.version}"), title="Read-only", severity="warning", markup=False)
            return
        if self._confirming == version.version:
            self.dismiss(version.version)
            return
        self._confirming = version.version
        self.query_one("#versions-diff-text", Static).update(
            f"press t again to return to {version.version} (it is loaded and checked like a reload); esc cancels\n\n"
            + version_diff(self.state_dir, version, self._running_version())
        )

    def _running_version(self) -> KeptVersion | None:
        return next((v for v in self.versions if v.version == self.status.code.version), None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
