"""End to end in a real terminal: `mdconsole` under tmux places a paper order from the keyboard,
shows it working, cancels it with a key, and the journal agrees.

The console is another process, so waiting here means polling the tmux pane.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.ems.journal import Journal
from console.ems.state import EmsState
from tests.test_ui_terminal import Tmux

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

WORKING_ROW = re.compile(r"(O[0-9a-f]+)\s+BTC/USD\s+buy\s+limit\s+0\.0001\s+0\s+[\d,]+\s+open")


def test_keys_place_and_cancel_a_paper_order_in_a_real_terminal(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[console]\nsymbols = ["BTC/USD", "ETH/USD"]\n\n'
                      "[providers.sim]\nseed = 5\nrate = 300\n")
    journal = tmp_path / "journal.sqlite"
    done = tmp_path / "exit_code"
    # COLUMNS/LINES: the size the console lays out for, whatever tmux reports to a pane
    # started without a client
    env = (f"COLUMNS=160 LINES=50 MDCONSOLE_JOURNAL={shlex.quote(str(journal))} "
           f"MDCONSOLE_STATE_DIR={shlex.quote(str(tmp_path / 'state'))}")
    command = (
        f"env {env} {shlex.quote(sys.executable)} -c 'from console.cli import main; main()' "
        f"--config {shlex.quote(str(config))}; echo $? > {shlex.quote(str(done))}; sleep 60"
    )
    tmux = Tmux(f"mdconsole-trade-{os.getpid()}")
    tmux.run("-f", "/dev/null", "new-session", "-d", "-s", "ui", "-x", "160", "-y", "50",
             command)
    # a detached session may keep tmux's default 80x24; the side column needs the width
    tmux.run("set-option", "-t", "ui", "window-size", "manual")
    tmux.run("resize-window", "-t", "ui", "-x", "160", "-y", "50")
    try:
        tmux.wait_for(lambda s: "PAPER" in s and "passes pre-trade checks" in s
                      and "sim: live" in s)
        # focus the ladder and page its cursor far under the bid, so the buy rests; the
        # ladder stops auto-centring (its title loses ⊕) once the cursor scrolls it
        tmux.run("send-keys", "-t", "ui", "l")
        tmux.wait_for(lambda s: "Auto-centre" in s)  # the footer shows the ladder's keys
        tmux.run("send-keys", "-t", "ui", *["PageDown"] * 30)
        tmux.wait_for(lambda s: "Ladder BTC/USD ⊕" not in s and "Ladder BTC/USD" in s)
        tmux.run("send-keys", "-t", "ui", "b")
        screen = tmux.wait_for(lambda s: bool(WORKING_ROW.search(s)))
        match = WORKING_ROW.search(screen)
        assert match is not None
        order_id = match.group(1)
        assert "●.0001" in screen  # the ladder marks it at its price
        tmux.run("send-keys", "-t", "ui", "x")
        tmux.wait_for(lambda s: "no working" in s and order_id not in s)
        tmux.run("send-keys", "-t", "ui", "q")
        deadline = time.monotonic() + 20
        while not done.exists() or not done.read_text().strip():
            assert time.monotonic() < deadline, f"mdconsole did not exit:\n{tmux.screen()}"
            time.sleep(0.1)
        assert done.read_text().strip() == "0"
    finally:
        subprocess.run(["tmux", "-L", tmux.socket, "kill-server"], capture_output=True)
    state = EmsState()
    j = Journal(journal)
    for chunk in j.replay():
        state.apply_many(chunk)
    j.close()
    assert state.orders[order_id].status == "canceled"
