"""Headless EMS commands (`mdconsole order|cancel|amend|orders|fills|positions`) as functions.

Each takes plain arguments, prints with rich (or JSON lines with `json_out`), and returns an
exit code: 0 done, 1 the order, cancel or amend was refused, 2 bad input or an unusable
feed/journal, 3 an amend sent to the process holding the order that it has not applied in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from console.ems.journal import Journal, JournalError
from console.ems.ledger import Ledger, PositionState
from console.ems.messages import (
    ORDER_SIDES,
    ORDER_TYPES,
    TERMINAL,
    TIFS,
    Ack,
    AmendOrder,
    Error,
    Fill,
    NewOrder,
    OrderEvent,
    OrderStatus,
    Position,
    Triggered,
)
from console.ems.paper import PaperConfig, PaperConfigError
from console.ems.risk import RiskConfigError, RiskLimits
from console.ems.router import Ems, MarketHub, new_order_id
from console.ems.state import EmsState, OrderState

SYNC_EVERY_S = 1.0
"""How often `order` takes in what other processes wrote while it waits."""
ANSWER_POLL_S = 0.1
"""How often `amend` looks for the answer of the process holding the order."""
NOT_APPLIED = 3
"""`amend`'s exit code when the process holding the order has not applied it in time."""

HubFactory = Callable[[str, Sequence[str], Mapping[str, Any]], Any]
"""(provider, symbols, provider config) -> an un-started FeedHub-like async context manager."""

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


class CommandError(Exception):
    """Bad input for a command: the message says which argument and what to do."""


def _fail(message: str, code: int = 2) -> int:
    _err.print(f"[bold red]error:[/] {escape(message)}")
    return code


def _time(ts: int) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _json_line(obj: Any) -> None:
    sys.stdout.write(msgspec.json.encode(obj).decode() + "\n")
    sys.stdout.flush()


def _event_json(ev: OrderEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"event": ev.__struct_config__.tag}
    out.update(msgspec.structs.asdict(ev))
    return out


def risk_from_accounts(accounts: Mapping[str, Mapping[str, Any]]) -> dict[str, RiskLimits]:
    """`{name: risk table}` from config to validated limits (errors name the TOML key)."""
    return {name: RiskLimits.from_mapping(table, where=f"accounts.{name}.risk")
            for name, table in accounts.items()}


def _open_state(journal: str | Path | None) -> tuple[EmsState, Journal]:
    j = Journal(journal)
    state = EmsState()
    for chunk in j.replay():
        state.apply_many(chunk)
    return state, j


# ---------------------------------------------------------------------------- reports


def orders(*, journal: str | Path | None = None, include_done: bool = False, symbol: str = "",
           account: str = "", limit: int = 50, json_out: bool = False) -> int:
    """Working orders (or also finished ones, newest `limit`) from the journal."""
    try:
        state, j = _open_state(journal)
        j.close()
    except JournalError as exc:
        return _fail(str(exc))
    rows = [o for o in (state.orders.values() if include_done else state.working.values())
            if (not symbol or o.symbol == symbol) and (not account or o.account == account)]
    rows.sort(key=lambda o: o.created_ns)
    if include_done and limit > 0:
        rows = rows[-limit:]
    if json_out:
        _json_line([o.as_dict() for o in rows])
        return 0
    table = Table(title=f"{'orders' if include_done else 'working orders'} ({len(rows)})")
    for col in ("id", "account", "symbol", "side", "type", "size", "price", "stop", "filled",
                "avg", "status", "reason", "created (UTC)"):
        table.add_column(col, justify="right" if col in ("size", "price", "stop", "filled",
                                                         "avg") else "left")
    for o in rows:
        side = f"[green]{o.side}[/]" if o.side == "buy" else f"[red]{o.side}[/]"
        table.add_row(o.order_id, o.account, o.symbol, side, o.type, f"{o.size:g}",
                      f"{o.price:g}" if o.price else "", f"{o.stop:g}" if o.stop else "",
                      f"{o.filled:g}", f"{o.avg_price:g}" if o.filled else "", o.status,
                      escape(o.reason), _time(o.created_ns))
    _out.print(table)
    return 0


