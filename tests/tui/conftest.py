"""Status files for Mission Control tests: realistic, built from the contract models, on a fixed clock."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from engine.contract.fileio import atomic_write_bytes, atomic_write_model, ensure_state_dir
from engine.contract.models import (
    CONTROL_FILE,
    SCHEMA_VERSION,
    STATUS_FILE,
    Ack,
    AppliedIntent,
    CodeStatus,
    ControlStatus,
    EngineInfo,
    Event,
    LastReload,
    ModuleInfo,
    ParamsStatus,
    Position,
    Signal,
    SlotStatus,
    Stats,
    Status,
)
from foresight_tui.app import MissionControlApp

FIXED_NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
SIM_NOW = 1_748_779_200.0 + 130.0  # market clock: 130 s into a 5-minute window
ASSETS = ["BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "AVAX"]
BASE_PRICES = {"BTC": 97_250.0, "ETH": 3_450.5, "SOL": 182.25, "XRP": 2.1834, "DOGE": 0.38215,
               "BNB": 655.4, "ADA": 1.0412, "AVAX": 41.87}  # fmt: skip
STATES = ["watching", "entered", "won", "lost", "cooldown", "entered", "watching", "watching"]
TEST_HOST = "mc-test-host"  # never this machine: no DOWN detection unless a test asks
MARKUP_MESSAGE = "[bold red]not markup[/] and [link=x]neither[/link]"


class DemoParams(BaseModel):
    """A small strategy parameter model: the schema the TUI builds its form from."""

    stake: float = Field(5.0, ge=0.5, le=100.0, description="USD per bet")
    cooldown_s: int = Field(60, ge=0, le=3600, description="market seconds a slot rests after a resolution")
    max_open_positions: int = Field(8, ge=1, le=16, description="bets open at once")
    win_rate_window: int = Field(50, ge=10, le=500, description="resolved bets in the rolling win rate")
    min_edge: float = Field(0.04, ge=0.0, le=0.5, description="edge needed to enter")
    mode: Literal["reactive", "predictive", "blend"] = Field("blend", description="which path decides")
    allow_entries: bool = Field(True, description="master switch for new entries")


class FakeClock:
    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def history(asset: str, index: int, n: int = 60) -> list[float]:
    base = BASE_PRICES[asset]
    return [round(base * (1 + 0.002 * math.sin(i / 5 + index) + 0.0004 * i / n), 6) for i in range(n)]


def make_slot(index: int) -> SlotStatus:
    asset = ASSETS[index // 2]
    window_s = 300 if index % 2 == 0 else 900
    window = "5m" if window_s == 300 else "15m"
    start = SIM_NOW - (130 if window_s == 300 else 610)
    state = STATES[(index * 3) % len(STATES)]
    prices = history(asset, index)
    open_price = prices[len(prices) // 3]
    direction = "up" if index % 3 else "down"
    signal = Signal(direction=direction, confidence=0.55 + index / 100, path=["reactive", "predictive", "blend"][index % 3],
                    prob_up=0.6, edge=0.05 - index / 400, enter=state == "entered", reason="edge over threshold")  # fmt: skip
    position = None
    if state == "entered":
        position = Position(side=direction, stake=5.0, odds=0.52, shares=9.6, entered_at=start + 40)
    return SlotStatus(
        id=f"{asset}-{window}",
        asset=asset,
        window=window,
        window_s=window_s,
        state=state,  # type: ignore[arg-type]
        window_start=start,
        window_end=start + window_s,
        open_price=open_price,
        price=prices[-1],
        up_ask=0.52,
        down_ask=0.49,
        signal=None if state == "cooldown" else signal,
        position=position,
        cooldown_until=SIM_NOW + 45 if state == "cooldown" else None,
        last_result="won" if state in ("won", "cooldown") else "lost" if state == "lost" else None,
        last_pnl=4.6 if state in ("won", "cooldown") else -5.0 if state == "lost" else None,
    )


def price_history() -> dict[str, list[float]]:
    """Each asset's sparkline, once: the history its 5m slot's prices come from (its 15m
    slot keeps prices of its own, as the cards showed them before the sparkline was per asset)."""
    return {asset: history(asset, 2 * n) for n, asset in enumerate(ASSETS)}


MODULES = ("ta_engine", "momentum_strategy", "strategy")


def write_strategies(directory: Path) -> dict[str, str]:
    """Three strategy files; returns the sha256 the "running" code was loaded from (strategy.py since edited)."""
    directory.mkdir(parents=True, exist_ok=True)
    loaded = {}
    for name in MODULES:
        source = f"# {name}\nVALUE = 1\n"
        (directory / f"{name}.py").write_text(source + ("EDITED = True\n" if name == "strategy" else ""))
        loaded[name] = hashlib.sha256(source.encode()).hexdigest()
    return loaded


def paused_by_a_risk_trip(status: Status) -> None:
    """Paused by a tripped limit, with two slots paused and three overrides: a header that must
    say why at 80 columns."""
    from engine.contract.models import RiskTrip

    status.engine.state = "paused"
    status.control.applied.overrides = {"confidence_threshold": 0.65, "cooldown_s": 61, "min_edge": 0.04}
    for slot in status.slots[:3:2]:
        slot.paused = True
    status.risk.limits = {"max_consecutive_losses": 1}
    status.risk.tripped = RiskTrip(id="trip1", limit="max_consecutive_losses", figure=1, threshold=1,
                                   message="max_consecutive_losses=1 reached", at=0.0, day="2025-06-01")  # fmt: skip


def make_status(*, now: datetime = FIXED_NOW, strategies: Path | None = None, **changes: Any) -> Status:
    strategies_path = str(strategies) if strategies else "/srv/foresight/strategies"
    hashes = write_strategies(strategies) if strategies else dict.fromkeys(MODULES, "0" * 64)
    written = now - timedelta(seconds=0.4)
    status = Status(
        schema_version=SCHEMA_VERSION,
        written_at=iso(written),
        engine=EngineInfo(
            pid=4242, host=TEST_HOST, user="op", started_at=iso(now - timedelta(hours=2, minutes=7)),
            boot_id="boot-1", state="running", cycle=7620, cycle_interval_s=1.0, last_cycle_ms=12.5,
            speed=60.0, sim_time=SIM_NOW, strategies_path=strategies_path,
        ),  # fmt: skip
        control=ControlStatus(
            observed_generation=3,
            acks=[Ack(id="reload-aaaa", type="reload", result="applied", at=iso(now - timedelta(minutes=30)))],
        ),
        code=CodeStatus(
            version="v3-1a2b3c",
            modules=[
                ModuleInfo(name=f"strategies.{name}", path=f"{strategies_path}/{name}.py",
                           sha256=hashes[name], loaded_at=iso(now - timedelta(minutes=30)))
                for name in MODULES
            ],  # fmt: skip
            reloads=2,
            last_reload=LastReload(ok=True, at=iso(now - timedelta(minutes=30)), duration_ms=41.0,
                                   changed=["strategies.strategy"]),  # fmt: skip
            previous_version="v2-99ffee",
        ),
        params=ParamsStatus(schema=DemoParams.model_json_schema(), values=DemoParams().model_dump()),
        slots=[make_slot(i) for i in range(16)],
        price_history=price_history(),
        stats=Stats(open_positions=3, resolved=42, wins=25, win_rate=25 / 42, win_rate_window=50, pnl=12.4,
                    staked=15.0, pnl_history=[0, 2.1, -1.5, 3.3, 6.0, 4.2, 8.8, 12.4]),  # fmt: skip
        events=[
            Event(at=iso(now - timedelta(minutes=30)), kind="reload", message="reload applied: strategies.strategy changed (41 ms)"),
            Event(at=iso(now - timedelta(minutes=3)), kind="resolution", message="BTC-5m won +$4.60"),
            Event(at=iso(now - timedelta(minutes=2)), kind="warning", message=MARKUP_MESSAGE),
            Event(at=iso(now - timedelta(seconds=20)), kind="resolution", message="ETH-15m lost -$5.00"),
        ],  # fmt: skip
    )
    return status.model_copy(update=changes)


class StateDir:
    """The state directory a test writes status files into."""

    def __init__(self, path: Path, clock: FakeClock) -> None:
        self.path = ensure_state_dir(path)
        self.clock = clock
        self.strategies = path.parent / "strategies"
        self.status = make_status(now=clock.now, strategies=self.strategies)

    @property
    def control_path(self) -> Path:
        return self.path / CONTROL_FILE

    def write(self, status: Status | None = None) -> Status:
        if status is not None:
            self.status = status
        atomic_write_model(self.path / STATUS_FILE, self.status, durable=False)
        return self.status

    def update(self, mutate: Callable[[Status], None], *, fresh: bool = True) -> Status:
        """Change the current status in place (optionally re-stamped at the clock's now) and write it."""
        status = self.status.model_copy(deep=True)
        mutate(status)
        if fresh:
            status.written_at = iso(self.clock.now - timedelta(seconds=0.2))
            status.engine.cycle += 1
        return self.write(status)

    def write_raw(self, data: bytes) -> None:
        atomic_write_bytes(self.path / STATUS_FILE, data, durable=False)

    def applied(self, **intent: Any) -> None:
        """The engine's side of a write: observed the current control generation."""
        from engine.contract.fileio import read_model
        from engine.contract.models import Control

        control = read_model(self.control_path, Control).value
        assert control is not None

        def mutate(status: Status) -> None:
            status.control.observed_generation = control.generation
            status.control.applied = AppliedIntent(
                paused=control.paused, paused_slots=control.paused_slots, overrides=control.overrides
            )
            status.engine.state = "paused" if control.paused else "running"
            for slot in status.slots:
                slot.paused = slot.id in control.paused_slots
            for key, value in intent.items():
                setattr(status.control, key, value)

        self.update(mutate)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(tmp_path: Path, clock: FakeClock) -> StateDir:
    state = StateDir(tmp_path / "state", clock)
    state.write()
    return state


@pytest.fixture
def make_app(state: StateDir, clock: FakeClock) -> Callable[..., MissionControlApp]:
    def factory(**kwargs: Any) -> MissionControlApp:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("this_host", "tui-test-runner")
        kwargs.setdefault("watch", False)
        return MissionControlApp(state.path, **kwargs)

    return factory


@pytest.fixture
def snapshot_app(state: StateDir, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., MissionControlApp]:
    """As conftest's, with the state directory named relatively: the header shows it, and a
    temporary path would differ on every run."""
    monkeypatch.chdir(tmp_path)
    state.update(lambda s: setattr(s.engine, "strategies_path", "strategies"), fresh=False)

    def factory(**kwargs: Any) -> MissionControlApp:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("this_host", "tui-test-runner")
        kwargs.setdefault("watch", False)
        return MissionControlApp(Path(state.path.name), **kwargs)

    return factory


# ------------------------------------------------------------------ pilot helpers


def log_text(app: MissionControlApp) -> str:
    from foresight_tui.widgets.event_log import EventLog

    lines = " ".join(strip.text for strip in app.query_one(EventLog).lines)
    return " ".join(lines.split())  # wrapped lines and padding do not matter


def grid_text(app: MissionControlApp) -> str:
    """The slot grid as drawn on the screen now, one line a row."""
    from foresight_tui.widgets.slot_grid import SlotGrid

    grid = app.query_one(SlotGrid)
    return "\n".join(strip.text for strip in grid.render_lines(grid.region.reset_offset))


def header_text(app: MissionControlApp) -> str:
    from textual.widgets import Static

    header = app.query_one("#header")
    return "\n".join(str(widget.content) for widget in header.query(Static))


def screen_text(app: MissionControlApp) -> list[str]:
    """The top screen as the terminal shows it, one string a row."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def read_control(state: StateDir) -> Any:
    from engine.contract.fileio import read_model
    from engine.contract.models import Control

    result = read_model(state.control_path, Control)
    assert result.value is not None, result.reason
    return result.value


async def settle(app: MissionControlApp, pilot: Any) -> None:
    """Let queued writes reach the disk and the screen catch up."""
    await app.workers.wait_for_complete()
    await pilot.pause()
