"""The state directory is the engine's alone, and a start that cannot use it fails in one line
(engine/state_dir.py, engine/fileio.open_private, engine/startup_errors.py).

We run as root (here and in CI), so "another user" is uid 65534 and a root-owned 0600 file
stands for the file an attacker would want overwritten through a planted link.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.engine_proc import run_engine

OTHER_UID = 65534
SECRET = b"root's own file, 0600\n"


def start(state_dir: Path) -> subprocess.CompletedProcess[str]:
    return run_engine(state_dir, "--quiet", "--max-cycles", "1")


def one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # and not "state in ..." before it
    return lines[0]


def secret(tmp_path: Path) -> Path:
    target = tmp_path / "secret"
    target.write_bytes(SECRET)
    os.chmod(target, 0o600)
    return target


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make files of another user")
@pytest.mark.parametrize("name", ["state.journal", "engine.lock", "events.jsonl", "state.json", "status.json"])
def test_an_engine_file_pre_created_as_a_link_is_refused_and_its_target_untouched(tmp_path: Path, name: str) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir(mode=0o700)
    target = secret(tmp_path)
    (state_dir / name).symlink_to(target)
    message = one_line(start(state_dir), 2)
    assert f"{name} is a symbolic link (to {target})" in message and "remove them" in message
    assert target.read_bytes() == SECRET and os.stat(target).st_mode & 0o777 == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown a directory to another user")
def test_a_state_directory_of_another_user_is_refused_with_the_fix(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    os.chown(state_dir, OTHER_UID, OTHER_UID)
    os.chmod(state_dir, 0o777)
    target = secret(tmp_path)
    (state_dir / "status.json").symlink_to(target)  # what that user may plant there
    message = one_line(start(state_dir), 2)
    assert f"owned by uid {OTHER_UID}, not the engine's uid 0" in message
    assert f"chown 0 {state_dir} && chmod 700 {state_dir}" in message
    assert os.stat(state_dir).st_mode & 0o777 == 0o777  # not "fixed" behind the operator's back
    assert target.read_bytes() == SECRET


def test_a_state_directory_writable_by_others_is_refused_with_the_fix(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    os.chmod(state_dir, 0o777)
    message = one_line(start(state_dir), 2)
    assert "writable by group or others (mode 777)" in message and f"chmod 700 {state_dir}" in message
    assert not list(state_dir.iterdir())


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    mount = tmp_path / "mnt"
    mount.mkdir()

    def mount_it(options: str) -> Path:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
        return mount

    yield mount_it  # type: ignore[misc]
    subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True)


def test_a_read_only_state_directory_fails_in_one_line(tmpfs) -> None:
    state_dir = tmpfs("ro,size=1m,mode=0755")  # the engine would tighten it to 0700: EROFS
    message = one_line(start(state_dir), 5)
    assert message.startswith("foresight engine: cannot start: Read-only file system")
    assert "remount it read-write or use another --state-dir" in message


def test_a_full_state_directory_fails_in_one_line(tmpfs) -> None:
    state_dir = tmpfs("size=64k,mode=0700")
    filler = os.open(state_dir / ".filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(filler, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(filler)
    message = one_line(start(state_dir), 5)
    assert message.startswith("foresight engine: cannot start: No space left on device")
    assert "engine.lock" in message and "free space on it" in message
