"""The control-plane contract: the only thing the engine and its operators share.

Both sides import these models. `docs/control.schema.json` and
`docs/status.schema.json` are generated from them (`python -m engine.schema_docs`)
and a test fails when they drift. Changing the meaning of a public field needs a
`SCHEMA_VERSION` bump.

Times: wall-clock instants (`written_at`, `updated_at`, `at`, ...) are ISO 8601
strings in UTC. Market times (`window_start`, `window_end`, `entered_at`,
`cooldown_until`, `engine.sim_time`) are seconds on the engine's market clock,
which runs `engine.speed` times faster than the wall clock in simulation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

SCHEMA_VERSION = 1
# Results (won/lost) the trading state keeps: the largest win_rate_window a strategy may declare,
# and the longest losing streak `max_consecutive_losses` can count.
RESULTS_KEPT = 1000
MAX_SHADOW_CYCLES = 10_000_000  # a shadow's --cycles: about four months of 1 s cycles
# A generation no JSON reader could follow (JavaScript's numbers end there) would wedge every writer.
MAX_GENERATION = 2**53
MAX_FILE_BYTES = 1024 * 1024  # what a reader accepts of a contract file, unless its model says more
# status.json grows with the slots: MAX_FILE_BYTES would refuse it long before the engine's limit.
MAX_STATUS_BYTES = 16 * 1024 * 1024

CONTROL_FILE = "control.json"
STATUS_FILE = "status.json"
STATE_FILE = "state.json"
EVENTS_FILE = "events.jsonl"
ENGINE_LOCK = "engine.lock"
CONTROL_LOCK = "control.lock"

CommandType = Literal["reload", "rollback", "check", "shadow", "promote", "drop"]
AckResult = Literal["applied", "rejected", "rolled_back"]
SlotState = Literal["watching", "entered", "won", "lost", "cooldown"]
Direction = Literal["up", "down"]
# How an asset's prices arrive (docs/market.md): only a connected asset takes new entries.
FeedState = Literal["connected", "reconnecting", "stale", "waiting"]

COMMAND_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
SLOT_ID_PATTERN = r"^[A-Z0-9]{1,12}-[0-9]{1,4}[smh]$"


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


class _Strict(BaseModel):
    # Unknown fields are refused: a typo in a hand-edited control file must be
    # reported, not silently ignored.
    model_config = ConfigDict(extra="forbid", strict=True)


class _Open(BaseModel):
    # Telemetry readers tolerate fields a newer engine adds within one version.
    model_config = ConfigDict(extra="ignore")


# --------------------------------------------------------------------- control


class Command(_Strict):
    id: str = Field(pattern=COMMAND_ID_PATTERN, description="unique id, acknowledged exactly once")
    type: CommandType
    issued_at: str = Field(max_length=64)
    version: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{12}$", description="rollback only: the kept version to return to (default: the previous good one)"
    )
    cycles: int | None = Field(default=None, ge=1, le=MAX_SHADOW_CYCLES, description="shadow only: end the shadow after this many cycles (default: until promote or drop)")
    aa: bool = Field(default=False, description="shadow only: shadow the running code against itself (A/A), to measure its noise")


class RiskLimits(_Strict):
    """Engine-level limits beside the strategy's parameters; unset (null) means no limit.

    A tripped limit pauses new entries by itself (open bets still resolve) until an operator
    resumes (`Control.risk_resume`); `max_open_stake` is a cap instead: an entry that would
    take the open stake beyond it is skipped."""

    max_daily_loss: float | None = Field(default=None, gt=0, le=1e9, description="dollars lost in one market day (UTC) that trip the limit")
    max_consecutive_losses: int | None = Field(
        default=None, ge=1, json_schema_extra={"maximum": RESULTS_KEPT}, description="losses in a row that trip the limit"
    )
    max_drawdown: float | None = Field(default=None, gt=0, le=1e9, description="dollars below the P&L's peak that trip the limit")
    max_open_stake: float | None = Field(default=None, gt=0, le=1e9, description="dollars at stake in open bets at most")

    @field_validator("max_consecutive_losses")
    @classmethod
    def _countable_streak(cls, value: int | None) -> int | None:
        if value is not None and value > RESULTS_KEPT:
            raise ValueError(
                f"at most {RESULTS_KEPT}: the engine keeps the last {RESULTS_KEPT} results, so a longer losing streak "
                "is never counted and the limit could never trip"
            )
        return value


class Control(_Strict):
    """control.json: the operator's intent, applied by the engine between cycles."""

    schema_version: int = Field(description="must equal the engine's SCHEMA_VERSION")
    generation: int = Field(
        ge=0, le=MAX_GENERATION, description="+1 on every write; at most 2**53 (what every JSON reader keeps exactly)"
    )
    updated_at: str = Field(default="", max_length=64)
    updated_by: str = Field(default="", max_length=256)
    paused: bool = False
    paused_slots: list[str] = Field(default_factory=list, max_length=4096)
    overrides: dict[str, JsonValue] = Field(default_factory=dict)
    commands: list[Command] = Field(default_factory=list, max_length=256)
    risk: RiskLimits = Field(default_factory=RiskLimits, description="engine-level risk limits, validated all or nothing")
    risk_resume: str = Field(
        default="", max_length=64, description="the id of the tripped risk limit (status risk.tripped.id) the operator resumes from"
    )

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"unknown schema_version {value} (this engine speaks {SCHEMA_VERSION})")
        return value

    @field_validator("paused_slots")
    @classmethod
    def _slot_ids(cls, value: list[str]) -> list[str]:
        import re

        bad = [s for s in value if not re.fullmatch(SLOT_ID_PATTERN, s)]
        if bad:
            raise ValueError(f"not a slot id: {bad[0]!r}")
        return sorted(set(value))

    @field_validator("commands")
    @classmethod
    def _unique_ids(cls, value: list[Command]) -> list[Command]:
        seen: set[str] = set()
        for command in value:
            if command.id in seen:
                raise ValueError(f"duplicated command id {command.id!r}")
            seen.add(command.id)
        return value


