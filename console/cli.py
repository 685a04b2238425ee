"""The `mdconsole` command line: the console by default, plus headless tools.

Imports of anything heavy (numpy, Textual, providers) happen inside the commands so that
`mdconsole --help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional

import typer

if TYPE_CHECKING:
    from console.config import Config

app = typer.Typer(
    name="mdconsole",
    help="Keyboard-driven terminal trading console. With no command, opens the console.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Show, check or create the config file.", no_args_is_help=True)
app.add_typer(config_app, name="config")

ConfigOpt = Annotated[
    Optional[Path],  # noqa: UP045 - typer reads the annotation at runtime
    typer.Option(
        "--config", "-c", help="Config file (default: $MDCONSOLE_CONFIG or the platform path)."
    ),
]
ProviderOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--provider", "-p", help="Market data provider (see `mdconsole providers`)."),
]


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr and a non-zero exit; never a traceback for the user."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(message)}"
    )
    raise typer.Exit(code)


def _load(config: Path | None) -> Config:
    from console.config import ConfigError, load_config

    try:
        return load_config(config)
    except ConfigError as exc:
        fail(str(exc))


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    config: ConfigOpt = None,
    provider: ProviderOpt = None,
    symbols: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--symbols", "-s", help="Comma-separated symbols, e.g. BTC/USD,ETH/USD."),
    ] = None,
) -> None:
    """Open the console (on the built-in simulated market unless configured otherwise)."""
    if ctx.invoked_subcommand is not None:
        return
    cfg = _load(config)
    run_ui(cfg, provider, symbols.split(",") if symbols else None)


def run_ui(cfg: Config, provider: str | None, symbols: list[str] | None) -> None:
    """Start the Textual console; provider errors come back as one line, not a traceback."""
    import asyncio

    from console.data.provider import ProviderError
    from console.ui.app import run_console

    try:
        asyncio.run(run_console(provider or cfg.console.provider, symbols, cfg))
    except ProviderError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app.command("replay")
def replay_cmd(
    paths: Annotated[
        list[Path], typer.Argument(help="Recordings, OKX SQLite databases, or folders of them.")
    ],
    speed: Annotated[str, typer.Option("--speed", help="1, 10, 100, ... or max.")] = "1",
    from_: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--from", help="Start: ISO time (2025-07-01T12:00) or epoch seconds."),
    ] = None,
    to: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--to", help="End (exclusive): ISO time or epoch seconds."),
    ] = None,
    instrument: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--instrument", help="BTC-USDT or BTC/USDT: play only this instrument of "
                     "the databases (default: every instrument they hold)."),
    ] = None,
    depth: Annotated[int, typer.Option("--depth", min=1, help="SQLite levels per side.")] = 10,
    paused: Annotated[bool, typer.Option("--paused", help="Start paused.")] = False,
    journal: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--journal", help="Journal for paper trading on the replay "
                     "(default: a new one per run under the data dir's replays/)."),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Play recordings into the console at any speed; paper trade on the replayed market."""
    import asyncio
    import time

    from platformdirs import user_data_path

    from console.data.provider import ProviderError
    from console.ui.replay import run_replay_console
    from console.ui.session import open_session
    from providers.replay.cli import replay_setup

    cfg = _load(config)
    try:
        setup = replay_setup(paths, speed=speed, start=from_, end=to, instrument=instrument,
                             depth=depth, paused=paused)
    except ProviderError as exc:
        fail(str(exc))
    for line in setup.lines:
        typer.echo(line)
    # Practice fills get a journal of their own, never the live paper account's.
    if journal is None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        journal = user_data_path("mdconsole") / "replays" / f"{stamp}.sqlite"
    trading, note = open_session(cfg, journal)
    typer.echo(note or f"paper trading on this replay journals to {journal}")
    try:
        code = asyncio.run(run_replay_console(setup, cfg, trading=trading))
    except ProviderError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    finally:
        if trading is not None:
            trading.close()
    raise typer.Exit(code)


