"""Screen layout: size breakpoints, maximize and cycle panes, and the state kept between runs.

The state file (symbol, timeframe, maximized pane, edited watchlists) lives in the platform
state directory, or `$MDCONSOLE_STATE_DIR`; a damaged file is reported and replaced, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import msgspec
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget

from console.data.provider import TIMEFRAMES
from console.ui.commands import PALETTE_PROVIDERS
from console.ui.help import HelpScreen, key_rows
from console.ui.search import Listing, SymbolSearch
from themes.user import load_user_themes

ENV_STATE_DIR = "MDCONSOLE_STATE_DIR"
STATE_FILE = "layout.json"

SIDE_NARROW_AT = 100
"""From this width the side column (ladder, order entry) shows, narrowed."""
SIDE_WIDE_AT = 140
"""From this width the side column is full width and the tape shows under the ladder."""

BREAKPOINTS: list[tuple[int, str]] = [(0, "-narrow"), (SIDE_NARROW_AT, "-medium"),
                                      (SIDE_WIDE_AT, "-wide")]
"""Screen classes by terminal width; app.tcss hides or narrows panes on them."""

TALL_AT = 40
"""From this height the blotter gets its full height; below it the chart keeps its rows."""

HEIGHT_BREAKPOINTS: list[tuple[int, str]] = [(0, "-short"), (TALL_AT, "-tall")]

PANE_ORDER: tuple[str, ...] = ("quotes", "candles", "blotter", "ladder", "order-entry", "tape")
"""Pane ids in the order the cycle key visits them (absent or hidden panes are skipped)."""


PANE_TITLES: dict[str, str] = {
    "quotes": "Watchlist",
    "blotter": "Blotter",
    "ladder": "Ladder",
    "order-entry": "Order",
    "tape": "Tape",
}
"""Border titles for panes that do not set their own."""


class LayoutState(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What the console restores at the next start (the file holds what differs from new)."""

    symbol: str = ""
    timeframe_s: int = 0
    maximized: str = ""
    lists: dict[str, list[str]] = msgspec.field(default_factory=dict)
    """Each watchlist the user edited (added, removed, reordered), in full, by name ("" is the
    config's `symbols`); a list not here is the config's. The config file is never rewritten."""
    watchlist_name: str | None = None
    """The saved watchlist last switched to; None: the config's `watchlist`."""
    watchlist: list[str] = msgspec.field(default_factory=list)
    """Older files: symbols search added to the plain list (folded into `lists` at start)."""
    watchlists: dict[str, list[str]] = msgspec.field(default_factory=dict)
    """Older files: symbols search added to each saved list (folded into `lists` at start)."""


def state_path() -> Path:
    """`$MDCONSOLE_STATE_DIR/layout.json`, else the platform user state directory's."""
    if env := os.environ.get(ENV_STATE_DIR):
        return Path(env).expanduser() / STATE_FILE
    from platformdirs import user_state_path

    return user_state_path("mdconsole") / STATE_FILE


def load_state(path: Path) -> tuple[LayoutState, str]:
    """The saved state and a warning ("" when fine); missing or damaged files give defaults."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return LayoutState(), ""
    except OSError as exc:
        return LayoutState(), f"layout state {path} cannot be read ({exc.strerror}); using defaults"
    try:
        return msgspec.json.decode(data, type=LayoutState), ""
    except msgspec.DecodeError as exc:
        return LayoutState(), f"layout state {path} is damaged ({exc}); using defaults"


def save_state(path: Path, state: LayoutState) -> str:
    """Write atomically (a crash never leaves half a file); returns a warning or ""."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".layout-", dir=path.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(msgspec.json.encode(state))
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp)
        return f"layout state {path} cannot be saved ({exc.strerror})"
    return ""


