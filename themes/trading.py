"""Console themes: Textual `Theme` objects carrying the trading colour variables panes use."""

from __future__ import annotations

from collections.abc import Mapping

from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "mdconsole-dark"
"""The theme the console starts with."""

TRADING_VARIABLES: dict[str, str] = {
    "bid": "#3fb950",
    "ask": "#f85149",
    "up": "#3fb950",
    "down": "#f85149",
    "stale": "#8b949e",
    "volume-up": "#2ea04366",
    "volume-down": "#da363366",
    "axis": "#6e7681",
    "axis-label": "#c9d1d9",
    "cursor": "#1f6feb55",
    "header": "#8b949e",
    "working": "#d29922",
    "fill": "#58a6ff",
}
"""Every trading variable with its fallback value.

Panes read these names (not Textual's generic ones) so a theme can say what a bid or a
falling candle looks like; themes that omit one, including Textual's built-in themes, get the
fallback.
"""

_BASE_FIELDS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)


class ThemeError(ValueError):
    """A theme definition that cannot be used; the message names the theme and the field."""


def theme_from_mapping(name: str, spec: Mapping[str, object]) -> Theme:
    """Build a Theme from plain data (the shape a user TOML theme file will have).

    Top-level keys are Textual's base colours plus `dark`; `variables` holds trading colours.
    Unknown keys and unparsable colours are rejected with the offending key named.
    """
    allowed = {*_BASE_FIELDS, "dark", "variables"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ThemeError(
            f"theme {name!r}: unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    if "primary" not in spec:
        raise ThemeError(f"theme {name!r}: 'primary' colour is required")
    base: dict[str, str] = {}
    for key in _BASE_FIELDS:
        if key in spec:
            base[key] = _colour(name, key, spec[key])
    dark = spec.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeError(f"theme {name!r}: 'dark' must be true or false, got {dark!r}")
    raw_vars = spec.get("variables", {})
    if not isinstance(raw_vars, Mapping):
        raise ThemeError(f"theme {name!r}: 'variables' must be a table of name = colour")
    variables: dict[str, str] = {}
    for key, value in raw_vars.items():
        if key not in TRADING_VARIABLES:
            raise ThemeError(
                f"theme {name!r}: unknown variable {key!r}; known: {', '.join(TRADING_VARIABLES)}"
            )
        variables[key] = _colour(name, f"variables.{key}", value)
    return Theme(
        name=name,
        primary=base["primary"],
        secondary=base.get("secondary"),
        accent=base.get("accent"),
        warning=base.get("warning"),
        error=base.get("error"),
        success=base.get("success"),
        foreground=base.get("foreground"),
        background=base.get("background"),
        surface=base.get("surface"),
        panel=base.get("panel"),
        boost=base.get("boost"),
        dark=dark,
        variables={**TRADING_VARIABLES, **variables},
    )


def _colour(theme: str, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"theme {theme!r}: {key} must be a colour string, got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(
            f"theme {theme!r}: {key} = {value!r} is not a colour (use e.g. '#3fb950')"
        ) from None
    return value


BUILTIN_SPECS: dict[str, dict[str, object]] = {
    "mdconsole-dark": {
        "primary": "#388bfd",
        "secondary": "#1f6feb",
        "accent": "#d29922",
        "warning": "#d29922",
        "error": "#f85149",
        "success": "#3fb950",
        "foreground": "#c9d1d9",
        "background": "#0d1117",
        "surface": "#161b22",
        "panel": "#21262d",
        "dark": True,
        "variables": {},
    },
    "mdconsole-light": {
        "primary": "#0969da",
        "secondary": "#0550ae",
        "accent": "#9a6700",
        "warning": "#9a6700",
        "error": "#cf222e",
        "success": "#1a7f37",
        "foreground": "#1f2328",
        "background": "#ffffff",
        "surface": "#f6f8fa",
        "panel": "#eaeef2",
        "dark": False,
        "variables": {
            "bid": "#1a7f37",
            "ask": "#cf222e",
            "up": "#1a7f37",
            "down": "#cf222e",
            "stale": "#8c959f",
            "volume-up": "#1a7f3755",
            "volume-down": "#cf222e55",
            "axis": "#8c959f",
            "axis-label": "#1f2328",
            "cursor": "#0969da33",
            "header": "#57606a",
            "working": "#9a6700",
            "fill": "#0550ae",
        },
    },
    "mdconsole-high-contrast": {
        # Pure colours on black: readable on poor screens and exact in 256-colour terminals.
        "primary": "#ffff00",
        "secondary": "#00ffff",
        "accent": "#ff00ff",
        "warning": "#ffff00",
        "error": "#ff0000",
        "success": "#00ff00",
        "foreground": "#ffffff",
        "background": "#000000",
        "surface": "#000000",
        "panel": "#303030",
        "dark": True,
        "variables": {
            "bid": "#00ff00",
            "ask": "#ff5f5f",
            "up": "#00ff00",
            "down": "#ff5f5f",
            "stale": "#949494",
            "volume-up": "#008700",
            "volume-down": "#870000",
            "axis": "#ffffff",
            "axis-label": "#ffffff",
            "cursor": "#0000ff",
            "header": "#ffff00",
            "working": "#ffff00",
            "fill": "#00ffff",
        },
    },
    "mdconsole-amber": {
        # A monochrome-terminal look; bids and asks still differ in hue for quick reading.
        "primary": "#ffb000",
        "secondary": "#cc8400",
        "accent": "#ffd27f",
        "warning": "#ffd27f",
        "error": "#ff5f00",
        "success": "#d7ff5f",
        "foreground": "#ffb000",
        "background": "#1a1000",
        "surface": "#201600",
        "panel": "#2e2000",
        "dark": True,
        "variables": {
            "bid": "#d7ff5f",
            "ask": "#ff5f00",
            "up": "#d7ff5f",
            "down": "#ff5f00",
            "stale": "#8a6a2a",
            "volume-up": "#5f7f1f",
            "volume-down": "#7f3f00",
            "axis": "#8a6a2a",
            "axis-label": "#ffb000",
            "cursor": "#ffb00033",
            "header": "#cc8400",
            "working": "#ffd27f",
            "fill": "#ffffff",
        },
    },
}
"""Shipped theme definitions, as plain data so user themes can take the same shape."""


def builtin_themes() -> list[Theme]:
    """The shipped themes, default first."""
    return [theme_from_mapping(name, spec) for name, spec in BUILTIN_SPECS.items()]
