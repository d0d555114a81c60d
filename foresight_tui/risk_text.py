"""The header's word on the engine's risk limits (status.json `risk`)."""

from __future__ import annotations

from engine.contract.models import Status


def limit_text(value: float) -> str:
    """A limit exactly as the engine holds it (`float(limit_text(x)) == x`), whole numbers without `.0`."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


WORDS = {"max_daily_loss": "day", "max_consecutive_losses": "streak", "max_drawdown": "dd", "max_open_stake": "open"}


def risk_word(limit: str) -> str:
    """A limit's short name, as the header's `risk …` readout writes it."""
    return WORDS.get(limit, limit)


def risk_text(status: Status) -> str:
    """Empty without limits; the tripped limit first when one paused entries."""
    risk = status.risk
    if risk.tripped is not None:
        t = risk.tripped
        return f"  RISK {t.limit} TRIPPED ({t.figure:g} >= {t.threshold:g}): entries paused, r resumes"
    if not risk.limits:
        return ""
    f = risk.figures
    shown = {
        "max_daily_loss": f"day {f.daily_pnl:+.2f}/-{risk.limits.get('max_daily_loss', 0):g}",
        "max_consecutive_losses": f"streak {f.consecutive_losses}/{risk.limits.get('max_consecutive_losses', 0):g}",
        "max_drawdown": f"dd {f.drawdown:.2f}/{risk.limits.get('max_drawdown', 0):g}",
        "max_open_stake": f"open ${f.open_stake:g}/{risk.limits.get('max_open_stake', 0):g}",
    }
    return "  risk " + " ".join(text for name, text in shown.items() if name in risk.limits)
