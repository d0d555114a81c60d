"""ledger.sqlite3 at start: a lock held by another process, a link, a FIFO or a directory in its place."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from engine.contract.ledger_schema import LEDGER_FILE
from tests.support.engine_proc import ctl, run_engine
from tests.support.ledger_rows import FASTER, ledger_rows
from tests.support.sqlite_lock import WriteLock
from tests.support.waits import wait_until


def _traded_state_dir(tmp_path: Path) -> Path:
    state_dir = tmp_path / "state"
    done = run_engine(state_dir, *FASTER, "--quiet", "--max-cycles", "60")
    assert done.returncode == 0, done.stderr
    assert ledger_rows(state_dir), "the engine wrote no bet to start from"
    return state_dir


def test_a_lock_held_at_start_is_waited_for_and_the_engine_starts_once_it_goes(tmp_path: Path, engine_factory) -> None:
    state_dir = _traded_state_dir(tmp_path)
    rows = len(ledger_rows(state_dir))
    with WriteLock(state_dir / LEDGER_FILE) as lock:
        engine = engine_factory(state_dir=state_dir, fast=FASTER, start=False).start(wait=False)
        wait_until(lambda: "another process holds a write transaction" in engine.log(), "the start saying it waits for the lock")
        assert engine.proc is not None and engine.proc.poll() is None, engine.log()
        lock.release()
    pid = engine.pid
    engine.wait_for(lambda s: s.engine.pid == pid and s.engine.persist_ok, timeout=20, what="the engine started")
    assert len(ledger_rows(state_dir)) >= rows  # the same ledger, not a new one
    assert "cannot be used as the ledger" not in engine.log()


@pytest.mark.slow
def test_a_lock_held_past_the_wait_stops_the_start_naming_the_lock_not_damage(tmp_path: Path) -> None:
    state_dir = _traded_state_dir(tmp_path)
    before = (state_dir / LEDGER_FILE).read_bytes()
    with WriteLock(state_dir / LEDGER_FILE):
        done = run_engine(state_dir, "--quiet", "--max-cycles", "1")
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "another process holds a write transaction" in last and "not damaged" in last, last
    assert "move the file aside" not in done.stderr and "Traceback" not in done.stderr
    assert (state_dir / LEDGER_FILE).read_bytes() == before


@pytest.mark.parametrize("target_exists", [False, True])
def test_a_ledger_link_is_refused_and_its_target_untouched(tmp_path: Path, target_exists: bool) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "planted.db"
    if target_exists:
        db = sqlite3.connect(target)
        db.execute("CREATE TABLE mine (x)")
        db.commit()
        db.close()
    before = target.read_bytes() if target_exists else None
    (state_dir / LEDGER_FILE).symlink_to(target)
    done = run_engine(state_dir, "--quiet", "--max-cycles", "1")
    assert done.returncode == 2, done.stderr
    assert f"{LEDGER_FILE} is a symbolic link" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == (["planted.db"] if target_exists else [])
    assert (target.read_bytes() if target_exists else None) == before


def test_a_link_at_the_ledgers_wal_is_refused(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir(mode=0o700)
    (state_dir / f"{LEDGER_FILE}-wal").symlink_to(tmp_path / "planted-wal")
    done = run_engine(state_dir, "--quiet", "--max-cycles", "1")
    assert done.returncode == 2, done.stderr
    assert f"{LEDGER_FILE}-wal is a symbolic link" in done.stderr
    assert not (tmp_path / "planted-wal").exists()


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_fifo_or_directory_at_the_ledger_is_refused_in_one_line_and_never_hangs_a_report(tmp_path: Path, kind: str) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir(mode=0o700)
    path = state_dir / LEDGER_FILE
    os.mkfifo(path, 0o600) if kind == "fifo" else path.mkdir()
    for verb in ("trades", "performance"):
        done = ctl(state_dir, verb, timeout=20)  # a reader opening the FIFO would block here for good
        assert done.returncode == 1, done.stderr
        assert f"{LEDGER_FILE} is not a regular file" in done.stderr
    done = run_engine(state_dir, "--quiet", "--max-cycles", "1")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert f"{LEDGER_FILE} is not a regular file" in done.stderr
