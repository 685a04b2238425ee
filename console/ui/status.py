"""Status bar: connector state per provider, events/s, feed latency, clock, account and mode."""

from __future__ import annotations

import time
from collections.abc import Mapping

from rich.text import Text
from textual.widget import Widget

from console.ui.market_view import MarketView

STATE_STYLES: dict[str, str] = {
    "connecting": "italic",
    "syncing": "italic",
    "live": "bold",
    "stale": "italic reverse",
    "resync": "bold reverse",
    "down": "bold reverse",
    "error": "bold reverse",
}
"""Emphasis per connector state; colour comes from the bar's CSS class (worst state)."""

VIRTUAL_CLOCK_GAP_NS = 60 * 1_000_000_000
"""Trade times this far from their arrival mean a virtual clock (replay, pinned sim)."""


def market_clock_ns(view: MarketView) -> int:
    """The view's market time when it runs on a virtual clock, else 0 (use the wall clock)."""
    if getattr(view, "bar_clock", "wall") == "market":
        return int(getattr(view, "market_ns", 0))
    return 0


def clock_text(view: MarketView) -> str:
    """HH:MM:SS UTC of the market clock (replays, frozen sims) or of the wall clock."""
    market = market_clock_ns(view)
    if market:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(market / 1e9)) + " UTC mkt"
    return time.strftime("%H:%M:%S", time.gmtime()) + " UTC"


def feed_latency_ms(view: MarketView, symbol: str) -> str:
    """Receive time minus exchange time of the newest print, or — where it means nothing."""
    tapes = getattr(view, "tape", None)
    if not symbol or not isinstance(tapes, Mapping) or symbol not in tapes:
        return "—"
    newest = tapes[symbol].latest(1)
    if not newest:
        return "—"
    trade = newest[0]
    if not trade.recv_ts or abs(trade.recv_ts - trade.ts) > VIRTUAL_CLOCK_GAP_NS:
        return "—"
    return f"{(trade.recv_ts - trade.ts) / 1e6:.0f} ms"


def symbol_troubles(view: MarketView) -> str:
    """Symbols whose own connector state is not live, e.g. "ETH/USD resync"."""
    per_symbol = getattr(view, "symbol_status", None)
    if not isinstance(per_symbol, Mapping):
        return ""
    bad = [f"{sym} {st.state}" for sym, st in per_symbol.items() if st.state != "live"]
    return ", ".join(bad[:3]) + (" …" if len(bad) > 3 else "")


class StatusLine(Widget):
    """One line at the bottom; the pump updates it a few times a second, not every frame."""

    DEFAULT_CSS = """
    StatusLine { height: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text()
        self._plain = ""

    show_perf = False
    """Also show frame rate and render time (off by default: they vary run to run)."""

    def update_from(
        self,
        view: MarketView,
        provider: str,
        fps: float,
        render_ms: float,
        note: str = "",
        *,
        symbol: str = "",
        account: str = "",
        mode: str = "",
    ) -> None:
        parts: list[tuple[str, str]] = [(" ", "")]
        states = dict(view.status)
        if provider not in states:
            parts += [(f"{provider}: ", ""), ("connecting", STATE_STYLES["connecting"])]
        for name, status in states.items():
            if len(parts) > 1:
                parts.append((" ", ""))
            detail = f" ({status.detail})" if status.detail and status.state != "live" else ""
            parts += [(f"{name}: ", ""), (status.state, STATE_STYLES.get(status.state, "")),
                      (detail, "")]
        troubled = symbol_troubles(view)
        if troubled:
            parts.append((f" [{troubled}]", STATE_STYLES["resync"]))
        parts.append((f" │ {view.events_per_s:,.0f} ev/s", ""))
        latency = feed_latency_ms(view, symbol)
        parts.append((f" │ lat {latency}", ""))
        if self.show_perf:
            parts.append((f" │ {fps:.0f} fps {render_ms:.1f} ms", ""))
        parts.append((f" │ {clock_text(view)}", ""))
        if account:
            parts.append((f" │ {account}", "bold"))
        if mode:
            parts.append((f" {mode}", "bold reverse" if mode == "LIVE" else "bold"))
        if note:
            parts.append((f" │ {note}", ""))
        plain = "".join(text for text, _ in parts)
        if plain == self._plain:
            return
        self._plain = plain
        text = Text()
        for chunk, style in parts:
            text.append(chunk, style)
        self._text = text
        self.refresh()

    @property
    def plain(self) -> str:
        """The current status text (tests read it)."""
        return self._plain

    def render(self) -> Text:
        return self._text
