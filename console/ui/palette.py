"""Rich styles for the Line-API panes, resolved from the active theme's trading variables."""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from textual.color import Color
from textual.theme import Theme

from themes.trading import TRADING_VARIABLES

ROLE_VARIABLES: dict[str, str] = {
    "up": "up",
    "down": "down",
    "bid": "bid",
    "ask": "ask",
    "stale": "stale",
    "vol-up": "volume-up",
    "vol-down": "volume-down",
    "axis": "axis",
    "label": "axis-label",
    "header": "header",
    "working": "working",
    "fill": "fill",
}
"""Colour role used by the panes -> theme variable holding its colour."""


class Palette:
    """Styles per role for one theme; panes cache strips built from it until the theme changes."""

    def __init__(self, variables: Mapping[str, str], *, background: str, foreground: str) -> None:
        self.background = Color.parse(background)
        self.foreground = self._resolve(foreground)
        self.base = Style(color=self.foreground.rich_color, bgcolor=self.background.rich_color)
        self._styles: dict[str, Style] = {"text": self.base}
        for role, var in ROLE_VARIABLES.items():
            colour = self._resolve(variables.get(var, TRADING_VARIABLES[var]))
            self._styles[role] = self.base + Style(color=colour.rich_color)
        self._styles["last-up"] = self._styles["up"] + Style(bold=True, reverse=True)
        self._styles["last-down"] = self._styles["down"] + Style(bold=True, reverse=True)
        self._styles["title"] = self.base + Style(bold=True)
        cursor = self._resolve(variables.get("cursor", TRADING_VARIABLES["cursor"]))
        self.cursor_bg = Style(bgcolor=cursor.rich_color)

    def _resolve(self, value: str) -> Color:
        # Rich has no alpha, so translucent theme colours are composited over the background.
        return self.background + Color.parse(value)

    def style(self, role: str) -> Style:
        """The style for a colour role ("up", "bid", "axis", ...); unknown roles get plain text."""
        return self._styles.get(role, self.base)

    @classmethod
    def from_theme(cls, theme: Theme) -> Palette:
        """Resolve a theme's colour system plus its trading variables (fallbacks for missing)."""
        system = theme.to_color_system().generate()
        variables = {**TRADING_VARIABLES, **system, **theme.variables}
        return cls(variables, background=system["surface"], foreground=system["foreground"])