def fills(*, journal: str | Path | None = None, symbol: str = "", account: str = "",
          limit: int = 50, json_out: bool = False) -> int:
    """The newest `limit` fills (0 = all) from the journal."""
    try:
        j = Journal(journal)
        rows = [f for f in j.events(kinds=["fill"]) if isinstance(f, Fill)
                and (not symbol or f.symbol == symbol) and (not account or f.account == account)]
        j.close()
    except JournalError as exc:
        return _fail(str(exc))
    if limit > 0:
        rows = rows[-limit:]
    if json_out:
        _json_line([msgspec.structs.asdict(f) for f in rows])
        return 0
    table = Table(title=f"fills ({len(rows)})")
    for col in ("time (UTC)", "fill", "order", "account", "symbol", "side", "size", "price",
                "fee", "liq"):
        table.add_column(col, justify="right" if col in ("size", "price", "fee") else "left")
    for f in rows:
        side = f"[green]{f.side}[/]" if f.side == "buy" else f"[red]{f.side}[/]"
        table.add_row(_time(f.ts), f.fill_id, f.order_id, f.account, f.symbol, side,
                      f"{f.size:g}", f"{f.price:g}", f"{f.fee:.6g}", f.liquidity)
    _out.print(table)
    return 0


def positions(*, journal: str | Path | None = None, account: str = "", json_out: bool = False,
              mark: bool = False, provider: str = "sim",
              provider_config: Mapping[str, Any] | None = None, timeout: float = 10.0,
              hub_factory: HubFactory | None = None) -> int:
    """Positions and PnL from the journal's fills.

    The journal holds no prices, so unrealized PnL needs `mark`: the provider's feed starts
    for the symbols of open positions and each is marked at its first mid (the last trade
    where a side of the book is empty), as the console marks them.
    """
    if mark and not (math.isfinite(timeout) and timeout > 0):
        return _fail(f"--timeout {timeout:g}: must be a number of seconds above 0")
    try:
        j = Journal(journal)
        ledger = Ledger()
        for f in j.events(kinds=["fill"]):
            if isinstance(f, Fill):
                ledger.apply(f)
        j.close()
    except JournalError as exc:
        return _fail(str(exc))
    rows = [p for p in ledger.positions.values() if not account or p.account == account]
    marks: dict[str, float] = {}
    open_symbols = sorted({p.symbol for p in rows if p.size})
    if mark and open_symbols:
        code = _run(lambda: _with_feed(
            hub_factory or functools.partial(_default_hub, first_quote_timeout=timeout),
            provider, open_symbols, provider_config or {},
            lambda hub: _take_marks(hub, provider, open_symbols, marks)))
        if code:
            return code
    if json_out:
        _json_line([_position_json(p, marks.get(p.symbol)) for p in rows])
        return 0
    _out.print(_positions_table(rows, marks if mark else None))
    if not mark and open_symbols:
        _out.print("[dim]unrealized PnL needs --mark (prices open positions on a live feed)[/]")
    return 0


async def _take_marks(hub: Any, provider: str, symbols: Sequence[str],
                      marks: dict[str, float]) -> int:
    for sym in symbols:
        book = hub.books.get(sym)
        px = book.mid if book is not None else None
        if px is None:
            quote = hub.quotes.get(sym)
            px = quote.last if quote is not None and quote.last else None
        if px is not None:
            marks[sym] = px
    missing = [s for s in symbols if s not in marks]
    if missing:
        return _fail(f"provider {provider!r} quoted no price for {', '.join(missing)}; "
                     "retry once it trades")
    return 0


def _position_json(p: PositionState, mark: float | None) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.structs.asdict(p.message(mark))
    out["mark"] = mark if p.size else None
    # a flat position's PnL is all realized; an open one's total needs its mark
    known = mark is not None or not p.size
    out["total_pnl"] = p.realized + p.unrealized(mark) - p.fees if known else None
    return out


def _money(x: float) -> str:
    return f"[green]{x:.2f}[/]" if x >= 0 else f"[red]{x:.2f}[/]"


