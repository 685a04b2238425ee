"""Depth-ladder rows as plain text cells and colour roles, from a book and our working orders.

UI-free: the ladder widget turns `LadderRow.cells` into strips and uses `LadderRow.key` to
repaint only rows that changed. Prices are in ticks; a row covers `group` ticks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from console.model.book import ASK, BID, Book

EIGHTHS = " ▏▎▍▌▋▊▉█"
BAR_WIDTH = 6
Cell = tuple[str, str]

# (name, width) of each column, left to right; cumulative columns and bars go when narrow.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("Buys", 6),
    ("BidCum", 8),
    ("Bid", 7),
    ("", BAR_WIDTH),
    ("Price", 8),
    ("", BAR_WIDTH),
    ("Ask", 7),
    ("AskCum", 8),
    ("Sells", 6),
)
DROP_ORDER: tuple[int, ...] = (1, 7, 3, 5)
"""Columns given up, in this order, when the pane is too narrow: cumulative, then bars."""


def visible_columns(width: int) -> list[int]:
    shown = list(range(len(COLUMNS)))
    for drop in DROP_ORDER:
        if sum(COLUMNS[i][1] + 1 for i in shown) - 1 <= width:
            break
        shown.remove(drop)
    return shown


def compact(size: float) -> str:
    """A size in few characters: 0.0001 -> .0001, 12.5 -> 12.5, 12500 -> 12.5k."""
    if size >= 1e4:
        return f"{size / 1e3:.3g}k"
    text = f"{size:.6g}"
    return text[1:] if text.startswith("0.") else text


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A left-aligned bar in eighth blocks; any size > 0 shows at least one eighth."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    if fraction > 0 and eighths == 0:
        eighths = 1
    full, part = divmod(eighths, 8)
    text = "█" * full + (EIGHTHS[part] if part else "")
    return text.ljust(width)


def fmt_size(lots: int, lot: float, qdec: int) -> str:
    if lots <= 0:
        return ""
    value = lots * lot
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e4:
        return f"{value / 1e3:.1f}k"
    return f"{value:.{qdec}f}"


@dataclass(frozen=True, slots=True)
class OrderMark:
    """Our working orders in one row: sizes by side, and whether any is a stop."""

    buy: float = 0.0
    sell: float = 0.0
    buy_stop: bool = False
    sell_stop: bool = False


@dataclass(frozen=True, slots=True)
class LadderRow:
    tick: int
    key: tuple[object, ...]
    cells: list[Cell]
    bid_lots: int = 0
    ask_lots: int = 0


def row_tick(tick: int, group: int) -> int:
    """The row a price (in ticks) falls in: rows start at multiples of `group`."""
    return (tick // group) * group


def marks_by_row(
    orders: Iterable[tuple[float, float, str, bool]], tick_size: float, group: int
) -> dict[int, OrderMark]:
    """(price, remaining size, side, is_stop) of working orders -> marks per row tick."""
    out: dict[int, OrderMark] = {}
    for price, size, side, stop in orders:
        if price <= 0:
            continue
        r = row_tick(round(price / tick_size), group)
        m = out.get(r, OrderMark())
        out[r] = OrderMark(
            buy=m.buy + (size if side == "buy" else 0.0),
            sell=m.sell + (size if side == "sell" else 0.0),
            buy_stop=m.buy_stop or (stop and side == "buy"),
            sell_stop=m.sell_stop or (stop and side == "sell"),
        )
    return out


def ladder_rows(
    book: Book,
    *,
    top_tick: int,
    n_rows: int,
    group: int,
    width: int,
    pdec: int,
    qdec: int,
    marks: Mapping[int, OrderMark],
    last_tick: int | None,
    cursor_tick: int | None,
    scale: int = 0,
) -> list[LadderRow]:
    """`n_rows` rows from `top_tick` (a row tick) downwards, each `group` ticks apart.

    Bars are sizes over `scale` lots (0: the largest visible size). Where the pane is too
    narrow for bar columns, the size cells are shaded from the left in proportion instead.
    """
    ticks = [top_tick - i * group for i in range(n_rows)]
    bids = [0] * n_rows
    asks = [0] * n_rows
    bb, ba = book.best_bid_ticks, book.best_ask_ticks
    for i, t in enumerate(ticks):
        # Only the side that can have levels at this price is read: fewer lookups per frame.
        if bb is not None and t <= bb:
            bids[i] = sum(book.lots_at(BID, t + k) for k in range(group))
        if ba is not None and t + group - 1 >= ba:
            asks[i] = sum(book.lots_at(ASK, t + k) for k in range(group))
    # Cumulative from the touch outwards: asks accumulate upwards, bids downwards.
    ask_cum = [0] * n_rows
    run = 0
    for i in range(n_rows - 1, -1, -1):
        run += asks[i]
        ask_cum[i] = run if asks[i] or (ba is not None and ticks[i] >= ba) else 0
    bid_cum = [0] * n_rows
    run = 0
    for i in range(n_rows):
        run += bids[i]
        bid_cum[i] = run if bids[i] or (bb is not None and ticks[i] <= bb) else 0
    scale = scale or max(max(bids, default=0), max(asks, default=0), 1)
    lot = book.lot_size
    tick = book.tick_size
    shown = visible_columns(width)
    last_row = row_tick(last_tick, group) if last_tick is not None else None
    cursor_row = row_tick(cursor_tick, group) if cursor_tick is not None else None
    bb_row = row_tick(bb, group) if bb is not None else None
    ba_row = row_tick(ba, group) if ba is not None else None
    rows: list[LadderRow] = []
    for i, t in enumerate(ticks):
        mark = marks.get(t)
        is_last = t == last_row
        is_cursor = t == cursor_row
        bid_bar = round(min(bids[i] / scale, 1.0) * BAR_WIDTH * 8)
        ask_bar = round(min(asks[i] / scale, 1.0) * BAR_WIDTH * 8)
        key = (t, bids[i], asks[i], bid_cum[i] if 1 in shown else 0,
               ask_cum[i] if 7 in shown else 0, bid_bar, ask_bar, mark, is_last, is_cursor,
               t == bb_row, t == ba_row, width)
        price_role = ("last" if is_last else "bid" if t == bb_row else "ask" if t == ba_row
                      else "text")
        buys = sells = ""
        if mark is not None:
            # ● a resting limit, ◆ a stop waiting for its trigger
            if mark.buy:
                buys = ("◆" if mark.buy_stop else "●") + compact(mark.buy)
            if mark.sell:
                sells = ("◆" if mark.sell_stop else "●") + compact(mark.sell)
        all_cells: list[Cell] = [
            (buys, "working"),
            (fmt_size(bid_cum[i], lot, qdec) if bids[i] else "", "label"),
            (fmt_size(bids[i], lot, qdec), "bid"),
            (bar(bids[i] / scale) if bids[i] else "", "bid"),
            (f"{t * tick:,.{pdec}f}", price_role),
            (bar(asks[i] / scale) if asks[i] else "", "ask"),
            (fmt_size(asks[i], lot, qdec), "ask"),
            (fmt_size(ask_cum[i], lot, qdec) if asks[i] else "", "label"),
            (sells, "working"),
        ]
        cells: list[Cell] = []
        for c in shown:
            text, role = all_cells[c]
            w = COLUMNS[c][1]
            if c in (2, 6) and 3 not in shown:
                # No room for bar columns: shade the size cell from the left instead.
                frac = min((bids[i] if c == 2 else asks[i]) / scale, 1.0)
                k = max(1, round(frac * w)) if frac > 0 else 0
                padded = text.rjust(w)[:w]
                cells.append((padded[:k], role + "-bar"))
                cells.append((padded[k:], role))
            elif c in (3, 5):
                cells.append((text.ljust(w)[:w], role))
            elif c == 4:
                cells.append((text.center(w)[:w], role))
            elif c == 8:
                cells.append((text.ljust(w)[:w], role))
            else:
                cells.append((text.rjust(w)[:w], role))
            cells.append((" ", "text"))
        cells.pop()
        rows.append(LadderRow(tick=t, key=key, cells=cells, bid_lots=bids[i], ask_lots=asks[i]))
    return rows


def header_cells(width: int) -> list[Cell]:
    cells: list[Cell] = []
    for c in visible_columns(width):
        name, w = COLUMNS[c]
        text = name.center(w) if c == 4 else name.ljust(w) if c == 8 else name.rjust(w)
        cells.append((text, "header"))
        cells.append((" ", "header"))
    cells.pop()
    return cells


def centre_top(centre_tick: int, n_rows: int, group: int) -> int:
    """The top row tick that puts `centre_tick`'s row in the middle of `n_rows`."""
    return row_tick(centre_tick, group) + (n_rows // 2) * group
