"""Status line: provider state, ingest rate, frame rate and render time, UTC clock."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widget import Widget

from console.ui.market_view import MarketView


class StatusLine(Widget):
    """One line at the bottom; the pump updates it a few times a second, not every frame."""

    DEFAULT_CSS = """
    StatusLine { height: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text()
        self._plain = ""

    def update_from(
        self, view: MarketView, provider: str, fps: float, render_ms: float, note: str = ""
    ) -> None:
        status = view.status.get(provider)
        state = status.state if status is not None else "connecting"
        detail = f" ({status.detail})" if status is not None and status.detail else ""
        clock = time.strftime("%H:%M:%S", time.gmtime())
        plain = (
            f" {provider}: {state}{detail} │ {view.events_per_s:,.0f} ev/s │ "
            f"{fps:.0f} fps │ {render_ms:.1f} ms │ {clock} UTC"
        )
        if note:
            plain += f" │ {note}"
        if plain == self._plain:
            return
        self._plain = plain
        text = Text(plain)
        text.stylize(
            "bold" if state == "live" else "italic",
            1 + len(provider) + 2,
            1 + len(provider) + 2 + len(state),
        )
        self._text = text
        self.refresh()

    @property
    def plain(self) -> str:
        """The current status text (tests read it)."""
        return self._plain

    def render(self) -> Text:
        return self._text
