"""The sim provider's settings (`[providers.sim]`), checked strictly with readable errors."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec

from console.data.provider import ProviderError
from console.model.instruments import split_symbol
from providers.sim.specs import DEFAULT_SPECS

MAX_RATE = 10_000_000.0


class SimConfig(msgspec.Struct, frozen=True, kw_only=True):
    """`rate` is events/s across all symbols; `start_time` (epoch s) pins the virtual clock."""

    seed: int = 0
    rate: float = 200.0
    symbols: tuple[str, ...] = tuple(DEFAULT_SPECS)
    start_time: float | None = None
    realtime: bool = True


_HELP = {
    "seed": "an integer; the same seed gives the same market",
    "rate": f"events per second across all symbols, above 0 and at most {MAX_RATE:,.0f}",
    "symbols": 'a list of BASE/QUOTE names, e.g. ["BTC/USD", "ETH/USD"]',
    "start_time": "epoch seconds where the virtual clock starts, e.g. 1700000000",
    "realtime": "true (follow the wall clock) or false (generate as fast as possible)",
}


def _bad(key: str, value: Any) -> ProviderError:
    return ProviderError(f"sim config: {key!r} must be {_HELP[key]}; got {value!r}")


def parse_config(config: Mapping[str, Any] | None) -> SimConfig:
    """A validated `SimConfig`; unknown keys and wrong types raise `ProviderError`."""
    if not config:
        return SimConfig()
    unknown = sorted(set(config) - set(_HELP))
    if unknown:
        raise ProviderError(
            f"sim config: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"known keys: {', '.join(_HELP)}"
        )
    out: dict[str, Any] = {}
    if "seed" in config:
        seed = config["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise _bad("seed", seed)
        out["seed"] = seed
    if "rate" in config:
        rate = config["rate"]
        if (isinstance(rate, bool) or not isinstance(rate, int | float)
                or not math.isfinite(rate) or not 0 < rate <= MAX_RATE):
            raise _bad("rate", rate)
        out["rate"] = float(rate)
    if "symbols" in config:
        symbols = config["symbols"]
        if isinstance(symbols, str) or not isinstance(symbols, list | tuple) or not symbols:
            raise _bad("symbols", symbols)
        names = []
        for s in symbols:
            if not isinstance(s, str):
                raise _bad("symbols", symbols)
            try:
                base, quote = split_symbol(s)
            except ValueError as exc:
                raise ProviderError(f"sim config: 'symbols': {exc}") from None
            names.append(f"{base}/{quote}")
        out["symbols"] = tuple(dict.fromkeys(names))
    if "start_time" in config:
        st = config["start_time"]
        if (isinstance(st, bool) or not isinstance(st, int | float)
                or not math.isfinite(st) or st < 0):
            raise _bad("start_time", st)
        out["start_time"] = float(st)
    if "realtime" in config:
        rt = config["realtime"]
        if not isinstance(rt, bool):
            raise _bad("realtime", rt)
        out["realtime"] = rt
    return SimConfig(**out)
