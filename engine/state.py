"""The state manager: all trading state, outside every reload's reach, persisted each cycle.

Nothing here knows about strategy code. A hot reload swaps modules around this
object; a crash loses at most the cycle in flight, which status.json never
showed: `state.json` is rewritten atomically at the end of every cycle before
status is written (fsync'd when money or intent moved), and before a command runs.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from engine.contract import Ack, AppliedIntent, Position, Signal
from engine.fileio import ReadResult, atomic_write_bytes, read_model

STATE_VERSION = 1
HANDLED_IDS_KEPT = 2000
RECENT_ACKS = 20
RESULTS_KEPT = 1000  # the largest win_rate_window a strategy may declare
PNL_HISTORY = 60
HISTORY_POINTS = 120


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=False)


class SlotRecord(_Model):
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
    signal: Signal | None = None
    up_ask: float | None = None
    down_ask: float | None = None
    error: str | None = None


class MarketRecord(_Model):
    feed: dict[str, JsonValue] = Field(default_factory=dict)
    history: dict[str, list[float]] = Field(default_factory=dict)
    boundary_prices: dict[str, dict[str, float]] = Field(default_factory=dict)


class TradingState(_Model):
    state_version: int = STATE_VERSION
    cycle: int = 0
    sim_time: float = 0.0
    slots: dict[str, SlotRecord] = Field(default_factory=dict)
    results: list[bool] = Field(default_factory=list)
    pnl: float = 0.0
    staked: float = 0.0
    resolved: int = 0
    wins: int = 0
    pnl_history: list[float] = Field(default_factory=list)
    last_generation: int = 0
    rejected_generation: int = 0
    applied: AppliedIntent = Field(default_factory=AppliedIntent)
    handled_commands: dict[str, str] = Field(default_factory=dict, description="command id -> result")
    started_commands: dict[str, str] = Field(default_factory=dict, description="command id -> type, running now")
    acks: list[Ack] = Field(default_factory=list)
    market: MarketRecord = Field(default_factory=MarketRecord)


class StateManager:
    """Owns the one TradingState of this engine and its file."""

    def __init__(self, path: Path, state: TradingState | None = None) -> None:
        self.path = path
        self.state = state or TradingState()
        self.resumed = state is not None

    @classmethod
    def open(cls, path: Path) -> StateManager:
        """Resume from `path` if it exists; refuse loudly if it exists but is unusable,
        because starting empty would silently forget open positions."""
        result: ReadResult[TradingState] = read_model(path, TradingState, limit=64 * 1024 * 1024)
        if result.missing:
            return cls(path)
        if result.value is None:
            raise StateFileError(
                f"{path} exists but cannot be used ({result.reason}). It may hold open positions: "
                f"inspect it, then move it aside to start with empty state."
            )
        return cls(path, result.value)

    def persist(self, durable: bool = True) -> None:
        """Atomic always (a kill -9 loses nothing written); `durable` also survives a power cut."""
        atomic_write_bytes(self.path, self.state.model_dump_json().encode(), durable=durable)

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

    def mark_started(self, command_id: str, kind: str) -> None:
        self.state.started_commands[command_id] = kind

    def record_ack(self, ack: Ack) -> None:
        handled = OrderedDict(self.state.handled_commands)
        handled[ack.id] = ack.result
        while len(handled) > HANDLED_IDS_KEPT:
            handled.popitem(last=False)
        self.state.handled_commands = dict(handled)
        self.state.started_commands.pop(ack.id, None)
        self.state.acks.append(ack)
        del self.state.acks[:-RECENT_ACKS]

    def open_positions(self) -> int:
        return sum(1 for slot in self.state.slots.values() if slot.position is not None)

    def snapshot(self) -> dict[str, Any]:
        """A deep, comparable copy (for tests and reload guards)."""
        return self.state.model_dump()


class StateFileError(RuntimeError):
    pass