# ---------------------------------------------------------------------- status


class EngineInfo(_Open):
    pid: int
    host: str
    user: str = ""
    started_at: str
    boot_id: str
    state: Literal["running", "paused"]
    cycle: int
    cycle_interval_s: float
    last_cycle_ms: float
    worst_cycle_ms: float = 0.0
    overruns: int = 0
    speed: float = 1.0
    sim_time: float = 0.0
    feed: str = "sim"
    maker: str = Field(default="", description="the paper market maker quoting the shares, with its parameters")
    strategies_path: str = ""
    persist_ok: bool = True
    persist_error: str | None = None
    stopped_at: str | None = Field(default=None, description="set in the last status of an engine that stopped cleanly")


class Ack(_Open):
    id: str
    type: str
    result: AckResult
    at: str
    detail: str = ""
    final: bool = Field(
        default=True, description="false while the swapped-in code is in probation: the result may still become rolled_back"
    )

    @property
    def outcome(self) -> str:
        """What happened, in the operator's words: applied, refused, rolled back, check passed, check failed.

        A check swaps nothing, so "applied" would mislead: it passed or it failed.
        """
        if self.type == "check" and self.result != "rolled_back":
            return "check passed" if self.result == "applied" else "check failed"
        return {"applied": "applied", "rejected": "refused", "rolled_back": "rolled back"}[self.result]


class AppliedIntent(_Open):
    paused: bool = False
    paused_slots: list[str] = Field(default_factory=list)
    overrides: dict[str, JsonValue] = Field(default_factory=dict)


class ControlStatus(_Open):
    observed_generation: int = 0
    rejected_generation: int = Field(
        default=0, description="the last generation refused whole; its reason is in warnings"
    )
    rejected_reason: str | None = Field(
        default=None, description="why the last refused control.json was refused: that write's reason alone"
    )
    acks: list[Ack] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    applied: AppliedIntent = Field(default_factory=AppliedIntent)
    applied_digest: str = Field(
        default="",
        description="sha256 of the control.json bytes whose intent is in force ('' before any): a writer finding "
        "other bytes at the applied generation knows the file was edited by hand and builds on `applied` instead",
    )


class ModuleInfo(_Open):
    name: str
    path: str = ""
    sha256: str
    loaded_at: str


class LastReload(_Open):
    ok: bool
    kind: str = "reload"
    at: str
    duration_ms: float  # the pause: how long the cycle loop stood still for it
    changed: list[str] = Field(default_factory=list)
    error: str | None = None
    # Read, compile, execute, check and smoke test done between cycles, before the
    # boundary that applied it (not part of the pause); None when done at the boundary.
    prepared_ms: float | None = None


class CodeFailure(_Open):
    """A version that failed live: how, where, in which slots, and what runs since."""

    version: str
    how: str = Field(description="timeout, exception, exit (SystemExit and the like raised by strategy code), invalid")
    error: str = Field(description="the first error, file:line: message")
    slots: list[str] = Field(default_factory=list)
    at: str
    now_running: str | None = Field(default=None, description="the version rolled back to; null when there was none and it keeps running")


class KeptVersion(_Open):
    """One version in the engine's version store (state dir `versions/`)."""

    version: str
    loaded_at: str
    state: str = Field(description="probation, running, replaced, rolled_back, failed")
    ended_at: str | None = None
    reason: str | None = None
    modules: list[ModuleInfo] = Field(default_factory=list, description="name and sha256: the source is versions/blobs/SHA256")


