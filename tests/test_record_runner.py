"""The headless `record` command end to end on the sim provider, in a real subprocess."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from console.model.events import BookSnapshot, ConnectorStatus, Quote
from console.record.commands import record
from console.record.reader import open_recording

REPO = Path(__file__).resolve().parents[1]

CHILD = """
import sys
from pathlib import Path
from console.record.commands import record
sys.exit(record(["BTC/USD", "ETH/USD"], out=Path(sys.argv[1]), quiet=True,
                config={"seed": 7, "rate": 4000}, flush_events=100_000, flush_interval=60))
"""


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_flush_everything_and_close_cleanly(
    tmp_path: Path, sig: signal.Signals
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stderr is not None
    started = child.stderr.readline()
    assert started.startswith("recording BTC/USD, ETH/USD from sim"), started
    child.send_signal(sig)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert "Traceback" not in err
    for name in ("sim_BTC_USD.mdrec", "sim_ETH_USD.mdrec"):
        with open_recording(tmp_path / name) as rec:
            # nothing flushed on a timer or count: all of it was written on the signal
            assert rec.damaged == []
            events = list(rec.iter_events())
        # the start-up events (first quote, book snapshot) were received before the signal
        assert any(isinstance(ev, Quote) for ev in events)
        assert any(isinstance(ev, BookSnapshot) for ev in events)
        last = events[-1]
        assert isinstance(last, ConnectorStatus) and last.state == "down"


def test_record_for_a_duration_writes_every_symbol_and_reports_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = record(["BTC/USD"], out=tmp_path, duration=0.5, quiet=True,
                config={"seed": 3, "rate": 2000})  # fmt: skip
    assert rc == 0
    with open_recording(tmp_path / "sim_BTC_USD.mdrec") as rec:
        assert rec.header.provider == "sim"
        assert rec.header.instrument is not None
        assert rec.header.instrument.symbol == "BTC/USD"
        assert rec.count > 0
    assert "recording BTC/USD from sim" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"symbols": []}, "name at least one symbol"),
        ({"symbols": ["BTCUSD"]}, "is not of the form BASE/QUOTE"),
        ({"symbols": ["BTC/USD"], "rotate": "weekly"}, "use hourly, daily or a size"),
        ({"symbols": ["BTC/USD"], "duration": -1.0}, "--duration must be a positive"),
    ],
)
def test_bad_record_arguments_exit_2_with_a_specific_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kwargs: dict, message: str
) -> None:
    symbols = kwargs.pop("symbols")
    assert record(symbols, out=tmp_path, **kwargs) == 2
    assert message in capsys.readouterr().err


def test_an_output_path_that_is_a_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    assert record(["BTC/USD"], out=target, duration=1) == 2
    assert "cannot use --out" in capsys.readouterr().err


def test_an_unknown_provider_is_named_in_the_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert record(["BTC/USD"], provider="nosuch", out=tmp_path, duration=1) in (1, 2)
    assert "nosuch" in capsys.readouterr().err
