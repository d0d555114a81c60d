"""The state manager: all trading state, outside every reload's reach, persisted each cycle.

Nothing here knows about strategy code. A hot reload swaps modules around this
object; a crash loses at most the cycle in flight, which status.json never
showed: every cycle is persisted before status is written, and before a command runs.

Two files hold it. `state.json` is a checkpoint of the whole state, its market
history included, rewritten atomically before a command runs, after a write
failed, and at least every CHECKPOINT_EVERY cycles or CHECKPOINT_BYTES of journal.
Every other cycle, a window boundary included, appends one line to
`state.journal`: the cycle, the market time, each asset's new price, the feed's
snapshot and the prices of the window boundaries crossed, and when the trading
state changed (an entry, a resolution, a window that rolls, a control change or
refusal) the whole trading state but its market history, fsync'd (fdatasync)
when money or intent moved. An append costs a fraction of a rewrite with its
rename and two fsyncs. The journal names the checkpoint it extends (its id and
cycle) and each line the cycle it follows; `load_state` replays it on top of
state.json, and a start resumes only a pair that
proves itself complete (engine/trading/state_damage.py says what stops it, and what to do).
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator
from pydantic_core import to_json

from engine import failpoints
from engine.contract.fileio import (
    ReadResult,
    atomic_write_bytes,
    model_json,
    open_private,
    read_bytes,
    read_fd,
    read_model,
    with_member,
    write_all,
)
from engine.contract.models import RESULTS_KEPT, Ack, AppliedIntent, Direction, Position
from engine.market.record import MarketRecord
from engine.strategy_api.market_view import HISTORY_POINTS
from engine.trading.state_damage import Damage, JournalDamage, StateFileError, set_aside

STATE_VERSION = 1
HANDLED_IDS_KEPT = 2000
RECENT_ACKS = 512  # kept in state: at least what one control.json can hold (256 commands) twice over
SHOWN_ACKS = 20  # shown in status.json besides those of the commands still in control.json
ACKS_SHOWN_S = 60.0  # ... and besides every ack of the last minute (at most MAX_SHOWN_ACKS)
MAX_SHOWN_ACKS = 256
PNL_HISTORY = 60
CHECKPOINT_EVERY = 300  # journal lines (cycles) before state.json is rewritten
CHECKPOINT_BYTES = 8 * 1024 * 1024  # or journal bytes: trading lines are large at a thousand slots
STATE_LIMIT = 64 * 1024 * 1024  # the largest state.json (or journal) the engine reads back


class _Model(BaseModel):
    # Finite numbers only: a NaN or an infinity in P&L, a clock or a price is damage, not state.
    model_config = ConfigDict(extra="ignore", validate_assignment=False, allow_inf_nan=False)


@dataclass(slots=True)
class SignalRecord:
    """A slot's last decision, as status.json's `Signal` shows it (field for field: a test keeps
    them in step). A slotted dataclass, not the contract's model: one is made per slot per
    cycle from a decision the registry has validated, and a model would validate it again."""

    direction: Direction
    confidence: float
    path: str
    prob_up: float | None = None
    edge: float | None = None
    enter: bool = False
    reason: str = ""


@dataclass(slots=True)
class SlotRecord:
    """One slot's trading state. A plain slotted dataclass, not a model: the cycle sets its
    fields for every slot, and a pydantic model's __setattr__ is many times a slot's.
    TradingState validates and serialises it as a field, extra keys ignored."""

    id: str
    asset: str
    window_s: int
    window_start: float
    open_price: float
    position: Position | None = None
    cooldown_until: float | None = None
    result_until: float | None = None
    last_result: Literal["won", "lost"] | None = None
    last_pnl: float | None = None
    signal: SignalRecord | None = None
    up_ask: float | None = None
    down_ask: float | None = None
    error: str | None = None


class RiskRecord(BaseModel):
    """The risk book inside the trading state."""

    model_config = ConfigDict(extra="ignore")

    limits: dict[str, int | float] = Field(default_factory=dict)
    tripped: dict[str, JsonValue] | None = None  # a RiskTrip
    peak_pnl: float = 0.0
    day: str = ""
    day_pnl: float = 0.0
    # The figures when an operator last resumed: a limit trips again only beyond them
    # (or once its figure fell back under the limit and reached it anew).
    resumed_at: dict[str, float] = Field(default_factory=dict)


class TradingState(_Model):
    state_version: int = STATE_VERSION
    cycle: int = Field(default=0, ge=0)
    sim_time: float = Field(default=0.0, ge=0)
    slots: dict[str, SlotRecord] = Field(default_factory=dict)
    results: list[bool] = Field(default_factory=list)
    pnl: float = 0.0
    staked: float = Field(default=0.0, ge=0)
    resolved: int = Field(default=0, ge=0)
    wins: int = Field(default=0, ge=0)
    pnl_history: list[float] = Field(default_factory=list)
    last_generation: int = Field(default=0, ge=0)
    rejected_generation: int = Field(default=0, ge=0)
    rejected_reason: str = ""
    applied: AppliedIntent = Field(default_factory=AppliedIntent)
    handled_commands: dict[str, str] = Field(default_factory=dict, description="command id -> result")
    started_commands: dict[str, str] = Field(default_factory=dict, description="command id -> type, running now")
    acks: list[Ack] = Field(default_factory=list)
    # Exactly once past HANDLED_IDS_KEPT: when an old id is forgotten, its issued_at raises this
    # high-water mark, and an unknown command issued at or before it is refused, never run.
    handled_horizon: str = Field(default="", description="issued_at of the newest forgotten command id")
    handled_issued: dict[str, str] = Field(default_factory=dict, description="command id -> issued_at, for the horizon")
    market: MarketRecord = Field(default_factory=MarketRecord)
    risk: RiskRecord = Field(default_factory=RiskRecord, description="risk limits in force, their figures, a trip (engine/trading/risk.py)")
    journal_id: str = Field(default="", description="the id that the journal extending this checkpoint names")
    applied_digest: str = Field(default="", description="sha256 of the control.json whose intent is applied")

    @field_validator("state_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        # A newer engine's state may carry what this one would drop on its next checkpoint.
        if value > STATE_VERSION:
            raise ValueError(
                f"state_version {value} is newer than this engine's {STATE_VERSION}: it was written by a newer "
                f"engine; run that version (this one would lose what it does not know)"
            )
        if value < 1:
            raise ValueError(f"state_version {value} is not a version")
        return value


class StateManager:
    """Owns the one TradingState of this engine and its file."""

    def __init__(self, path: Path, state: TradingState | None = None) -> None:
        self.path = path
        self.journal_path = journal_path(path)
        self.state = state or TradingState()
        self.resumed = state is not None
        self.losses: list[str] = []  # what --accept-loss gave up at start, for events.jsonl
        self.pending_commands: dict[str, str] = {}  # id -> type of the commands in the last control.json read
        self._journal_fd: int | None = None  # open (append) only after a checkpoint of this process
        self._journal_lines = 0
        self._journal_bytes = 0
        self._checkpoint_id: tuple[int, int] | None = None  # state.json's (st_dev, st_ino) as written
        self.repair_note: str | None = None  # a state file found deleted or replaced, until reported

    @classmethod
    def open(cls, path: Path, *, accept_loss: bool = False) -> StateManager:
        """Resume from `path` and its journal, or refuse: starting from less than was persisted
        would silently forget open positions. With `accept_loss`, a damaged or missing journal
        (or a journal without its state.json) is set aside and the engine starts from what
        can be proved, each loss listed in `losses`."""
        result = read_model(path, TradingState, limit=STATE_LIMIT)
        journal = journal_path(path)
        if result.missing:
            if not os.path.lexists(journal):
                return cls(path)
            damage = Damage(
                path,
                None,
                f"is missing, but {journal.name} is there ({_describe_journal(journal)})",
                "the journal extends a checkpoint that is gone: resuming would start empty and forget every open position",
            )
            manager = cls(path)
            manager._accept(damage, accept_loss)
            return manager
        if result.value is None:
            raise StateFileError(
                f"refusing to resume: {path} cannot be used ({result.reason}). It may hold open positions: "
                f"restore it from a backup, or move it aside (with {journal.name}) to start with empty state"
            )
        try:
            state = _replay(result.value, journal, reader=False)
        except JournalDamage as exc:
            proved = exc.proved if isinstance(exc.proved, TradingState) else result.value
            manager = cls(path, proved)
            manager._accept(exc.damage, accept_loss)
            return manager
        assert state is not None
        return cls(path, state)

    def _accept(self, damage: Damage, accept_loss: bool) -> None:
        if not accept_loss:
            raise StateFileError(damage.refusal())
        aside = set_aside(self.journal_path) if os.path.lexists(self.journal_path) else None
        kept = f"; the journal is kept as {aside.name}" if aside is not None else ""
        start = f"cycle {self.state.cycle} (the checkpoint and the journal's whole lines before the damage)" if self.resumed else "empty state"
        self.losses.append(f"--accept-loss: {damage.where}: {damage.what}; started from {start}: {damage.lost}{kept}")

    def persist(self, durable: bool = True) -> None:
        """A checkpoint: the whole state to state.json, then a new journal naming it.

        Both are replaced atomically (the journal is never truncated in place, so it is
        never empty and never a link followed); a kill -9 loses nothing written, and
        `durable` also survives a power cut. Until a checkpoint succeeds, `journal`
        refuses (the caller checkpoints again)."""
        if self._journal_fd is not None:
            self._note_replaced()  # a checkpoint due anyway (a window boundary) must not hide it
        self.close_journal()
        self.state.journal_id = uuid.uuid4().hex
        atomic_write_bytes(self.path, model_json(self.state), durable=durable)
        header = {"journal_of": self.state.journal_id, "cycle": self.state.cycle}
        atomic_write_bytes(self.journal_path, json.dumps(header, separators=(",", ":")).encode() + b"\n", durable=durable)
        fd = open_private(self.journal_path, os.O_WRONLY | os.O_APPEND)
        self._journal_fd = fd
        self._journal_lines = 0
        self._journal_bytes = 0
        with contextlib.suppress(OSError):
            info = os.stat(self.path, follow_symlinks=False)
            self._checkpoint_id = (info.st_dev, info.st_ino)

    def checkpoint_due(self) -> bool:
        """True when the next persist must be a checkpoint: no journal open, a long one, or a
        state file deleted or replaced under the engine (an outside cleanup): then
        `repair_note` says which, and the checkpoint writes both again."""
        if self._journal_fd is None or self._journal_lines >= CHECKPOINT_EVERY or self._journal_bytes >= CHECKPOINT_BYTES:
            return True
        if self._note_replaced():
            self.close_journal()
            return True
        return False

    def _note_replaced(self) -> bool:
        """True, and `repair_note` says which, when a state file was deleted or replaced under the engine."""
        gone = self._replaced_files()
        if gone and self.repair_note is None:
            self.repair_note = (
                f"{' and '.join(gone)} deleted or replaced under the engine (not by it); both written again from memory"
            )
        return bool(gone)

    def _replaced_files(self) -> list[str]:
        gone = []
        try:
            info = os.stat(self.path, follow_symlinks=False)
            if (info.st_dev, info.st_ino) != self._checkpoint_id:
                gone.append(self.path.name)
        except OSError:
            gone.append(self.path.name)
        assert self._journal_fd is not None
        try:
            journal = os.fstat(self._journal_fd)
            linked = os.stat(self.journal_path, follow_symlinks=False)
            if journal.st_nlink == 0 or (linked.st_dev, linked.st_ino) != (journal.st_dev, journal.st_ino):
                gone.append(self.journal_path.name)
        except OSError:
            gone.append(self.journal_path.name)
        return gone

    def journal(
        self,
        prices: dict[str, float],
        feed: dict[str, Any],
        boundaries: dict[str, dict[str, float]] | None = None,
        *,
        trading: bool = False,
        durable: bool = False,
    ) -> None:
        """Persist a cycle as one line appended to the journal (call `checkpoint_due` first).

        `prices` is every asset's new history point, `feed` the feed's snapshot and
        `boundaries` the prices of the window boundaries the cycle crossed (keyed as
        MarketRecord.boundary_prices); the state's own `cycle` and `sim_time` go with
        them, and with `trading` the whole trading state but its market history (the
        engine passes it when that changed). `durable` also fdatasyncs the journal, so
        the line survives a power cut."""
        record: dict[str, Any] = {"cycle": self.state.cycle, "sim_time": self.state.sim_time, "prices": prices, "feed": feed}
        if boundaries:
            record["boundaries"] = boundaries
        # pydantic-core writes what json.dumps would (NaN and infinities as json's constants,
        # floats that read back to the same bits), in a fraction of its time, every cycle.
        line = to_json(record, inf_nan_mode="constants")
        if trading:
            line = with_member(line, "state", model_json(self.state, exclude={"market"}))
        self._append(line, durable)

    def mark(self) -> None:
        """The trading state as it is now, durable, in one journal line that ends no cycle: a
        command's write-ahead mark (one fdatasync, where a checkpoint takes four fsyncs). Call
        `checkpoint_due` first, as for `journal`."""
        line = to_json({"cycle": self.state.cycle, "mark": True})
        self._append(with_member(line, "state", model_json(self.state, exclude={"market"})), durable=True)

    def _append(self, line: bytes, durable: bool) -> None:
        fd = self._journal_fd
        if fd is None:
            raise RuntimeError("no journal open: persist() a checkpoint first")
        try:
            if failpoints.ENABLED:
                failpoints.before_write(self.path)  # a disk full for state.json is full for its journal too
            write_all(fd, line + b"\n")
            if durable:
                os.fdatasync(fd)
        except BaseException:
            self.close_journal()  # a torn line ends the journal: the next persist is a checkpoint
            raise
        self._journal_lines += 1
        self._journal_bytes += len(line) + 1

    def close_journal(self) -> None:
        if self._journal_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._journal_fd)
            self._journal_fd = None

    # -------------------------------------------------------------- bookkeeping

    def record_result(self, won: bool, pnl: float) -> None:
        s = self.state
        s.resolved += 1
        s.wins += int(won)
        s.pnl = round(s.pnl + pnl, 6)
        s.results.append(won)
        del s.results[:-RESULTS_KEPT]
        s.pnl_history.append(round(s.pnl, 4))
        del s.pnl_history[:-PNL_HISTORY]

    def win_rate(self, window: int) -> float | None:
        recent = self.state.results[-window:]
        return sum(recent) / len(recent) if recent else None

    def is_handled(self, command_id: str) -> bool:
        return command_id in self.state.handled_commands or command_id in self.state.started_commands

    def too_old(self, issued_at: str) -> bool:
        """An unknown command issued at or before the forgotten ids' high-water mark: it may
        have run already, so it is refused rather than run (exactly once, or not at all)."""
        horizon = self.state.handled_horizon
        return bool(horizon) and issued_at <= horizon

    def visible_acks(self, pending: dict[str, str]) -> list[Ack]:
        """The acks status.json shows: the recent ones, and one for every command still in
        control.json (`pending`: id -> type) that was handled, however long ago, so that every
        writer can read its answer and prune it."""
        acks = self.state.acks
        # The recent ones: the last SHOWN_ACKS, and all of the last ACKS_SHOWN_S seconds (a writer
        # may prune an answered command before its sender has read the answer).
        cutoff = (datetime.now(UTC) - timedelta(seconds=ACKS_SHOWN_S)).isoformat(timespec="milliseconds")
        start = max(len(acks) - SHOWN_ACKS, 0)
        while start > 0 and acks[start - 1].at >= cutoff and len(acks) - start < MAX_SHOWN_ACKS:
            start -= 1
        recent = acks[start:]
        if not pending:
            return list(recent)
        shown_count = len(recent)
        shown = {a.id for a in recent}
        extra = [a for a in acks[: len(acks) - shown_count] if a.id in pending]
        shown.update(a.id for a in extra)
        handled = self.state.handled_commands
        for command_id, kind in pending.items():
            if command_id not in shown and command_id in handled:
                extra.append(
                    Ack(id=command_id, type=kind, result=handled[command_id], at="", detail="handled earlier; its full ack has rotated out")  # type: ignore[arg-type]
                )
        return extra + list(recent)

    def mark_started(self, command_id: str, kind: str) -> None:
        self.state.started_commands[command_id] = kind

    def record_ack(self, ack: Ack, issued_at: str = "") -> None:
        # In place (a dict keeps insertion order): a burst of commands acks each in O(1), not a
        # copy of the remembered ids per ack.
        handled = self.state.handled_commands
        handled.pop(ack.id, None)
        handled[ack.id] = ack.result
        issued = self.state.handled_issued
        if issued_at:
            issued[ack.id] = issued_at
        while len(handled) > HANDLED_IDS_KEPT:
            forgotten = next(iter(handled))
            del handled[forgotten]
            when = issued.pop(forgotten, "")
            if when > self.state.handled_horizon:
                self.state.handled_horizon = when
        self.state.started_commands.pop(ack.id, None)
        self.state.acks.append(ack)
        del self.state.acks[:-RECENT_ACKS]

    def open_positions(self) -> int:
        return sum(1 for slot in self.state.slots.values() if slot.position is not None)


def journal_path(state_path: Path) -> Path:
    return state_path.with_suffix(".journal")


def load_state(path: Path) -> ReadResult[TradingState]:
    """The persisted state: the checkpoint `path` with its journal replayed on top, or why not.

    The journal counts only when it names this checkpoint; its lines are applied in order,
    each whole and continuing the cycle before it. Only a last line without its newline
    (torn by a crash mid-append) may be cut short; damage anywhere else is refused with
    the line. A reader racing the engine may see a new checkpoint and the old journal:
    it reads the pair again."""
    result: ReadResult[TradingState] = ReadResult(None, None)
    for _ in range(3):
        result = read_model(path, TradingState, limit=STATE_LIMIT)
        if result.value is None:
            return result
        try:
            state = _replay(result.value, journal_path(path), reader=True)
        except JournalDamage as exc:
            return ReadResult(None, exc.damage.refusal())
        if state is not None:
            return ReadResult(state, None)
    return ReadResult(None, f"{path.name} and its journal kept changing while read; read them again")


def _describe_journal(path: Path) -> str:
    data, reason = read_bytes(path, STATE_LIMIT)
    if data is None:
        return reason or "unreadable"
    lines = data.count(b"\n")
    try:
        cycle = json.loads(data.split(b"\n", 1)[0]).get("cycle")
    except (ValueError, AttributeError):
        cycle = None
    return f"{lines} lines" + (f" from cycle {cycle}" if isinstance(cycle, int) else "")


def _read_journal(state: TradingState, path: Path) -> bytes | None:
    """The journal's bytes; None when there is none and the checkpoint expects none."""
    try:
        fd = open_private(path, os.O_RDONLY)
    except FileNotFoundError:
        if not state.journal_id:
            return None  # a checkpoint older than journals
        raise JournalDamage(
            Damage(
                path,
                None,
                f"is missing, but state.json (the checkpoint at cycle {state.cycle}) names journal {state.journal_id}",
                _since(state) + ", their P&L and handled commands",
            )
        ) from None
    except OSError as exc:
        raise JournalDamage(Damage(path, None, f"cannot be read ({exc.strerror or exc})", _since(state))) from None
    try:
        data = read_fd(fd, STATE_LIMIT + 1)
    finally:
        os.close(fd)
    if len(data) > STATE_LIMIT:
        raise JournalDamage(Damage(path, None, f"is larger than {STATE_LIMIT >> 20} MiB", _since(state)))
    return data


