"""The `record`, `inspect` and `export` commands as plain functions (the CLI wraps them).

Each prints for a person (rich) and returns a process exit code: 0 done, 1 failed at run time
(feed or disk), 2 bad input. Errors are one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from console.data.provider import ProviderError, ProviderModule
from console.model.instruments import split_symbol

from .export import ExportError, default_output
from .export import export as export_rows
from .format import FormatError
from .recorder import Recorder, RecorderError, Rotation, SymbolStats
from .summary import summarize

DEFAULT_OUT = Path("recordings")


def _err(console: Console, message: str) -> None:
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"  # pragma: no cover


# --- record ---------------------------------------------------------------------------------


def record(
    symbols: Sequence[str],
    *,
    provider: str | ProviderModule = "sim",
    out: Path = DEFAULT_OUT,
    duration: float | None = None,
    rotate: str | None = None,
    quiet: bool = False,
    compression: str | None = None,
    config: Mapping[str, Any] | None = None,
    flush_events: int = 1000,
    flush_interval: float = 0.25,
    raw: bool = False,
) -> int:
    """Run `provider` headless for `symbols`, recording every event into `out` until SIGINT or
    SIGTERM (or `duration` seconds), with a live status line unless `quiet`. With `raw`, the
    provider's wire frames also go to a `<stem>.raw.mdrec` per symbol (venue providers only).
    """
    stderr = Console(stderr=True)
    if not symbols:
        _err(stderr, "name at least one symbol to record, e.g. `mdconsole record BTC/USD`")
        return 2
    try:
        for sym in symbols:
            split_symbol(sym)
        rotation = Rotation.parse(rotate)
        if duration is not None and duration <= 0:
            raise RecorderError(f"--duration must be a positive number of seconds, got {duration}")
    except (ValueError, RecorderError) as exc:
        _err(stderr, str(exc))
        return 2
    if raw:
        problem = _raw_problem(provider)
        if problem:
            _err(stderr, problem)
            return 2
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _err(stderr, f"cannot use --out {out}: {exc.strerror}; pick a writable directory")
        return 2
    try:
        return asyncio.run(
            _record(
                list(symbols),
                provider=provider,
                out=out,
                duration=duration,
                rotation=rotation,
                quiet=quiet,
                compression=compression,
                config=config,
                flush_events=flush_events,
                flush_interval=flush_interval,
                stderr=stderr,
                raw=raw,
            )
        )
    except KeyboardInterrupt:  # a second Ctrl-C while shutting down
        return 130


def _raw_problem(provider: str | ProviderModule) -> str:
    """Why `provider` cannot record raw frames ('' if it can), found before anything starts."""
    if isinstance(provider, str):
        import providers  # the registry; imported only when asked about a provider

        try:
            module = providers.load(provider)
        except (ProviderError, ImportError) as exc:
            return str(exc)
        name = provider
    else:
        module, name = provider, str(getattr(provider, "NAME", provider))
    if not getattr(getattr(module, "CAPABILITIES", None), "raw_frames", False):
        return f"provider {name} sends no raw frames; --raw is for venue providers"
    return ""


async def _record(
    symbols: list[str],
    *,
    provider: str | ProviderModule,
    out: Path,
    duration: float | None,
    rotation: Rotation,
    quiet: bool,
    compression: str | None,
    config: Mapping[str, Any] | None,
    flush_events: int,
    flush_interval: float,
    stderr: Console,
    raw: bool = False,
) -> int:
    from console.data.feed import FeedHub  # the hub pulls in providers; only when recording

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        hub = FeedHub(provider, symbols, config=config)
        # subscribed before start so the provider's first snapshots are recorded too
        recorder = Recorder.for_hub(
            hub,
            out,
            rotate=rotation,
            compression=compression,
            flush_events=flush_events,
            flush_interval=flush_interval,
            raw=raw,
        )
    except (ProviderError, RecorderError, ValueError) as exc:
        _err(stderr, str(exc))
        return 2
    try:
        start = asyncio.ensure_future(hub.start())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({start, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not start.done():  # interrupted while connecting
            start.cancel()
            with contextlib.suppress(BaseException):
                await start
            recorder.close()
            return 0
        stopped.cancel()
        start.result()
    except ProviderError as exc:
        recorder.close()
        _err(stderr, str(exc))
        return 1
    if duration is not None:
        loop.call_later(duration, stop.set)
    # one line even with --quiet: services log where the data goes
    stderr.print(
        f"recording {', '.join(symbols)} from {hub.provider_name} to {escape(str(out))} "
        + (f"for {duration:g} s" if duration else "until SIGINT/SIGTERM"),
        highlight=False,
        soft_wrap=True,
    )
    flusher = asyncio.create_task(recorder.run(stop), name="recorder-flush")
    try:
        if quiet:
            await stop.wait()
        else:
            await _show_status(hub, recorder, stop)
    finally:
        stop.set()
        await hub.stop()  # its last status events still reach the recorder
        await flusher
        recorder.close()
    return _final_report(recorder, stderr, quiet)


def _final_report(recorder: Recorder, stderr: Console, quiet: bool) -> int:
    failed = False
    for st in recorder.stats.values():
        failed |= _report_file(st, "events", stderr, quiet)
    for st in recorder.raw_stats.values():
        failed |= _report_file(st, "raw frames", stderr, quiet)
    return 1 if failed else 0


def _report_file(st: SymbolStats, what: str, stderr: Console, quiet: bool) -> bool:
    """One line for one file; True if some of it could not be written."""
    if st.pending_events or st.dropped_events:
        _err(
            stderr,
            f"{st.symbol}: {st.pending_events:,} {what} could not be written"
            + (f" and {st.dropped_events:,} were dropped" if st.dropped_events else "")
            + (f" ({st.error})" if st.error else ""),
        )
        return True
    if not quiet:
        stderr.print(
            f"{st.symbol}: {st.written_events:,} {what}, {_human_bytes(st.bytes)} -> {st.path}",
            highlight=False,
        )
    return False


def status_table(hub: Any, recorder: Recorder, rates: Mapping[str, float]) -> Table:
    """The live status: one row per symbol."""
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    numeric = ("events/s", "events", "written", "raw frames")
    cols: tuple[str, ...] = ("symbol", "state", "events/s", "events", "written")
    cols += ("raw frames",) if recorder.raw else ()
    for col in (*cols, "file", "note"):
        table.add_column(col, justify="right" if col in numeric else "left")
    raw_stats = recorder.raw_stats
    provider_status = getattr(hub, "status", {}).get(recorder.provider)
    for sym, st in recorder.stats.items():
        status = getattr(hub, "symbol_status", {}).get(sym) or provider_status
        state = status.state if status is not None else "…"
        colour = {"live": "green", "stale": "yellow", "syncing": "yellow"}.get(state, "red")
        note = escape(st.error or (f"appended after {st.recovered}" if st.recovered else ""))
        if st.dropped_events:
            note = f"{st.dropped_events:,} dropped; {note}"
        table.add_row(
            sym,
            f"[{colour}]{state}[/]",
            f"{rates.get(sym, 0.0):,.0f}",
            f"{st.events:,}",
            _human_bytes(st.bytes),
            *((_raw_count(raw_stats.get(sym)),) if recorder.raw else ()),
            st.path.name if st.path else "-",
            f"[red]{note}[/]" if st.error or st.dropped_events else note,
        )
    return table


def _raw_count(st: SymbolStats | None) -> str:
    return f"{st.events:,}" if st is not None else "-"


async def _show_status(hub: Any, recorder: Recorder, stop: asyncio.Event) -> None:
    console = Console(stderr=True)
    last = {s: st.events for s, st in recorder.stats.items()}
    last_t = time.monotonic()
    rates: dict[str, float] = {}
    with Live(status_table(hub, recorder, rates), console=console, refresh_per_second=4) as live:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
            now = time.monotonic()
            dt = max(now - last_t, 1e-6)
            for sym, st in recorder.stats.items():
                rates[sym] = (st.events - last.get(sym, 0)) / dt
                last[sym] = st.events
            last_t = now
            live.update(status_table(hub, recorder, rates))


# --- inspect and export ---------------------------------------------------------------------


def inspect(paths: Sequence[Path], *, as_json: bool = False, gap_s: float = 5.0) -> int:
    """Print provider, symbol, span, counts per kind, gaps, damage, size and bytes/event."""
    stdout = Console(highlight=False, soft_wrap=True)
    stderr = Console(stderr=True)
    if not paths:
        _err(stderr, "name at least one recording file to inspect")
        return 2
    status = 0
    results: list[dict[str, Any]] = []
    for path in paths:
        try:
            summary = summarize(path, gap_s=gap_s)
        except FormatError as exc:
            _err(stderr, str(exc))
            status = 1
            continue
        if as_json:
            results.append(summary.to_dict())
        else:
            for line in summary.lines():
                stdout.print(line, markup=False)
    if as_json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
    return status


def export(path: Path, *, kind: str, fmt: str = "csv", out: Path | None = None) -> int:
    """Write one kind of event from `path` as csv|jsonl|parquet to `out` (default: beside it,
    `<stem>.<kind>.<fmt>`; `-` for stdout)."""
    from .reader import open_recording

    stderr = Console(stderr=True)
    target = out if out is not None else default_output(path, kind, fmt)
    try:
        with open_recording(path) as rec:
            rows = export_rows(rec, kind, fmt, target)
            damage = list(rec.damaged)
    except (FormatError, ExportError) as exc:
        _err(stderr, str(exc))
        return 2 if isinstance(exc, ExportError) else 1
    for d in damage:
        stderr.print(f"[yellow]warning:[/] {escape(str(path))}: {d.describe()}", highlight=False)
    if str(target) != "-":
        what = "raw frames" if kind == "raw" else f"{kind} rows"
        stderr.print(f"{rows:,} {what} -> {target}", highlight=False)
    return 0
