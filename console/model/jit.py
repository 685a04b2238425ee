"""Optional numba compilation for the few per-element loops that numpy cannot vectorize."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])


def njit_or_none(fn: F) -> F | None:
    """`fn` compiled by numba (cached on disk), or None where numba is missing or disabled.

    `MDCONSOLE_NO_NUMBA=1` disables it, so the numpy fallbacks can be tested and measured.
    Callers compile lazily, on first use, to keep numba's import off start-up paths.
    """
    if os.environ.get("MDCONSOLE_NO_NUMBA") == "1":
        return None
    try:
        numba: Any = importlib.import_module("numba")
    except ImportError:
        return None
    return cast(F, numba.njit(cache=True, nogil=True)(fn))
