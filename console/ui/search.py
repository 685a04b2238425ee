"""`/` symbol search: fuzzy match over every provider's listed symbols; pick one to watch it.

Providers are asked once per search screen (they list from memory or config, no network for
the shipped ones); typing then ranks locally with Textual's fuzzy matcher.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import ClassVar, NamedTuple

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

LISTING_LIMIT = 1_000
SHOWN = 30


class Listing(NamedTuple):
    """One symbol a provider lists."""

    symbol: str
    provider: str


async def provider_listings(names: Sequence[str] | None = None) -> tuple[list[Listing], list[str]]:
    """Every symbol each provider lists, and one note per provider that could not answer."""
    import providers

    listings: list[Listing] = []
    notes: list[str] = []
    for name in names if names is not None else providers.KNOWN:
        try:
            module = providers.load(name)
            found = await asyncio.wait_for(module.search_symbols("", LISTING_LIMIT), 5.0)
        except Exception as exc:  # one provider failing must not hide the others' symbols
            notes.append(f"{name}: search failed ({type(exc).__name__}: {exc})")
            continue
        listings.extend(Listing(inst.symbol, name) for inst in found)
    return listings, notes


def rank(query: str, listings: Sequence[Listing], limit: int = SHOWN) -> list[Listing]:
    """Listings matching `query` fuzzily, best first; all (in listing order) when it is empty."""
    query = query.strip()
    if not query:
        return list(listings[:limit])
    matcher = Matcher(query)
    scored = [(matcher.match(f"{item.symbol} {item.provider}"), i, item)
              for i, item in enumerate(listings)]
    hits = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
    return [item for _, _, item in hits[:limit]]


class SymbolSearch(ModalScreen[Listing | None]):
    """Type to filter; up/down and enter pick a symbol; escape closes."""

    DEFAULT_CSS = """
    SymbolSearch { align: center middle; }
    SymbolSearch > Vertical {
        width: 60; height: 20; background: $surface; border: round $primary; padding: 0 1;
    }
    SymbolSearch OptionList { height: 1fr; border: none; }
    SymbolSearch #search-note { color: $text-muted; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_search", "Close", id="search.close"),
        Binding("down", "move(1)", "Next", show=False, id="search.down"),
        Binding("up", "move(-1)", "Previous", show=False, id="search.up"),
    ]

    def __init__(self, providers: Sequence[str] | None = None) -> None:
        super().__init__()
        self._providers = providers
        self.listings: list[Listing] = []
        self.shown: list[Listing] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(placeholder="symbol, e.g. btc or eth/usd", id="search-input")
            yield OptionList(id="search-results")
            yield Label("", id="search-note")

    async def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.listings, notes = await provider_listings(self._providers)
        if notes:
            self.query_one("#search-note", Label).update("; ".join(notes))
        self._show(self.query_one(Input).value)

    def _show(self, query: str) -> None:
        self.shown = rank(query, self.listings)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            [Option(f"{item.symbol:<16} {item.provider}") for item in self.shown]
        )
        if self.shown:
            options.highlighted = 0
        elif self.listings:
            self.query_one("#search-note", Label).update(f"no symbol matches {query!r}")

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._pick(self.query_one(OptionList).highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option_index)

    def _pick(self, index: int | None) -> None:
        if index is not None and 0 <= index < len(self.shown):
            self.dismiss(self.shown[index])

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if not self.shown:
            return
        current = options.highlighted if options.highlighted is not None else -1
        options.highlighted = max(0, min(len(self.shown) - 1, current + step))

    def action_dismiss_search(self) -> None:
        self.dismiss(None)