@app.command("providers")
def providers_cmd(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List providers and what each supports."""
    import msgspec
    from rich.console import Console
    from rich.table import Table

    import providers

    rows = []
    for name in providers.KNOWN:
        try:
            caps = providers.load(name).CAPABILITIES
        except Exception as exc:  # one broken provider must not hide the others
            rows.append({"name": name, "error": str(exc)})
            continue
        rows.append({"name": name, **msgspec.to_builtins(caps)})
    if json_out:
        sys.stdout.write(msgspec.json.encode(rows).decode() + "\n")
        return
    table = Table(title="providers")
    columns = ("quotes", "book", "trades", "history", "search", "trading", "network", "raw_frames")
    table.add_column("name", style="bold")
    for col in columns:
        table.add_column(col, justify="center")
    table.add_column("note")
    for row in rows:
        if "error" in row:
            table.add_row(row["name"], *("?" for _ in columns), f"[red]{row['error']}[/]")
            continue
        marks = ("[green]yes[/]" if row[col] else "[dim]no[/]" for col in columns)
        table.add_row(row["name"], *marks, row["note"])
    Console().print(table)


@app.command("symbols")
def symbols_cmd(
    pattern: Annotated[str, typer.Argument(help="Text to search for, e.g. BTC.")] = "",
    provider: ProviderOpt = None,
    config: ConfigOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Search a provider's symbols."""
    import asyncio

    import msgspec
    from rich.console import Console
    from rich.table import Table

    import providers
    from console.data.provider import ProviderError

    cfg = _load(config)
    try:
        module = providers.load(provider or cfg.console.provider)
        found = asyncio.run(module.search_symbols(pattern, 50))
    except ProviderError as exc:
        fail(str(exc))
    if json_out:
        sys.stdout.write(msgspec.json.encode(found).decode() + "\n")
        return
    table = Table(title=f"{module.NAME} symbols matching {pattern!r}")
    for col in ("symbol", "venue id", "tick", "lot", "min size"):
        table.add_column(col)
    for ins in found:
        table.add_row(ins.symbol, ins.venue_symbol, ins.fmt_price(ins.tick_size),
                      ins.fmt_size(ins.lot_size), ins.fmt_size(ins.min_size))
    Console().print(table)


@app.command("record")
def record_cmd(
    symbols: Annotated[list[str], typer.Argument(help="Symbols to record, e.g. BTC/USD ETH/USD.")],
    provider: ProviderOpt = None,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--out", "-o", help="Directory for recordings (default ./recordings)."),
    ] = None,
    duration: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option("--duration", help="Stop after S seconds (default: until SIGINT/SIGTERM)."),
    ] = None,
    rotate: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--rotate", help="New file hourly, daily, or past a size such as 500MB."),
    ] = None,
    compression: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--compression", help="zstd (default), zlib or none."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live status line.")] = False,
    raw: Annotated[
        bool,
        typer.Option("--raw", help="Also keep the provider's raw websocket frames in "
                     "<stem>.raw.mdrec (venue providers only)."),
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Record market data headless, one file per provider and symbol."""
    from console.record.commands import record

    cfg = _load(config)
    name = provider or cfg.console.provider
    raise typer.Exit(
        record(
            symbols,
            provider=name,
            out=out or Path(cfg.record.out or "recordings"),
            duration=duration,
            rotate=rotate if rotate is not None else cfg.record.rotate,
            quiet=quiet,
            compression=compression or (None if cfg.record.compress else "none"),
            config=cfg.provider_config(name),
            raw=raw,
        )
    )


@app.command("inspect")
def inspect_cmd(
    files: Annotated[list[Path], typer.Argument(help="Recording files.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    gap: Annotated[
        float, typer.Option("--gap", help="Report silences longer than this many seconds.")
    ] = 5.0,
) -> None:
    """Summarize recordings: span, counts per kind, gaps, torn tails, size."""
    from console.record.commands import inspect

    raise typer.Exit(inspect(files, as_json=json_out, gap_s=gap))


@app.command("export")
def export_cmd(
    file: Annotated[Path, typer.Argument(help="Recording file.")],
    kind: Annotated[
        str, typer.Option("--kind", "-k", help="trades, book, bars, quotes or raw (jsonl only).")
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="csv, jsonl or parquet (mdconsole[parquet]).")
    ] = "csv",
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--output", "-o", help="Output file; - for stdout (default: beside it)."),
    ] = None,
) -> None:
    """Write a recording's trades, book, bars or quotes as CSV, JSON lines or Parquet."""
    from console.record.commands import export

    raise typer.Exit(export(file, kind=kind, fmt=fmt, out=out))


JournalOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--journal", help="Journal file (default: $MDCONSOLE_JOURNAL or the data dir)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
AccountOpt = Annotated[str, typer.Option("--account", "-a", help="Only this account.")]
SymbolOpt = Annotated[str, typer.Option("--symbol", help="Only this symbol.")]
LimitOpt = Annotated[int, typer.Option("--limit", help="Newest N rows (0 = all).")]


@app.command("order")
def order_cmd(
    side: Annotated[str, typer.Argument(help="buy or sell")],
    size: Annotated[float, typer.Argument(help="Size in base units, e.g. 0.01")],
    symbol: Annotated[str, typer.Argument(help="e.g. BTC/USD")],
    type_: Annotated[
        str, typer.Option("--type", "-t", help="market, limit, stop or stop-limit")
    ] = "market",
    price: Annotated[
        Optional[float], typer.Option("--price", help="Limit price.")  # noqa: UP045
    ] = None,
    stop: Annotated[
        Optional[float], typer.Option("--stop", help="Trigger price.")  # noqa: UP045
    ] = None,
    tif: Annotated[str, typer.Option("--tif", help="gtc, ioc or fok")] = "gtc",
    account: Annotated[str, typer.Option("--account", "-a", help="Account.")] = "paper",
    provider: ProviderOpt = None,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to print acks and fills.")
    ] = 5.0,
    reduce_only: Annotated[bool, typer.Option("--reduce-only")] = False,
    post_only: Annotated[bool, typer.Option("--post-only")] = False,
    order_id: Annotated[
        str, typer.Option("--id", help="Client order id (default: generated).")
    ] = "",
    journal: JournalOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Place one order headless through the EMS; print its acks and fills as they happen."""
    from console.ems import commands

    cfg = _load(config)
    name = provider or cfg.console.provider
    raise typer.Exit(
        commands.order(
            side, size, symbol, type_=type_, price=price, stop=stop, tif=tif, account=account,
            provider=name, wait=wait, reduce_only=reduce_only, post_only=post_only,
            order_id=order_id, journal=journal, json_out=json_out,
            provider_config=cfg.provider_config(name), risk=cfg.risk_tables(),
            paper=cfg.paper_table(), paper_accounts=cfg.paper_accounts(),
        )
    )


@app.command("cancel")
def cancel_cmd(
    order_id: Annotated[
        Optional[str], typer.Argument(help="Order id to cancel.")  # noqa: UP045
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Cancel every working order.")] = False,
    account: AccountOpt = "",
    symbol: SymbolOpt = "",
    journal: JournalOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Cancel an order by id, or all working orders (narrowed by --account/--symbol)."""
    from console.ems import commands

    cfg = _load(config)
    raise typer.Exit(
        commands.cancel(
            order_id or "", all_orders=all_, account=account, symbol=symbol, journal=journal,
            json_out=json_out, paper_accounts=cfg.paper_accounts(),
        )
    )


@app.command("amend")
def amend_cmd(
    order_id: Annotated[str, typer.Argument(help="Order id to amend.")],
    price: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option("--price", help="New limit price (of a plain stop: its trigger)."),
    ] = None,
    size: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option("--size", help="New total size in base units, filled part included."),
    ] = None,
    stop: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option("--stop", help="New trigger of a stop waiting for it."),
    ] = None,
    provider: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--provider", "-p", help="Feed that re-checks an order resting in the "
                     "paper engine (default: the configured provider)."),
    ] = None,
    journal: JournalOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", help="Seconds to wait for a running process holding the "
                     "order to apply the amend (exit 3 if it has not)."),
    ] = 5.0,
) -> None:
    """Amend a working order's price and/or size, or a held stop's trigger; print the change."""
    from console.ems import commands

    cfg = _load(config)
    name = provider or cfg.console.provider
    raise typer.Exit(
        commands.amend(
            order_id, price=price, size=size, stop=stop, provider=name, journal=journal,
            json_out=json_out, provider_config=cfg.provider_config(name),
            risk=cfg.risk_tables(), paper=cfg.paper_table(),
            paper_accounts=cfg.paper_accounts(), timeout=timeout,
        )
    )


