"""Command palette typing speed: the console headless at 160x50 on `sim`, queries typed into
the palette one key at a time.

Prints one JSON object on its last line:
- `keystroke_ms_p50` / `_p90` / `_max`: from a key event entering the app, as a terminal
  sends it, to the first screen update showing the palette's hits for the text typed so far;
- `search_ms_p50` / `_max`: the part of that spent finding the hits (the providers' searches,
  from the palette asking to the last hit);
- `open_ms_p50` / `_max`: from ctrl+p to the first screen update showing the command list.

Env: BENCH_RATE (sim events/s, default 200 like `mdconsole`), BENCH_ROUNDS (times each query
is typed, default 3).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events
from textual.command import CommandInput, CommandList, CommandPalette

from console.data.feed import FeedHub
from console.ui.app import MDConsoleApp

SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD"]
QUERIES = ["theme amber", "sol", "zoom", "study rsi", "timeframe 15m", "chart live", "ee ee e"]


class Watch:
    """When the screen last updated, and when the palette last refreshed its list (and for
    which text), read off the app and the open palette."""

    def __init__(self, app: MDConsoleApp) -> None:
        self.app = app
        self.last_update = 0.0
        self.refreshed: tuple[float, str] = (0.0, "")
        self.search_started = 0.0
        self.search_ms: list[float] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None and not app._batch_count:
                self.last_update = time.perf_counter()
            original(screen, renderable)

        app._display = display  # type: ignore[method-assign]

    def attach(self, palette: CommandPalette) -> None:
        refresh = palette._refresh_command_list
        gather = palette._search_for

        def refreshed(command_list: CommandList, commands: list[Any], clear: bool) -> None:
            refresh(command_list, commands, clear)
            now = time.perf_counter()
            self.refreshed = (now, palette.query_one(CommandInput).value)

        async def search_for(value: str) -> Any:
            started = time.perf_counter()
            search = gather(value)
            aborted = False
            try:
                hit = await search.__anext__()
                while True:
                    aborted = yield hit
                    hit = await search.asend(aborted)
            except StopAsyncIteration:
                if not aborted:
                    self.search_ms.append((time.perf_counter() - started) * 1000.0)

        palette._refresh_command_list = refreshed  # type: ignore[method-assign,assignment]
        palette._search_for = search_for  # type: ignore[method-assign,assignment]

    async def shown(self, text: str, t0: float, timeout: float = 5.0) -> float:
        """Ms from `t0` to the first screen update after the list was refreshed for `text`."""
        while time.perf_counter() - t0 < timeout:
            at, value = self.refreshed
            if at >= t0 and value == text and self.last_update >= at:
                return (self.last_update - t0) * 1000.0
            await asyncio.sleep(0.0005)
        raise TimeoutError(f"the palette never showed hits for {text!r}")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return round(s[min(int(q * len(s)), len(s) - 1)], 2)


def key(name: str, character: str | None, app: MDConsoleApp) -> events.Key:
    event = events.Key(name, character)
    event.set_sender(app)
    return event


async def run(rate: int, rounds: int) -> dict[str, object]:
    hub = FeedHub("sim", SYMBOLS, config={"seed": 7, "rate": rate})
    app = MDConsoleApp(hub, provider="sim", timeframe_s=1)
    keystrokes: list[float] = []
    opens: list[float] = []
    hits: dict[str, int] = {}
    async with app.run_test(size=(160, 50)) as pilot:
        watch = Watch(app)
        deadline = time.perf_counter() + 30
        while app.candles_pane.candle_count == 0 and time.perf_counter() < deadline:
            await pilot.pause(0.05)
        driver = app._driver
        assert driver is not None
        for _ in range(rounds):
            for query in QUERIES:
                await app.next_frame()
                t0 = time.perf_counter()
                driver.send_message(key("ctrl+p", None, app))
                while not isinstance(app.screen, CommandPalette):
                    await asyncio.sleep(0.0005)
                palette = app.screen
                watch.attach(palette)
                while not (palette.query(CommandList) and watch.last_update > t0
                           and palette.query_one(CommandList).option_count):
                    await asyncio.sleep(0.0005)
                opens.append((watch.last_update - t0) * 1000.0)
                typed = ""
                for character in query:
                    await app.next_frame()
                    typed += character
                    t0 = time.perf_counter()
                    name = "space" if character == " " else character
                    driver.send_message(key(name, character, app))
                    keystrokes.append(await watch.shown(typed, t0))
                hits[query] = palette.query_one(CommandList).option_count
                driver.send_message(key("escape", None, app))
                while isinstance(app.screen, CommandPalette):
                    await asyncio.sleep(0.001)
        await app.stop_view()
    return {
        "bench": "palette",
        "size": "160x50",
        "sim_rate": rate,
        "keystrokes": len(keystrokes),
        "keystroke_ms_p50": pct(keystrokes, 0.5),
        "keystroke_ms_p90": pct(keystrokes, 0.9),
        "keystroke_ms_max": pct(keystrokes, 1.0),
        "search_ms_p50": pct(watch.search_ms, 0.5),
        "search_ms_max": pct(watch.search_ms, 1.0),
        "open_ms_p50": pct(opens, 0.5),
        "open_ms_max": pct(opens, 1.0),
        "hits_after_query": hits,
    }


def main() -> None:
    rate = int(os.environ.get("BENCH_RATE", "200"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    started = time.perf_counter()
    result = asyncio.run(run(rate, rounds))
    result["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
