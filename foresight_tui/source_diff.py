"""What a reload would change: a unified diff of each strategy file, and the parameter defaults
a new version moved (no Textual here).

The engine keeps no copy of the source it runs that the TUI can read, so the TUI keeps one:
each time the files on disk hash to what the engine runs, their text is remembered by hash.
An edit made before Mission Control started has no remembered baseline, and says so.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from engine.contract.models import Status
from foresight_tui.code_diff import FileChange, module_path, sha256_file

MAX_DIFF_LINES = 400


class SourceMemory:
    def __init__(self) -> None:
        self._by_hash: dict[str, str] = {}

    def remember(self, status: Status | None) -> None:
        """Keep the text of every module file that still hashes to what the engine runs."""
        if status is None:
            return
        for module in status.code.modules:
            if module.sha256 in self._by_hash:
                continue
            path = module_path(status, module.path, module.name)
            if path is None or sha256_file(path) != module.sha256:
                continue
            try:
                self._by_hash[module.sha256] = path.read_text(errors="replace")
            except OSError:
                continue

    def diff(self, status: Status | None, changes: list[FileChange]) -> list[str]:
        if status is None:
            return []
        hashes = {m.name: m.sha256 for m in status.code.modules}
        lines: list[str] = []
        for change in changes:
            before = self._by_hash.get(hashes.get(change.module, ""))
            name = Path(change.path).name
            if before is None:
                lines.append(f"--- {name}: no diff (Mission Control never saw the running text of it)")
                continue
            try:
                after = "" if change.change == "deleted" else Path(change.path).read_text(errors="replace")
            except OSError as exc:
                lines.append(f"--- {name}: unreadable now ({exc.strerror or exc})")
                continue
            lines.extend(difflib.unified_diff(before.splitlines(), after.splitlines(),
                                              f"running/{name}", f"disk/{name}", n=2, lineterm=""))  # fmt: skip
        if len(lines) > MAX_DIFF_LINES:
            lines = lines[:MAX_DIFF_LINES] + [f"... {len(lines) - MAX_DIFF_LINES} more lines"]
        return lines


def default_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Parameters whose declared default a new code version changed, added or removed."""
    old = {k: v.get("default") for k, v in before.get("properties", {}).items()}
    new = {k: v.get("default") for k, v in after.get("properties", {}).items()}
    said = [f"{k} default {old[k]} -> {new[k]}" for k in sorted(old.keys() & new.keys()) if old[k] != new[k]]
    said += [f"{k} added (default {new[k]})" for k in sorted(new.keys() - old.keys())]
    said += [f"{k} removed" for k in sorted(old.keys() - new.keys())]
    return said