@app.command("orders")
def orders_cmd(
    all_: Annotated[bool, typer.Option("--all", help="Finished orders too.")] = False,
    symbol: SymbolOpt = "",
    account: AccountOpt = "",
    limit: LimitOpt = 50,
    journal: JournalOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Working orders (or all orders) from the journal."""
    from console.ems import commands

    raise typer.Exit(commands.orders(journal=journal, include_done=all_, symbol=symbol,
                                     account=account, limit=limit, json_out=json_out))


@app.command("fills")
def fills_cmd(
    symbol: SymbolOpt = "",
    account: AccountOpt = "",
    limit: LimitOpt = 50,
    journal: JournalOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Fills from the journal, newest last."""
    from console.ems import commands

    raise typer.Exit(commands.fills(journal=journal, symbol=symbol, account=account,
                                    limit=limit, json_out=json_out))


@app.command("positions")
def positions_cmd(
    account: AccountOpt = "",
    mark: Annotated[
        bool, typer.Option("--mark", help="Mark open positions to the market: start the "
                           "provider's feed for their symbols and show mark price, unrealized "
                           "and total PnL.")
    ] = False,
    provider: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--provider", "-p", help="Provider to mark with (implies --mark; "
                     "default: the configured one)."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the first quotes.")
    ] = 10.0,
    journal: JournalOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Positions with realized PnL from the journal; --mark adds unrealized and total PnL."""
    from console.ems import commands

    if not (mark or provider):
        raise typer.Exit(commands.positions(journal=journal, account=account, json_out=json_out))
    cfg = _load(config)
    name = provider or cfg.console.provider
    raise typer.Exit(
        commands.positions(journal=journal, account=account, json_out=json_out, mark=True,
                           provider=name, provider_config=cfg.provider_config(name),
                           timeout=timeout)
    )


@config_app.command("path")
def config_path_cmd(config: ConfigOpt = None) -> None:
    """Print where the config file is read from."""
    from console.config import config_path

    path = config_path(config)
    typer.echo(f"{path}{'' if path.exists() else '  (absent: built-in defaults apply)'}")


@config_app.command("init")
def config_init_cmd(
    config: ConfigOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example config."""
    from console.config import EXAMPLE, config_path

    path = config_path(config)
    if path.exists() and not force:
        fail(f"{path} already exists; pass --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(EXAMPLE, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")
    typer.echo(f"wrote {path}")


@config_app.command("show")
def config_show_cmd(config: ConfigOpt = None) -> None:
    """Print the effective config as JSON (defaults filled in, secrets masked)."""
    import msgspec

    from console.config import to_toml_dict

    cfg = _load(config)
    typer.echo(f"# source: {cfg.source or 'built-in defaults'}")
    typer.echo(msgspec.json.format(msgspec.json.encode(to_toml_dict(cfg))).decode())


@config_app.command("check")
def config_check_cmd(config: ConfigOpt = None) -> None:
    """Validate the config file and say what is wrong, if anything."""
    cfg = _load(config)
    typer.echo(f"ok: {cfg.source or 'no config file; built-in defaults apply'}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
