"""A state resumed on another market than the one that made it.

Every command defaults to one state directory, so a replay and then a live feed can meet
in one book. Open bets of one market would settle on another's prices (a March ETH bet
settled on December's price): the engine refuses to start, saying which feed made them.
With no bet open, the book (P&L, results) goes on and the market starts afresh on the
new feed: no price history or market time of the old one is carried into it.
"""

from __future__ import annotations

from engine.trading.state import TradingState
from engine.trading.state_damage import StateFileError


class OtherMarket(StateFileError):
    pass


def market_change(state: TradingState, source: str) -> str | None:
    """None when `state` goes on on its own market; else what starting afresh on `source` means.
    Raises OtherMarket when open bets of the other market would settle on this one."""
    made_on = state.market.source
    if not made_on or made_on == source:
        return None
    open_bets = sorted(slot_id for slot_id, slot in state.slots.items() if slot.position is not None)
    if open_bets:
        raise OtherMarket(
            f"refusing to start: the state was made on --feed {made_on} and holds {len(open_bets)} open bet(s) "
            f"({', '.join(open_bets[:6])}{' ...' if len(open_bets) > 6 else ''}) that would settle on the prices of "
            f"--feed {source}, another market. Start with --feed {made_on} until they resolve, or give this feed "
            "a book of its own with another --state-dir"
        )
    return (
        f"the book in this state directory was made on --feed {made_on}; its market starts afresh on --feed {source} "
        f"(no price history or market time of {made_on} carried over); its P&L and results so far are {made_on}'s. "
        "Another --state-dir keeps each feed's book apart"
    )
