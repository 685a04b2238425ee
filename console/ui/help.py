"""`?` help: every key of the console, read from the live bindings (config remaps included)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, NamedTuple

from rich.table import Table
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Static


class KeyRow(NamedTuple):
    """One binding as the help screen shows it."""

    group: str
    keys: str
    description: str
    binding_id: str


PANE_GROUPS: dict[str, str] = {
    "quotes": "Watchlist",
    "candles": "Chart",
    "blotter": "Blotter",
    "ladder": "Ladder",
    "order-entry": "Order ticket",
    "tape": "Tape",
}
"""Help section per pane id; keys there work while that pane has focus."""


def _group_name(node: DOMNode) -> str:
    if isinstance(node, App):
        return "Console"
    return PANE_GROUPS.get(node.id or "", type(node).__name__)


def key_rows(app: App[Any], nodes: Iterable[DOMNode]) -> list[KeyRow]:
    """Rows for the app's and each node's bindings with the keys they answer to right now."""
    keymap: Mapping[str, str] = getattr(app, "_keymap", {})
    merged: dict[tuple[str, str], KeyRow] = {}
    for node in (app, *nodes):
        group = _group_name(node)
        for _key, binding in node._bindings:
            if binding.system:
                continue
            keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
            key_text = ", ".join(
                app.get_key_display(Binding(k.strip(), "")) for k in keys.split(",")
            )
            description = binding.description or binding.tooltip or binding.action
            marker = (group, binding.action)
            old = merged.get(marker)
            if old is not None:  # one row per action, however many keys reach it
                if key_text in old.keys.split(", "):
                    continue
                key_text = f"{old.keys}, {key_text}"
                description = old.description
            merged[marker] = KeyRow(
                group, key_text, description, binding.id or (old.binding_id if old else "")
            )
    return list(merged.values())


class HelpScreen(ModalScreen[None]):
    """The keys table; escape, q or ? close it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%; background: $surface;
        border: round $primary; padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    def __init__(self, rows: list[KeyRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(title="Keys (remap any by its id under [keys] in the config)",
                      expand=True, show_edge=False, pad_edge=False)
        table.add_column("Where", style="bold", no_wrap=True)
        table.add_column("Keys", no_wrap=True)
        table.add_column("Does")
        table.add_column("Id", style="dim", no_wrap=True)
        previous = ""
        for row in self.rows:
            table.add_row(row.group if row.group != previous else "", row.keys,
                          row.description, row.binding_id)
            previous = row.group
        with VerticalScroll():
            yield Static(table, id="help-table")

    def action_close(self) -> None:
        self.dismiss(None)
