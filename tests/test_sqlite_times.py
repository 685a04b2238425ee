"""Timestamp columns and user times to epoch nanoseconds."""

from __future__ import annotations

import pytest

from console.record.okxdb.times import TimestampError, parse_time, to_ns

NOON = 1_751_371_200_000_000_000  # 2025-07-01T12:00:00Z


@pytest.mark.parametrize(
    "values",
    [
        ["2025-07-01 12:00:00.250", "2025-07-01T12:00:01"],
        ["2025-07-01T12:00:00.25Z", "2025-07-01T12:00:01Z"],
        [b"2025-07-01T12:00:00.250+00:00", b"2025-07-01T12:00:01+00:00"],
        ["2025-07-01T14:00:00.25+02:00", "2025-07-01T12:00:01"],
        [1_751_371_200.25, 1_751_371_201],
        [1_751_371_200_250, 1_751_371_201_000],
        ["1751371200250000", "1751371201000000"],
        [NOON + 250_000_000, NOON + 1_000_000_000],
    ],
)
def test_iso_text_and_epoch_units_give_the_same_nanoseconds(values):
    assert to_ns(values).tolist() == [NOON + 250_000_000, NOON + 1_000_000_000]


def test_nanosecond_epochs_keep_every_digit():
    assert to_ns([1_751_371_200_123_456_789]).tolist() == [1_751_371_200_123_456_789]


@pytest.mark.parametrize("bad", [["2025-07-01", "tomorrow"], [1_751_371_200_000, None]])
def test_a_value_that_is_not_a_time_is_named_with_its_row(bad):
    with pytest.raises(TimestampError, match=r"book\.timestamp, row 1: '(tomorrow|None)' is not"):
        to_ns(bad, where="book.timestamp")


def test_user_times_take_dates_times_and_epochs():
    assert parse_time("2025-07-01T12:00") == NOON
    assert parse_time(" 1751371200 ") == NOON
    assert parse_time("2025-07-01") == NOON - 12 * 3600 * 10**9
    with pytest.raises(TimestampError, match="'noon' is not a time"):
        parse_time("noon", what="--from")
