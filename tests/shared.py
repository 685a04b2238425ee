"""Locates ../shared (captures, reference workload) beside the repo for conformance tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The shared folder; skips the test where it is absent, unless CI requires it."""
    path = REPO.parent / "shared"
    if not path.is_dir():
        if os.environ.get("MDCONSOLE_REQUIRE_SHARED") == "1":
            pytest.fail(f"{path} is missing but MDCONSOLE_REQUIRE_SHARED=1 requires it")
        pytest.skip(f"{path} is absent (venue captures and the reference stream live there)")
    return path
