"""What the TUI says of a shadow (no Textual here): the cards' second line, the screen's text."""

from __future__ import annotations

from engine.contract.models import DecisionBrief, ShadowStatus, Status
from foresight_tui import formatting as fmt


def decision(d: DecisionBrief | None) -> str:
    if d is None:
        return "no signal"
    arrow = "▲" if d.direction == "up" else "▼"
    return f"{arrow} {d.direction} {d.confidence:.0%} {'ENTER' if d.enter else 'wait'}"


def card_lines(status: Status | None) -> dict[str, str]:
    """Per slot id, the shadow's decision where it differs from the live one this cycle."""
    shadow = status.code.shadow if status is not None else None
    if shadow is None or shadow.state != "running":
        return {}
    return {s.slot: f"shadow {decision(s.shadow)}" for s in shadow.slots if s.differs}


def totals(shadow: ShadowStatus) -> list[str]:
    kind = "A/A control: the running code against itself" if shadow.aa else f"candidate beside {shadow.base_version}"
    limit = f" of {shadow.cycles_limit}" if shadow.cycles_limit else ""
    lines = [
        f"{shadow.version}  {kind}",
        f"{shadow.state.upper()}" + (f": {shadow.reason}" if shadow.reason else "") + f"  since {fmt.utc_time(shadow.started_at)} UTC",
        f"cycles     {shadow.cycles}{limit}  ({shadow.skipped} skipped for lack of room, {shadow.failures} failures)",
        f"decisions  {shadow.differ} of {shadow.compared} differ",
        f"entries    live {shadow.entries_live}   shadow {shadow.entries_shadow}",
        f"P&L        live {fmt.money(shadow.pnl_live)} over {shadow.bets_live} bets   "
        f"shadow {fmt.money(shadow.pnl_shadow)} over {shadow.bets_shadow}",
    ]
    if shadow.aa_control:
        lines.insert(0, shadow.aa_control)
    if shadow.aa and shadow.compared and shadow.differ:
        lines.append("the A/A differs: the strategy is not deterministic, so differences of a candidate are partly noise")
    return lines


def most_differing(shadow: ShadowStatus, count: int = 8) -> list[str]:
    rows = sorted((s for s in shadow.slots if s.differ), key=lambda s: (-s.differ, s.slot))[:count]
    if not rows:
        return ["no slot differs"]
    return [
        f"{s.slot:<9} {s.differ:>4}/{s.compared:<5} live {decision(s.live):<22} shadow {decision(s.shadow):<22}"
        f" P&L {fmt.money(s.pnl_live)} / {fmt.money(s.pnl_shadow)}"
        for s in rows
    ]


def preview_stale(status: Status | None) -> bool:
    """The engine sees other code on disk than it runs, and has no preview of it yet."""
    if status is None or not status.code.disk_differs:
        return False
    preview, disk = status.code.preview, status.code.disk_version
    return preview is None or (disk is not None and preview.candidate != disk)


def preview_lines(status: Status | None, limit: int = 12) -> list[str]:
    """A check's preview for the reload confirmation, once there is one of the code now on disk."""
    if status is None:
        return []
    preview = status.code.preview
    if preview_stale(status):
        return ["Preview: checking the code on disk against this cycle's decisions..."]
    if preview is None or preview.candidate != status.code.disk_version:
        return []  # the engine sees no other code on disk than it runs: nothing to preview
    lines = [f"Preview at cycle {preview.cycle}: {preview.summary}"]
    if preview.error:
        lines.append(f"  the candidate failed on live data: {preview.error}")
    for row in [r for r in preview.rows if r.differs][:limit]:
        lines.append(f"  {row.slot:<9} live {decision(row.live):<22} new {decision(row.candidate)}")
    for change in preview.params:
        if change.change == "new":
            lines.append(f"  + parameter {change.name} (default {change.new!r})")
        elif change.change == "removed":
            lines.append(f"  - parameter {change.name} (was {change.old!r})")
        else:
            lines.append(f"  ~ {change.name} default {change.old!r} -> {change.new!r}")
    return lines