def _positions_table(rows: Sequence[PositionState], marks: Mapping[str, float] | None) -> Table:
    """One row per position, then totals per quote currency; `marks` None: realized only."""
    table = Table(title="positions")
    cols = ["account", "symbol", "size", "avg price"]
    cols += ["realized", "fees", "net"] if marks is None else \
        ["mark", "unrealized", "realized", "fees", "total"]
    for col in cols:
        table.add_column(col, justify="left" if col in ("account", "symbol") else "right")
    totals: dict[str, list[float]] = {}  # quote currency -> unrealized, realized, fees
    for i, p in enumerate(rows):
        unreal = p.unrealized(marks.get(p.symbol)) if marks is not None else 0.0
        t = totals.setdefault(p.symbol.rpartition("/")[2], [0.0, 0.0, 0.0])
        t[0] += unreal
        t[1] += p.realized
        t[2] += p.fees
        # `g` keeps 6 significant digits, too few for a BTC price to the cent
        cells = [p.account, p.symbol, f"{p.size:g}", f"{p.avg_price:.10g}" if p.size else ""]
        if marks is not None:
            m = marks.get(p.symbol) if p.size else None
            cells += [f"{m:.10g}" if m is not None else "", _money(unreal)]
        cells += [f"{p.realized:.2f}", f"{p.fees:.2f}", _money(p.realized + unreal - p.fees)]
        table.add_row(*cells, end_section=i == len(rows) - 1 and len(rows) > 1)
    if len(rows) > 1:
        for ccy, (unreal, realized, fees) in sorted(totals.items()):
            cells = ["[bold]total[/]", ccy, "", ""]
            if marks is not None:
                cells += ["", _money(unreal)]
            cells += [f"{realized:.2f}", f"{fees:.2f}", _money(realized + unreal - fees)]
            table.add_row(*cells)
    return table


# ---------------------------------------------------------------------------- order entry


def _describe(ev: OrderEvent) -> str | None:
    if isinstance(ev, NewOrder):
        what = f"{ev.side} {ev.size:g} {ev.symbol} {ev.type}"
        if ev.price:
            what += f" @ {ev.price:g}"
        if ev.stop:
            what += f" stop {ev.stop:g}"
        return f"[bold]{ev.order_id}[/] request: {what} {ev.tif} ({ev.account})"
    if isinstance(ev, Ack):
        return f"[bold]{ev.order_id}[/] ack: venue id {ev.venue_id or '(held by the EMS)'}"
    if isinstance(ev, Fill):
        return (f"[bold]{ev.order_id}[/] fill {ev.fill_id}: {ev.side} {ev.size:g} @ "
                f"{ev.price:g} fee {ev.fee:.6g} ({ev.liquidity})")
    if isinstance(ev, OrderStatus):
        colour = {"filled": "green", "rejected": "red", "canceled": "yellow",
                  "expired": "yellow"}.get(ev.status, "cyan")
        line = (f"[bold]{ev.order_id}[/] [{colour}]{ev.status}[/] ({ev.filled:g} of "
                f"{ev.size:g} filled)")
        return line + (f": {escape(ev.reason)}" if ev.reason else "")
    if isinstance(ev, Triggered):
        return f"[bold]{ev.order_id}[/] stop triggered at {ev.price:g}"
    if isinstance(ev, Error):
        return f"[bold]{ev.order_id}[/] [red]error[/]: {escape(ev.message)}"
    if isinstance(ev, Position):
        return (f"position {ev.account} {ev.symbol}: {ev.size:g} @ {ev.avg_price:g}, "
                f"realized {ev.realized_pnl:.2f}, fees {ev.fees:.2f}")
    return None


def _printer(json_out: bool) -> Callable[[OrderEvent], None]:
    def show(ev: OrderEvent) -> None:
        if json_out:
            _json_line(_event_json(ev))
            return
        line = _describe(ev)
        if line is not None:
            _out.print(line)

    return show


