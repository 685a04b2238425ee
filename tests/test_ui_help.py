"""`?` help screen and the command palette: both built from the live bindings and state."""

from __future__ import annotations

from console.ui.app import MDConsoleApp
from console.ui.commands import console_commands
from console.ui.help import HelpScreen, key_rows
from tests.test_ui_app import quotes_show_numbers, sim_hub, until


async def test_question_mark_opens_help_listing_live_bindings_and_escape_closes_it() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        ids = {row.binding_id for row in app.screen.rows}
        assert {"quit", "timeframe.next", "layout.maximize", "search", "quotes.choose"} <= ids
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")


async def test_help_shows_the_key_a_config_remap_gave_a_binding() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1,
                       keymap={"timeframe.next": "n", "layout.maximize": "ctrl+z"})
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        rows = {row.binding_id: row for row in key_rows(app, app.visible_panes())}
        assert rows["timeframe.next"].keys == "n"
        assert rows["layout.maximize"].keys == app.get_key_display(
            app._bindings.key_to_bindings["z"][0].with_key("ctrl+z"))
        assert rows["quotes.choose"].group == "Watchlist"
        await pilot.press("q")


async def test_palette_commands_cover_symbols_timeframes_themes_and_actions() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        commands = {title: callback for title, _, callback in console_commands(app)}
        assert {"Symbol ETH/USD", "Timeframe 15m", "Theme mdconsole-high-contrast",
                "Action: Zoom", "Search symbols"} <= set(commands)
        commands["Theme mdconsole-high-contrast"]()
        commands["Symbol SOL/USD"]()
        commands["Timeframe 15m"]()
        await until(app, lambda: "SOL/USD · 15m" in str(app.candles_pane.border_title))
        assert app.theme == "mdconsole-high-contrast"
        app.quotes_pane.focus()
        commands["Action: Zoom"]()
        await pilot.pause()
        assert app.screen.maximized is app.quotes_pane
        await pilot.press("q")

