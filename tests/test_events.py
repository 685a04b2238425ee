"""Market events survive msgpack and JSON round trips exactly, as recorder and bus rely on."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.model import codec
from console.model.events import (
    MARKET_EVENT_TYPES,
    Bar,
    BookDelta,
    BookSnapshot,
    ConnectorStatus,
    MarketEvent,
    Quote,
    Tick,
    Trade,
)
from console.model.instruments import Instrument, decimals_of, split_symbol

prices = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
sizes = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)
ns = st.integers(min_value=0, max_value=2**63 - 1)
symbols = st.sampled_from(["BTC/USD", "ETH/USDT", "DOGE/USD", "Ü/€"])
levels = st.lists(st.tuples(prices, sizes), max_size=8)

common = {"symbol": symbols, "ts": ns, "recv_ts": ns}
events: st.SearchStrategy[MarketEvent] = st.one_of(
    st.builds(BookSnapshot, bids=levels, asks=levels, seq=ns, **common),
    st.builds(BookDelta, bids=levels, asks=levels, seq=ns, **common),
    st.builds(Trade, price=prices, size=sizes, side=st.sampled_from(["buy", "sell", ""]),
              trade_id=st.text(max_size=12), **common),
    st.builds(Quote, last=prices, bid=prices, ask=prices, bsize=sizes, asize=sizes, volume=sizes,
              ticks=st.lists(st.builds(Tick, type=st.sampled_from(["trade", "bid", "ask"]),
                                       price=prices, size=sizes), max_size=4), **common),
    st.builds(Bar, timeframe=st.sampled_from([1, 60, 3600]), time=st.integers(0, 2**40),
              open=prices, high=prices, low=prices, close=prices, volume=sizes,
              count=st.integers(0, 2**31), vwap=prices, **common),
    st.builds(ConnectorStatus, provider=st.sampled_from(["sim", "kraken"]),
              state=st.sampled_from(["connecting", "live", "resync", "down"]),
              detail=st.text(max_size=30), **common),
)


@settings(max_examples=300)
@given(events)
def test_every_event_round_trips_through_msgpack_exactly(event: MarketEvent) -> None:
    assert codec.from_msgpack(codec.to_msgpack(event)) == event


@settings(max_examples=300)
@given(events)
def test_every_event_round_trips_through_json_exactly(event: MarketEvent) -> None:
    decoded = codec.from_json(codec.to_json(event))
    assert decoded == event
    assert type(decoded) is type(event)


@settings(max_examples=50)
@given(st.lists(events, max_size=20))
def test_a_mixed_batch_decodes_back_into_the_right_classes(batch: list[MarketEvent]) -> None:
    decoded = codec.many_from_msgpack(codec.many_to_msgpack(batch))
    assert decoded == batch
    assert [type(e) for e in decoded] == [type(e) for e in batch]


def test_each_event_kind_has_its_own_short_tag() -> None:
    tags = [msgspec.inspect.type_info(t).tag for t in MARKET_EVENT_TYPES]  # type: ignore[attr-defined]
    assert tags == ["snap", "delta", "trade", "quote", "bar", "status"]


def test_decoding_an_unknown_kind_names_the_problem() -> None:
    with pytest.raises(msgspec.ValidationError, match="Invalid value 'nope'"):
        codec.from_json(b'{"k":"nope","symbol":"BTC/USD"}')


def test_decoding_a_wrong_field_type_names_the_field() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.price"):
        codec.from_json(b'{"k":"trade","symbol":"BTC/USD","price":"x","size":1}')


def test_first_quote_needs_only_symbol_and_last() -> None:
    quote = codec.from_json(b'{"k":"quote","symbol":"BTC/USD","last":101.5}')
    assert isinstance(quote, Quote)
    assert (quote.symbol, quote.last, quote.ticks) == ("BTC/USD", 101.5, [])


def test_instrument_rounds_and_formats_to_its_tick_and_lot() -> None:
    ins = Instrument(symbol="BTC/USD", base="BTC", quote="USD", tick_size=0.5, lot_size=0.001)
    assert ins.round_price(100.26) == 100.5
    assert ins.round_size(0.12345) == 0.123
    assert ins.fmt_price(100) == "100.0"
    assert ins.fmt_size(1) == "1.000"


def test_instrument_rejects_a_non_positive_tick_size() -> None:
    with pytest.raises(ValueError, match="tick_size must be a positive number, got 0"):
        Instrument(symbol="X/Y", base="X", quote="Y", tick_size=0, lot_size=1)


@pytest.mark.parametrize(("step", "places"), [(0.01, 2), (0.5, 1), (5.0, 0), (1e-8, 8), (0.25, 2)])
def test_decimals_follow_the_step(step: float, places: int) -> None:
    assert decimals_of(step) == places


def test_split_symbol_explains_the_expected_form() -> None:
    assert split_symbol("btc/usd") == ("BTC", "USD")
    with pytest.raises(ValueError, match="not of the form BASE/QUOTE"):
        split_symbol("BTCUSD")
