"""Time & sales pane: newest print on top, side colours and arrows, big prints emphasised."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult

from console.data.tape import TradeTape
from console.model.events import Trade
from console.model.instruments import Instrument
from console.ui.app import MDConsoleApp
from console.ui.palette import Palette
from console.ui.tape import TapePane, size_weight
from tests.test_ui_app import lines, quotes_show_numbers, sim_hub, until
from themes.trading import builtin_themes

INSTRUMENT = Instrument(symbol="BTC/USD", base="BTC", quote="USD", tick_size=0.5, lot_size=0.001)
T0 = 1_700_000_000_000_000_000


class TapeView:
    """The parts of the hub the tape reads."""

    def __init__(self) -> None:
        self.tape = {"BTC/USD": TradeTape(100)}
        self.instruments = {"BTC/USD": INSTRUMENT}

    def print(self, price: float, size: float, side: Any, ms: int) -> Trade:
        trade = Trade(symbol="BTC/USD", ts=T0 + ms * 1_000_000, price=price, size=size, side=side)
        self.tape["BTC/USD"].append(trade)
        return trade


class TapeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TapePane(id="tape")


async def test_newest_print_is_on_top_with_time_price_size_and_side_arrow() -> None:
    view = TapeView()
    view.print(100.5, 0.25, "buy", 1)
    view.print(100.0, 1.5, "sell", 2)
    app = TapeApp()
    async with app.run_test(size=(40, 6)):
        tape = app.query_one(TapePane)
        tape.set_palette(Palette.from_theme(builtin_themes()[0]))
        tape.show("BTC/USD")
        assert tape.sync(view)  # type: ignore[arg-type]
        rows = lines(tape)
        assert rows[0].split() == ["Time", "Price", "Size"]
        assert rows[1].split() == ["22:13:20.002", "100.0", "1.500", "▼"]
        assert rows[2].split() == ["22:13:20.001", "100.5", "0.250", "▲"]
        assert rows[3].strip() == ""
        assert not tape.sync(view)  # type: ignore[arg-type]  # nothing new, nothing rebuilt


async def test_buys_and_sells_take_the_bid_and_ask_colours() -> None:
    view = TapeView()
    view.print(100.5, 0.25, "buy", 1)
    view.print(100.0, 0.25, "sell", 2)
    app = TapeApp()
    palette = Palette.from_theme(builtin_themes()[0])
    async with app.run_test(size=(40, 6)):
        tape = app.query_one(TapePane)
        tape.set_palette(palette)
        tape.show("BTC/USD")
        tape.sync(view)  # type: ignore[arg-type]
        sell_price = list(tape.render_line(1))[1]
        buy_price = list(tape.render_line(2))[1]
        assert sell_price.style is not None and buy_price.style is not None
        assert sell_price.style.color == palette.style("ask").color
        assert buy_price.style.color == palette.style("bid").color


async def test_a_block_far_above_the_median_size_is_bold_and_reversed() -> None:
    view = TapeView()
    for i in range(20):
        view.print(100.0, 1.0, "buy", i)
    view.print(100.0, 50.0, "sell", 30)
    app = TapeApp()
    async with app.run_test(size=(40, 6)):
        tape = app.query_one(TapePane)
        tape.set_palette(Palette.from_theme(builtin_themes()[0]))
        tape.show("BTC/USD")
        tape.sync(view)  # type: ignore[arg-type]
        big = list(tape.render_line(1))[2].style
        normal = list(tape.render_line(2))[2].style
        assert big is not None and big.bold and big.reverse
        assert normal is not None and not normal.bold and not normal.reverse


def test_size_weight_grades_prints_by_their_multiple_of_the_median() -> None:
    assert [size_weight(s, 1.0) for s in (1.0, 2.9, 3.0, 9.9, 10.0)] == [0, 0, 1, 1, 2]
    assert size_weight(5.0, 0.0) == 0


async def test_tape_follows_the_charted_symbol_on_the_sim() -> None:
    hub = sim_hub()
    app = MDConsoleApp(hub, provider="sim", timeframe_s=1)
    async with app.run_test(size=(160, 50)) as pilot:
        tape = app.query_one(TapePane)
        await until(app, lambda: quotes_show_numbers(app) and "▲" in "".join(lines(tape)))
        assert "BTC/USD" in str(tape.border_title)
        app.chart("ETH/USD")
        await until(app, lambda: "ETH/USD" in str(tape.border_title))
        await until(app, lambda: any(r.split()[-1:] in (["▲"], ["▼"]) for r in lines(tape)))
        newest = hub.tape["ETH/USD"].latest(50)
        shown = [r.split()[1] for r in lines(tape)[1:] if r.strip()]
        assert shown and shown[0] in {f"{t.price:,.{hub.instruments['ETH/USD'].pdec}f}"
                                      for t in newest}
        await pilot.press("q")
