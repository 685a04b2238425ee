"""Every test runs with its own journal, state and config locations, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("user")
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_STATE_HOME", "state")):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("MDCONSOLE_JOURNAL", str(home / "journal.sqlite"))
    monkeypatch.setenv("MDCONSOLE_STATE_DIR", str(home / "state" / "mdconsole"))
    monkeypatch.delenv("MDCONSOLE_CONFIG", raising=False)
    Path(home / "config").mkdir()
