"""A restart must trade every slot that holds an open position: none is left unsettled.

The engine refuses to start on a slot set (`--assets`, `--windows`) that no longer
covers an open position of the state it resumes, and lists them: a position on a
slot the engine does not run would never be priced, shown or settled, yet would
count against `max_open_positions`. The operator restarts with the slots included
(pausing them with `ctl pause-slot` if no new bets are wanted there) until they
have resolved, then narrows the set.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.trading.state import TradingState
from engine.trading.state_damage import StateFileError


class UncoveredPositions(StateFileError):
    pass


def check_coverage(state: TradingState, slot_ids: Iterable[str]) -> None:
    configured = set(slot_ids)
    orphaned = sorted(
        (slot_id, slot) for slot_id, slot in state.slots.items() if slot.position is not None and slot_id not in configured
    )
    if not orphaned:
        return
    listed = ", ".join(
        f"{slot_id} ({slot.position.side} ${slot.position.stake:g}, window ends {slot.window_start + slot.window_s:.0f})"
        for slot_id, slot in orphaned
        if slot.position is not None
    )
    assets = sorted({slot.asset for _, slot in orphaned})
    raise UncoveredPositions(
        f"refusing to start: {len(orphaned)} open position(s) on slots this --assets/--windows does not trade: {listed}. "
        f"Start with those slots included (assets {','.join(assets)}; pause them with `foresight ctl pause-slot` "
        f"to stop new bets there) until they resolve, then narrow the slot set"
    )
