"""Command palette provider: symbols, timeframes, themes, accounts, chart and every bound action,
collected once when the palette opens and ranked on each keystroke without touching the app."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape
from textual.style import Style

from console.data.provider import TIMEFRAMES

Command = tuple[str, str, Callable[[], Any]]
"""(title, help, callback)."""

MAX_HITS = 20
"""Hits offered per query, best first. A tall palette shows about this many; every hit offered
costs the palette a prompt to build and lay out, so a short query matching hundreds of
watchlist symbols would otherwise repaint slowly on each key."""


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


@dataclass(frozen=True, slots=True)
class Entry:
    """One palette command, with its title prepared for matching."""

    title: str
    help: str
    callback: Callable[[], Any]
    folded: str  # the title in lower case
    starts: frozenset[int]  # where the title's words start
    initials: tuple[int, ...]  # the same, in order


def entry(title: str, help_text: str, callback: Callable[[], Any]) -> Entry:
    folded = title.lower()
    initials = tuple(
        i for i, ch in enumerate(folded) if ch.isalnum() and (i == 0 or not folded[i - 1].isalnum())
    )
    return Entry(title, help_text, callback, folded, frozenset(initials), initials)


def _call_key(callback: Callable[[], Any]) -> Hashable:
    """What a callback does, so two titles for one call (e.g. "Chart X" and "Symbol X") are
    listed once."""
    if isinstance(callback, partial):
        key = (callback.func, callback.args, tuple(sorted(callback.keywords.items())))
        try:
            hash(key)
        except TypeError:
            return id(callback)
        return key
    return callback


def palette_entries(app: Any, screen: Any) -> list[Entry]:
    """The console's commands, then the app's system commands (Textual's and the chart's)
    that neither repeat a title nor a call already listed."""
    out: list[Entry] = []
    titles: set[str] = set()
    calls: set[Hashable] = set()
    system: Iterable[Command] = (
        (c.title, c.help, c.callback) for c in app.get_system_commands(screen)
    )
    for commands in (console_commands(app), system):
        for title, help_text, callback in commands:
            call = _call_key(callback)
            if title in titles or call in calls:
                continue
            titles.add(title)
            calls.add(call)
            out.append(entry(title, help_text, callback))
    return out


def match(query: str, item: Entry) -> tuple[float, tuple[int, ...]]:
    """How well `query` (lower case, no spaces) matches a title: a score in (0, 1] and the
    offsets of the matched letters, or (0.0, ()) when its letters do not all appear in order.

    Linear in the title's length, unlike Textual's matcher, which scores every way the letters
    could be placed (a query with repeated letters costs it milliseconds per title).
    """
    text = item.folded
    n = len(query)
    if not n:
        return 0.0, ()
    at = text.find(query)
    if at >= 0:
        # A word that starts with the query beats the same letters inside a word.
        pos = at
        while pos >= 0 and pos not in item.starts:
            pos = text.find(query, pos + 1)
        first = pos if pos >= 0 else at
        offsets: tuple[int, ...] = tuple(range(first, first + n))
    else:
        end = -1
        for ch in query:
            end = text.find(ch, end + 1)
            if end < 0:
                return 0.0, ()
        # The tightest window ending at the leftmost complete match starts where the letters,
        # matched back to front from there, run out; within it, take each letter leftmost.
        pos = end + 1
        for ch in reversed(query):
            pos = text.rfind(ch, 0, pos)
        found: list[int] = []
        for ch in query:
            pos = text.find(ch, pos)
            found.append(pos)
            pos += 1
        offsets = tuple(found)
    score = _score(offsets, item)
    initials = _by_initials(query, item)
    if initials and (other := _score(initials, item)) > score:
        score, offsets = other, initials
    return score, offsets


def _by_initials(query: str, item: Entry) -> tuple[int, ...]:
    """Each letter at the next word start that has it, else at its next occurrence: "hc"
    finds the h and c of "high-contrast", not the first h and c of the title."""
    text = item.folded
    found: list[int] = []
    pos = 0
    for ch in query:
        at = next((s for s in item.initials if s >= pos and text[s] == ch), -1)
        if at < 0:
            at = text.find(ch, pos)
            if at < 0:
                return ()
        found.append(at)
        pos = at + 1
    return tuple(found)


def _score(offsets: tuple[int, ...], item: Entry) -> float:
    """In (0, 1]: letters at word starts and in few runs score high; a shorter title breaks
    ties."""
    n = len(offsets)
    word_starts = sum(1 for o in offsets if o in item.starts)
    groups = 1 + sum(1 for a, b in itertools.pairwise(offsets) if b != a + 1)
    together = (n - (groups - 1)) / n
    score = (n + word_starts) * (1 + together * together) / (4 * n)
    return 0.8 * score + 0.2 * n / len(item.folded)


def rank(entries: Sequence[Entry], query: str, limit: int = MAX_HITS
         ) -> list[tuple[float, Entry, tuple[int, ...]]]:
    """The best `limit` matches of `query` (spaces ignored, any case), best first; equal
    scores keep the entries' order."""
    folded = "".join(query.lower().split())
    scored = []
    for i, item in enumerate(entries):
        score, offsets = match(folded, item)
        if score > 0:
            scored.append((score, -i, item, offsets))
    best = heapq.nlargest(limit, scored, key=lambda s: (s[0], s[1]))
    return [(score, item, offsets) for score, _i, item, offsets in best]


def highlight(title: str, offsets: Iterable[int], style: Style) -> Content:
    """The title with its matched letters in `style` (taken as plain text, never markup)."""
    content = Content(title)
    for offset in offsets:
        if not title[offset].isspace():
            content = content.stylize(style, offset, offset + 1)
    return content


class ConsoleCommands(Provider):
    """Every console command, collected when the palette opens and ranked per keystroke."""

    _entries: list[Entry]

    async def startup(self) -> None:
        self._entries = palette_entries(self.app, self.screen)

    async def discover(self) -> Hits:
        for item in self._entries:
            yield DiscoveryHit(Content(item.title), item.callback, text=item.title,
                               help=escape(item.help))

    async def search(self, query: str) -> Hits:
        style = self.match_style or Style(reverse=True)
        for score, item, offsets in rank(self._entries, query):
            yield Hit(score, highlight(item.title, offsets, style), item.callback,
                      text=item.title, help=escape(item.help))


PALETTE_PROVIDERS: set[type[Provider] | Callable[[], type[Provider]]] = {ConsoleCommands}
"""The app's `COMMANDS`: this one provider, in place of Textual's system commands provider,
since it lists the app's system commands itself (without the repeats) and ranks them faster."""
