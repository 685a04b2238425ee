"""End to end in a real terminal: `mdconsole` under tmux shows quotes and candles and quits on q.

Another process is watched from outside, so waiting here means polling the tmux pane: there is
no event to await across the process boundary.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

PRICE_ROW = re.compile(r"BTC/USD\s+[\d,]+(?:\.\d+)?\s+[+-]\d+\.\d+%")


class Tmux:
    """One detached tmux server and session, private to a test."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return out.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "ui")

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if condition(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the terminal shows:\n{text}")
            time.sleep(0.1)


def test_mdconsole_in_a_terminal_shows_quotes_and_candles_and_quits_cleanly(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[console]\ntimeframe = "1s"\n\n[providers.sim]\nseed = 3\n')
    done = tmp_path / "exit_code"
    command = (
        f"{shlex.quote(sys.executable)} -c 'from console.cli import main; main()' "
        f"--config {shlex.quote(str(config))}; echo $? > {shlex.quote(str(done))}; sleep 60"
    )
    tmux = Tmux(f"mdconsole-test-{os.getpid()}")
    tmux.run("-f", "/dev/null", "new-session", "-d", "-s", "ui", "-x", "100", "-y", "30", command)
    try:
        screen = tmux.wait_for(
            lambda s: bool(PRICE_ROW.search(s)) and "┤" in s and "sim: live" in s
        )
        assert "BTC/USD · 1s" in screen
        tmux.run("send-keys", "-t", "ui", "q")
        deadline = time.monotonic() + 20
        while not done.exists() or not done.read_text().strip():
            assert time.monotonic() < deadline, f"mdconsole did not exit:\n{tmux.screen()}"
            time.sleep(0.1)
        assert done.read_text().strip() == "0"
    finally:
        subprocess.run(["tmux", "-L", tmux.socket, "kill-server"], capture_output=True)
