"""Keyboard trading: the bindings and actions that place, amend and cancel orders through the
EMS session, the confirmation modal, and the per-frame sync of the ladder, ticket and blotter.

`TradingMixin` is a base class of the console app: its bindings merge with the app's, and the
app calls `trading_mount`, `trading_palette` and `trading_frame` from its own hooks.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Static

from console.ems.messages import NewOrder, OrderSide, OrderType, TimeInForce
from console.ems.router import new_order_id
from console.ems.state import OrderState
from console.model.book import Book
from console.ui.blotter import BlotterPane
from console.ui.ladder import LadderPane
from console.ui.ladder_render import OrderMark, marks_by_row, row_tick
from console.ui.order_entry import OrderEntryPane, Ticket
from console.ui.paint import paint_now
from console.ui.palette import Palette
from console.ui.session import TradingSession

POLL_EVERY_S = 0.02
"""Paper latency resolution: orders in flight are delivered at most this late."""
SYNC_EVERY_S = 1.0
"""How often orders placed by other processes (`mdconsole order`) are picked up."""

# Keys that send orders, flatten or kill are priority bindings: the app acts on them as soon as
# it reads the key. A plain binding is reached only after the key has passed through the
# focused pane and each of its ancestors, one event-loop turn each (six in all), and under a
# busy market every turn can wait behind an ingest batch. `check_action` keeps them off modals.
TRADING_BINDINGS: list[BindingType] = [
    Binding("b", "trade_limit('buy')", "Buy", priority=True, id="trade.buy"),
    Binding("s", "trade_limit('sell')", "Sell", priority=True, id="trade.sell"),
    Binding("B", "trade_market('buy')", "Buy mkt", show=False, priority=True,
            id="trade.buy_market"),
    Binding("S", "trade_market('sell')", "Sell mkt", show=False, priority=True,
            id="trade.sell_market"),
    Binding("j", "trade_join('buy')", "Join bid", show=False, priority=True,
            id="trade.join_bid"),
    Binding("k", "trade_join('sell')", "Join ask", show=False, priority=True,
            id="trade.join_ask"),
    Binding("o", "trade_stop('buy')", "Buy stop", show=False, priority=True,
            id="trade.buy_stop"),
    Binding("O", "trade_stop('sell')", "Sell stop", show=False, priority=True,
            id="trade.sell_stop"),
    Binding("plus,equals_sign", "trade_size(1)", "Size +", show=False, id="trade.size_up"),
    Binding("minus", "trade_size(-1)", "Size −", show=False, id="trade.size_down"),
    Binding("right_square_bracket", "trade_size_ladder(1)", "Size step +", show=False,
            id="trade.size_next"),
    Binding("left_square_bracket", "trade_size_ladder(-1)", "Size step −", show=False,
            id="trade.size_prev"),
    Binding("x", "trade_cancel_cursor", "Cancel", id="trade.cancel_cursor"),
    Binding("X", "trade_cancel_all", "Cancel all", priority=True, id="trade.cancel_all"),
    Binding("F", "trade_flatten", "Flatten", priority=True, id="trade.flatten"),
    Binding("ctrl+k", "trade_kill", "Kill", priority=True, id="trade.kill"),
    Binding("ctrl+r", "trade_rearm", "Re-arm", show=False, id="trade.rearm"),
    Binding("shift+up", "trade_amend(1)", "Amend +tick", show=False, id="trade.amend_up"),
    Binding("shift+down", "trade_amend(-1)", "Amend −tick", show=False, id="trade.amend_down"),
    Binding("l", "trade_focus('ladder')", "Ladder", show=False, id="trade.focus_ladder"),
    Binding("e", "trade_focus('entry')", "Ticket", show=False, id="trade.focus_entry"),
    Binding("w", "trade_focus('blotter')", "Blotter", show=False, id="trade.focus_blotter"),
]
"""Every trading key; ids are what `[keys]` in the config remaps."""


def describe(req: NewOrder, pdec: int = 8) -> str:
    what = f"{req.side.upper()} {req.size:g} {req.symbol} {req.type}"
    if req.price:
        what += f" @ {req.price:,.{pdec}f}"
    if req.stop:
        what += f" stop {req.stop:,.{pdec}f}"
    return f"{what} {req.tif} ({req.account})"


class ConfirmOrderScreen(ModalScreen[bool]):
    """Asks before a large or LIVE order goes; y/enter sends it, n/escape drops it."""

    DEFAULT_CSS = """
    ConfirmOrderScreen { align: center middle; }
    ConfirmOrderScreen > Vertical {
        width: auto; max-width: 90%; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    ConfirmOrderScreen .mode { text-style: bold reverse; width: 100%; }
    ConfirmOrderScreen .mode.-live { color: $error; }
    ConfirmOrderScreen .mode.-paper { color: $success; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Send", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "Don't send", id="confirm.no"),
    ]

    def __init__(self, order_text: str, reason: str, mode: str) -> None:
        super().__init__()
        self.order_text = order_text
        self.reason = reason
        self.mode = mode

    def compose(self) -> ComposeResult:
        with Vertical():
            mode = Static(f" {self.mode} ", classes="mode")
            mode.set_class(self.mode == "LIVE", "-live")
            mode.set_class(self.mode != "LIVE", "-paper")
            yield mode
            yield Static(f"Send {self.order_text}?", markup=False)
            yield Static(f"Confirming because {self.reason}.", markup=False)
            yield Static("y / enter: send     n / esc: don't send")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def ladder_price(order: OrderState) -> float:
    """Where an order sits on the ladder: a stop waiting for its trigger at the trigger, any
    other at its limit price."""
    return order.stop if order.dark else order.price


class TradingMixin(App[int]):
    """Trading actions and the trading panes' frame sync (a base of the console app)."""

    BINDINGS: ClassVar[list[BindingType]] = TRADING_BINDINGS

    trading: TradingSession | None = None
    """The EMS session; without one the trading panes say so and trading keys do nothing."""

    _ticket: Ticket | None = None
    _marks_key: object = None
    _marks: dict[int, OrderMark]
    _cursor_seen: int | None = None
    last_submit_ms: float = 0.0

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Priority bindings reach the app from every screen: over a modal (the confirmation,
        # help, search, the palette) a trading key must not act.
        if action.startswith("trade_") and isinstance(self.screen, ModalScreen):
            return False
        return super().check_action(action, parameters)

    # -- hooks the app calls ------------------------------------------------------------------

    def trading_mount(self) -> None:
        self._marks = {}
        s = self.trading
        if s is None:
            return
        if hasattr(self._market, "subscribe") and hasattr(self._market, "books"):
            s.attach(self._market)
        self.ladder_pane.group = s.settings.ladder_group
        ticket = self.entry_pane.ticket
        ticket.account = s.account
        ticket.accounts = list(s.accounts)
        self._ticket = ticket
        self.set_interval(POLL_EVERY_S, s.poll, name="ems-poll")
        self.set_interval(SYNC_EVERY_S, s.sync, name="ems-sync")

    def trading_palette(self, palette: Palette) -> None:
        for pane in (self.ladder_pane, self.entry_pane, self.blotter_pane):
            pane.set_palette(palette)

    def trading_frame(self) -> None:
        """Repaint the ladder, ticket and blotter from the session and the book (per frame)."""
        s = self.trading
        if s is None:
            return
        symbol = self.active_symbol()
        if not symbol:
            return
        ladder = self.ladder_pane
        ladder.show(symbol)
        book = s.ems.books.get(symbol)
        inst = s.instrument(symbol)
        pdec = inst.pdec if inst is not None else 2
        qdec = inst.qdec if inst is not None else 4
        if book is not None and inst is not None:
            marks_key = (s.version, symbol, ladder.group)
            if marks_key != self._marks_key:
                self._marks_key = marks_key
                self._marks = marks_by_row(
                    ((ladder_price(o), o.remaining, o.side, o.dark)
                     for o in s.ems.working_orders(symbol)), book.tick_size, ladder.group)
            quote = self._market.quotes.get(symbol)
            last = float(quote.last) if quote is not None else 0.0
            ladder.sync(book, pdec=pdec, qdec=qdec, last=last, marks=self._marks)
        self._sync_ticket(symbol, book, pdec, qdec)
        ticket = self.entry_pane.ticket
        req = ticket.order("preview")
        verdict = s.preview(req) if ticket.symbol and ticket.size else "size: choose a size"
        ref = s.reference_price(req)
        self.entry_pane.sync(mode=s.mode, killed=s.killed, verdict=verdict,
                             position=s.position_size(symbol),
                             notional=ticket.size * ref if ref else None)
        self.blotter_pane.sync(s)
        for severity, text in s.take_notices():
            self.notify(text, severity=severity, timeout=6)  # type: ignore[arg-type]

    def _sync_ticket(self, symbol: str, book: Book | None, pdec: int, qdec: int) -> None:
        s = self.trading
        assert s is not None
        t = self.entry_pane.ticket
        if t.account in s.accounts and t.account != s.account:
            s.account = t.account  # the ticket's account sets the mode and the banner
        inst = s.instrument(symbol)
        if t.symbol != symbol and inst is not None:
            t.symbol = symbol
            t.tick, t.lot, t.pdec, t.qdec = inst.tick_size, inst.lot_size, pdec, qdec
            default = s.settings.default_size or s.settings.ladder_for(inst.lot_size)[0]
            t.size = max(inst.min_size, inst.round_size(default))
            t.manual_price = False
            self._cursor_seen = None
        cursor = self.ladder_pane.cursor_tick
        if cursor is not None and (cursor != self._cursor_seen or not t.manual_price):
            if cursor != self._cursor_seen:
                t.manual_price = False
            self._cursor_seen = cursor
            price = self.ladder_pane.cursor_price or 0.0
            t.price = price
            t.stop = price

    # -- what the actions work on -------------------------------------------------------------

    @property
    def _market(self) -> Any:
        return getattr(self, "view", None)

    @property
    def ladder_pane(self) -> LadderPane:
        return self.query_one(LadderPane)

    @property
    def entry_pane(self) -> OrderEntryPane:
        return self.query_one(OrderEntryPane)

    @property
    def blotter_pane(self) -> BlotterPane:
        return self.query_one(BlotterPane)

    @property
    def accounts(self) -> list[str]:
        """Accounts the ticket can trade from (the command palette offers them)."""
        return list(self.trading.accounts) if self.trading is not None else []

    def select_account(self, account: str) -> None:
        """Trade from `account`: the ticket, the banner and flatten use it."""
        s = self.trading
        if s is None or account not in s.accounts:
            return
        s.account = account
        self.entry_pane.ticket.account = account
        self.notify(f"trading from {account} ({s.mode})", timeout=3)
        self._repaint_now()

    def active_symbol(self) -> str:
        """The charted symbol (else the watchlist's selection)."""
        for attr in ("candles_pane", "quotes_pane"):
            try:
                pane = getattr(self, attr)
            except NoMatches:
                continue
            symbol = getattr(pane, "symbol", "") or getattr(pane, "selected", "")
            if symbol:
                return str(symbol)
        return ""

    def _session(self) -> TradingSession | None:
        if self.trading is None:
            self.notify("trading is off: no EMS session in this console", severity="warning")
        return self.trading

    def _trade_ready(self) -> tuple[TradingSession, str, Book] | None:
        s = self._session()
        symbol = self.active_symbol()
        if s is None or not symbol:
            return None
        book = s.ems.books.get(symbol)
        if book is None or (book.best_bid is None and book.best_ask is None):
            self.notify(f"{symbol}: no order book yet", severity="warning")
            return None
        return s, symbol, book

    # -- placing ------------------------------------------------------------------------------

    def place(self, side: OrderSide, type_: OrderType, *, price: float = 0.0,
              stop: float = 0.0, tif: TimeInForce = "gtc") -> None:
        """Send an order for the active symbol at the ticket's size and account.

        Checks it first (the reason is shown and nothing is sent when it would be rejected),
        and asks for confirmation above the notional limit and in LIVE mode.
        """
        ready = self._trade_ready()
        if ready is None:
            return
        s, symbol, _ = ready
        ticket = self.entry_pane.ticket
        req = NewOrder(order_id=new_order_id(), account=ticket.account or s.account,
                       symbol=symbol, side=side, size=ticket.size, type=type_, price=price,
                       stop=stop, tif=tif)
        self.submit(req)

    def submit(self, req: NewOrder) -> None:
        s = self.trading
        assert s is not None
        why = s.preview(req)
        if why is not None:
            self.notify(f"not sent: {why}", severity="error", timeout=6)
            return
        inst = s.instrument(req.symbol)
        text = describe(req, inst.pdec if inst else 8)
        confirm = s.needs_confirm(req)
        if confirm is None:
            self._send(req)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._send(req)
            else:
                self.notify(f"not sent: {text}", timeout=3)

        self.push_screen(ConfirmOrderScreen(text, confirm, s.mode), answered)

    def _send(self, req: NewOrder) -> None:
        s = self.trading
        assert s is not None
        t0 = time.perf_counter()
        s.ems.submit(req)
        self.last_submit_ms = (time.perf_counter() - t0) * 1000.0
        self._repaint_now()

    def _repaint_now(self) -> None:
        # The trader should see the effect of a key at once, not on the next pump tick.
        self._marks_key = None
        self.trading_frame()
        paint_now(self.ladder_pane.screen, (self.ladder_pane, self.entry_pane, self.blotter_pane))

    def action_trade_limit(self, side: OrderSide) -> None:
        price = self.ladder_pane.cursor_price
        if price is None:
            self.notify("no ladder cursor yet", severity="warning")
            return
        self.place(side, "limit", price=price)

    def action_trade_join(self, side: OrderSide) -> None:
        ready = self._trade_ready()
        if ready is None:
            return
        _, symbol, book = ready
        price = book.best_bid if side == "buy" else book.best_ask
        if price is None:
            self.notify(f"{symbol}: no {'bid' if side == 'buy' else 'ask'} to join",
                        severity="warning")
            return
        self.place(side, "limit", price=price)

    def action_trade_market(self, side: OrderSide) -> None:
        self.place(side, "market", tif="ioc")

    def action_trade_stop(self, side: OrderSide) -> None:
        price = self.ladder_pane.cursor_price
        if price is None:
            self.notify("no ladder cursor yet", severity="warning")
            return
        self.place(side, "stop", stop=price)

    def action_trade_send(self) -> None:
        """Send the ticket as it stands (enter in the order entry pane)."""
        ready = self._trade_ready()
        if ready is None:
            return
        t = self.entry_pane.ticket
        self.submit(t.order(new_order_id()))

    # -- sizing -------------------------------------------------------------------------------

    def action_trade_size(self, step: int) -> None:
        self.entry_pane.ticket.adjust("size", step)
        self._repaint_now()

    def action_trade_size_ladder(self, step: int) -> None:
        s = self.trading
        t = self.entry_pane.ticket
        if s is None or not t.lot:
            return
        steps = s.settings.ladder_for(t.lot)
        if step > 0:
            bigger = [x for x in steps if x > t.size + 1e-12]
            t.size = bigger[0] if bigger else steps[-1]
        else:
            smaller = [x for x in steps if x < t.size - 1e-12]
            t.size = smaller[-1] if smaller else steps[0]
        t.size = round(t.size, t.qdec)
        self._repaint_now()

    # -- cancelling, amending, flattening -----------------------------------------------------

    def action_trade_cancel_cursor(self) -> None:
        s = self._session()
        cursor = self.ladder_pane.cursor_tick
        symbol = self.active_symbol()
        if s is None or cursor is None or not symbol:
            return
        book = s.ems.books.get(symbol)
        if book is None:
            return
        g = self.ladder_pane.group
        row = row_tick(cursor, g)
        hits = [o for o in s.ems.working_orders(symbol)
                if row_tick(book.to_ticks(ladder_price(o)), g) == row]
        if not hits:
            self.notify("no working order at the cursor", timeout=3)
            return
        for o in hits:
            s.ems.cancel(o.order_id)
        self._repaint_now()

    def action_trade_cancel_selected(self) -> None:
        s = self._session()
        oid = self.blotter_pane.selected_order
        if s is None or oid is None:
            return
        s.ems.cancel(oid)
        self._repaint_now()

    def action_trade_cancel_all(self) -> None:
        s = self._session()
        symbol = self.active_symbol()
        if s is None or not symbol:
            return
        n = len(s.ems.working_orders(symbol))
        s.ems.cancel_all(symbol=symbol)
        self.notify(f"cancel all {symbol}: {n} order{'s' if n != 1 else ''}", timeout=3)
        self._repaint_now()

    def action_trade_flatten(self) -> None:
        s = self._session()
        symbol = self.active_symbol()
        if s is None or not symbol:
            return
        if not s.position_size(symbol):
            self.notify(f"no {symbol} position to flatten in {s.account}", timeout=3)
            return
        s.ems.flatten(s.account, symbol)
        self._repaint_now()

    def action_trade_kill(self) -> None:
        s = self._session()
        if s is None:
            return
        s.ems.kill("", reason="kill switch key")
        self.notify("KILL SWITCH: all orders cancelled, new orders blocked", severity="error",
                    timeout=8)
        self._repaint_now()

    def action_trade_rearm(self) -> None:
        s = self._session()
        if s is None:
            return
        s.ems.rearm("")
        for account in list(s.ems.state.killed):
            s.ems.rearm(account)
        self.notify("kill switch re-armed: trading allowed", timeout=4)
        self._repaint_now()

    def amend_target(self) -> str | None:
        """The blotter's selected working order, else the newest working order at the cursor.

        A stop waiting for its trigger sits on the ladder at its trigger, so that is what
        the cursor matches and what an amend moves.
        """
        s = self.trading
        if s is None:
            return None
        oid = self.blotter_pane.selected_order
        symbol = self.active_symbol()
        working = [o for o in s.working_orders(symbol) if o.dark or o.price]
        if oid is not None and any(o.order_id == oid for o in working):
            return oid
        cursor = self.ladder_pane.cursor_price
        at_cursor = [o for o in working if cursor is not None
                     and abs(ladder_price(o) - cursor) < 1e-12]
        chosen = at_cursor or working
        return chosen[0].order_id if chosen else None

    def action_trade_amend(self, ticks: int) -> None:
        s = self._session()
        if s is None:
            return
        oid = self.amend_target()
        if oid is None:
            self.notify("no working limit or stop order to amend", timeout=3)
            return
        o = s.ems.state.orders[oid]
        book = s.ems.books.get(o.symbol)
        tick = book.tick_size if book is not None else 0.0
        if not tick:
            return
        if o.dark:
            s.ems.amend(oid, stop=o.stop + ticks * tick)
        else:
            s.ems.amend(oid, price=o.price + ticks * tick)
        self._repaint_now()

    def action_trade_focus(self, pane: str) -> None:
        pane_id = {"ladder": "#ladder", "entry": "#order-entry", "blotter": "#blotter"}[pane]
        with contextlib.suppress(NoMatches):
            self.query_one(pane_id).focus()
