"""A restart must trade every slot that holds an open position: none is left unsettled.

The engine refuses to start on a slot set (`--assets`, `--windows`) that no longer
covers an open position of the state it resumes, and lists them: a position on a
slot the engine does not run would never be priced, shown or settled, yet would
count against `max_open_positions`. The operator restarts with the slots included
(pausing them with `ctl pause-slot` if no new bets are wanted there) until they
have resolved, then narrows the set.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from engine.trading.slots import SlotSpec, window_label
from engine.trading.state import TradingState
from engine.trading.state_damage import StateFileError


class UncoveredPositions(StateFileError):
    pass


def check_coverage(state: TradingState, specs: Sequence[SlotSpec]) -> None:
    configured = {spec.id for spec in specs}
    orphaned = sorted(
        (slot_id, slot) for slot_id, slot in state.slots.items() if slot.position is not None and slot_id not in configured
    )
    if not orphaned:
        return
    listed = ", ".join(
        f"{slot_id} ({slot.position.side} ${slot.position.stake:g}, window ends {_utc(slot.window_start + slot.window_s)})"
        for slot_id, slot in orphaned
        if slot.position is not None
    )
    # The flags that keep what was asked and add what the positions need, in that order.
    assets = list(dict.fromkeys([*(spec.asset for spec in specs), *(slot.asset for _, slot in orphaned)]))
    windows = list(dict.fromkeys([*(spec.window_s for spec in specs), *(slot.window_s for _, slot in orphaned)]))
    raise UncoveredPositions(
        f"refusing to start: {len(orphaned)} open position(s) on slots this --assets/--windows does not trade: {listed}. "
        f"Until they resolve, restart with --assets {','.join(assets)} --windows {','.join(window_label(w) for w in windows)} "
        f"(pause those slots with `foresight ctl pause-slot` to stop new bets there), then narrow the slot set"
    )


def _utc(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
