"""The footer: help and quit first, so a narrow terminal cuts the least needed keys, never those."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

FIRST = ("help", "quit", "command_palette")  # always visible, in this order; then the focused widget's keys


def footer_order(bindings: Iterable[tuple[Binding, bool, str]]) -> list[tuple[Binding, bool, str]]:
    by_action: dict[str, tuple[Binding, bool, str]] = {}
    for entry in bindings:
        by_action.setdefault(entry[0].action, entry)  # one key per action: the nearest widget's
    first = [by_action[a] for a in FIRST if a in by_action]
    return first + [e for a, e in by_action.items() if a not in FIRST]


class KeyFooter(Footer):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(compact=True, show_command_palette=False, **kwargs)  # type: ignore[arg-type]

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings.values()
        shown = footer_order((binding, enabled, tooltip) for (_, binding, enabled, tooltip) in active
                             if binding.show or binding.action == "command_palette")  # fmt: skip
        self.styles.grid_size_columns = len(shown)
        for binding, enabled, tooltip in shown:
            description = "Palette" if binding.action == "command_palette" else binding.description
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip or binding.description,
            ).data_bind(compact=Footer.compact)
