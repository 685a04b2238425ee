"""Command palette provider: symbols, timeframes, themes, accounts and every bound action."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from console.data.provider import TIMEFRAMES

Command = tuple[str, str, Callable[[], Any]]
"""(title, help, callback)."""


def console_commands(app: Any) -> Iterator[Command]:
    """The commands the console offers now; reads the app's current state each time."""
    quotes = app.query_one("#quotes")
    for symbol in getattr(quotes, "symbols", []):
        yield (f"Symbol {symbol}", f"Chart {symbol} and trade it", partial(app.chart, symbol))
    for name, seconds in TIMEFRAMES.items():
        yield (f"Timeframe {name}", f"Candles of {name}", partial(app.chart, None, seconds))
    for theme in app.available_themes:
        yield (f"Theme {theme}", "Switch the colour theme", partial(setattr, app, "theme", theme))
    yield ("Reload user themes", "Read themes/*.toml in the config directory again",
           app.reload_user_themes)
    select_account = getattr(app, "select_account", None)
    for account in getattr(app, "accounts", ()):
        if callable(select_account):
            yield (f"Account {account}", "Trade from this account",
                   partial(select_account, account))
    switch_watchlist = getattr(app, "switch_watchlist", None)
    names = getattr(app, "watchlist_names", [])
    if callable(switch_watchlist) and len(names) > 1:
        for name in names:
            label = name or "symbols"
            yield (f"Watchlist {label}", "Show this saved watchlist, streaming its symbols",
                   partial(switch_watchlist, name))
    yield ("Search symbols", "Find a symbol across providers and watch it",
           partial(app.call_later, app.run_action, "symbol_search"))
    seen: set[str] = set()
    for node in (app, *app.visible_panes()):
        for _key, binding in node._bindings:
            if binding.system or not binding.description or binding.id in seen:
                continue
            seen.add(binding.id or binding.action)
            yield (f"Action: {binding.description}", f"{binding.action} ({binding.id})",
                   partial(app.call_later, app.run_action, binding.action, node))


class ConsoleCommands(Provider):
    """Ranks the console's commands by fuzzy match on their titles."""

    async def discover(self) -> Hits:
        for title, help_text, callback in console_commands(self.app):
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in console_commands(self.app):
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
