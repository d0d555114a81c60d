"""What the header says, fitted to a width (no Textual here).

Each row is a left side of parts in priority order and a right side that is never
cut (the heartbeat, the pending line, the modes). When the row is too narrow the
left parts fall back to their short forms, last part first, then the last parts
go, except the ones marked `keep` (why entries are paused, a tripped limit, code
changed on disk): the first part shortens before those go. Whatever room is left
then goes back to the parts, in order. The state, the pending write and the
heartbeat always show whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.contract.models import LastReload, Status
from foresight_tui import formatting as fmt
from foresight_tui.data_source import EngineState, View
from foresight_tui.risk_text import risk_text, risk_word

GAP = "  "
SHOWN_NAMES = 3  # overrides and paused slots named on the header; the rest is a count (`i` lists all)
REPLAY_FILES_SHOWN = 2  # a replay's files named on the header, within 80 columns beside the cycle
FILE_NAME_CHARS = 28


@dataclass(frozen=True)
class Part:
    text: str
    short: str | None = None  # what it shrinks to when the row is narrow; None: it goes whole
    style: str = ""  # a theme variable name: "warning", "error", "accent", "success", "muted"
    keep: bool = False  # never dropped for room (only shortened): what the operator must not miss


Row = tuple[list[Part], list[Part]]  # (left, right)


def shortened(part: Part) -> Part:
    if part.short is not None and len(part.short) < len(part.text):
        return Part(part.short, None, part.style, part.keep)
    return part


def fit(row: Row, width: int) -> list[tuple[str, str]]:
    """The row as (text, style) segments, exactly `width` characters wide."""
    original, right = row
    right_text = GAP.join(p.text for p in right)
    room = max(0, width - len(right_text) - (1 if right_text else 0))
    shown: dict[int, Part] = dict(enumerate(original))  # by position; a part dropped is absent

    def length(parts: dict[int, Part]) -> int:
        return len(GAP.join(p.text for _, p in sorted(parts.items())))

    def fits() -> bool:
        return length(shown) <= room

    later = range(len(original) - 1, 0, -1)
    # Cheapest first: shorten the later parts, drop those that may go, shorten the first, and only
    # then drop the parts that are kept.
    for index in later:
        if fits():
            break
        shown[index] = shortened(shown[index])
    for index in later:
        if not fits():
            if not original[index].keep:
                shown.pop(index)
    if original and not fits():
        shown[0] = shortened(shown[0])
    for index in later:
        if not fits():
            shown.pop(index, None)
    # Room left over goes back: a dropped part (short) first, then whole texts, in priority order.
    for index in range(1, len(original)):
        if index not in shown and length({**shown, index: shortened(original[index])}) <= room:
            shown[index] = shortened(original[index])
    for index in sorted(shown):
        if shown[index] != original[index] and length({**shown, index: original[index]}) <= room:
            shown[index] = original[index]
    left = [part for _, part in sorted(shown.items())]
    if left and length(shown) > room:
        left[0] = Part(left[0].text[: max(0, room - 1)] + "…", None, left[0].style)
    segments: list[tuple[str, str]] = []
    for n, part in enumerate(left):
        if n:
            segments.append((GAP, ""))
        segments.append((part.text, part.style))
    used = len(GAP.join(p.text for p in left))
    if right_text:
        pad = max(1, width - used - len(right_text))
        segments.append((" " * pad, ""))
        for n, part in enumerate(right):
            if n:
                segments.append((GAP, ""))
            segments.append((part.text, part.style))
    text_len = sum(len(t) for t, _ in segments)
    if text_len > width:  # the right side alone is wider than the row: keep its end
        joined = "".join(t for t, _ in segments)
        return [(joined[-width:] if width > 0 else "", right[-1].style if right else "")]
    segments.append((" " * (width - text_len), ""))
    return segments


def file_name(path: str, limit: int = FILE_NAME_CHARS) -> str:
    """A replay file's name, cut in its middle to `limit` characters (its suffix kept)."""
    name = Path(path.strip()).name
    if len(name) <= limit:
        return name
    suffix = Path(name).suffix
    return name[: limit - 1 - len(suffix)] + "…" + suffix


def market_mode(status: Status, files_shown: int | None = REPLAY_FILES_SHOWN) -> str:
    """PAPER always (this engine places no real order), and where its prices come from: a
    replay's files by name, the first `files_shown` and a count of the rest (None: all)."""
    e = status.engine
    feed = e.feed or "sim"
    if feed == "sim":
        source = f"SIMULATED ×{e.speed:g}"
    elif feed.startswith("replay:"):
        names = [file_name(p) for p in feed.removeprefix("replay:").split(",") if p.strip()]
        shown = ", ".join(names) if files_shown is None else named(names, files_shown)
        source = f"REPLAY {shown} ×{e.speed:g}"
    else:
        source = f"LIVE {feed}"
    return f"PAPER · {source}"


def feed_trouble(status: Status) -> str:
    """Any asset whose prices are not arriving (it takes no entries); empty while all are connected."""
    feed = status.feed
    troubled = [(a, h) for a, h in feed.assets.items() if h.state != "connected"]
    if feed.state == "connected" and not troubled:
        return ""
    named = ", ".join(f"{a} {h.state}" for a, h in troubled[:4]) + (" …" if len(troubled) > 4 else "")
    return f"⚠ feed {feed.kind} {feed.state}" + (f": {named}" if named else "")


