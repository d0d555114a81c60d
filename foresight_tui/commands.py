"""The command palette (ctrl+p or `:`): every action of Mission Control, by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (name shown, app action, help)
COMMANDS: list[tuple[str, str, str]] = [
    ("Pause engine", "pause_engine", "No new entries anywhere; open positions still resolve (p)"),
    ("Resume engine", "resume_engine", "Allow new entries again (r)"),
    ("Pause/resume focused slot", "toggle_slot_pause", "Toggle the slot under the cursor (space or s)"),
    ("Slot detail", "slot_detail", "Everything the status holds for the focused slot (enter)"),
    ("First slot", "first_slot", "Move to the first card shown (1; 2..9 jump further)"),
    ("Reload strategy code", "reload", "Shows the files changed on disk, then asks (R)"),
    ("Check-only reload", "check", "Prepare and check the code on disk without swapping it in (c)"),
    ("Roll back strategy code", "rollback", "Return to the previous code version, after confirming (b)"),
    ("Strategy versions", "versions", "Kept versions, how each ended, the diff against the running one (v)"),
    ("Shadow deploy: code on disk beside the running code", "shadow", "Its decisions and paper P&L beside the live ones; promote or drop (S)"),
    ("Override parameters", "overrides", "Form built from the strategy's parameter schema (o)"),
    ("Events: every event, filter and search", "events", "events.jsonl, not only the last 30 (e)"),
    ("In force: overrides, pauses, market", "info", "Everything the engine applies now, in full (i)"),
    ("Trades", "trades", "The ledger's bets: sort, filter, live (t)"),
    ("Performance", "performance", "Figures by asset, window, version, day; P&L over time (g)"),
    ("Risk limits", "risk_limits", "The engine's own limits: daily loss, losing streak, drawdown, open stake (L)"),
    ("Filter slots", "filter", "Show only slots matching a text (/)"),
    ("Clear filter", "clear_filter", "Show every slot again (esc)"),
    ("Help: every key", "help", "(?)"),
    ("Quit Mission Control", "quit", "Leaves the engine running (q)"),
]


class MissionControlCommands(Provider):
    def _enabled(self) -> list[tuple[str, str, str]]:
        app = self.app
        return [c for c in COMMANDS if app.check_action(c[1], ())]

    async def discover(self) -> Hits:
        for name, action, help_text in self._enabled():
            yield DiscoveryHit(name, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, help_text in self._enabled():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self.app.run_action, action), help=help_text)
