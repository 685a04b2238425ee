"""UI-side EMS session: trading settings, an Ems built from config, and the plain state panes read.

No Textual here: the app drives `attach`, `poll` and `sync` from its timers and the frame pump;
panes read `version`, `working_orders`, `fills`, `preview` and `working_order_lines`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal

import msgspec

from console.config import Config, TradingConfigError, TradingSettings
from console.ems.commands import risk_from_accounts
from console.ems.journal import Journal
from console.ems.messages import (
    Error,
    Fill,
    NewOrder,
    OrderEvent,
    OrderStatus,
    Position,
)
from console.ems.paper import PAPER, PaperConfig
from console.ems.risk import RiskConfigError, RiskGate, RiskLimits, RiskReject
from console.ems.router import Ems, MarketHub
from console.ems.state import OrderState
from console.model.instruments import Instrument

LineKind = Literal["buy", "sell", "stop-buy", "stop-sell", "position"]


class TradingSession:
    """One Ems and what the panes need from it, kept as plain state with a `version` counter."""

    def __init__(
        self,
        ems: Ems,
        settings: TradingSettings | None = None,
        *,
        risk: Mapping[str, RiskLimits] | None = None,
        live_accounts: Sequence[str] = (),
        fills_kept: int = 500,
    ) -> None:
        self.ems = ems
        self.settings = settings or TradingSettings()
        self.risk = dict(risk or {})
        self.live_accounts = frozenset(live_accounts)
        self.accounts = [a for a in ems.accounts if a not in self.live_accounts] + sorted(
            self.live_accounts)
        self.account = self.settings.account or (self.accounts[0] if self.accounts else PAPER)
        self.version = 0
        self.fills: deque[Fill] = deque(maxlen=fills_kept)
        self.notices: list[tuple[str, str]] = []  # (severity, text) for the app to toast
        self.attached = False
        # Preview gates never count toward the order-rate window of the real ones.
        self._preview_gates: dict[str, RiskGate] = {}
        for ev in ems.journal.events(kinds=["fill"]):
            if isinstance(ev, Fill):
                self.fills.append(ev)
        self._unsub: Callable[[], None] = ems.subscribe(self._on_event)

    @classmethod
    def from_config(cls, config: Config, journal: str | Path | None = None) -> TradingSession:
        """An Ems on the configured journal, risk and paper settings (errors name the key)."""
        try:
            settings = TradingSettings.from_mapping(config.trading)
            risk = risk_from_accounts(config.risk_tables())
            paper = PaperConfig.from_mapping(config.paper_table())
        except (RiskConfigError, ValueError) as exc:
            raise TradingConfigError(str(exc)) from None
        paper_accounts = [a for a in config.paper_accounts() if a != PAPER]
        live = [n for n, a in config.accounts.items() if a.destination != "paper"]
        ems = Ems(Journal(journal), risk=risk, paper=paper, paper_accounts=paper_accounts)
        known = [*ems.accounts, *live]
        if settings.account and settings.account not in known:
            ems.close()
            raise TradingConfigError(
                f"trading.account: {settings.account!r} is not a configured account; "
                f"known: {', '.join(known)}")
        return cls(ems, settings, risk=risk, live_accounts=live)

    # ------------------------------------------------------------------ wiring

    def attach(self, hub: MarketHub) -> None:
        """Take the hub's books and events (once its books exist)."""
        if not self.attached:
            self.ems.attach(hub)
            self.attached = True
            self.version += 1

    def poll(self) -> None:
        self.ems.poll()

    def sync(self) -> None:
        """Pick up orders placed by other processes (`mdconsole order`)."""
        self.ems.sync()

    def close(self) -> None:
        self._unsub()
        self.ems.close()

    def _on_event(self, ev: OrderEvent) -> None:
        self.version += 1
        t = type(ev)
        if t is Fill:
            assert isinstance(ev, Fill)
            self.fills.append(ev)
            self.notices.append(("information", f"fill {ev.side} {ev.size:g} {ev.symbol} @ "
                                                f"{ev.price:g}"))
        elif t is OrderStatus:
            assert isinstance(ev, OrderStatus)
            if ev.status == "rejected":
                self.notices.append(("error", f"rejected {ev.order_id}: {ev.reason}"))
        elif t is Error:
            assert isinstance(ev, Error)
            self.notices.append(("error", ev.message))

    def take_notices(self) -> list[tuple[str, str]]:
        out, self.notices = self.notices, []
        return out

    # ------------------------------------------------------------------ reads

    @property
    def live(self) -> bool:
        """True when the selected account trades on a venue (not the paper engine)."""
        return self.account in self.live_accounts

    @property
    def mode(self) -> str:
        return "LIVE" if self.live else "PAPER"

    @property
    def killed(self) -> bool:
        k = self.ems.state.killed
        return "" in k or self.account in k

    def instrument(self, symbol: str) -> Instrument | None:
        inst = self.ems.instruments.get(symbol)
        if inst is not None:
            return inst
        book = self.ems.books.get(symbol)
        if book is None:
            return None
        return Instrument(symbol=symbol, base="", quote="", tick_size=book.tick_size,
                          lot_size=book.lot_size)

    def working_orders(self, symbol: str = "") -> list[OrderState]:
        """Working orders, newest first."""
        rows = self.ems.working_orders(symbol)
        rows.sort(key=lambda o: o.created_ns, reverse=True)
        return rows

    def positions(self) -> list[Position]:
        return [p for p in self.ems.positions() if p.size or p.realized_pnl]

    def traded_symbols(self) -> list[str]:
        """Symbols with working orders or an open position: their books must stream."""
        held = [o.symbol for o in self.ems.working_orders("")]
        held += [p.symbol for p in self.ems.positions() if p.size]
        return list(dict.fromkeys(held))

    def position_size(self, symbol: str) -> float:
        return self.ems.state.ledger.size(self.account, symbol)

    def working_order_lines(self, symbol: str) -> list[tuple[float, LineKind]]:
        """Horizontal lines for a chart: working limits, stops and the position's average price."""
        out: list[tuple[float, LineKind]] = []
        for o in self.ems.working_orders(symbol):
            if o.dark:
                out.append((o.stop, "stop-buy" if o.side == "buy" else "stop-sell"))
            elif o.price:
                out.append((o.price, "buy" if o.side == "buy" else "sell"))
        for p in self.ems.positions():
            if p.symbol == symbol and p.size:
                out.append((p.avg_price, "position"))
        return out

    def reference_price(self, req: NewOrder) -> float | None:
        """The price an order's notional is judged at: its limit/stop, else the far touch."""
        if req.price:
            return req.price
        if req.stop:
            return req.stop
        book = self.ems.books.get(req.symbol)
        if book is None:
            return None
        return (book.best_ask if req.side == "buy" else book.best_bid) or book.mid

    def preview(self, req: NewOrder) -> str | None:
        """Why the EMS would reject `req` now (the same rules), or None if it would go."""
        ems = self.ems
        if req.account not in ems.accounts:
            if req.account in self.live_accounts:
                return f"account: {req.account} has no broker connected in this console"
            return f"account: unknown account {req.account!r}"
        for key in (req.account, ""):
            if key in ems.state.killed:
                return "kill_switch: trading is halted; re-arm it to trade again"
        inst = self.instrument(req.symbol)
        if inst is None:
            return f"symbol: no instrument data for {req.symbol}; is its feed running?"
        pos = ems.state.ledger.size(req.account, req.symbol)
        if req.reduce_only:
            signed = req.size if req.side == "buy" else -req.size
            if pos == 0 or (pos > 0) == (signed > 0):
                return f"reduce_only: does not reduce the position of {pos:g}"
        gate = self._preview_gates.get(req.account)
        if gate is None:
            limits = msgspec.structs.replace(self.risk.get(req.account, RiskLimits()),
                                             max_order_rate=0.0)
            gate = self._preview_gates[req.account] = RiskGate(req.account, limits)
        book = ems.books.get(req.symbol)
        try:
            gate.check(req, inst, mid=book.mid if book is not None else None, position=pos,
                       open_orders=ems.state.open_count.get(req.account, 0), now_ns=0)
        except RiskReject as exc:
            return str(exc)
        return None

    def needs_confirm(self, req: NewOrder) -> str | None:
        """Why this order must be confirmed before it goes, or None."""
        if self.live and self.settings.confirm_live:
            return "LIVE account: every order is confirmed"
        limit = self.settings.confirm_notional
        ref = self.reference_price(req)
        if limit and ref and req.size * ref >= limit:
            return f"notional {req.size * ref:,.2f} is at least {limit:,.2f}"
        return None


def open_session(config: Config, journal: str | Path | None = None
                 ) -> tuple[TradingSession | None, str]:
    """The console's session, or None and a one-line reason (trading off, market data on)."""
    from console.ems.journal import JournalError

    try:
        return TradingSession.from_config(config, journal), ""
    except (TradingConfigError, JournalError) as exc:
        return None, f"trading is off: {exc}"
