"""Where the state directory lives when nobody says: the same rule for engine, ctl and TUI."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def default_state_dir() -> Path:
    explicit = os.environ.get("FORESIGHT_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "foresight"


def resolve_state_dir(value: str | os.PathLike[str] | None) -> Path:
    return Path(value).expanduser().resolve() if value else default_state_dir().resolve()


def shipped_strategies_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "strategies"


def add_state_dir_argument(parser: argparse.ArgumentParser) -> None:
    """`--state-dir`, as every command of `foresight` takes it."""
    parser.add_argument(
        "--state-dir",
        type=resolve_state_dir,
        default=None,
        help="state directory (default: $FORESIGHT_STATE_DIR, else ~/.local/state/foresight)",
    )
