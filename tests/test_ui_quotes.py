"""Watchlist cell formatting: numbers, volume units, colour roles for direction and staleness."""

from __future__ import annotations

from dataclasses import dataclass

from console.model.instruments import Instrument
from console.ui.quotes import fmt_num, fmt_volume, quote_cells, visible_columns


@dataclass
class Quote:
    symbol: str = "BTC/USD"
    last: float = 50_000.5
    change_pct: float = 1.234
    bid: float = 50_000.4
    ask: float = 50_000.6
    volume: float = 12_345.0
    version: int = 1


BTC = Instrument(symbol="BTC/USD", base="BTC", quote="USD", tick_size=0.1, lot_size=0.001)


def test_volume_is_shown_with_k_m_b_units() -> None:
    assert fmt_volume(950.0) == "950"
    assert fmt_volume(12.5) == "12.50"
    assert fmt_volume(12_345.0) == "12.35k"
    assert fmt_volume(4_560_000.0) == "4.56M"
    assert fmt_volume(0.0) == "—"


def test_missing_price_is_an_em_dash_not_zero() -> None:
    assert fmt_num(0.0, 2) == "—"
    assert fmt_num(float("nan"), 2) == "—"
    assert fmt_num(1234.5, 1) == "1,234.5"


def test_cells_use_the_instrument_price_decimals_and_compute_the_spread() -> None:
    texts = [t for t, _ in quote_cells(Quote(), BTC, 0, stale=False)]
    assert texts == ["BTC/USD", "50,000.5", "+1.23%", "50,000.4", "50,000.6", "0.2", "12.35k"]


def test_uptick_and_positive_change_are_coloured_up_and_sides_bid_ask() -> None:
    roles = [r for _, r in quote_cells(Quote(), BTC, 1, stale=False)]
    assert roles[1:5] == ["up", "up", "bid", "ask"]


def test_downtick_and_negative_change_are_coloured_down() -> None:
    roles = [r for _, r in quote_cells(Quote(change_pct=-0.5), BTC, -1, stale=False)]
    assert roles[1:3] == ["down", "down"]


def test_a_stale_symbol_is_painted_entirely_in_the_stale_colour() -> None:
    roles = [r for _, r in quote_cells(Quote(), BTC, 1, stale=True)]
    assert set(roles) == {"stale"}


def test_spread_is_a_dash_while_one_side_is_empty() -> None:
    texts = [t for t, _ in quote_cells(Quote(ask=0.0), BTC, 0, stale=False)]
    assert texts[5] == "—"


def test_all_columns_show_at_100_wide_and_spread_then_volume_go_first_when_narrow() -> None:
    assert visible_columns(98) == [0, 1, 2, 3, 4, 5, 6]
    assert visible_columns(78) == [0, 1, 2, 3, 4, 6]
    assert visible_columns(70) == [0, 1, 2, 3, 4]
    assert visible_columns(60) == [0, 1, 3, 4]
