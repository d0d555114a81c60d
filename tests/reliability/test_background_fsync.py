"""The version store's fsyncs on the writer thread (engine/background_fsync.py): in order,
drained on demand, and a failure is reported to the store that asked, once."""

from __future__ import annotations

import os
from pathlib import Path

from engine.background_fsync import BackgroundFsync


def test_a_failed_fsync_is_reported_to_its_owner_once(tmp_path: Path) -> None:
    fine, failing = BackgroundFsync(), BackgroundFsync()
    (tmp_path / "record").write_bytes(b"kept")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)  # in a record's place: opening it must not wait for a writer, and its fsync fails
    fine(tmp_path / "record")
    fine(tmp_path)
    fine(tmp_path / "gone")  # pruned before its turn: nothing to make durable, no error
    failing(pipe)
    assert fine.drain(5.0) and failing.drain(5.0)
    assert fine.errors() == []
    [error] = failing.errors()
    assert isinstance(error, OSError)
    assert failing.errors() == []  # said once
