"""Depth ladder: row layout from a known book (UI-free), and the pane's cursor, centring and
grouping on the sim feed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.widget import Widget

from console.data.feed import FeedHub
from console.ems.journal import Journal
from console.ems.router import Ems
from console.model.book import ASK, BID, Book
from console.ui.app import MDConsoleApp
from console.ui.ladder_render import (
    COLUMNS,
    LABELS,
    LadderRow,
    OrderMark,
    bar,
    centre_top,
    column_widths,
    fit_size,
    header_cells,
    ladder_rows,
    marks_by_row,
    visible_columns,
)
from console.ui.session import TradingSession

WIDE = 80


def book() -> Book:
    """Bids 95..99 (sizes 1..5 lots x10), asks 101..105: a spread of two ticks around 100."""
    b = Book(1.0, 0.1, symbol="TEST/USD")
    for i, px in enumerate(range(99, 94, -1)):
        b.set_level(BID, px, 10 * (i + 1))
    for i, px in enumerate(range(101, 106)):
        b.set_level(ASK, px, 10 * (i + 1))
    return b


def texts(rows: list[LadderRow]) -> list[str]:
    return ["".join(text for text, _ in r.cells) for r in rows]


def render(b: Book, *, group: int = 1, marks: dict[int, OrderMark] | None = None,
           width: int = WIDE, n: int = 11, last: int | None = None,
           cursor: int | None = None) -> list[LadderRow]:
    return ladder_rows(b, top_tick=centre_top(100, n, group), n_rows=n, group=group,
                       width=width, pdec=0, qdec=1, marks=marks or {}, last_tick=last,
                       cursor_tick=cursor)


def test_rows_run_from_high_to_low_prices_centred_on_the_spread() -> None:
    rows = render(book())
    ticks = [r.tick for r in rows]
    assert ticks == list(range(105, 94, -1))
    assert ticks[len(ticks) // 2] == 100


def test_bid_and_ask_sizes_sit_on_their_sides_with_cumulative_depth() -> None:
    rows = render(book())
    by_tick = {r.tick: r for r in rows}
    ask_101 = dict(zip([c for c, _ in COLUMNS], [t for t, _ in by_tick[101].cells[::2]],
                       strict=False))
    bid_97 = dict(zip([c for c, _ in COLUMNS], [t for t, _ in by_tick[97].cells[::2]],
                      strict=False))
    assert ask_101["Ask"].strip() == "1.0" and ask_101["Bid"].strip() == ""
    assert bid_97["Bid"].strip() == "3.0" and bid_97["BidCum"].strip() == "6.0"
    ask_103 = dict(zip([c for c, _ in COLUMNS], [t for t, _ in by_tick[103].cells[::2]],
                       strict=False))
    assert ask_103["AskCum"].strip() == "6.0"


def test_price_roles_mark_best_bid_best_ask_and_last_trade() -> None:
    rows = render(book(), last=102)
    roles = {r.tick: dict(r.cells)[f"{r.tick:,}".center(8)] for r in rows}
    assert roles[99] == "bid" and roles[101] == "ask" and roles[102] == "last"
    assert roles[100] == "text"


def test_bars_use_eighth_blocks_scaled_to_the_largest_visible_size() -> None:
    assert bar(1.0, 6) == "██████"
    assert bar(0.5, 6) == "███   "
    assert bar(1 / 48, 6) == "▏     "
    assert bar(0.0001, 6) == "▏     "  # any size shows
    rows = render(book())
    by_tick = {r.tick: r for r in rows}
    assert "██████" in texts([by_tick[95]])[0]  # the largest bid fills its bar


def test_working_orders_show_at_their_rows_by_side_and_kind() -> None:
    marks = marks_by_row([(98.0, 0.5, "buy", False), (104.0, 0.2, "sell", True),
                          (98.0, 0.25, "buy", False)], 1.0, 1)
    rows = {r.tick: t for r, t in zip(render(book(), marks=marks), texts(render(
        book(), marks=marks)), strict=True)}
    assert rows[98].lstrip().startswith("●.75")
    assert rows[104].rstrip().endswith("◆.2")
    assert "●" not in rows[99] and "◆" not in rows[99]


def test_grouping_sums_sizes_into_rows_of_n_ticks() -> None:
    rows = render(book(), group=5)
    by_tick = {r.tick: r for r in rows}
    # row 95 covers 95..99: all five bid levels, 1+2+3+4+5 = 15.0
    cells = dict(zip([c for c, _ in COLUMNS], [t for t, _ in by_tick[95].cells[::2]],
                     strict=False))
    assert cells["Bid"].strip() == "15.0"
    assert all(r.tick % 5 == 0 for r in rows)


def test_narrow_ladder_drops_cumulative_then_bar_columns_in_pairs_and_fits() -> None:
    def names(width: int) -> list[str]:
        return [COLUMNS[i][0] for i in visible_columns(width)]

    assert "BidCum" in names(WIDE)
    assert "BidCum" not in names(62) and "AskCum" not in names(62) and "" in names(62)
    assert names(50) == names(38) == ["Buys", "Bid", "Price", "Ask", "Sells"]
    for width in (38, 50, 62, WIDE):
        assert all(len(t) <= width for t in texts(render(book(), width=width)))
    # without bar columns the size cells are shaded instead
    roles = {role for r in render(book(), width=38) for _, role in r.cells}
    assert {"bid-bar", "ask-bar"} <= roles


LADDER_WIDTHS = range(20, 101)
"""From narrower than any layout gives (30 cells at 100-139 columns, 38 from 140) to zoomed."""


def header_labels(width: int) -> list[str]:
    return [text.strip() for text, _ in header_cells(width)[::2]]


def test_header_labels_are_never_cut_and_line_up_with_the_rows_at_every_width() -> None:
    b = book()
    marks = marks_by_row([(99.0, 12.5, "buy", False), (103.0, 0.25, "sell", True)], 1.0, 1)
    for width in LADDER_WIDTHS:
        header = "".join(text for text, _ in header_cells(width))
        assert len(header) <= width, width
        for (column, _cells), label in zip(column_widths(width), header_labels(width),
                                           strict=True):
            assert label in LABELS[column], (width, label)
        for row in texts(render(b, width=width, marks=marks)):
            assert len(row) == len(header), width
        assert {"Bid", "Price", "Ask"} <= set(header_labels(width)), width


def test_header_keeps_the_order_columns_by_abbreviating_in_the_medium_layout() -> None:
    assert header_labels(38) == ["Buys", "Bid", "Price", "Ask", "Sells"]  # wide layout
    assert header_labels(34) == ["Buys", "Bid", "Price", "Ask", "Sells"]
    assert header_labels(30) == ["Buy", "Bid", "Price", "Ask", "Sell"]  # 100-139 columns
    assert header_labels(29) == ["Bid", "Price", "Ask"]  # order columns go last
    assert header_labels(WIDE)[:3] == ["Buys", "BidCum", "Bid"]


def test_narrowed_size_cells_show_whole_numbers_never_cut_digits() -> None:
    b = Book(1.0, 0.0001, symbol="TEST/USD")
    b.set_level(BID, 99, 1234)  # 0.1234
    b.set_level(ASK, 101, 98765)  # 9.8765
    marks = marks_by_row([(99.0, 0.0123, "buy", False)], 1.0, 1)
    rows = ladder_rows(b, top_tick=101, n_rows=3, group=1, width=30, pdec=0, qdec=4,
                       marks=marks, last_tick=None, cursor_tick=None)
    row_text = {r.tick: "".join(t for t, _ in r.cells).split() for r in rows}
    assert row_text[99] == ["●.01", ".1234", "99"]  # 0.0123 in the 4-cell order column
    assert row_text[101] == ["101", "9.877"]


def test_fit_size_shortens_decimals_then_units_and_never_shows_zero() -> None:
    assert fit_size("0.0100", 0.01, 4, 6) == "0.0100"  # fits: unchanged
    assert fit_size("0.1234", 0.1234, 4, 5) == ".1234"
    assert fit_size("12.3456", 12.3456, 4, 5) == "12.35"
    assert fit_size("12345.6", 12345.6, 1, 5) == "12346"
    assert fit_size("123456.7", 123456.7, 1, 5) == "123k"
    assert fit_size("0.0001", 0.0001, 4, 3) == "0.…"
    for value in (0.0001, 0.5, 7.25, 99.99, 1234.5678, 98765.4, 3.2e6):
        for width in range(3, 9):
            text = fit_size(f"{value:.4f}", value, 4, width)
            shown_as_zero = not any(ch in "123456789…" for ch in text)
            assert len(text) <= width and not shown_as_zero, (value, width)


async def test_the_ladder_header_fits_the_side_column_at_mid_and_wide_terminals() -> None:
    app = MDConsoleApp(FeedHub("sim", ["BTC/USD"], config={"seed": 3, "rate": 50},
                               history=False), provider="sim", start_view=False)
    async with app.run_test(size=(100, 40)) as pilot:
        ladder = app.ladder_pane
        for width, labels in ((100, ["Buy", "Bid", "Price", "Ask", "Sell"]),
                              (139, ["Buy", "Bid", "Price", "Ask", "Sell"]),
                              (140, ["Buys", "Bid", "Price", "Ask", "Sells"])):
            await pilot.resize_terminal(width, 40)
            await pilot.pause()
            header = lines(ladder)[0]
            assert header.split() == labels and len(header) == ladder.size.width, width


def lines(widget: Widget) -> list[str]:
    return ["".join(seg.text for seg in widget.render_line(y)) for y in range(widget.size.height)]


async def test_ladder_pane_centres_on_spread_moves_cursor_and_groups(tmp_path: Path) -> None:
    hub = FeedHub("sim", ["BTC/USD"], config={"seed": 3, "rate": 300}, history=False)
    session = TradingSession(Ems(Journal(tmp_path / "j.sqlite")))
    app = MDConsoleApp(hub, provider="sim", trading=session)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            ladder = app.ladder_pane

            async def until(cond: Callable[[], bool]) -> None:
                async def wait() -> None:
                    while not cond():
                        await app.next_frame()
                await asyncio.wait_for(wait(), 30)

            await until(lambda: ladder.cursor_tick is not None and ladder.top_tick is not None)
            b = session.ems.books["BTC/USD"]

            def centred() -> bool:
                # the best bid sits in the middle half of the rows (auto-centre's band)
                top, bid = ladder.top_tick, b.best_bid_ticks
                if top is None or bid is None:
                    return False
                return ladder.rows // 4 - 1 <= top - bid <= ladder.rows - ladder.rows // 4

            await until(centred)
            assert ladder.auto_centre and "⊕" in str(ladder.border_title)
            await pilot.press("l", "c")  # freeze the view so the market cannot scroll it mid-test
            assert not ladder.auto_centre and "⊕" not in str(ladder.border_title)
            top, n = ladder.top_tick, ladder.rows
            assert top is not None
            start = top - n // 2
            ladder.cursor_tick = start
            await pilot.press("up", "up", "down")
            assert ladder.cursor_tick == start + 1 and ladder.top_tick == top  # moved in view
            assert ladder.cursor_price == float(start + 1)  # BTC/USD ticks are 1.0
            # A cursor the market left off screen comes back at the bid, not the view to it
            # (driven directly: the live market must not move between the steps).
            ladder.cursor_tick, ladder.market_tick = top + 500, top - 3
            ladder.move_cursor(-1)
            assert (ladder.cursor_tick, ladder.top_tick) == (top - 4, top)
            await pilot.press("c", "full_stop")
            assert ladder.auto_centre and ladder.group == 2
            await until(lambda: ladder.top_tick is not None and ladder.top_tick % 2 == 0)
            assert "×2" in str(ladder.border_title)
            await app.stop_view()
    finally:
        session.close()


def test_changed_span_covers_only_the_cells_that_differ() -> None:
    from console.ui.ladder import changed_span

    old = ([("  ", "text"), ("1.0", "bid"), (" ", "text"), ("100", "text")], False)
    same_width = ([("  ", "text"), ("2.0", "bid"), (" ", "text"), ("100", "text")], False)
    assert changed_span(old, same_width, 9) == (2, 5)
    recoloured = ([("  ", "text"), ("1.0", "bid"), (" ", "text"), ("100", "last")], False)
    assert changed_span(old, recoloured, 9) == (6, 9)
    assert changed_span(old, old, 9) == (0, 0)
    assert changed_span(None, old, 9) == (0, 9)  # never painted: the whole row
    assert changed_span(old, (old[0], True), 9) == (0, 9)  # the cursor moved onto it
