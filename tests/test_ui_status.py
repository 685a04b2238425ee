"""Status bar: connector state per provider and symbol, rate, latency, clock, account, mode."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult

from console.data.tape import TradeTape
from console.model.events import ConnectorStatus, Trade
from console.ui.status import StatusLine

T0 = 1_700_000_000_000_000_000  # 2023-11-14 22:13:20 UTC


def status(state: str, symbol: str = "", detail: str = "") -> ConnectorStatus:
    return ConnectorStatus(symbol=symbol, ts=T0, provider="sim", state=state,  # type: ignore[arg-type]
                           detail=detail)


class View:
    """The parts of the hub the status bar reads."""

    def __init__(self, **extra: Any) -> None:
        self.status = {"sim": status("live")}
        self.symbol_status: dict[str, ConnectorStatus] = {}
        self.events_per_s = 1234.4
        self.tape = {"BTC/USD": TradeTape(10)}
        self.bar_clock = "wall"
        self.market_ns = 0
        self.__dict__.update(extra)


class StatusApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusLine()


async def plain(view: View, **kwargs: Any) -> str:
    app = StatusApp()
    async with app.run_test(size=(160, 3)):
        line = app.query_one(StatusLine)
        line.update_from(view, "sim", 25.0, 1.0, **kwargs)  # type: ignore[arg-type]
        return line.plain


async def test_shows_provider_state_rate_account_and_mode() -> None:
    text = await plain(View(), symbol="BTC/USD", account="paper", mode="PAPER")
    assert text.startswith(" sim: live │ 1,234 ev/s │ lat — │ ")
    assert text.endswith(" UTC │ paper PAPER")
    assert "fps" not in text  # frame figures vary run to run; off unless asked for


async def test_a_resyncing_provider_shows_why_and_troubled_symbols_are_named() -> None:
    view = View(status={"sim": status("resync", detail="sequence gap")},
                symbol_status={"ETH/USD": status("stale", "ETH/USD"),
                               "BTC/USD": status("live", "BTC/USD")})
    text = await plain(view)
    assert "sim: resync (sequence gap) [ETH/USD stale]" in text
    assert "BTC/USD live" not in text


async def test_feed_latency_is_receive_minus_exchange_time_of_the_newest_print() -> None:
    view = View()
    view.tape["BTC/USD"].append(Trade(symbol="BTC/USD", ts=T0, recv_ts=T0 + 12_000_000,
                                      price=1.0, size=1.0))
    assert "lat 12 ms" in await plain(view, symbol="BTC/USD")


async def test_a_virtual_clock_shows_market_time_and_no_latency() -> None:
    view = View(bar_clock="market", market_ns=T0)
    view.tape["BTC/USD"].append(Trade(symbol="BTC/USD", ts=T0, recv_ts=T0 + 3_600 * 10**9,
                                      price=1.0, size=1.0))
    text = await plain(view, symbol="BTC/USD")
    assert "2023-11-14 22:13:20 UTC mkt" in text
    assert "lat —" in text


async def test_a_provider_not_yet_reporting_shows_connecting() -> None:
    assert (await plain(View(status={}))).startswith(" sim: connecting │")
