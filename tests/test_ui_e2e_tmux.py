"""End to end in a real terminal: help, symbol search, zoom and the saved layout across two runs.

Placing and cancelling a paper order from the keyboard under tmux is covered by
test_ui_trading_terminal.py; this one checks what a trader expects of the console around it:
`?` and `/` work, a searched symbol joins the watchlist, and the next start comes back on the
same symbol, timeframe and zoomed pane with that symbol streaming. The console is another
process, so waiting here means polling the tmux pane.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_ui_terminal import Tmux

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

DOGE_ROW = re.compile(r"DOGE/USD\s+[\d,]+\.\d+\s+[+-]\d+\.\d+%")


def start(tmux: Tmux, tmp_path: Path, run: int) -> Path:
    """Start mdconsole in a 160x50 tmux window; returns the file its exit code lands in."""
    done = tmp_path / f"exit_code_{run}"
    env = (f"COLUMNS=160 LINES=50 MDCONSOLE_JOURNAL={shlex.quote(str(tmp_path / 'j.sqlite'))} "
           f"MDCONSOLE_STATE_DIR={shlex.quote(str(tmp_path / 'state'))}")
    command = (
        f"env {env} {shlex.quote(sys.executable)} -c 'from console.cli import main; main()' "
        f"--config {shlex.quote(str(tmp_path / 'config.toml'))}; "
        f"echo $? > {shlex.quote(str(done))}; sleep 60"
    )
    if run == 1:
        tmux.run("-f", "/dev/null", "new-session", "-d", "-s", "ui", "-x", "160", "-y", "50",
                 command)
        tmux.run("set-option", "-t", "ui", "window-size", "manual")
        tmux.run("resize-window", "-t", "ui", "-x", "160", "-y", "50")
    else:
        tmux.run("respawn-pane", "-k", "-t", "ui", command)
    return done


def quit_and_wait(tmux: Tmux, done: Path) -> None:
    tmux.run("send-keys", "-t", "ui", "q")
    deadline = time.monotonic() + 20
    while not done.exists() or not done.read_text().strip():
        assert time.monotonic() < deadline, f"mdconsole did not exit:\n{tmux.screen()}"
        time.sleep(0.1)
    assert done.read_text().strip() == "0", tmux.screen()


def keys(tmux: Tmux, *names: str) -> None:
    tmux.run("send-keys", "-t", "ui", *names)


def test_search_zoom_and_layout_survive_a_restart_in_a_real_terminal(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[console]\nsymbols = ["BTC/USD", "ETH/USD"]\ntimeframe = "1m"\n\n'
        "[providers.sim]\nseed = 9\nrate = 300\n"
    )
    tmux = Tmux(f"mdconsole-e2e-{os.getpid()}")
    try:
        done = start(tmux, tmp_path, 1)
        tmux.wait_for(lambda s: "sim: live" in s and "BTC/USD · 1m" in s)

        keys(tmux, "?")
        tmux.wait_for(lambda s: "remap any by its id" in s and "layout.maximize" in s)
        keys(tmux, "Escape")
        tmux.wait_for(lambda s: "remap any by its id" not in s)

        keys(tmux, "/")
        tmux.wait_for(lambda s: "symbol, e.g. btc" in s)
        keys(tmux, "d", "o", "g", "e")
        tmux.wait_for(lambda s: re.search(r"DOGE/USD\s+sim", s) is not None)
        keys(tmux, "Enter")
        # Streamed at once, and charted: the feed took it in while running.
        tmux.wait_for(lambda s: "DOGE/USD streaming in the watchlist" in s
                      and "DOGE/USD · 1m" in s and bool(DOGE_ROW.search(s)))

        keys(tmux, "Up", "Enter")  # the watchlist has focus, its cursor on DOGE: chart ETH/USD
        tmux.wait_for(lambda s: "ETH/USD · 1m" in s)
        keys(tmux, "t")
        tmux.wait_for(lambda s: "ETH/USD · 5m" in s)
        keys(tmux, "z")  # zoom the watchlist: the chart is hidden
        tmux.wait_for(lambda s: "ETH/USD · 5m" not in s and "Watchlist" in s)
        quit_and_wait(tmux, done)

        saved = json.loads((tmp_path / "state" / "layout.json").read_text())
        assert saved == {"symbol": "ETH/USD", "timeframe_s": 300, "maximized": "quotes",
                         "lists": {"": ["BTC/USD", "ETH/USD", "DOGE/USD"]}}

        done = start(tmux, tmp_path, 2)
        # Back zoomed on the watchlist, DOGE/USD now streaming in it.
        screen = tmux.wait_for(lambda s: "sim: live" in s and bool(DOGE_ROW.search(s)))
        assert "Ladder" not in screen and "BTC/USD · " not in screen
        keys(tmux, "z")
        tmux.wait_for(lambda s: "ETH/USD · 5m" in s and "Ladder" in s)
        quit_and_wait(tmux, done)
    finally:
        subprocess.run(["tmux", "-L", tmux.socket, "kill-server"], capture_output=True)