class LayoutMixin(App[int]):
    """Maximize / cycle bindings and layout persistence, mixed into the console app."""

    HORIZONTAL_BREAKPOINTS = BREAKPOINTS
    ALLOW_IN_MAXIMIZED_VIEW = "Footer, StatusLine"
    """A zoomed pane keeps the status bar: connector state and PAPER/LIVE stay in sight."""
    VERTICAL_BREAKPOINTS = HEIGHT_BREAKPOINTS

    COMMANDS = PALETTE_PROVIDERS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", id="help"),
        Binding("slash", "symbol_search", "Search", id="search"),
        Binding("z", "toggle_maximize", "Zoom", id="layout.maximize"),
        Binding("f6", "cycle_pane(1)", "Next pane", show=False, id="layout.next"),
        Binding("shift+f6", "cycle_pane(-1)", "Prev pane", show=False, id="layout.prev"),
    ]

    layout_path: Path | None = None
    """Where layout state persists; None (tests, embedders) keeps it in memory only."""
    layout_state: LayoutState
    startup_notes: Sequence[str] = ()
    """Warnings found before the app ran (bad theme files, damaged state), shown at mount."""
    themes_dir: Path | None = None
    """Where user theme files live; "Reload user themes" reads them again."""
    _saved_state: bytes = b""
    _timeframe_s: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.layout_state = LayoutState()  # per app: tests run many apps in one process

    def on_mount(self) -> None:
        # Textual calls each class's handler along the MRO, so the app's own on_mount runs too.
        for pane_id, title in PANE_TITLES.items():
            for pane in self.query(f"#{pane_id}"):
                if not pane.border_title:
                    pane.border_title = title

    @property
    def main_screen(self) -> Screen[Any]:
        """The screen the panes live on (the palette, help and modals sit above it)."""
        return self.screen_stack[0]

    def visible_panes(self) -> list[Widget]:
        """Panes present and shown (their column too), in cycle order."""
        panes: list[Widget] = []
        for pane_id in PANE_ORDER:
            for pane in self.main_screen.query(f"#{pane_id}"):
                column = pane.parent
                if pane.display and (not isinstance(column, Widget) or column.display):
                    panes.append(pane)
        return panes

    def pane_with_focus(self) -> Widget | None:
        """The pane holding the focused widget (itself or an ancestor)."""
        panes = self.visible_panes()
        node: object = self.main_screen.focused
        while isinstance(node, Widget):
            if node in panes:
                return node
            node = node.parent
        return None

    def action_cycle_pane(self, step: int) -> None:
        panes = [p for p in self.visible_panes() if self._focus_target(p) is not None]
        if not panes:
            return
        current = self.pane_with_focus()
        index = panes.index(current) if current in panes else -1
        target = panes[(index + step) % len(panes)]
        focus = self._focus_target(target)
        if focus is not None:
            focus.focus()
        if self.main_screen.maximized is not None:
            self._maximize(target)

    def _focus_target(self, pane: Widget) -> Widget | None:
        if pane.focusable:
            return pane
        for child in pane.query("*"):
            if isinstance(child, Widget) and child.focusable:
                return child
        return None

    def _maximize(self, pane: Widget) -> None:
        # Set directly: Screen.maximize refuses panes that cannot take focus (the chart).
        self.main_screen.maximized = pane
        self.layout_state.maximized = pane.id or ""

    def action_toggle_maximize(self) -> None:
        screen = self.main_screen
        if screen.maximized is not None:
            screen.minimize()
            self.layout_state.maximized = ""
            return
        pane = self.pane_with_focus()
        if pane is None:
            panes = self.visible_panes()
            pane = next((p for p in panes if p.id == "candles"), panes[0] if panes else None)
        if pane is None:
            return
        self._maximize(pane)

    def maximize_pane(self, pane_id: str) -> bool:
        """Maximize the pane with this id if it is shown (restoring a saved layout)."""
        for pane in self.visible_panes():
            if pane.id == pane_id:
                focus = self._focus_target(pane)
                if focus is not None:
                    focus.focus()
                self._maximize(pane)
                return True
        return False

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(key_rows(self, self.visible_panes())))

    def action_symbol_search(self) -> None:
        if isinstance(self.screen, SymbolSearch):
            return
        self.push_screen(SymbolSearch(), self.add_to_watchlist)

    def add_to_watchlist(self, pick: Listing | None) -> None:
        """Watch the picked symbol; `WatchlistMixin` (console/ui/watchlists.py) does it."""

    def reload_user_themes(self) -> None:
        """Read the theme files again and repaint if the theme in use was one of them."""
        if self.themes_dir is None:
            self.notify("no user themes directory in use", severity="warning")
            return
        themes, errors = load_user_themes(self.themes_dir)
        for theme in themes:
            self.register_theme(theme)
        for error in errors:
            self.notify(error, severity="error", timeout=10)
        current = self.theme
        if current in {t.name for t in themes}:
            # Re-selecting the same name is not a change; pass through another to repaint.
            self.theme = next(name for name in self.available_themes if name != current)
            self.theme = current
        self.notify(f"{len(themes)} user theme(s) loaded from {self.themes_dir}", timeout=4)

    def status_context(self) -> dict[str, str]:
        """Symbol, account and mode for the status bar (from the trading session if any)."""
        trading = getattr(self, "trading", None)
        candles = self.main_screen.query("#candles")
        symbol = str(getattr(candles.first(), "symbol", "")) if candles else ""
        return {
            "symbol": symbol,
            "account": str(getattr(trading, "account", "")) if trading is not None else "",
            "mode": str(getattr(trading, "mode", "")) if trading is not None else "",
        }

    def load_layout(self, path: Path | None, state: LayoutState | None = None) -> str:
        """Read the saved layout from `path` (None: defaults, nothing saved); returns a warning.

        `state`, if given, is what was read from `path` already (and is used instead).
        """
        self.layout_path = path
        if path is None:
            self.layout_state = LayoutState()
            return ""
        warning = ""
        if state is None:
            state, warning = load_state(path)
        self.layout_state = state
        if state.timeframe_s in TIMEFRAMES.values():
            self._timeframe_s = state.timeframe_s
        self._saved_state = msgspec.json.encode(state)
        return warning

    def remember_layout(self, symbol: str, timeframe_s: int) -> None:
        """Save the layout if it changed since the last save (the status tick calls this)."""
        if not symbol:
            return  # not restored yet: saving now would drop the saved zoom
        state = self.layout_state
        state.symbol = symbol
        state.timeframe_s = timeframe_s
        if self.main_screen.maximized is None:
            state.maximized = ""
        if self.layout_path is None:
            return
        encoded = msgspec.json.encode(state)
        if encoded == self._saved_state:
            return
        self._saved_state = encoded
        warning = save_state(self.layout_path, state)
        if warning:
            self.notify(warning, severity="warning")


def merge_watchlist(configured: list[str], added: list[str]) -> list[str]:
    """Config symbols first, then symbols the user added with search, each once."""
    return list(dict.fromkeys([*configured, *added]))


async def listed_additions(
    provider: str, config: Mapping[str, Any], added: Sequence[str]
) -> tuple[list[str], str]:
    """The symbols of `added` that `provider` still lists, and a note naming any dropped.

    `added` are symbols beyond the config's: an edited watchlist's, or those of restored
    orders and positions. One may vanish later (config changed, recording moved); starting
    the feed with it would fail, so it is left out for this run instead.
    """
    if not added:
        return [], ""
    import providers

    kept: list[str] = []
    try:
        module = providers.load(provider)
        configure = getattr(module, "configure", None)
        if configure is not None:
            configure(dict(config))
        for symbol in added:
            try:
                await asyncio.wait_for(module.symbol_info(symbol), 5.0)
            except Exception:  # not listed, or cannot tell: the configured symbols still start
                continue
            kept.append(symbol)
    except Exception:
        kept = []
    dropped = [s for s in added if s not in kept]
    note = (f"watchlist: {', '.join(dropped)} not listed by {provider} now; left out"
            if dropped else "")
    return kept, note
