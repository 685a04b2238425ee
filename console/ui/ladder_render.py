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
DROP_ORDER: tuple[tuple[int, int], ...] = ((1, 7), (3, 5))
"""Column pairs given up, in this order, when the pane is too narrow: cumulative, then bars
(in pairs, so both sides of the book keep the same look)."""

MIN_WIDTHS: tuple[int, ...] = (4, 8, 5, BAR_WIDTH, 8, BAR_WIDTH, 5, 8, 4)
"""The narrowest each column gets before columns go; sizes then show fewer decimals."""
SHRINK_ORDER: tuple[int, ...] = (0, 8, 2, 6)
"""Columns narrowed a cell at a time, in turn, once nothing optional is left to drop."""
WORKING = (0, 8)
"""Our working orders' columns: the last to go, when even the narrowed columns do not fit."""

LABELS: tuple[tuple[str, ...], ...] = tuple(
    (name, *{"Buys": ("Buy", "B"), "Sells": ("Sell", "S"), "Price": ("Px",)}.get(name, ()))
    for name, _ in COLUMNS
)
"""Each column's header from longest to shortest; the longest that fits is shown."""


def visible_columns(width: int) -> list[int]:
    """The columns kept, before narrowing, when they must fit in `width` cells."""
    shown = list(range(len(COLUMNS)))
    for pair in DROP_ORDER:
        if sum(COLUMNS[i][1] + 1 for i in shown) - 1 <= width:
            break
        shown = [c for c in shown if c not in pair]
    return shown


def column_widths(width: int) -> list[tuple[int, int]]:
    """(column, cells) of each column shown in `width` cells, one-cell gaps between.

    Optional columns go first (`DROP_ORDER`); then order and size columns narrow in turn to
    their minimum; then the working-order columns go and the sizes widen again. Below the
    price and two sizes at their minimum the row is clipped at the right.
    """
    shown = visible_columns(width)
    widths = _narrowed(shown, width)
    if widths is None:
        widths = _narrowed([c for c in shown if c not in WORKING], width)
    if widths is None:
        widths = {c: MIN_WIDTHS[c] for c in shown if c not in WORKING}
    return [(c, widths[c]) for c in sorted(widths)]


def _narrowed(shown: list[int], width: int) -> dict[int, int] | None:
    widths = {c: COLUMNS[c][1] for c in shown}
    excess = sum(widths.values()) + len(widths) - 1 - width
    while excess > 0:
        narrowed = False
        for c in SHRINK_ORDER:
            if excess > 0 and c in widths and widths[c] > MIN_WIDTHS[c]:
                widths[c] -= 1
                excess -= 1
                narrowed = True
        if not narrowed:
            return None
    return widths


def fit_size(preferred: str, value: float, decimals: int, width: int) -> str:
    """`preferred` if it fits in `width` cells, else `value` shortened to fit: fewer decimals,
    the leading 0 dropped, then k/M/B units; a size above zero never shows as zero."""
    if len(preferred) <= width or value <= 0:
        return preferred
    for unit, scale in (("", 1.0), ("k", 1e3), ("M", 1e6), ("B", 1e9)):
        if unit and value < scale:
            break
        for places in range(decimals if not unit else 2, -1, -1):
            text = f"{value / scale:.{places}f}"
            if float(text) == 0.0:
                break
            for short in (text, text[1:] if text.startswith("0.") else text):
                if len(short) + len(unit) <= width:
                    return short + unit
    return preferred[: width - 1] + "…"  # marked as cut rather than misread as smaller


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
    layout = column_widths(width)
    shown = [c for c, _ in layout]
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
        # Sizes (in quote units) behind the size cells, to shorten them where columns narrow.
        values = (mark.buy if mark else 0.0, bid_cum[i] * lot if bids[i] else 0.0,
                  bids[i] * lot, 0.0, 0.0, 0.0, asks[i] * lot,
                  ask_cum[i] * lot if asks[i] else 0.0, mark.sell if mark else 0.0)
        all_cells: list[Cell] = [
            ("", "working"),
            (fmt_size(bid_cum[i], lot, qdec) if bids[i] else "", "label"),
            (fmt_size(bids[i], lot, qdec), "bid"),
            (bar(bids[i] / scale) if bids[i] else "", "bid"),
            (fmt_price(t * tick, pdec, COLUMNS[4][1]), price_role),
            (bar(asks[i] / scale) if asks[i] else "", "ask"),
            (fmt_size(asks[i], lot, qdec), "ask"),
            (fmt_size(ask_cum[i], lot, qdec) if asks[i] else "", "label"),
            ("", "working"),
        ]
        cells: list[Cell] = []
        for c, w in layout:
            text, role = all_cells[c]
            if c in WORKING and values[c]:
                # ● a resting limit, ◆ a stop waiting for its trigger
                stop = mark is not None and (mark.buy_stop if c == 0 else mark.sell_stop)
                text = ("◆" if stop else "●") + fit_size(compact(values[c]), values[c], qdec,
                                                         w - 1)
            elif c in (1, 2, 6, 7):
                text = fit_size(text, values[c], qdec, w)
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


def fmt_price(price: float, pdec: int, width: int) -> str:
    """A price with thousands separators, or without them where they do not fit."""
    text = f"{price:,.{pdec}f}"
    return text if len(text) <= width else f"{price:.{pdec}f}"


def label_level(column: int, width: int) -> int:
    """How far down its labels (longest first) a column must go to fit `width` cells; one past
    the last when none fits."""
    labels = LABELS[column]
    return next((i for i, label in enumerate(labels) if len(label) <= width), len(labels))


def header_cells(width: int) -> list[Cell]:
    """The header row's cells, each label aligned like its column's values.

    Columns mirror each other across the price (Buys and Sells, Bid and Ask, ...); both of a
    pair abbreviate as far as the narrower needs, so the header stays symmetric.
    """
    layout = column_widths(width)
    widths = dict(layout)
    cells: list[Cell] = []
    for c, w in layout:
        mirror = len(COLUMNS) - 1 - c
        level = max(label_level(c, w), label_level(mirror, widths.get(mirror, w)))
        name = LABELS[c][level] if level < len(LABELS[c]) else ""
        text = name.center(w) if c == 4 else name.ljust(w) if c == 8 else name.rjust(w)
        cells.append((text, "header"))
        cells.append((" ", "header"))
    cells.pop()
    return cells


def centre_top(centre_tick: int, n_rows: int, group: int) -> int:
    """The top row tick that puts `centre_tick`'s row in the middle of `n_rows`."""
    return row_tick(centre_tick, group) + (n_rows // 2) * group
