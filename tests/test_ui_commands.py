"""Command palette: one provider collects the commands when it opens and ranks them per key."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from textual import events
from textual.app import SystemCommand
from textual.command import CommandInput, CommandList, CommandPalette
from textual.screen import Screen

from console.ui import app as app_module
from console.ui.app import MDConsoleApp
from console.ui.commands import MAX_HITS, ConsoleCommands, entry, match, palette_entries, rank
from tests.test_ui_app import quotes_show_numbers, sim_hub, until


def first_command(app: MDConsoleApp) -> str:
    """The palette's top suggestion as plain text ("" while it has none)."""
    lists = app.screen.query(CommandList)
    if not lists or not lists.first(CommandList).option_count:
        return ""
    prompt = lists.first(CommandList).get_option_at_index(0).prompt
    return str(getattr(prompt, "plain", prompt))


def send_keys(app: MDConsoleApp, *keys: str) -> None:
    """Keys as a terminal sends them; unlike `pilot.press`, this does not wait for the app to
    go idle after each key (a live sim market never does, so each press costs a second)."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        name = "space" if key == " " else key
        event = events.Key(name, key if len(key) == 1 else None)
        event.set_sender(app)
        driver.send_message(event)


def palette_text(app: MDConsoleApp) -> str | None:
    """What is typed in the open command palette, None until it is open and composed."""
    inputs = app.screen.query(CommandInput) if isinstance(app.screen, CommandPalette) else None
    return inputs.first(CommandInput).value if inputs else None


class CountingApp(MDConsoleApp):
    """The console, counting how often the palette collects the system commands."""

    CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))
    collected = 0

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        self.collected += 1
        yield from super().get_system_commands(screen)


def titles(*names: str) -> list[Any]:
    return [entry(name, "", lambda: None) for name in names]


def test_a_query_ranks_the_title_holding_its_words_first_whatever_the_case_and_spaces() -> None:
    entries = titles("Theme mdconsole-high-contrast", "Theme mdconsole-amber", "Timeframe 15m",
                     "Timeframe 1m", "Action: Zoom", "Symbol SOL/USD")
    assert rank(entries, "theme amber")[0][1].title == "Theme mdconsole-amber"
    assert rank(entries, "THEMEAMBER")[0][1].title == "Theme mdconsole-amber"
    assert rank(entries, "1m")[0][1].title == "Timeframe 1m"
    assert rank(entries, "tf 15")[0][1].title == "Timeframe 15m"
    assert rank(entries, "hc")[0][1].title == "Theme mdconsole-high-contrast"
    assert rank(entries, "sol")[0][1].title == "Symbol SOL/USD"
    assert rank(entries, "qqq") == []


def test_a_short_query_over_hundreds_of_symbols_offers_the_best_few_exact_first() -> None:
    entries = titles(*(f"Symbol S{i:03d}/USD" for i in range(400)), "Search symbols")
    hits = rank(entries, "s")
    assert len(hits) == MAX_HITS
    assert [score for score, _, _ in hits] == sorted((s for s, _, _ in hits), reverse=True)
    assert rank(entries, "s123/usd")[0][1].title == "Symbol S123/USD"
    assert rank(entries, "s123")[0][1].title == "Symbol S123/USD"


@given(st.text("abcde -/", min_size=1, max_size=30), st.data())
def test_match_finds_every_in_order_subsequence_and_marks_its_letters(
    title: str, data: st.DataObject
) -> None:
    item = entry(title, "", lambda: None)
    folded = title.lower()
    picked = data.draw(st.lists(st.sampled_from(range(len(title))), unique=True))
    query = "".join(folded[i] for i in sorted(picked) if not folded[i].isspace())
    score, offsets = match(query, item)
    if not query:
        assert (score, offsets) == (0.0, ())
        return
    assert 0 < score <= 1
    assert "".join(folded[o] for o in offsets) == query
    assert list(offsets) == sorted(set(offsets))


@given(st.text("abc", max_size=20), st.text("abcd", min_size=1, max_size=6))
def test_match_is_zero_exactly_when_the_letters_are_not_all_there_in_order(
    title: str, query: str
) -> None:
    it = iter(title)
    in_order = all(ch in it for ch in query)
    assert (match(query, entry(title, "", lambda: None))[0] > 0) == in_order


async def test_palette_lists_console_and_system_commands_once_each() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(160, 50)):
        await until(app, lambda: quotes_show_numbers(app))
        listed = [item.title for item in palette_entries(app, app.screen)]
        assert len(listed) == len(set(listed))
        assert {"Symbol SOL/USD", "Timeframe 5m", "Theme mdconsole-amber", "Action: Zoom",
                "Study RSI(14)", "Toggle VWAP", "Quit", "Keys"} <= set(listed)
        # "Chart SOL/USD" (a system command) makes the same call as "Symbol SOL/USD"
        assert "Chart SOL/USD" not in listed
        assert list(app.COMMANDS) == [ConsoleCommands]
        await app.action_quit()


async def test_typing_in_the_palette_finds_a_theme_and_enter_applies_it() -> None:
    app = CountingApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(160, 50)):
        await until(app, lambda: quotes_show_numbers(app))
        send_keys(app, "ctrl+p")
        await until(app, lambda: palette_text(app) == "" and first_command(app) != "")
        send_keys(app, *"theme amber")
        await until(app, lambda: palette_text(app) == "theme amber")
        await until(app, lambda: first_command(app).startswith("Theme mdconsole-amber"))
        assert app.collected == 1  # once when the palette opened, not once per key
        send_keys(app, "enter")
        await until(app, lambda: app.theme == "mdconsole-amber")
        await app.action_quit()
