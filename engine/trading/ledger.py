"""The ledger: every bet as a row in SQLite, written by the engine in the trading state's order.

Each cycle that enters or resolves a bet commits one transaction here *before* the
trading state is persisted and status.json written, so a bet an operator can see
is already in the ledger. A crash can leave the ledger one cycle ahead of the
trading state, never behind it: on start, `reconcile` brings it back to the state
(the state is the truth), undoing what the state never persisted, so a row is
never lost and never written twice. Rows are keyed by (book, slot, window_end):
one slot holds one bet per window; a book is one trading state's life (a new one
when the engine starts on an empty state).

SQLite runs in WAL mode with synchronous=NORMAL: a commit survives the engine's
death (kill -9) at a fraction of a full sync's cost; after a power cut the last
commits may be missing, and `reconcile` restores open bets from the state and
says how many resolutions it could not. The WAL is checkpointed into the database
in the loop's wait between cycles (`checkpoint`), never by a commit: a checkpoint
fsyncs both files, a wait a cycle must not hold.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from engine import failpoints
from engine.contract.ledger_schema import LEDGER_SCHEMA_VERSION, SCHEMA
from engine.contract.models import RiskTrip, utc_now_iso
from engine.events import EventLog
from engine.trading import ledger_file
from engine.trading.ledger_file import LedgerFileError, LedgerLocked, is_locked, waiting_out_locks
from engine.trading.ledger_import import imported_bets
from engine.trading.params_hash import params_hash
from engine.trading.state import SlotRecord, TradingState
from engine.trading.trader import CycleOutcome

# Commits between checkpoints: a few pages each, so the WAL stays near SQLite's own default
# of a checkpoint at 1,000 pages.
CHECKPOINT_EVERY = 100

_INSERT = (
    "INSERT OR IGNORE INTO bets (book, slot, asset, window, side, stake, ask, shares, edge, entered_at, window_end,"
    " entered_cycle, code_version, params_hash, boot_id, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_RESOLVE = (
    "UPDATE bets SET resolved_at=?, resolved_cycle=?, outcome=?, pnl=?, open_price=?, close_price=?"
    " WHERE book=? AND slot=? AND outcome IS NULL"
)


@dataclass(frozen=True, slots=True)
class Provenance:
    """What each new row says produced it."""

    code_version: str
    params_hash: str


@dataclass
class Reconciled:
    """What `reconcile` changed, for the engine's start-up event."""

    book: str
    new_book: bool
    imported: int = 0
    undone_entries: int = 0
    undone_resolutions: int = 0
    restored_open: int = 0
    voided: int = 0
    missing_resolutions: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{name.replace('_', ' ')} {value}" for name, value in (
            ("imported", self.imported),
            ("undone_entries", self.undone_entries),
            ("undone_resolutions", self.undone_resolutions),
            ("restored_open", self.restored_open),
            ("voided", self.voided),
        ) if value]
        return ", ".join(parts) or "in step with the trading state"


def slot_window(slot_id: str) -> tuple[str, str]:
    asset, _, window = slot_id.rpartition("-")
    return asset, window


