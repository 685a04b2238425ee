"""Screen layout: size breakpoints, maximize and cycle panes, and the state kept between runs.

The state file (symbol, timeframe, maximized pane, watchlist additions) lives in the platform
state directory, or `$MDCONSOLE_STATE_DIR`; a damaged file is reported and replaced, never fatal.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import msgspec
from textual.app import App
from textual.binding import Binding, BindingType
from textual.widget import Widget

ENV_STATE_DIR = "MDCONSOLE_STATE_DIR"
STATE_FILE = "layout.json"

SIDE_NARROW_AT = 100
"""From this width the side column (ladder, order entry) shows, narrowed."""
SIDE_WIDE_AT = 140
"""From this width the side column is full width and the tape shows under the ladder."""

BREAKPOINTS: list[tuple[int, str]] = [(0, "-narrow"), (SIDE_NARROW_AT, "-medium"),
                                      (SIDE_WIDE_AT, "-wide")]
"""Screen classes by terminal width; app.tcss hides or narrows panes on them."""

PANE_ORDER: tuple[str, ...] = ("quotes", "candles", "blotter", "ladder", "order-entry", "tape")
"""Pane ids in the order the cycle key visits them (absent or hidden panes are skipped)."""


class LayoutState(msgspec.Struct, kw_only=True):
    """What the console restores at the next start."""

    symbol: str = ""
    timeframe_s: int = 0
    maximized: str = ""
    watchlist: list[str] = msgspec.field(default_factory=list)


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

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("z", "toggle_maximize", "Zoom", id="layout.maximize"),
        Binding("f6", "cycle_pane(1)", "Next pane", show=False, id="layout.next"),
        Binding("shift+f6", "cycle_pane(-1)", "Prev pane", show=False, id="layout.prev"),
    ]

    layout_path: Path | None = None
    """Where layout state persists; None (tests, embedders) keeps it in memory only."""
    layout_state: LayoutState = LayoutState()
    startup_notes: Sequence[str] = ()
    """Warnings found before the app ran (bad theme files, damaged state), shown at mount."""
    _saved_state: bytes = b""

    def visible_panes(self) -> list[Widget]:
        """Panes present and shown, in cycle order."""
        panes: list[Widget] = []
        for pane_id in PANE_ORDER:
            found = self.screen.query(f"#{pane_id}")
            if found and found.first().display and found.first().parent is not None:
                widget = found.first()
                if widget.parent is not None and getattr(widget.parent, "display", True):
                    panes.append(widget)
        return panes

    def pane_with_focus(self) -> Widget | None:
        """The pane holding the focused widget (itself or an ancestor)."""
        focused = self.screen.focused
        panes = self.visible_panes()
        node: object = focused
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
        if self.screen.maximized is not None:
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
        self.screen.maximized = pane
        self.layout_state.maximized = pane.id or ""

    def action_toggle_maximize(self) -> None:
        screen = self.screen
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

    def load_layout(self, path: Path | None) -> str:
        """Read the saved layout from `path` (None: defaults, nothing saved); returns a warning."""
        self.layout_path = path
        if path is None:
            self.layout_state = LayoutState()
            return ""
        state, warning = load_state(path)
        self.layout_state = state
        self._saved_state = msgspec.json.encode(state)
        return warning

    def remember_layout(self, symbol: str, timeframe_s: int) -> None:
        """Save the layout if it changed since the last save (the status tick calls this)."""
        state = self.layout_state
        state.symbol = symbol or state.symbol
        state.timeframe_s = timeframe_s
        if self.screen.maximized is None and self.screen is self.screen_stack[0]:
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