def _check_order_args(side: str, size: float, symbol: str, type_: str, price: float | None,
                      stop: float | None, tif: str) -> None:
    if side not in ORDER_SIDES:
        raise CommandError(f"side {side!r}: use buy or sell")
    if type_ not in ORDER_TYPES:
        raise CommandError(f"--type {type_!r}: use one of {', '.join(ORDER_TYPES)}")
    if tif not in TIFS:
        raise CommandError(f"--tif {tif!r}: use one of {', '.join(TIFS)}")
    if not size > 0:
        raise CommandError(f"SIZE {size:g}: must be a positive number of {symbol.split('/')[0]}")
    if type_ in ("limit", "stop-limit") and not price:
        raise CommandError(f"a {type_} order needs --price")
    if type_ in ("stop", "stop-limit") and not stop:
        raise CommandError(f"a {type_} order needs --stop (the trigger price)")
    if type_ in ("market", "stop") and price:
        raise CommandError(f"a {type_} order takes no --price; use --type limit or stop-limit")


def _default_hub(provider: str, symbols: Sequence[str], config: Mapping[str, Any], *,
                 first_quote_timeout: float = 10.0) -> Any:
    from console.data.feed import FeedHub

    return FeedHub(provider, symbols, config=config, history=False,
                   first_quote_timeout=first_quote_timeout)


async def _with_feed(hub_factory: HubFactory | None, provider: str, symbols: Sequence[str],
                     config: Mapping[str, Any],
                     body: Callable[[MarketHub], Any]) -> int:
    hub = (hub_factory or _default_hub)(provider, symbols, config)
    async with hub:
        result: int = await body(hub)
        return result


def order(side: str, size: float, symbol: str, *, type_: str = "market",
          price: float | None = None, stop: float | None = None, tif: str = "gtc",
          account: str = "paper", provider: str = "sim", wait: float = 5.0,
          reduce_only: bool = False, post_only: bool = False, order_id: str = "",
          journal: str | Path | None = None, json_out: bool = False,
          provider_config: Mapping[str, Any] | None = None,
          risk: Mapping[str, Mapping[str, Any]] | None = None,
          paper: Mapping[str, Any] | None = None,
          paper_accounts: Sequence[str] = (),
          hub_factory: HubFactory | None = None) -> int:
    """Place one order through the EMS on a live feed; print acks and fills for `wait` s.

    A resting order stays working in the journal for the console to pick up.
    """
    try:
        _check_order_args(side, size, symbol, type_, price, stop, tif)
        limits = risk_from_accounts(risk or {})
        paper_cfg = PaperConfig.from_mapping(paper or {})
    except (CommandError, RiskConfigError, PaperConfigError) as exc:
        return _fail(str(exc))
    if wait < 0:
        return _fail(f"--wait {wait:g}: must be 0 or more seconds")
    oid = order_id or new_order_id()
    req = NewOrder(order_id=oid, account=account, symbol=symbol, side=side,  # type: ignore[arg-type]
                   size=size, type=type_, price=price or 0.0, stop=stop or 0.0,  # type: ignore[arg-type]
                   tif=tif, reduce_only=reduce_only, post_only=post_only)  # type: ignore[arg-type]

    async def body(hub: MarketHub) -> int:
        ems = Ems(Journal(journal), risk=limits, paper=paper_cfg, paper_accounts=paper_accounts)
        try:
            done = asyncio.Event()

            def watch(ev: OrderEvent) -> None:
                finished = isinstance(ev, OrderStatus) and ev.status in TERMINAL
                if (finished or isinstance(ev, Error)) and getattr(ev, "order_id", "") == oid:
                    done.set()

            show = _printer(json_out)
            # this order and positions only: not what other processes do, nor the orders of
            # a gone one this process takes over while it waits
            ems.subscribe(lambda ev: show(ev) if getattr(ev, "order_id", oid) == oid else None)
            ems.subscribe(watch)
            ems.attach(hub)
            ems.submit(req)
            loop = asyncio.get_running_loop()
            end = loop.time() + wait
            while not done.is_set() and (left := end - loop.time()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), timeout=min(left, SYNC_EVERY_S))
                # cancels and amends from other processes: this one holds the order
                ems.sync()
            o = ems.state.orders.get(oid)
            if o is not None and o.status in ("pending", "open", "partially_filled"):
                msg = f"{oid} stays {o.status} in the journal"
                if json_out:
                    _json_line({"event": "working", "order_id": oid, "status": o.status})
                else:
                    _out.print(f"[dim]{msg}; `mdconsole cancel {oid}` cancels it[/]")
            return 1 if o is None or o.status == "rejected" else 0
        finally:
            ems.close()

    return _run(lambda: _with_feed(hub_factory, provider, [symbol], provider_config or {}, body))