class DecisionBrief(_Open):
    """One decision as a preview or a shadow compares it."""

    direction: Direction
    confidence: float
    enter: bool = False
    reason: str = ""


class PreviewRow(_Open):
    slot: str
    live: DecisionBrief | None = None
    candidate: DecisionBrief | None = None
    differs: bool = False


class ParamChange(_Open):
    name: str
    change: Literal["new", "removed", "default"]
    old: JsonValue = None
    new: JsonValue = None


class CodePreview(_Open):
    """What a checked candidate would decide on this cycle's market, beside the running code."""

    commands: list[str] = Field(default_factory=list, description="the check commands it answers")
    at: str
    cycle: int
    running: str
    candidate: str
    summary: str = Field(default="", description='e.g. "would change 5 of 16 decisions, 2 entries"')
    slots: int = 0
    differ: int = 0
    entries_differ: int = 0
    rows: list[PreviewRow] = Field(default_factory=list, description="one per slot, the differing ones first")
    params: list[ParamChange] = Field(default_factory=list, description="new, removed and changed parameter defaults")
    diff: str = Field(default="", description="unified diff of the changed modules' source")
    error: str | None = Field(default=None, description="why the candidate's decisions could not be taken (the check still passed)")


class ShadowSlot(_Open):
    slot: str
    live: DecisionBrief | None = None
    shadow: DecisionBrief | None = None
    differs: bool = False
    compared: int = 0
    differ: int = 0
    entries_live: int = 0
    entries_shadow: int = 0
    pnl_live: float = 0.0
    pnl_shadow: float = 0.0


class ShadowStatus(_Open):
    """A candidate evaluated beside the running code each cycle, never trading (engine/shadow/runner.py)."""

    version: str
    base_version: str = Field(default="", description="the running version it is compared with")
    aa: bool = Field(default=False, description="the running code against itself (A/A): any difference is noise")
    aa_control: str | None = Field(
        default=None, description="the A/A control run before this shadow on the same base, in one line: its noise to read the differences against"
    )
    state: Literal["running", "ended", "dropped", "promoted"] = "running"
    reason: str | None = Field(default=None, description="why it ended, was dropped or promoted")
    started_at: str
    started_cycle: int = 0
    ended_at: str | None = None
    cycles: int = 0
    cycles_limit: int | None = None
    compared: int = 0
    differ: int = 0
    entries_live: int = 0
    entries_shadow: int = 0
    bets_live: int = Field(default=0, description="bets resolved in the live book since the shadow started")
    bets_shadow: int = Field(default=0, description="hypothetical bets resolved in the shadow's book")
    pnl_live: float = 0.0
    pnl_shadow: float = 0.0
    failures: int = 0
    skipped: int = Field(default=0, description="cycles with no room left for the shadow: it skipped them (resolving only)")
    last_ms: float = Field(default=0.0, description="what the shadow's last evaluation took")
    params_hash: str = ""
    slots: list[ShadowSlot] = Field(
        default_factory=list,
        description="the slots whose decisions differ (in the last cycle the shadow evaluated) or did, or that took or settled bets; every slot's "
        "shadow decision is also in slots[].shadow_signal while the shadow runs",
    )


class CodeStatus(_Open):
    version: str
    modules: list[ModuleInfo] = Field(default_factory=list)
    reloads: int = 0
    last_reload: LastReload | None = None
    previous_version: str | None = None
    last_good_version: str | None = Field(default=None, description="the version a restart falls back to")
    probation_left: int = Field(default=0, description="cycles in which an error still rolls the running version back at once")
    boot: str | None = Field(default=None, description="why this engine started on the version it runs")
    disk_version: str | None = Field(default=None, description="the version of the files in the strategies directory (a candidate until reloaded)")
    disk_differs: bool = Field(default=False, description="the strategies directory holds other code than what runs")
    last_failure: CodeFailure | None = None
    versions: list[KeptVersion] = Field(default_factory=list, description="kept versions, newest last")
    shadow: ShadowStatus | None = Field(default=None, description="the running or last shadow (until the next one)")
    preview: CodePreview | None = Field(default=None, description="the last passed check's preview")


class ParamsStatus(_Open):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    schema_: dict[str, Any] = Field(alias="schema", default_factory=dict)
    values: dict[str, Any] = Field(default_factory=dict)


class Signal(_Open):
    direction: Direction
    confidence: float
    path: str
    prob_up: float | None = None
    edge: float | None = None
    enter: bool = False
    reason: str = ""


class Position(_Open):
    side: Direction
    stake: float
    odds: float
    shares: float = 0.0
    entered_at: float
    code_version: str = Field(default="", description="the strategy version that took the bet")
    params_hash: str = Field(default="", description="engine/trading/params_hash.py of the parameter values in force when it was taken")


