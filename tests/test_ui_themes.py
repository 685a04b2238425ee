"""Console themes: shipped themes, user-shaped theme data validation, palette resolution."""

from __future__ import annotations

import pytest
from textual.theme import BUILTIN_THEMES

from console.ui.palette import Palette
from themes.trading import (
    DEFAULT_THEME,
    TRADING_VARIABLES,
    ThemeError,
    builtin_themes,
    theme_from_mapping,
)


def hex_of(style_colour: object) -> str:
    triplet = style_colour.get_truecolor()  # type: ignore[attr-defined]
    return f"#{triplet.red:02x}{triplet.green:02x}{triplet.blue:02x}"


def test_default_theme_is_shipped_first_and_dark() -> None:
    themes = builtin_themes()
    assert themes[0].name == DEFAULT_THEME
    assert themes[0].dark


def test_every_shipped_theme_defines_every_trading_variable() -> None:
    for theme in builtin_themes():
        assert set(TRADING_VARIABLES) <= set(theme.variables), theme.name


def test_unknown_variable_is_rejected_naming_it_and_listing_known_ones() -> None:
    with pytest.raises(ThemeError, match=r"unknown variable 'bidd'.*known: bid, ask"):
        theme_from_mapping("mine", {"primary": "#123456", "variables": {"bidd": "#00ff00"}})


def test_bad_colour_is_rejected_naming_the_key_and_value() -> None:
    with pytest.raises(ThemeError, match=r"variables\.up = 'greenish' is not a colour"):
        theme_from_mapping("mine", {"primary": "#123456", "variables": {"up": "greenish"}})


def test_missing_primary_colour_is_rejected() -> None:
    with pytest.raises(ThemeError, match="'primary' colour is required"):
        theme_from_mapping("mine", {"background": "#000000"})


def test_unknown_top_level_key_is_rejected() -> None:
    with pytest.raises(ThemeError, match="unknown key\\(s\\) backgroud"):
        theme_from_mapping("mine", {"primary": "#123456", "backgroud": "#000000"})


def test_partial_user_theme_keeps_fallbacks_for_missing_trading_colours() -> None:
    theme = theme_from_mapping("mine", {"primary": "#123456", "variables": {"up": "#00ff00"}})
    assert theme.variables["up"] == "#00ff00"
    assert theme.variables["down"] == TRADING_VARIABLES["down"]


def test_palette_of_a_theme_without_trading_variables_uses_the_fallbacks() -> None:
    palette = Palette.from_theme(BUILTIN_THEMES["textual-dark"])
    assert hex_of(palette.style("up").color) == TRADING_VARIABLES["up"]


def test_palette_composites_translucent_colours_over_the_background() -> None:
    theme = theme_from_mapping(
        "t",
        {
            "primary": "#123456",
            "surface": "#000000",
            "variables": {"volume-up": "#ffffff80"},
        },
    )
    palette = Palette.from_theme(theme)
    # Half-transparent white over black is mid grey, not white.
    assert hex_of(palette.style("vol-up").color) in ("#7f7f7f", "#808080")
