"""The overrides form, built from `params.schema` each time it opens.

Every field is parsed and checked against the schema (type, bounds, enum, list
items) before the form can be submitted, so a parameter a reload added shows up
without restarting the TUI and a value out of bounds is never written. Rules
the schema cannot say (fast EMA below slow) only the engine knows: the form
stays open until it answers, and a refusal keeps every value typed, with the
engine's reason under the fields it names.

The form follows the engine while it is open (another operator, `ctl set`): a
field the operator has not touched shows the value in force now, a typed one is
kept and the form says what changed under it, and `ctrl+s` compares against the
values in force at that moment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, Switch

from engine.contract.models import Status
from engine.contract.param_schema import ParamSpec, check_value, check_values, format_value, param_specs, parse_value
from foresight_tui.data_source import Outcome
from foresight_tui.screens.confirm import ConfirmScreen


@dataclass(frozen=True)
class OverrideRequest:
    values: dict[str, Any] = field(default_factory=dict)
    unset: tuple[str, ...] = ()  # overrides to drop: the strategy's own default applies again
    clear: bool = False


class ParamValidator(Validator):
    def __init__(self, spec: ParamSpec) -> None:
        super().__init__()
        self.spec = spec

    def validate(self, value: str) -> ValidationResult:
        try:
            parsed = parse_value(self.spec, value)
        except ValueError as exc:
            return self.failure(str(exc))
        problem = check_value(self.spec, parsed)
        return self.failure(problem) if problem else self.success()


def help_text(spec: ParamSpec, overridden: bool) -> str:
    parts = [spec.description] if spec.description else []
    if spec.bounds_text:
        parts.append(spec.bounds_text)
    if spec.has_default:
        parts.append(f"default {format_value(spec, spec.default) or '-'}")
    if overridden:
        parts.append("OVERRIDDEN")
    return " · ".join(parts)


def show_error(label: Label | Static, message: str) -> None:
    """A field's reason, on a line of its own under the field (none while it is fine): beside
    the field, 80 columns left it three letters."""
    label.update(Text(message))
    label.display = bool(message)


Send = Callable[[OverrideRequest, Callable[[Outcome | str], None]], None]


def fields_named(reason: str, names: list[str]) -> list[str]:
    """The parameters a refusal's reason names (longest first: `stake` is not `stake_max`)."""
    found: list[str] = []
    text = reason
    for name in sorted(names, key=len, reverse=True):
        if name in text:
            found.append(name)
            text = text.replace(name, "")
    return found


class OverridesScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply overrides"),
        Binding("ctrl+b", "default", "Back to default (focused parameter)"),
        Binding("ctrl+r", "clear", "Clear all overrides"),
    ]

    def __init__(
        self, schema: dict[str, Any], values: dict[str, Any], overrides: dict[str, Any], *, send: Send
    ) -> None:
        super().__init__()
        self.send = send
        self.waiting = False
        self.specs = param_specs(schema)
        self.in_force = dict(values)
        self.overrides = dict(overrides)
        self.to_default: set[str] = set()  # overridden parameters the operator set back to default
        self.shown: dict[str, Any] = {}  # what the form last put in each field: a field still so is untouched

    def current(self, spec: ParamSpec) -> Any:
        if spec.name in self.in_force:
            return self.in_force[spec.name]
        return spec.default

    @staticmethod
    def field_value(spec: ParamSpec, value: Any) -> Any:
        """What the field of `spec` holds to show `value`."""
        if spec.kind == "boolean":
            return bool(value)
        if spec.enum is not None:
            return value if value in spec.enum else spec.enum[0]
        return format_value(spec, value)

    def field_for(self, spec: ParamSpec) -> Widget:
        value = self.field_value(spec, self.current(spec))
        self.shown[spec.name] = value
        wid = f"param-{spec.name}"
        if spec.kind == "boolean":
            return Switch(value=value, id=wid, classes="-compact")
        if spec.enum is not None:
            options = [(str(option), option) for option in spec.enum]
            return Select(options, value=value, allow_blank=False, id=wid, compact=True)
        return Input(value=value, id=wid, validators=[ParamValidator(spec)], compact=True)

    def compose(self) -> ComposeResult:
        with Vertical(id="overrides-body", classes="dialog") as body:
            body.border_title = "Strategy parameters"
            body.border_subtitle = "ctrl+s apply · ctrl+b back to default · ctrl+r clear overrides · esc cancel"
            with VerticalScroll(id="param-list"):
                if not self.specs:
                    yield Static("The running strategy declares no parameters (or no status yet).")
                for spec in self.specs:
                    with Horizontal(classes="param-row"):
                        yield Label(Text(spec.name), classes="param-name")
                        yield self.field_for(spec)
                    yield Label("", id=f"error-{spec.name}", classes="param-error")
                    yield Static(Text(help_text(spec, spec.name in self.overrides)), id=f"help-{spec.name}",
                                 classes="param-help")  # fmt: skip
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Clear all overrides…", id="clear", variant="warning")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        if self.specs:
            self.query_one(f"#param-{self.specs[0].name}").focus()
        self.watch(self.app, "status", self.follow, init=False)

    def follow(self, status: Status | None) -> None:
        """The values in force now: untouched fields show them, typed ones are kept and named."""
        if status is None:
            return
        values, overrides = status.params.values, status.control.applied.overrides
        moved: list[str] = []
        for spec in self.specs:
            before = self.current(spec)
            now = values.get(spec.name, spec.default)
            if now != before:
                widget = self.query_one(f"#param-{spec.name}")
                if widget.value == self.shown[spec.name]:  # type: ignore[attr-defined]
                    self.shown[spec.name] = widget.value = self.field_value(spec, now)  # type: ignore[attr-defined]
                else:
                    moved.append(f"{spec.name} (now {format_value(spec, now)})")
            if (spec.name in overrides) != (spec.name in self.overrides):
                self.query_one(f"#help-{spec.name}", Static).update(Text(help_text(spec, spec.name in overrides)))
        self.in_force, self.overrides = dict(values), dict(overrides)
        if moved and not self.waiting:
            self.query_one("#form-error", Static).update(
                Text(f"changed in the engine while you typed: {', '.join(moved)}. Your values are kept; ctrl+s applies them.")
            )

    def read_form(self) -> tuple[dict[str, Any], dict[str, str]]:
        """Every field's typed value, and every problem by parameter name."""
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for spec in self.specs:
            widget = self.query_one(f"#param-{spec.name}")
            if isinstance(widget, Input):
                try:
                    values[spec.name] = parse_value(spec, widget.value)
                except ValueError as exc:
                    problems[spec.name] = str(exc)
            else:
                values[spec.name] = widget.value  # type: ignore[attr-defined]
        problems.update(check_values(self.specs, {k: v for k, v in values.items() if k not in problems}))
        return values, problems

    def show_problems(self, problems: dict[str, str]) -> None:
        for spec in self.specs:
            show_error(self.query_one(f"#error-{spec.name}", Label), problems.get(spec.name, ""))
        summary = self.query_one("#form-error", Static)
        summary.update(Text(f"{len(problems)} value(s) to fix before applying" if problems else ""))

    def action_apply(self) -> None:
        if self.waiting:  # one write at a time from the form: the engine has not answered the last
            self.query_one("#form-error", Static).update(Text("still waiting for the engine's answer to the last apply (esc closes)"))
            return
        values, problems = self.read_form()
        self.show_problems(problems)
        if problems:
            first = next(spec.name for spec in self.specs if spec.name in problems)
            self.query_one(f"#param-{first}").focus()
            return
        # Set back to the default and left there: drop the override rather than pin today's default.
        unset = tuple(
            spec.name for spec in self.specs if spec.name in self.to_default and values[spec.name] == spec.default
        )
        changed = {
            name: value for name, value in values.items() if name not in unset and value != self.current_value(name)
        }
        if not changed and not unset:
            self.query_one("#form-error", Static).update("Nothing changed.")
            return
        self.send_request(OverrideRequest(values=changed, unset=unset))

    def send_request(self, request: OverrideRequest) -> None:
        """Written at once; the form stays open, its values kept, until the engine answers."""
        self.waiting = True
        self.query_one("#form-error", Static).update(Text("sent: waiting for the engine's answer (esc closes; it is still shown)"))
        self.query_one("#form-error").set_class(False, "-refused")
        self.send(request, self.answered)

    def answered(self, answer: Outcome | str) -> None:
        self.waiting = False
        if not self.is_attached:
            return  # closed meanwhile: the app's toast and log say what happened
        if isinstance(answer, Outcome) and answer.ok:
            self.dismiss(None)
            return
        reason = answer if isinstance(answer, str) else answer.detail or "refused by the engine"
        summary = self.query_one("#form-error", Static)
        summary.update(Text(f"refused: {reason}. Your values are kept: fix them and apply again, or esc."))
        summary.set_class(True, "-refused")
        named = fields_named(reason, [spec.name for spec in self.specs])
        for name in named:
            show_error(self.query_one(f"#error-{name}", Label), f"engine: {reason}")
        if named:
            self.query_one(f"#param-{named[0]}").focus()

    def current_value(self, name: str) -> Any:
        spec = next(spec for spec in self.specs if spec.name == name)
        return self.current(spec)

    def action_default(self) -> None:
        """The focused parameter back to the strategy's default (its override dropped on apply)."""
        focused = self.focused
        name = (focused.id or "").removeprefix("param-") if focused is not None else ""
        spec = next((spec for spec in self.specs if spec.name == name), None)
        if spec is None or not spec.has_default:
            self.notify("Focus a parameter that has a default first.", severity="warning")
            return
        if isinstance(focused, Input):
            focused.value = format_value(spec, spec.default)
        elif isinstance(focused, Switch):
            focused.value = bool(spec.default)
        elif isinstance(focused, Select):
            focused.value = spec.default
        if name in self.overrides:
            self.to_default.add(name)

    def action_clear(self) -> None:
        """Every override dropped at once: asked first, with the list of what goes."""
        if not self.overrides:
            self.query_one("#form-error", Static).update(Text("No override in force: nothing to clear."))
            return
        specs = {spec.name: spec for spec in self.specs}
        lines = ["Every parameter goes back to the strategy's default:", ""]
        for name, value in sorted(self.overrides.items()):
            spec = specs.get(name)
            default = format_value(spec, spec.default) if spec is not None and spec.has_default else "?"
            shown = format_value(spec, value) if spec is not None else str(value)
            lines.append(f"  {name}: {shown} -> {default}")

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.send_request(OverrideRequest(clear=True))

        count = len(self.overrides)
        self.app.push_screen(ConfirmScreen(f"Drop {count} override{'s' if count > 1 else ''}?", lines,
                                           "Drop them"), confirmed)  # fmt: skip

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Changed)
    def changed(self, event: Input.Changed) -> None:
        """Live feedback: a field's message follows its validity as the operator types."""
        name = (event.input.id or "").removeprefix("param-")
        result = event.validation_result
        message = "; ".join(result.failure_descriptions) if result is not None and not result.is_valid else ""
        if self.is_mounted and name:
            show_error(self.query_one(f"#error-{name}", Label), message)

    @on(Input.Submitted)
    def submitted(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#apply")
    def apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#clear")
    def clear_pressed(self) -> None:
        self.action_clear()

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()
