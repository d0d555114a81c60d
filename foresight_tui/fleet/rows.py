"""One row of the fleet table per engine, and whether it is online, stale or offline (no Textual here).

online: its status is no older than 3 cycle intervals. stale: older, while its
process is still there (stuck, stopped, overloaded, or the link is down).
offline: the engine stopped, its process is gone, its bridge's presence expired,
or no status for OFFLINE_AFTER (Passivbot's monitor: max(90 s, 12 intervals)).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from engine.contract.fleet.envelope import Presence
from foresight_tui.fleet.summary import StatusSummary


class Link(StrEnum):
    ONLINE = "online"
    STALE = "stale"
    OFFLINE = "offline"


def offline_after_s(status: StatusSummary) -> float:
    return max(90.0, 12 * status.engine.cycle_interval_s)


@dataclass(frozen=True)
class Liveness:
    """What the source knows beside the status: the process, the bridge, the link."""

    process_alive: bool | None = None  # None: cannot be probed from here
    presence: Presence | None = None
    via_bridge: bool = False  # over NATS: a missing presence means the bridge is gone
    link_down_since: str | None = None  # our own connection to NATS, when it is down


def link_state(status: StatusSummary | None, live: Liveness, now: datetime) -> tuple[Link, str]:
    """The state and the reason shown beside it."""
    if status is None:
        return Link.OFFLINE, "no status published"
    age = status.age_s(now)
    if status.engine.stopped_at:
        return Link.OFFLINE, f"stopped at {status.engine.stopped_at[11:19]}"
    if live.via_bridge and live.presence is None and live.link_down_since is None:
        return Link.OFFLINE, f"bridge gone, last status {age:.0f}s ago"
    alive = live.process_alive
    if live.presence is not None and live.presence.engine_alive is not None:
        alive = live.presence.engine_alive
    if alive is False and status.is_stale(now):
        return Link.OFFLINE, f"process gone, last status {age:.0f}s ago"
    if age > offline_after_s(status):
        return Link.OFFLINE, f"silent {age:.0f}s"
    if status.is_stale(now):
        why = f"NATS down since {live.link_down_since[11:19]}" if live.link_down_since else "no new status"
        return Link.STALE, f"{why}, {age:.1f}s old"
    return Link.ONLINE, ""


def alerts(status: StatusSummary) -> str:
    found: list[str] = []
    if status.risk.tripped is not None:
        found.append(f"risk {status.risk.tripped.limit} tripped")
    if status.code.last_failure is not None:
        found.append("code failure")
    if status.control.warnings:
        found.append(f"{len(status.control.warnings)} control warning(s)")
    if status.feed.last_error:
        found.append("feed trouble")
    errors = sum(1 for slot in status.slots if slot.error)
    if errors:
        found.append(f"{errors} slot error(s)")
    return ", ".join(found) or "-"


@dataclass(frozen=True)
class StatusCells:
    """What a row shows of one status: made once when the status arrives, not at every repaint."""

    host: str
    state: str  # running / paused / paused (risk) / -
    cycle: str
    open_positions: str
    pnl_today: str
    version: str
    last_reload: str
    alerts: str


NO_STATUS = StatusCells("?", "-", "-", "-", "-", "-", "-", "-")


def status_cells(status: StatusSummary) -> StatusCells:
    e, code = status.engine, status.code
    reload = code.last_reload
    last = "-" if reload is None else f"{reload.kind} {'ok' if reload.ok else 'refused'} {reload.at[11:19]}"
    state = "paused" if e.state == "paused" else "running"
    if status.risk.tripped is not None:
        state = "paused (risk)"
    return StatusCells(
        host=e.host, state=state, cycle=str(e.cycle), open_positions=str(status.stats.open_positions),
        pnl_today=f"{status.risk.figures.daily_pnl:+.2f}", version=code.version, last_reload=last, alerts=alerts(status),
    )  # fmt: skip


@dataclass(frozen=True)
class FleetRow:
    name: str
    link: Link
    why: str
    shown: StatusCells  # what its last status says, or NO_STATUS

    def cells(self) -> tuple[str, ...]:
        link = f"{self.link.value} ({self.why})" if self.why else self.link.value
        s = self.shown
        return (self.name, s.host, link, s.state, s.cycle, s.open_positions, s.pnl_today,
                s.version, s.last_reload, s.alerts)  # fmt: skip


COLUMNS = ("engine", "host", "link", "state", "cycle", "open", "P&L today", "code", "last reload", "alerts")


def row_for(
    name: str, status: StatusSummary | None, live: Liveness, now: datetime | None = None, cells: StatusCells | None = None
) -> FleetRow:
    """`cells`: status_cells(status) made before, when the caller keeps them beside the status."""
    now = now or datetime.now(UTC)
    link, why = link_state(status, live, now)
    if status is None:
        shown = NO_STATUS if live.presence is None else replace(NO_STATUS, host=live.presence.host)
    else:
        shown = cells or status_cells(status)
    return FleetRow(name, link, why, shown)