def reload_words(last: LastReload) -> tuple[str, str]:
    """The last code change as what it was: applied, check passed or failed, refused, rolled back."""
    if last.kind == "auto_rollback":
        return "ROLLED BACK", "error"
    if last.kind == "check":
        return ("check passed", "success") if last.ok else ("check failed", "warning")
    if last.ok:
        return "applied", ""
    return "refused", "warning"


def engine_row(view: View) -> Row:
    status = view.status
    if status is None and view.exited:
        return [Part(view.exited, "engine exited", "error")], []
    if status is None and view.problem:  # a file is there, but none of it could be read yet
        return [Part("no readable status.json: start the engine (foresight engine) on this state directory; it rewrites the file",
                     "no readable status.json", "warning")], []  # fmt: skip
    if status is None:
        return [Part("no status.json yet: start the engine (foresight engine) on this state directory",
                     "no status.json yet", "muted")], []  # fmt: skip
    e = status.engine
    left = [Part(market_mode(status), f"PAPER · {status.engine.feed.split(':')[0].upper()}", "accent")]
    if not e.persist_ok:  # trading goes on from memory: a crash now would lose what the disk did not take
        left.append(Part(f"⚠ NOT PERSISTING: {e.persist_error or 'a write failed'}", "⚠ NOT PERSISTING", "error", keep=True))
    trouble = feed_trouble(status)
    if trouble:
        left.append(Part(trouble, "⚠ feed " + status.feed.state, "warning", keep=True))
    if e.maker:
        left.append(Part(f"maker {e.maker.split(' ')[0]}", None, "muted"))
    if view.state.value.lower() != e.state:
        left.append(Part(f"last said {e.state}", None, "warning"))
    budget = e.cycle_interval_s * 1000
    slow = e.last_cycle_ms > budget
    cycle = f"cycle {e.cycle} · {e.last_cycle_ms:.0f}ms of {budget:.0f}ms" + (f" · {e.overruns} overruns" if e.overruns else "")
    left.append(Part(("⚠ " if slow else "") + cycle, f"cycle {e.cycle}", "warning" if slow else ""))
    left.append(Part(f"pid {e.pid}@{e.host}", f"pid {e.pid}"))
    stopped = view.state in (EngineState.DOWN, EngineState.STALE)
    up = f"up {fmt.duration(view.uptime_s)}" + (" then stopped" if view.state is EngineState.DOWN else "")
    left.append(Part(up, None, "muted" if stopped else ""))
    heartbeat = Part(f"heartbeat {fmt.age(view.age_s)}", None, "error" if stopped else "")
    return left, [heartbeat]


def code_row(view: View, changed_on_disk: int, pending: Part) -> Row:
    status = view.status
    if status is None:
        return [], [pending]
    code = status.code
    left = [Part(f"code {code.version} ({code.reloads} reloads)", f"code {code.version}")]
    last = code.last_reload
    if last is not None:
        word, style = reload_words(last)
        changed = f", {len(last.changed)} changed" if last.changed else ""
        text = f"last {last.kind.replace('_', ' ')} {word} at {fmt.utc_time(last.at)} ({last.duration_ms:.0f}ms{changed})"
        if last.error:
            text += f": {last.error}"
        left.append(Part(text, f"last {last.kind.replace('_', ' ')} {word}", style, keep=True))
    failure = code.last_failure
    if failure is not None:
        slots = ", ".join(failure.slots[:3])
        left.append(Part(f"{failure.version} FAILED ({failure.how}, {slots})", f"{failure.version} FAILED", "error", keep=True))
    if changed_on_disk:
        files = f"{changed_on_disk} file{'s' if changed_on_disk > 1 else ''} changed on disk"
        left.append(Part(files, f"{changed_on_disk} changed on disk", "accent", keep=True))
    elif code.disk_differs:
        left.append(Part(f"disk has {code.disk_version}, not running", "disk differs", "accent"))
    return left, [pending]


def pending_part(view: View, local_pending: int) -> Part:
    if view.pending or local_pending:
        return Part(
            f"pending: gen {view.control_generation} > observed {view.observed_generation} ({local_pending} mine)",
            None,
            "warning",
        )
    return Part(f"applied gen {view.observed_generation}", None, "muted")


def named(items: list[str], limit: int = SHOWN_NAMES) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" +{len(items) - limit}" if len(items) > limit else "")


def intent_row(view: View, state_dir: Path, modes: list[str]) -> Row:
    status = view.status
    left: list[Part] = []
    if status is not None:
        applied = status.control.applied
        overrides = [f"{k}={v}" for k, v in sorted(applied.overrides.items())]
        if overrides:
            left.append(Part(f"overrides: {named(overrides)}", f"overrides: {len(overrides)}", "accent"))
        else:
            left.append(Part("no overrides", None, "muted"))
        paused = [s.id for s in status.slots if s.paused]
        engine_paused = status.engine.state == "paused"
        if paused or engine_paused:
            what = ("ENGINE PAUSED" + (" · " if paused else "")) if engine_paused else ""
            slots = f"paused {named(paused)}" if paused else ""
            short = ("ENGINE PAUSED " if engine_paused else "") + (f"{len(paused)} paused" if paused else "")
            left.append(Part(what + slots, short.strip(), "warning", keep=True))
        risk = risk_text(status).strip()
        if risk:
            trip = status.risk.tripped
            if trip is not None:
                left.append(Part(risk, f"RISK {risk_word(trip.limit)} TRIPPED, r resumes", "error", keep=True))
            else:
                left.append(Part(risk, "risk limits"))
    left.append(Part(f"dir {state_dir}", f"dir …{str(state_dir)[-24:]}", "muted"))
    right = [Part(m, None, "accent") for m in modes] + [Part("i: all", None, "muted")]
    return left, right
