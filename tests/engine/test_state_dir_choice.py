"""Which state directory a command acts on: never one the operator did not mean.

An empty `--state-dir` (a script's unset variable: `--state-dir "$BOT_DIR"`) must
not fall back to the default directory, where it would pause or stop another
engine; blank or relative environment values are no directory; a file is none."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.engine_proc import foresight

COMMANDS = (
    ("ctl", "pause"),
    ("ctl", "status"),
    ("engine", "--max-cycles", "1"),
    ("watch",),
    ("tui",),
)


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_state_dir_is_refused_by_every_command(tmp_path: Path, blank: str) -> None:
    home = {"HOME": str(tmp_path), "FORESIGHT_STATE_DIR": "", "XDG_STATE_HOME": ""}
    for command in COMMANDS:
        done = foresight(command[0], "--state-dir", blank, *command[1:], timeout=30, env=home)
        assert done.returncode == 2, (command, done.stderr)
        assert "--state-dir" in done.stderr and "empty" in done.stderr, (command, done.stderr)
    assert not (tmp_path / ".local").exists()  # nothing was written to the default directory


def test_blank_or_relative_environment_values_are_no_directory(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "FORESIGHT_STATE_DIR": "  ", "XDG_STATE_HOME": "relative/dir"}
    done = foresight("ctl", "status", timeout=30, env=env)
    assert done.returncode == 3
    assert f"no engine has run in {tmp_path / '.local' / 'state' / 'foresight'} " in done.stderr


def test_the_tui_refuses_a_state_dir_that_is_a_file(tmp_path: Path) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("not a state directory")
    for argv in (("tui", "--state-dir", str(afile)), ("tui", "--state-dir", str(afile), "--state-dir", str(tmp_path))):
        done = foresight(*argv, timeout=30)
        assert done.returncode == 2, done.stderr
        assert f"{afile} is a file, not a directory" in done.stderr
