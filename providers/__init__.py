"""Provider registry: names to lazily imported `providers.<name>.feed` modules."""

from __future__ import annotations

import importlib
from typing import cast

from console.data.provider import ProviderError, ProviderModule

KNOWN: tuple[str, ...] = ("sim", "replay", "sqlite")
"""Providers shipped with mdconsole, in the order `mdconsole providers` lists them."""

_REQUIRED = (
    "NAME",
    "CAPABILITIES",
    "ohlc_dtype",
    "stream_quotes",
    "open_history_client",
    "symbol_info",
    "search_symbols",
)


class UnknownProvider(ProviderError):
    """No provider of that name."""


def load(name: str) -> ProviderModule:
    """Import provider `name`'s feed module, checking it has every part of the contract."""
    if name not in KNOWN:
        raise UnknownProvider(
            f"unknown provider {name!r}; known providers: {', '.join(KNOWN)} "
            "(see `mdconsole providers`)"
        )
    module = importlib.import_module(f"providers.{name}.feed")
    missing = [attr for attr in _REQUIRED if not hasattr(module, attr)]
    if missing:
        raise ProviderError(
            f"provider {name!r} lacks {', '.join(missing)} in providers/{name}/feed.py"
        )
    return cast(ProviderModule, module)
