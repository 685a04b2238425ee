"""`mdconsole replay` refuses bad input in one line before any terminal UI starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.shared import REPO


def _replay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "console.cli", "replay", *args], cwd=REPO,
                          capture_output=True, text=True, check=False, timeout=60)


def test_replay_of_a_missing_file_names_it_without_a_traceback(tmp_path: Path) -> None:
    result = _replay(str(tmp_path / "nope.mdrec"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "nope.mdrec" in result.stderr


def test_replay_with_a_bad_speed_names_the_option(tmp_path: Path) -> None:
    result = _replay("--speed", "fast", str(tmp_path / "x.mdrec"))
    assert result.returncode == 2
    assert "--speed" in result.stderr