class Ledger:
    """Owns the engine's one write connection to ledger.sqlite3."""

    def __init__(
        self, path: Path, boot_id: str, events: EventLog, note: Callable[[str], None] = ledger_file.say_waiting
    ) -> None:
        self.path = path
        self.boot_id = boot_id
        self.events = events
        self.note = note  # says a start waiting for another process's lock
        self.book = ""
        self.write_error: str | None = None
        self.repair_note: str | None = None  # the file deleted or replaced under the engine, until reported
        self.file_error: str | None = None  # ... and not written again yet
        self._pending: list[tuple[str, list[tuple[Any, ...]]]] = []  # statements a failed commit left
        self._commits = 0  # since the last checkpoint
        self._params: BaseModel | None = None
        self._provenance = Provenance("", "")
        try:
            self.db = ledger_file.connect(path)
        except sqlite3.Error as exc:
            raise self._unusable(exc) from exc
        try:
            waiting_out_locks(self.db, path, self._open_schema, note)
        except LedgerLocked:
            self.db.close()
            raise
        except sqlite3.Error as exc:
            self.db.close()
            raise self._unusable(exc) from exc
        self._identity = ledger_file.identity(path)

    def _open_schema(self) -> None:
        self.db.executescript(SCHEMA)
        version = self._meta("schema_version")
        if version is not None and version != str(LEDGER_SCHEMA_VERSION):
            raise sqlite3.DatabaseError(f"its schema version is {version}, this engine writes {LEDGER_SCHEMA_VERSION}")
        self._set_meta("schema_version", str(LEDGER_SCHEMA_VERSION))

    def _unusable(self, exc: sqlite3.Error) -> LedgerFileError:
        path = self.path
        return LedgerFileError(
            f"{path} cannot be used as the ledger ({exc}). The trading state is not affected: move the file "
            f"aside (with any {path.name}-wal and -shm beside it) and start again; a new ledger imports what "
            f"events.jsonl still holds and the open bets of the state"
        )

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ start

    def reconcile(self, state: TradingState, resumed: bool, provenance: Provenance, events_paths: list[Path]) -> Reconciled:
        """Bring the ledger in step with the trading state before the first cycle.

        A resumed state continues the ledger's current book: what the ledger holds beyond
        the state's cycle (a crash between this ledger's commit and the state's persist) is
        undone, and the state's open positions are (re)written as open rows. An empty state
        starts a new book; open rows of older books are voided (their state is gone).
        All in one transaction: a failure changes nothing and stops the start."""
        try:
            done = waiting_out_locks(self.db, self.path, lambda: self._reconcile(state, resumed, provenance, events_paths), self.note)
        except sqlite3.Error as exc:
            if is_locked(exc):  # a lock met past the wait's own tries: still no damage
                raise LedgerLocked(ledger_file.locked_message(self.path, ledger_file.LOCK_WAIT_S)) from exc
            raise LedgerFileError(
                f"cannot bring {self.path} in step with the trading state ({exc}); nothing was changed. "
                f"Free disk space if it is full, else move the ledger aside and start again"
            ) from exc
        self.db.execute(f"PRAGMA busy_timeout={ledger_file.CYCLE_BUSY_MS}")
        return done

    def _reconcile(self, state: TradingState, resumed: bool, provenance: Provenance, events_paths: list[Path]) -> Reconciled:
        db = self.db
        book = self._meta("book")
        result = Reconciled(book=book or "", new_book=book is None or not resumed)
        first_start = book is None
        with db:
            db.execute("BEGIN IMMEDIATE")
            if result.new_book:
                result.book = uuid.uuid4().hex
                self._set_meta("book", result.book)
            else:
                cycle = state.cycle
                result.undone_entries = db.execute(
                    "DELETE FROM bets WHERE book=? AND entered_cycle > ?", (book, cycle)
                ).rowcount
                result.undone_resolutions = db.execute(
                    "UPDATE bets SET resolved_at=NULL, resolved_cycle=NULL, outcome=NULL, pnl=NULL, close_price=NULL"
                    " WHERE book=? AND resolved_cycle > ?",
                    (book, cycle),
                ).rowcount
                # A risk trip of a cycle the state never persisted: the replayed cycle trips again.
                db.execute("DELETE FROM risk_trips WHERE book=? AND cycle > ?", (book, cycle))
            self.book = result.book
            if first_start and self._meta("events_imported") is None:
                rows = imported_bets(events_paths, self.book)
                db.executemany(
                    "INSERT INTO bets (book, slot, asset, window, side, stake, ask, shares, entered_at, resolved_at,"
                    " outcome, pnl, open_price, close_price, code_version, params_hash, boot_id, source)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'events')",
                    rows,
                )
                result.imported = len(rows)
                self._set_meta("events_imported", str(len(rows)))
            open_keys: set[tuple[str, float]] = set()
            for slot in state.slots.values():
                if slot.position is None:
                    continue
                window_end = slot.window_start + slot.window_s
                open_keys.add((slot.id, window_end))
                cur = db.execute(_INSERT, self._entry_row(slot, state.cycle, provenance, source="state"))
                result.restored_open += cur.rowcount
                # A row of this book resolved that the state holds open (a state restored from a
                # copy): the state wins, and the bet resolves again when its window ends.
                db.execute(
                    "UPDATE bets SET outcome=NULL, pnl=NULL, resolved_at=NULL, resolved_cycle=NULL, close_price=NULL"
                    " WHERE book=? AND slot=? AND window_end=? AND outcome IS NOT NULL",
                    (self.book, slot.id, window_end),
                )
            for row_id, book_of, slot_id, window_end in db.execute(
                "SELECT id, book, slot, window_end FROM bets WHERE outcome IS NULL"
            ).fetchall():
                if book_of != self.book or (slot_id, window_end) not in open_keys:
                    db.execute("UPDATE bets SET outcome='void', pnl=0 WHERE id=?", (row_id,))
                    result.voided += 1
            if resumed and not first_start:
                counted = db.execute(
                    "SELECT count(*) FROM bets WHERE book=? AND outcome IN ('won','lost') AND source != 'events'",
                    (self.book,),
                ).fetchone()[0]
                expected = state.resolved - self._int_meta("resolved_before_book")
                if counted < expected:
                    result.missing_resolutions = expected - counted
                    result.notes.append(
                        f"the ledger lacks {expected - counted} resolutions the trading state counts "
                        "(lost by a power cut or a failed disk write); the state's totals stay the reference"
                    )
            if result.new_book:
                # A resumed state without a ledger (first start on an old state directory) has
                # resolutions from before the book: counted apart so the check above stays exact.
                self._set_meta("resolved_before_book", str(state.resolved if resumed else 0))
        return result

    # ------------------------------------------------------------------ cycle

    def provenance(self, code_version: str, params: BaseModel) -> Provenance:
        """The code version and the hash of `params`, hashed again only when the params change."""
        if params is not self._params or code_version != self._provenance.code_version:
            self._params = params
            self._provenance = Provenance(code_version, params_hash(params))
        return self._provenance

    def record(self, state: TradingState, outcome: CycleOutcome, code_version: str, params: BaseModel) -> None:
        """One transaction for this cycle's resolutions and entries (call before persisting state).

        A failed commit keeps the statements and retries them, in order, at the next call."""
        self._watch_file()
        entered, resolutions = outcome.entered, outcome.resolutions
        if not entered and not resolutions and not self._pending:
            return
        provenance = self.provenance(code_version, params)
        slots = state.slots
        now = state.sim_time
        cycle = state.cycle
        batch = list(self._pending)
        if resolutions:
            batch.append((
                _RESOLVE,
                [
                    (now, cycle, r["result"], r["pnl"], r["open"], r["close"], self.book, r["slot"])
                    for r in resolutions
                ],
            ))
        if entered:
            batch.append((_INSERT, [self._entry_row(slots[slot_id], cycle, provenance) for slot_id in entered]))
        try:
            db = self.db
            db.execute("BEGIN")
            try:
                for sql, rows in batch:
                    db.executemany(sql, rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            self._pending = batch
            message = f"cannot write {self.path.name}: {exc}; its rows wait in memory and are retried every cycle"
            if self.write_error != message:
                self.events.emit("warning", message)
            self.write_error = message
            return
        self._pending = []
        self._commits += 1
        if failpoints.ENABLED:
            failpoints.after_ledger()
        if self.write_error is not None:
            self.events.emit("engine", f"{self.path.name} written again; the ledger caught up")
            self.write_error = None

    @property
    def trouble(self) -> str | None:
        """Why the ledger on disk lacks what the engine holds (shown as status's persist_error), or None."""
        return self.file_error or self.write_error

    def _watch_file(self) -> None:
        """The ledger deleted or replaced under the engine (an outside cleanup, a file moved in):
        noticed within a cycle (one lstat) and written again at its place from the open
        connection, which still holds every row; tried again every cycle until it is."""
        if ledger_file.identity(self.path) == self._identity:
            return
        what = "replaced" if ledger_file.identity(self.path) is not None else "deleted"
        name = self.path.name
        try:
            self.db, aside = ledger_file.write_again(self.db, self.path)
        except (OSError, sqlite3.Error) as exc:
            message = (
                f"{name} {what} under the engine (not by it) and it cannot be written again ({exc}); the engine's open "
                "copy keeps every row and goes on taking them; tried again every cycle"
            )
            if self.file_error != message:
                self.events.emit("warning", message)
            self.file_error = message
            return
        self.db.execute(f"PRAGMA busy_timeout={ledger_file.CYCLE_BUSY_MS}")
        self._identity = ledger_file.identity(self.path)
        self._commits = 0
        kept = f"; the file found in its place is kept as {aside.name}" if aside is not None else ""
        self.repair_note = (
            f"{name} {what} under the engine (not by it): written again at its place from the engine's open copy, "
            f"every row kept{kept}"
        )
        self.file_error = None

    def checkpoint(self) -> None:
        """Copy the WAL into the database once enough commits gathered (SQLite's own automatic
        checkpoint, moved off the commit): at most a few milliseconds, in the wait between cycles."""
        if self._commits < CHECKPOINT_EVERY:
            return
        try:
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # a reader mid-transaction is waited for by none
        except sqlite3.Error:
            return  # tried again after the next commit
        self._commits = 0

    def _entry_row(self, slot: SlotRecord, cycle: int, provenance: Provenance, source: str = "engine") -> tuple[Any, ...]:
        position = slot.position
        assert position is not None
        asset, window = slot_window(slot.id)
        edge = slot.signal.edge if slot.signal is not None else None
        return (
            self.book, slot.id, asset, window, position.side, position.stake, position.odds, position.shares, edge,
            position.entered_at, slot.window_start + slot.window_s, cycle,
            provenance.code_version, provenance.params_hash, self.boot_id, source,
        )

    # ------------------------------------------------------------------ risk

    def record_trip(self, trip: RiskTrip) -> None:
        self._write_now(
            "INSERT INTO risk_trips (book, day, limit_name, figure, threshold, message, tripped_at, cycle, boot_id, trip_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (self.book, trip.day, trip.limit, trip.figure, trip.threshold, trip.message, trip.at, trip.cycle, self.boot_id, trip.id),
        )

    def clear_trip(self, trip_id: str, by: str) -> None:
        self._write_now(
            "UPDATE risk_trips SET cleared_at=?, cleared_by=? WHERE trip_id=? AND cleared_at IS NULL", (utc_now_iso(), by, trip_id)
        )

    def _write_now(self, sql: str, args: tuple[Any, ...]) -> None:
        """A statement of its own transaction; a failure joins the rows retried every cycle."""
        try:
            self.db.execute(sql, args)
        except sqlite3.Error as exc:
            self._pending.append((sql, [args]))
            message = f"cannot write {self.path.name}: {exc}; its rows wait in memory and are retried every cycle"
            if self.write_error != message:
                self.events.emit("warning", message)
            self.write_error = message

    # ------------------------------------------------------------------ meta

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _int_meta(self, key: str) -> int:
        value = self._meta(key)
        return int(value) if value is not None and value.lstrip("-").isdigit() else 0

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))
