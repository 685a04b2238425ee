"""Level column parsing: fast vectorized path against float() on the text, and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.record.okxdb import level_kernel
from console.record.okxdb.levels import LevelError, parse_levels

decimal_text = st.builds(
    lambda whole, frac, places: (
        f"{whole}.{frac:0{places}d}"[: len(str(whole)) + 1 + places] if places else str(whole)
    ),
    st.integers(0, 10**7),
    st.integers(0, 10**6),
    st.integers(0, 6),
)
level = st.tuples(decimal_text, decimal_text, st.lists(st.integers(0, 99), max_size=2))
row = st.lists(level, max_size=12)


def python_literal(levels: list[tuple[str, str, list[int]]]) -> str:
    return repr([[p, s, *map(str, extra)] for p, s, extra in levels])


def json_numbers(levels: list[tuple[str, str, list[int]]]) -> str:
    return "[" + ", ".join(f"[{p}, {s}{''.join(f', {e}' for e in x)}]" for p, s, x in levels) + "]"


PATHS = [
    pytest.param(
        True,
        id="compiled",
        marks=pytest.mark.skipif(
            level_kernel.kernel() is None, reason="numba is not installed (or MDCONSOLE_NO_NUMBA=1)"
        ),
    ),
    pytest.param(False, id="numpy"),
]


@pytest.mark.parametrize("compiled", PATHS)
@settings(max_examples=60, deadline=None)
@given(st.lists(row, min_size=1, max_size=8), st.integers(1, 10), st.booleans())
def test_parsed_levels_equal_float_of_each_text_up_to_depth(compiled, rows, depth, as_json):
    texts = [json_numbers(r) if as_json else python_literal(r) for r in rows]
    got = parse_levels(texts, depth, compiled=compiled)
    for i, levels in enumerate(rows):
        n = min(len(levels), depth)
        assert got.n[i] == n
        assert got.px[i, :n].tolist() == [float(p) for p, _, _ in levels[:n]]
        assert got.sz[i, :n].tolist() == [float(s) for _, s, _ in levels[:n]]
        assert not got.px[i, n:].any() and not got.sz[i, n:].any()


@pytest.mark.parametrize("compiled", PATHS)
def test_bytes_rows_parse_like_text_rows(compiled):
    text = "[['30000.1', '1.5', '0', '2'], ['30000.0', '0.25', '0', '1']]"
    a = parse_levels([text], 5, compiled=compiled)
    b = parse_levels([text.encode()], 5, compiled=compiled)
    assert np.array_equal(a.px, b.px) and np.array_equal(a.sz, b.sz)
    assert a.px[0, :2].tolist() == [30000.1, 30000.0]
    assert (a.px_decimals, a.sz_decimals) == (1, 2)


def test_exponents_and_tuples_take_the_row_path_and_still_parse():
    got = parse_levels(["[(1.5e3, 2e-1)]", json.dumps([[1e-7, 3]])], 2)
    assert got.px[:, 0].tolist() == [1500.0, 1e-7]
    assert got.sz[:, 0].tolist() == [0.2, 3.0]


@pytest.mark.parametrize("compiled", PATHS)
def test_empty_side_has_no_levels(compiled):
    got = parse_levels(["[]", "[['1', '2']]"], 3, compiled=compiled)
    assert got.n.tolist() == [0, 1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[['abc', '1.0']]", "level 0: price 'abc' is not a number"),
        ("[['1.0', '2.0'], ['3.0']]", "level 1: needs at least price and size"),
        ("[['1.0', '-2.0']]", "size '-2.0' must be a finite number >= 0"),
        ("[['1.0', '2.0']", "is not a list of [price, size, ...] levels"),
        (None, "is NULL"),
        ("[['1.0', '2.0'], 7]", "is not a list of [price, size, ...] levels"),
        ("[['1.0', '2..0']]", "size '2..0' is not a number"),
    ],
)
@pytest.mark.parametrize("compiled", PATHS)
def test_bad_level_text_names_the_row_id_and_problem(text, expected, compiled):
    with pytest.raises(LevelError) as info:
        parse_levels(
            ["[['1', '1']]", text], 4, row_ids=[10, 11], column="book.bids", compiled=compiled
        )
    assert "book.bids of row id 11" in str(info.value)
    assert expected in str(info.value)


@pytest.mark.parametrize("compiled", PATHS)
def test_numbers_too_long_for_the_fast_path_still_parse_exactly_as_float(compiled):
    text = "[['1234567890123456789.25', '0.000000000000000001']]"
    got = parse_levels([text], 1, compiled=compiled)
    assert got.px[0, 0] == float("1234567890123456789.25")
    assert got.sz[0, 0] == float("0.000000000000000001")
