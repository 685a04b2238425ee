"""Where and how fast trading keys act: from the app at once, painted at once, not over modals."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual import events
from textual._compositor import CompositorUpdate

from console.config import TradingSettings
from console.ui.help import HelpScreen
from console.ui.trading import ConfirmOrderScreen
from tests.test_ui_trading import console, rest_below, until, working


async def test_buy_key_writes_the_working_order_to_the_terminal_before_its_handler_returns(
        tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        await rest_below(pilot)
        written: list[str] = []
        display = app._display

        def record(screen: Any, renderable: Any) -> None:
            if isinstance(renderable, CompositorUpdate):
                written.append(renderable.render_segments(app.console))
            display(screen, renderable)

        app._display = record  # type: ignore[method-assign]
        # What the b key runs, called without awaiting: no other task (no screen update
        # timer, no frame pump) can run before it returns.
        app.action_trade_limit("buy")
        assert len(working(session)) == 1
        out = "".join(written)
        assert working(session)[0] in out  # the blotter row
        assert "●" in out  # the ladder's working-order mark


async def test_buy_key_places_the_order_while_the_focused_pane_is_still_busy(
        tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        await rest_below(pilot)
        assert app.focused is app.ladder_pane
        release = asyncio.Event()
        app.ladder_pane.call_later(release.wait)  # the ladder's message queue waits on this
        try:
            key = events.Key("b", "b")
            app.post_message(key)  # as the terminal driver delivers it
            await until(app, lambda: len(working(session)) == 1)
        finally:
            release.set()


async def test_trading_keys_do_nothing_over_a_modal_screen(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        await rest_below(pilot)
        await pilot.press("b")
        await until(app, lambda: len(working(session)) == 1)
        await pilot.press("question_mark")
        await until(app, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("b", "s", "X", "F", "ctrl+k")
        assert isinstance(app.screen, HelpScreen)
        assert len(working(session)) == 1
        assert not session.killed
        await pilot.press("escape")
        await until(app, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("X")
        await until(app, lambda: not working(session))


async def test_buy_key_over_the_confirmation_does_not_ask_again(tmp_path: Path) -> None:
    settings = TradingSettings(confirm_notional=1.0)  # 0.0001 BTC is about 6.8 USD
    async with console(tmp_path, settings) as (app, pilot, session):
        await rest_below(pilot)
        await pilot.press("b")
        await until(app, lambda: isinstance(app.screen, ConfirmOrderScreen))
        await pilot.press("b")
        assert sum(isinstance(s, ConfirmOrderScreen) for s in app.screen_stack) == 1
        await pilot.press("y")
        await until(app, lambda: len(working(session)) == 1)
        assert not isinstance(app.screen, ConfirmOrderScreen)
