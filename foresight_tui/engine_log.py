"""The demo engine's log (engine.log in its state directory): where it says why it stopped."""

from __future__ import annotations

from pathlib import Path

ENGINE_LOG = "engine.log"


def log_tail(state_dir: Path, lines: int = 6) -> list[str]:
    """The last `lines` lines of the log (none when it cannot be read)."""
    try:
        text = (state_dir / ENGINE_LOG).read_text(errors="replace")
    except OSError:
        return []
    return text.strip().splitlines()[-lines:]