def cancel(order_id: str = "", *, all_orders: bool = False, account: str = "",
           symbol: str = "", journal: str | Path | None = None, json_out: bool = False,
           paper_accounts: Sequence[str] = ()) -> int:
    """Cancel one order by id, or every working one (`all_orders`, optionally narrowed).

    Paper orders need no market data to cancel, so no feed is started.
    """
    if bool(order_id) == all_orders:
        return _fail("give one order id, or --all (optionally with --account/--symbol)")
    try:
        ems = Ems(Journal(journal), paper_accounts=paper_accounts)
    except JournalError as exc:
        return _fail(str(exc))
    try:
        ems.subscribe(_printer(json_out))
        if all_orders:
            n = len([o for o in ems.working_orders(symbol)
                     if not account or o.account == account])
            ems.cancel_all(account=account, symbol=symbol)
            if not json_out:
                _out.print(f"canceled {n} working order{'s' if n != 1 else ''}")
            return 0
        events = ems.cancel(order_id)
        return 1 if any(isinstance(e, Error) for e in events) else 0
    finally:
        ems.close()


_AMEND_FIELDS = (("--price", "price"), ("--size", "size"), ("--stop", "trigger price"))


def amend(order_id: str, *, price: float | None = None, size: float | None = None,
          stop: float | None = None, provider: str = "sim",
          journal: str | Path | None = None, json_out: bool = False,
          provider_config: Mapping[str, Any] | None = None,
          risk: Mapping[str, Mapping[str, Any]] | None = None,
          paper: Mapping[str, Any] | None = None,
          paper_accounts: Sequence[str] = (),
          hub_factory: HubFactory | None = None, timeout: float = 5.0) -> int:
    """Amend a working order's price and/or size, or a held stop's trigger; print the change.

    An order another live process matches or watches (a running console's) is changed by
    that process, as a venue changes one: the amend is journaled as a request and this waits
    up to `timeout` s for its answer. Otherwise, as for `cancel`, a stop the EMS holds (or an
    order not yet acked, whose amend waits for the ack) needs no market data; an order resting
    in the paper engine is re-checked against the market (queue, post-only, a price that now
    takes), so the provider's feed for its symbol starts first.
    """
    given = [(flag, what, v) for (flag, what), v in zip(_AMEND_FIELDS, (price, size, stop),
                                                         strict=True) if v is not None]
    if not given:
        return _fail("nothing to amend: give a new --price, --size (the total, filled part "
                     "included) and/or --stop (a held stop's trigger)")
    for flag, what, v in given:
        if not (math.isfinite(v) and v > 0):
            return _fail(f"{flag} {v:g}: the new {what} must be a positive number")
    if not (math.isfinite(timeout) and timeout > 0):
        return _fail(f"--timeout {timeout:g}: must be a number of seconds above 0")
    try:
        limits = risk_from_accounts(risk or {})
        paper_cfg = PaperConfig.from_mapping(paper or {})
        ems = Ems(Journal(journal), risk=limits, paper=paper_cfg, paper_accounts=paper_accounts)
    except (RiskConfigError, PaperConfigError, JournalError) as exc:
        return _fail(str(exc))
    o = ems.state.working.get(order_id)

    def apply() -> int:
        # what a running console did to the order while the feed started (fills, a trigger)
        ems.sync()
        now = ems.state.working.get(order_id)
        was = (now.price, now.size, now.stop) if now is not None else (0.0, 0.0, 0.0)
        ems.subscribe(_printer(json_out))
        events = ems.amend(order_id, price=price or 0.0, size=size or 0.0, stop=stop or 0.0)
        if now is None or any(isinstance(e, Error) and e.order_id == order_id for e in events):
            return 1  # the printer has shown the EMS's reason
        _show_amended(now, was, json_out)
        return 0

    try:
        try:
            holder = ems.holder(order_id) if o is not None else None
        except sqlite3.Error as exc:
            return _fail(f"{ems.journal.path}: cannot read who holds {order_id} ({exc}); "
                         "retry in a moment")
        if holder is not None:
            return _request_amend(ems, order_id, holder, price or 0.0, size or 0.0,
                                  stop or 0.0, json_out, timeout)
        if (o is not None and not o.dark and o.venue_id
                and ems.accounts.get(o.account) is ems.paper):
            async def body(hub: MarketHub) -> int:
                # the amend takes the order into this paper engine, off a running console's
                ems.attach(hub)
                return apply()

            return _run(lambda: _with_feed(hub_factory, provider, [o.symbol],
                                           provider_config or {}, body))
        try:
            return apply()
        except JournalError as exc:
            return _fail(str(exc))
    finally:
        ems.close()


