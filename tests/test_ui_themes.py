"""Console themes: shipped themes, user-shaped theme data validation, palette resolution."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.theme import BUILTIN_THEMES

from console.ui.app import MDConsoleApp
from console.ui.palette import Palette
from themes.trading import (
    BUILTIN_SPECS,
    DEFAULT_THEME,
    TRADING_VARIABLES,
    ThemeError,
    builtin_themes,
    theme_from_mapping,
)
from themes.user import load_theme_file, load_user_themes, user_themes_dir


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


def test_four_themes_ship_dark_light_high_contrast_and_amber() -> None:
    names = [t.name for t in builtin_themes()]
    assert names == ["mdconsole-dark", "mdconsole-light", "mdconsole-high-contrast",
                     "mdconsole-amber"]
    assert [t.dark for t in builtin_themes()] == [True, False, True, True]


def test_working_order_and_fill_colours_reach_the_palette() -> None:
    theme = theme_from_mapping(
        "t", {"primary": "#123456", "variables": {"working": "#abcdef", "fill": "#fedcba"}}
    )
    palette = Palette.from_theme(theme)
    assert hex_of(palette.style("working").color) == "#abcdef"
    assert hex_of(palette.style("fill").color) == "#fedcba"


def test_high_contrast_colours_are_exact_in_a_256_colour_terminal() -> None:
    from rich.color import ColorSystem
    from textual.color import Color

    spec = BUILTIN_SPECS["mdconsole-high-contrast"]
    colours = [v for k, v in spec.items() if isinstance(v, str)]
    variables = spec["variables"]
    assert isinstance(variables, dict)
    colours += list(variables.values())
    for value in colours:
        rich = Color.parse(value).rich_color
        assert rich.downgrade(ColorSystem.EIGHT_BIT).get_truecolor() == rich.get_truecolor(), value


def test_user_theme_files_load_and_a_bad_one_is_reported_by_file_and_key(
    tmp_path: Path,
) -> None:
    (tmp_path / "ocean.toml").write_text(
        'primary = "#0077be"\nbackground = "#001f3f"\n[variables]\nbid = "#00ffaa"\n'
    )
    (tmp_path / "broken.toml").write_text('primary = "#0077be"\n[variables]\nup = "sea"\n')
    (tmp_path / "named.toml").write_text('name = "deep"\nprimary = "#0077be"\n')
    themes, errors = load_user_themes(tmp_path)
    assert [t.name for t in themes] == ["deep", "ocean"]
    assert themes[1].variables["bid"] == "#00ffaa"
    assert len(errors) == 1
    assert "broken.toml" in errors[0] and "variables.up = 'sea' is not a colour" in errors[0]


def test_user_theme_may_not_take_a_shipped_name(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('name = "mdconsole-dark"\nprimary = "#000000"\n')
    with pytest.raises(ThemeError, match="is a shipped theme"):
        load_theme_file(path)


def test_user_theme_with_broken_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("primary = \n")
    with pytest.raises(ThemeError, match=r"x\.toml: not valid TOML"):
        load_theme_file(path)


def test_themes_dir_sits_beside_the_config_file(tmp_path: Path) -> None:
    assert user_themes_dir(str(tmp_path / "config.toml")) == tmp_path / "themes"


async def test_user_theme_is_selectable_in_the_app_and_repaints_the_panes() -> None:
    from tests.test_ui_app import quotes_show_numbers, sim_hub, until

    mine = theme_from_mapping("mine", {"primary": "#123456", "surface": "#102030"})
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1, extra_themes=[mine])
    async with app.run_test(size=(100, 30)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        app.theme = "mine"
        await until(app, lambda: quotes_show_numbers(app))
        header = next(iter(app.quotes_pane.render_line(0))).style
        assert header is not None and hex_of(header.bgcolor) == "#102030"
        await pilot.press("q")


async def test_no_color_environment_turns_the_output_monochrome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from textual.filter import Monochrome

    from tests.test_ui_app import sim_hub

    monkeypatch.setenv("NO_COLOR", "1")
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    assert app.no_color
    assert any(isinstance(f, Monochrome) for f in app._filters)


async def test_reloading_user_themes_repaints_an_edited_theme_in_use(tmp_path: Path) -> None:
    from tests.test_ui_app import quotes_show_numbers, sim_hub, until

    theme_file = tmp_path / "mine.toml"
    theme_file.write_text('primary = "#123456"\nsurface = "#102030"\n')
    themes, _ = load_user_themes(tmp_path)
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1, extra_themes=themes,
                       theme="mine")
    app.themes_dir = tmp_path
    async with app.run_test(size=(100, 30)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        theme_file.write_text('primary = "#123456"\nsurface = "#302010"\n')
        app.reload_user_themes()

        def header_bg() -> str:
            style = next(iter(app.quotes_pane.render_line(0))).style
            return hex_of(style.bgcolor) if style is not None else ""

        await until(app, lambda: header_bg() in ("#302010", "#2f2010"))  # colour maths rounds
        assert app.theme == "mine"
        await pilot.press("q")