def _since(state: TradingState) -> str:
    return f"resuming would drop the cycles since the checkpoint at cycle {state.cycle}, the positions entered or settled in them"


def _replay(state: TradingState, path: Path, *, reader: bool) -> TradingState | None:
    """`state` with the journal at `path` applied. None, for a `reader`, when the journal extends
    a newer checkpoint than `state` (state.json changed since it was read: read the pair again);
    JournalDamage when the pair does not prove the state complete."""
    data = _read_journal(state, path)
    if data is None:
        return state
    lines = data.split(b"\n")
    # Every line but the last ends with its newline: only the last may be torn by a crash.
    complete, tail = lines[:-1], lines[-1]
    if not complete:
        raise JournalDamage(Damage(path, 1, "has no whole header line", _since(state)))
    try:
        header = json.loads(complete[0])
        journal_of, header_cycle = header["journal_of"], header["cycle"]
        if not (isinstance(journal_of, str) and isinstance(header_cycle, int) and not isinstance(header_cycle, bool)):
            raise TypeError
    except (ValueError, TypeError, KeyError):
        raise JournalDamage(Damage(path, 1, "is not a journal header", _since(state))) from None
    if journal_of != state.journal_id:
        if header_cycle > state.cycle:
            if reader:
                return None
            raise JournalDamage(
                Damage(
                    path,
                    1,
                    f"extends a checkpoint at cycle {header_cycle}, newer than state.json's cycle {state.cycle} "
                    f"(state.json is an older copy?)",
                    "the journal's cycles and the checkpoint it extends would be lost",
                )
            )
        # An older journal: a crash between a checkpoint and its journal's replace. Everything
        # in it is in this checkpoint already, unless it runs past it.
        last = _last_cycle(complete, header_cycle)
        if last > state.cycle:
            raise JournalDamage(
                Damage(
                    path,
                    None,
                    f"belongs to another checkpoint and runs to cycle {last}, past state.json's cycle {state.cycle} "
                    f"(state.json is an older copy?)",
                    f"cycles {state.cycle + 1} to {last} would be lost",
                )
            )
        return state
    market = state.market
    records = [(number, raw, True) for number, raw in enumerate(complete[1:], start=2)]
    if tail:
        records.append((len(complete) + 1, tail, False))
    for number, raw, whole in records:
        try:
            record = json.loads(raw)
            cycle = record["cycle"]
            if record.get("mark") is True:  # a command's write-ahead mark, inside the cycle it names
                if cycle != state.cycle:
                    raise _Gap(f"a mark of cycle {cycle!r} within cycle {state.cycle}")
                marked = TradingState.model_validate(record["state"])
                marked.market = market
                state = marked
                continue
            if not isinstance(cycle, int) or isinstance(cycle, bool) or cycle != state.cycle + 1:
                raise _Gap(f"cycle {cycle!r} does not follow cycle {state.cycle}")
            sim_time = float(record["sim_time"])
            prices = {str(asset): float(price) for asset, price in record["prices"].items()}
            feed = dict(record["feed"])
            boundaries = {
                str(t): {str(asset): float(price) for asset, price in points.items()}
                for t, points in record.get("boundaries", {}).items()
            }
            trading = TradingState.model_validate(record["state"]) if "state" in record else None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            if not whole:
                break  # the last append, torn by a crash: it never reached status.json
            if isinstance(exc, _Gap):
                what = str(exc)
            elif isinstance(exc, json.JSONDecodeError):
                what = f"not valid JSON ({exc.msg})"
            else:
                what = f"not a journal line ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
            lost = f"resuming would drop the cycles from {state.cycle + 1} on, the positions entered or settled in them"
            raise JournalDamage(Damage(path, number, what, lost), proved=state) from None
        if trading is not None:
            state = trading
            state.market = market
        state.cycle = cycle
        state.sim_time = sim_time
        market.feed = feed
        market.boundary_prices.update(boundaries)
        for asset, price in prices.items():
            points = market.history.setdefault(asset, [])
            points.append(price)
            del points[:-HISTORY_POINTS]
    return state


class _Gap(ValueError):
    pass


def _last_cycle(complete: list[bytes], header_cycle: int) -> int:
    last = header_cycle
    for raw in complete[1:]:
        try:
            cycle = json.loads(raw)["cycle"]
        except (ValueError, TypeError, KeyError):
            continue
        if isinstance(cycle, int):
            last = max(last, cycle)
    return last
