"""The risk limits form (L): the engine's own limits, beside the strategy's parameters.

Every field is checked against the contract's RiskLimits before anything is
written, all four together: one bad value refuses the form, with the reason under
the field. An empty field means no limit. Each field shows its limit exactly, and
only the fields the operator changed are written (onto the limits in force then),
so opening the form to change one limit never rewrites the others. Writing new
limits never clears a trip: resuming (r) does.
"""

from __future__ import annotations

from pydantic import ValidationError
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from engine.contract.models import RiskLimits, RiskStatus
from foresight_tui.risk_text import limit_text
from foresight_tui.screens.overrides import show_error

FIELDS: tuple[tuple[str, str], ...] = (
    ("max_daily_loss", "dollars lost in one market day (UTC)"),
    ("max_consecutive_losses", "losses in a row"),
    ("max_drawdown", "dollars below the P&L's peak"),
    ("max_open_stake", "dollars at stake in open bets (a cap: entries beyond it are skipped)"),
)


def figure_of(name: str, risk: RiskStatus) -> str:
    f = risk.figures
    return {
        "max_daily_loss": f"now: day {f.day} P&L {f.daily_pnl:+.2f}",
        "max_consecutive_losses": f"now: {f.consecutive_losses} in a row",
        "max_drawdown": f"now: {f.drawdown:.2f} below the peak {f.peak_pnl:+.2f}",
        "max_open_stake": f"now: {f.open_stake:.2f} at stake",
    }[name]


LimitChanges = dict[str, int | float | None]  # the limits the operator changed; None: no limit


def parse_limits(raw: dict[str, str], current: dict[str, int | float] | None = None) -> tuple[LimitChanges | None, dict[str, str]]:
    """The fields in `raw` as limit values, checked together with the `current` limits they
    leave alone, or the reason of each bad field (nothing is half taken)."""
    values: LimitChanges = {}
    errors: dict[str, str] = {}
    for name, text in raw.items():
        text = text.strip()
        if not text:
            values[name] = None
            continue
        try:
            values[name] = int(text) if name == "max_consecutive_losses" else float(text)
        except ValueError:
            errors[name] = "a whole number" if name == "max_consecutive_losses" else "a number of dollars"
    if errors:
        return None, errors
    try:
        RiskLimits.model_validate({**(current or {}), **values})
    except ValidationError as exc:
        for error in exc.errors():
            errors[str(error["loc"][0])] = str(error["msg"])
        return None, errors
    return values, {}


class RiskLimitsScreen(ModalScreen[LimitChanges | None]):
    CSS_PATH = "books.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply limits"),
    ]

    def __init__(self, risk: RiskStatus) -> None:
        super().__init__()
        self.risk = risk
        # What each field showed when it opened: a field still showing it is not written.
        self.shown = {name: "" if risk.limits.get(name) is None else limit_text(risk.limits[name]) for name, _ in FIELDS}

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="risk-body", classes="dialog") as body:
            body.border_title = Text("Risk limits (the engine's own)")
            body.border_subtitle = "ctrl+s applies all or nothing · empty = no limit · esc cancels"
            if self.risk.tripped is not None:
                yield Static(Text(f"TRIPPED: {self.risk.tripped.message}", style="bold"), id="risk-tripped")
            for name, what in FIELDS:
                with Horizontal(classes="param-row"):
                    yield Label(name, classes="param-name")
                    yield Input(value=self.shown[name], placeholder="no limit", id=f"risk-{name}", compact=True)
                yield Static("", id=f"risk-error-{name}", classes="param-error")
                yield Static(Text(f"{what} · {figure_of(name, self.risk)}"), classes="param-help")
            yield Static("Nothing changed: every field shows the limit in force.", id="risk-note")

    def on_mount(self) -> None:
        self.query_one(f"#risk-{FIELDS[0][0]}", Input).focus()

    def action_apply(self) -> None:
        typed = {name: self.query_one(f"#risk-{name}", Input).value for name, _ in FIELDS}
        raw = {name: text for name, text in typed.items() if text.strip() != self.shown[name]}
        changes, errors = parse_limits(raw, self.risk.limits)
        for name, _ in FIELDS:
            show_error(self.query_one(f"#risk-error-{name}", Static), errors.get(name, ""))
        note = self.query_one("#risk-note", Static)
        note.display = changes == {}
        if changes:
            self.dismiss(changes)

    def action_cancel(self) -> None:
        self.dismiss(None)