def _request_amend(ems: Ems, order_id: str, holder: str, price: float, size: float,
                   stop: float, json_out: bool, timeout: float) -> int:
    """Journal an amend for the live process holding the order; print its answer."""
    ems.sync()
    o = ems.state.orders[order_id]
    was = (o.price, o.size, o.stop)
    show = _printer(json_out)
    ems.subscribe(lambda ev: show(ev) if getattr(ev, "order_id", None) == order_id else None)
    events = ems.amend(order_id, price=price, size=size, stop=stop)
    sent = next((e for e in events if isinstance(e, AmendOrder)), None)
    if sent is None:
        return 1  # refused here (risk, a field the order lacks): the printer showed why
    since = ems.journal.own_last_id()
    end = time.monotonic() + timeout
    while True:
        # answers first, then the sync: it reads at least as far, so the state has them
        answer = next((a for a in ems.journal.answers(order_id, since) if _answers(a, sent)),
                      None)
        ems.sync()
        if isinstance(answer, Error):
            return 1  # the printer showed the holder's reason
        if answer is not None:
            # applied by the holder, even where this process saw the amend before the ack
            _show_amended(o, was, json_out, held=False)
            return 0
        if not o.working:
            return _fail(f"{order_id} is {o.status}: it finished before the process holding "
                         "it applied the amend", code=1)
        if time.monotonic() >= end:
            pid = holder.partition("-")[0]
            if json_out:
                _json_line({"event": "sent", "order_id": order_id, "holder_pid": int(pid)})
            else:
                _out.print(f"[bold]{order_id}[/] sent; the process holding it (pid {pid}) "
                           "has not applied it yet")
            return NOT_APPLIED
        time.sleep(ANSWER_POLL_S)


def _answers(ev: OrderEvent, am: AmendOrder) -> bool:
    """True if `ev`, a row the holder wrote after `am`, is its answer to `am`.

    The holder may match the order at its old price before it applies the amend: such a
    fill's status keeps the old price or size, so only a status with the new ones answers.
    """
    if isinstance(ev, Error):
        return ev.message.startswith("amend:")
    if not isinstance(ev, OrderStatus):
        return False
    return ((not am.price or math.isclose(ev.price, am.price, rel_tol=1e-12))
            and (not am.size or math.isclose(ev.size, am.size, rel_tol=1e-12)))


def _show_amended(o: OrderState, was: tuple[float, float, float], json_out: bool, *,
                  held: bool | None = None) -> None:
    now = (o.price, o.size, o.stop)
    if held is None:
        held = o.pending_amend is not None
    if json_out:
        fields = ("price", "size", "stop")
        _json_line({"event": "amended", "order_id": o.order_id, "status": o.status,
                    "held": held, **dict(zip(fields, now, strict=True)),
                    "was": dict(zip(fields, was, strict=True))})
        return
    if held:
        _out.print(f"[bold]{o.order_id}[/] amend held until the order is acknowledged")
        return
    changes = [f"{name} {a:.10g} → {b:.10g}" for name, a, b in
               zip(("price", "size", "trigger"), was, now, strict=True) if a != b]
    _out.print(f"[bold]{o.order_id}[/] amended: {', '.join(changes)}" if changes
               else f"[bold]{o.order_id}[/] unchanged: it already had those values")


def _run(make: Callable[[], Any]) -> int:
    from console.data.provider import ProviderError

    try:
        result: int = asyncio.run(make())
        return result
    except (ProviderError, JournalError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