class SlotStatus(_Open):
    id: str
    asset: str
    window: str
    window_s: int
    state: SlotState
    paused: bool = False
    window_start: float
    window_end: float
    open_price: float
    price: float
    up_ask: float | None = None
    down_ask: float | None = None
    signal: Signal | None = None
    position: Position | None = None
    cooldown_until: float | None = None
    last_result: Literal["won", "lost"] | None = None
    last_pnl: float | None = None
    error: str | None = None
    feed: FeedState = Field(default="connected", description="how the asset's prices arrive; only connected takes entries")
    price_age_s: float | None = Field(default=None, description="seconds since the asset's last price")
    shadow_signal: Signal | None = Field(default=None, description="while a shadow runs: its decision in this slot in the last cycle it evaluated, this one unless it had no room (code.shadow.skipped)")


class Stats(_Open):
    open_positions: int = 0
    resolved: int = 0
    wins: int = 0
    win_rate: float | None = None
    win_rate_window: int = 50
    pnl: float = 0.0
    staked: float = 0.0
    pnl_history: list[float] = Field(default_factory=list, description="cumulative P&L after each recent resolution")


class FeedAssetStatus(_Open):
    state: FeedState = "connected"
    price_age_s: float | None = None
    symbol: str = ""


class FeedStatus(_Open):
    """Where the prices come from and how they arrive, per asset."""

    kind: str = "sim"
    state: FeedState = "connected"
    url: str = ""
    connects: int = 0
    drops: int = 0
    messages: int = 0
    malformed: int = Field(default=0, description="messages that were not valid JSON or a valid trade, skipped")
    unknown: int = Field(default=0, description="messages of a kind or symbol the feed does not use, skipped")
    last_error: str | None = None
    assets: dict[str, FeedAssetStatus] = Field(default_factory=dict)
class RiskTrip(_Open):
    id: str = Field(description="what Control.risk_resume names to resume")
    limit: str = Field(description="the RiskLimits field that tripped")
    figure: float = Field(description="the figure that reached the limit")
    threshold: float = Field(description="the limit's value")
    message: str
    at: float = Field(description="market time it tripped")
    day: str = Field(description="market day (UTC date)")
    cycle: int = 0


class RiskFigures(_Open):
    day: str = ""
    daily_pnl: float = 0.0
    consecutive_losses: int = 0
    peak_pnl: float = 0.0
    drawdown: float = 0.0
    open_stake: float = 0.0


class RiskStatus(_Open):
    limits: dict[str, int | float] = Field(default_factory=dict, description="the limits in force (unset ones left out)")
    figures: RiskFigures = Field(default_factory=RiskFigures)
    tripped: RiskTrip | None = Field(default=None, description="the limit that paused entries, until an operator resumes")
    skipped_entries: int = Field(default=0, description="entries skipped by max_open_stake since the engine started")


class Event(_Open):
    at: str
    kind: str
    message: str
    detail: dict[str, Any] = Field(default_factory=dict)


class StatusClock:
    """What every reader of status.json judges the same way, whatever part of it it decodes
    (`Status`, the fleet view's summary): the schema version, the status's age, staleness."""

    schema_version: int
    written_at: str
    engine: EngineInfo

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"unknown status schema_version {value} (this reader knows {SCHEMA_VERSION})")
        return value

    def age_s(self, now: datetime | None = None) -> float:
        now = now or datetime.now(UTC)
        return (now - parse_iso(self.written_at)).total_seconds()

    def is_stale(self, now: datetime | None = None) -> bool:
        return self.age_s(now) > 3 * max(self.engine.cycle_interval_s, 0.1)


class Status(StatusClock, _Open):
    """status.json: telemetry, written once a cycle."""

    max_bytes: ClassVar[int] = MAX_STATUS_BYTES  # readers' size limit (read_model)
    schema_version: int
    written_at: str
    engine: EngineInfo
    control: ControlStatus = Field(default_factory=ControlStatus)
    code: CodeStatus
    params: ParamsStatus = Field(default_factory=ParamsStatus)
    slots: list[SlotStatus] = Field(default_factory=list)
    # Once per asset, not per slot: both windows of an asset show the same prices. Readers
    # ignore unknown fields and default missing ones, so a reader or writer without it on the
    # other side shows no sparkline, never a wrong one.
    price_history: dict[str, list[float]] = Field(
        default_factory=dict,
        description="per asset, its recent prices oldest first, rounded for display: "
        "the sparkline every slot of that asset shows",
    )
    stats: Stats = Field(default_factory=Stats)
    events: list[Event] = Field(default_factory=list)
    feed: FeedStatus = Field(default_factory=FeedStatus)
    risk: RiskStatus = Field(default_factory=RiskStatus)


def control_json_schema() -> dict[str, Any]:
    return Control.model_json_schema()


def status_json_schema() -> dict[str, Any]:
    return Status.model_json_schema(by_alias=True)
