"""The decision a strategy returns, checked: the fields it must have and the values they may hold."""

from __future__ import annotations

import math
from typing import Any

from engine.contract.models import Signal

# A slot's signal has one definition of its fields, the contract's `Signal` (what status.json
# carries), and two other forms where a boundary or the cycle's cost needs one: the strategy's
# own `Decision` dataclass (strategies import nothing of the engine; the check below compares
# it by these names) and the engine's `SignalRecord` (engine/trading/state.py: a slotted
# dataclass, one per slot per cycle, that a test keeps field for field with `Signal`).
DECISION_FIELDS = tuple(Signal.model_fields)
MAX_TEXT = 500


class InvalidDecision(ValueError):
    """A strategy returned something that is not a valid `Decision`."""

    def __init__(self, message: str, *, slot_id: str = "", file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.slot_id = slot_id
        self.file = file
        self.line = line
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        super().__init__(f"{where}invalid decision{f' for {slot_id}' if slot_id else ''}: {message}")


def _probability(value: Any) -> bool:
    return _number(value) and 0.0 <= float(value) <= 1.0


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_decision(decision: Any) -> None:
    """Raise `InvalidDecision` unless `decision` is None or a well-formed Decision."""
    if decision is None or _plainly_valid(decision):
        return
    if isinstance(decision, dict):
        # A dict's keys are not its attributes: saying "has no field 'direction'" of a dict that has
        # that key reads as a lie.
        raise InvalidDecision(
            f"evaluate returned a dict (keys {', '.join(map(str, decision)) or 'none'}); return a Decision "
            f"(or an object with the attributes {', '.join(DECISION_FIELDS)}): a dict's keys are not read"
        )
    values = {}
    for name in DECISION_FIELDS:
        try:
            values[name] = getattr(decision, name)
        except AttributeError:
            raise InvalidDecision(f"{type(decision).__name__} has no field {name!r}") from None
    problems = []
    if values["direction"] not in ("up", "down") or not isinstance(values["direction"], str):
        problems.append(f"direction={values['direction']!r} is not 'up' or 'down'")
    for name in ("confidence", "prob_up"):
        if not _probability(values[name]):
            problems.append(f"{name}={values[name]!r} is not a finite number in [0, 1]")
    if not _number(values["edge"]):
        problems.append(f"edge={values['edge']!r} is not a finite number")
    if not isinstance(values["enter"], bool):
        problems.append(f"enter={values['enter']!r} is not a bool")
    if not (isinstance(values["path"], str) and 0 < len(values["path"]) <= 64):
        problems.append(f"path={values['path']!r} is not a short non-empty str")
    if not (isinstance(values["reason"], str) and len(values["reason"]) <= MAX_TEXT):
        problems.append(f"reason is not a str of at most {MAX_TEXT} characters")
    if problems:
        raise InvalidDecision("; ".join(problems))


def _plainly_valid(decision: Any) -> bool:
    """The common case in one expression (it runs for every slot every cycle): floats in
    range (a NaN fails every comparison), exact str and bool. Anything else, ints included,
    goes through the checks above, which also say what is wrong."""
    try:
        direction, confidence, prob_up, edge = decision.direction, decision.confidence, decision.prob_up, decision.edge
        enter, path, reason = decision.enter, decision.path, decision.reason
    except AttributeError:
        return False
    return (
        type(direction) is str
        and (direction == "up" or direction == "down")
        and type(confidence) is float
        and 0.0 <= confidence <= 1.0
        and type(prob_up) is float
        and 0.0 <= prob_up <= 1.0
        and type(edge) is float
        and -math.inf < edge < math.inf
        and type(enter) is bool
        and type(path) is str
        and 0 < len(path) <= 64
        and type(reason) is str
        and len(reason) <= MAX_TEXT
    )


# --------------------------------------------------------------------- registry
