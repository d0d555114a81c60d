"""Where the state directory lives when nobody says: the same rule for engine, ctl and TUI."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def default_state_dir() -> Path:
    explicit = os.environ.get("FORESIGHT_STATE_DIR", "").strip()  # blank is unset, not the working directory
    if explicit:
        return Path(explicit).expanduser()
    xdg = Path(os.environ.get("XDG_STATE_HOME", "").strip() or "~/.local/state").expanduser()
    if not xdg.is_absolute():  # the XDG spec: a relative path there is invalid, and ignored
        xdg = Path.home() / ".local" / "state"
    return xdg / "foresight"


def resolve_state_dir(value: str | os.PathLike[str] | None) -> Path:
    return Path(value).expanduser().resolve() if value else default_state_dir().resolve()


def not_a_directory(path: Path) -> NotADirectoryError | None:
    """The error to raise when `path`, or a directory it would be created in, is a file."""
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            if candidate.is_dir():
                return None
            what = "a link to no directory" if os.path.islink(candidate) else "a file, not a directory"
            return NotADirectoryError(f"{candidate} is {what}: use another --state-dir")
    return None


def state_dir_argument(text: str) -> Path:
    """`--state-dir TEXT`: an empty value (a script's unset variable) is refused, never taken
    for the default directory, where it would act on another engine."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "empty: name the directory, or leave --state-dir out for the default "
            "($FORESIGHT_STATE_DIR, else ~/.local/state/foresight)"
        )
    path = resolve_state_dir(text)
    if (problem := not_a_directory(path)) is not None:  # every command, the read-only ones too
        raise argparse.ArgumentTypeError(str(problem))
    return path


def shipped_strategies_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "strategies"


def add_state_dir_argument(parser: argparse.ArgumentParser) -> None:
    """`--state-dir`, as every command of `foresight` takes it."""
    parser.add_argument(
        "--state-dir",
        type=state_dir_argument,
        default=None,
        help="state directory (default: $FORESIGHT_STATE_DIR, else ~/.local/state/foresight)",
    )
