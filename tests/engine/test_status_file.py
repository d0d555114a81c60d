"""status.json's writer (engine/status_file.py): each version replaced atomically, and every
replaced version's descriptor released, so an engine that writes a status every cycle for
months holds no more open files than on its first cycle."""

from __future__ import annotations

import os
from pathlib import Path

from engine.status_file import StatusFile


def _open_descriptors_under(directory: Path) -> list[str]:
    """What this process holds open in `directory`, deleted versions included."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(directory)):
            held.append(target)
    return held


def test_every_write_is_read_whole_and_no_replaced_version_stays_open(tmp_path: Path) -> None:
    status = StatusFile(tmp_path / "status.json")
    for n in range(300):
        data = b'{"cycle":%d,"pad":"%s"}' % (n, b"x" * (n * 37))
        status.write(data)
        assert (tmp_path / "status.json").read_bytes() == data
    status.close()
    assert _open_descriptors_under(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json"]  # no temp file left


def test_a_write_after_close_holds_its_version_again(tmp_path: Path) -> None:
    status = StatusFile(tmp_path / "status.json")
    status.write(b"{}")
    status.close()
    status.write(b'{"again":1}')
    assert (tmp_path / "status.json").read_bytes() == b'{"again":1}'
    status.close()
    assert _open_descriptors_under(tmp_path) == []


def test_a_temp_file_made_ahead_is_the_one_written_and_none_is_left_behind(tmp_path: Path) -> None:
    status = StatusFile(tmp_path / "status.json")
    for n in range(50):
        status.prepare()  # in the wait between cycles
        [made] = [p for p in tmp_path.iterdir() if p.name != "status.json"]
        assert made.name.startswith(".status.json.") and made.stat().st_mode & 0o777 == 0o600
        status.prepare()  # a second wait without a write in between makes no second file
        assert len(list(tmp_path.iterdir())) == (2 if n else 1)
        status.write(b'{"cycle":%d}' % n)
        assert [p.name for p in tmp_path.iterdir()] == ["status.json"]  # the one made ahead, renamed
        assert (tmp_path / "status.json").read_bytes() == b'{"cycle":%d}' % n
    status.prepare()
    status.close()
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]
    assert _open_descriptors_under(tmp_path) == []
