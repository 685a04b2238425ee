"""A seeded synthetic market: books, trades and quotes generated in batches, no asyncio, no UI.

Each symbol has a latent fair price with clustered volatility (a mean-reverting log-volatility
kicked up by bursts), a slow drift and rare jumps. The book lives in integer ticks and lots
inside a sliding window of Python lists; per batch the random draws are made with numpy and
then applied in order, so every `BookDelta` carries the level's true size at that moment.

Per batch and symbol: the fair price moves; resting orders the move ran through are taken by
aggressive orders (trades plus a delta deleting those levels); the touch is requoted if the
spread opened up; then order arrivals, cancels and market orders arrive at sorted random
times; a throttled `Quote` closes the batch. The same seed and the same sequence of `step`
intervals give the same events.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np

from console.model.events import BookDelta, BookSnapshot, Level, MarketEvent, Quote, Tick, Trade
from console.model.instruments import Instrument
from providers.sim.specs import SymbolSpec, seed_word, spec_for, start_price, symbol_key

WINDOW = 2048
"""Ticks held per symbol; the window slides when the price nears an edge."""
DEPTH = 100
"""Levels per side that arrivals and refills reach, counted from the quoting limit."""
MAX_DEPTH = 160
"""Levels further than this from the quoting limit are dropped, as depth-limited feeds do."""
MIN_LEVELS = 60
"""A side thinner than this is refilled at once, so the book always shows >= 50 levels."""
QUOTE_NS = 100_000_000
"""At most one Quote per symbol per 100 ms of market time, like a venue's ticker channel."""
TRADE_TICKS = 16
"""Latest trade ticks a quote carries; earlier prints of a busy interval are on the tape."""

_VOL_TAU_S = 300.0  # log-volatility relaxes over ~5 min: clustering at the scale charts show
_VOL_SD = 0.4
_BURSTS_PER_S = 1 / 90
_BURST_DECAY_S = 3.0
_JUMPS_PER_S = 1 / 900
_DRIFT_TAU_S = 120.0


class _SymbolSim:
    """One symbol's generator state (plain attributes; the hot loop reads them as locals)."""

    def __init__(self, spec: SymbolSpec, seed: int, share: float, p0: float | None) -> None:
        self.spec = spec
        self.symbol = spec.symbol
        self.rng = np.random.default_rng([seed_word(seed), symbol_key(spec.symbol), 0x51])
        self.share = share
        self.tick: Fraction = spec.tick_frac
        lot = spec.lot_frac
        # size = lots * lot_num / lot_den, exact in decimal terms
        self.lot_num = lot.numerator
        self.lot_den = lot.denominator
        p0_ticks = max(1, round((start_price(spec, seed) if p0 is None else p0) / spec.tick))
        self.p0 = p0_ticks * self.tick.numerator / self.tick.denominator
        self.sigma0 = self.p0 * spec.daily_vol / math.sqrt(86_400.0) / spec.tick  # ticks/sqrt(s)
        self.fair = float(p0_ticks)
        self.lv = 0.0
        self.burst = 1.0
        self.drift = 0.0
        self.zlast = 0.0
        self.bid_lim = p0_ticks - 1
        self.ask_lim = p0_ticks + 1
        self.base = p0_ticks - WINDOW // 2
        self.prices: list[float] = []
        self._reprice()
        self.bq = [0] * WINDOW
        self.aq = [0] * WINDOW
        self.nb = 0
        self.na = 0
        self.bb = -1
        self.ba = WINDOW
        self.seq = 0
        self.trade_no = 0
        self.volume_lots = 0
        self.last = self.p0
        self.last_quote_ns = -(1 << 62)
        self.quoted_top: tuple[int, int, int, int] = (0, 0, 0, 0)
        self.trade_ticks: list[Tick] = []
        self.derived_rate = 0.0  # events/s not drawn as order flow (sweeps, requotes, quotes)
        self._seed_book()

    # -- book plumbing ---------------------------------------------------------------------

    def _reprice(self) -> None:
        num, den = self.tick.numerator, self.tick.denominator
        self.prices = [(self.base + i) * num / den for i in range(WINDOW)]

    def size(self, lots: int) -> float:
        return lots * self.lot_num / self.lot_den

    def _draw_sizes(self, n: int, scale: float = 1.0) -> list[int]:
        raw = self.rng.lognormal(math.log(self.spec.order_lots * scale), 1.0, n)
        return [int(x) for x in np.maximum(1.0, raw)]

    def _seed_book(self) -> None:
        rng = self.rng
        present = rng.random(DEPTH) < 0.85
        present[0] = True
        deeper = 1.0 + np.arange(DEPTH) / 20.0
        drawn = rng.lognormal(math.log(self.spec.order_lots), 1.0, (2, DEPTH))
        raw = np.maximum(1.0, drawn * deeper)  # deeper levels rest bigger
        for k in range(DEPTH):
            if present[k]:
                self.bq[self.bid_lim - k - self.base] = int(raw[0, k])
                self.aq[self.ask_lim + k - self.base] = int(raw[1, k])
        self.nb = self.na = int(present.sum())
        self.bb = self.bid_lim - self.base
        self.ba = self.ask_lim - self.base

    def _rebase(self) -> None:
        shift = math.floor(self.fair) - WINDOW // 2 - self.base
        if shift > 0:
            self.bq = self.bq[shift:] + [0] * shift
            self.aq = self.aq[shift:] + [0] * shift
        else:
            self.bq = [0] * -shift + self.bq[: WINDOW + shift]
            self.aq = [0] * -shift + self.aq[: WINDOW + shift]
        self.base += shift
        self.bb = max(-1, self.bb - shift) if self.nb else -1
        self.ba = min(WINDOW, self.ba - shift) if self.na else WINDOW
        self._reprice()

    def _refill(self, bid: bool) -> list[Level]:
        """Fill every empty slot within DEPTH of the limit: a side ran thin."""
        sizes = self._draw_sizes(DEPTH, 2.0)
        prices = self.prices
        out: list[Level] = []
        if bid:
            q = self.bq
            for k in range(DEPTH):
                i = self.bid_lim - k - self.base
                if 0 <= i < WINDOW and q[i] == 0:
                    q[i] = sizes[k]
                    self.nb += 1
                    out.append((prices[i], self.size(sizes[k])))
                    if i > self.bb:
                        self.bb = i
        else:
            q = self.aq
            for k in range(DEPTH):
                i = self.ask_lim + k - self.base
                if 0 <= i < WINDOW and q[i] == 0:
                    q[i] = sizes[k]
                    self.na += 1
                    out.append((prices[i], self.size(sizes[k])))
                    if i < self.ba:
                        self.ba = i
        return out

    # -- one batch -------------------------------------------------------------------------

    def step(self, t0: int, dt_ns: int, rate: float) -> list[MarketEvent]:
        dt = dt_ns / 1e9
        rng = self.rng
        u = rng.random(6)
        z = rng.standard_normal(3)
        # regime: bursts decay, log-vol mean-reverts and is kicked by bursts, drift wanders
        self.burst = 1.0 + (self.burst - 1.0) * math.exp(-dt / _BURST_DECAY_S)
        if u[0] < _BURSTS_PER_S * dt:
            self.burst += 4.0 + 12.0 * float(u[1])
            self.lv += 0.5
        self.lv += -self.lv * dt / _VOL_TAU_S + _VOL_SD * math.sqrt(2 * dt / _VOL_TAU_S) * z[0]
        sigma = self.sigma0 * math.exp(self.lv)
        self.drift += (-self.drift * dt / _DRIFT_TAU_S
                       + 0.3 * self.sigma0 * math.sqrt(2 * dt / _DRIFT_TAU_S) * z[2])
        move = self.drift * dt + sigma * math.sqrt(dt) * z[1]
        if u[2] < _JUMPS_PER_S * dt:
            move += math.copysign(sigma * (10.0 + 20.0 * float(u[3])), z[1])
        self.zlast = float(z[1])
        # never let the book reach zero: bids reach DEPTH ticks below the fair price
        self.fair = max(self.fair + move, float(MAX_DEPTH + 2))
        spread = 1 + int(u[4] < 0.35) + int(u[5] < 0.15)
        old_floor = self.bid_lim - MAX_DEPTH
        old_ceil = self.ask_lim + MAX_DEPTH
        self.bid_lim = math.floor(self.fair - spread / 2)
        self.ask_lim = self.bid_lim + spread

        out: list[MarketEvent] = []
        bids: list[Level] = []
        asks: list[Level] = []
        self._sweep(t0, bids, asks, out)
        self._trim(old_floor, old_ceil, bids, asks)
        margin = MAX_DEPTH + 2
        if self.bid_lim - margin < self.base or self.ask_lim + margin >= self.base + WINDOW:
            self._rebase()
        self._requote(bids, asks)
        if bids or asks:
            out.append(self._delta(t0, _best_first(bids, True), _best_first(asks, False)))
        # `rate` counts every event: the order flow gets what the price moves and quotes leave
        own = self.share * rate
        n = int(rng.poisson(max(0.25 * own, own - self.derived_rate) * self.burst * dt))
        if n:
            self._flow(t0, dt_ns, n, out)
        self._quote(t0 + dt_ns - 1, out)
        derived = len(out) - n
        w = min(1.0, dt / 5.0)
        self.derived_rate += w * (derived / dt - self.derived_rate)
        return out

    def _delta(self, ts: int, bids: list[Level], asks: list[Level]) -> BookDelta:
        self.seq += 1
        return BookDelta(symbol=self.symbol, ts=ts, recv_ts=ts, bids=bids, asks=asks, seq=self.seq)

    def _trade(self, ts: int, price: float, lots: int, side: str) -> Trade:
        self.trade_no += 1
        self.volume_lots += lots
        self.last = price
        size = lots * self.lot_num / self.lot_den
        self.trade_ticks.append(Tick("trade", price, size))
        return Trade(symbol=self.symbol, ts=ts, recv_ts=ts, price=price, size=size,
                     side="buy" if side == "buy" else "sell", trade_id=str(self.trade_no))

    def _sweep(self, ts: int, bids: list[Level], asks: list[Level], out: list[MarketEvent]) -> None:
        """Resting orders the fair price ran through are taken, level by level."""
        prices = self.prices
        gone = asks
        aq = self.aq
        top = self.bid_lim - self.base
        while self.ba < WINDOW and self.ba <= top:
            i = self.ba
            out.append(self._trade(ts, prices[i], aq[i], "buy"))
            gone.append((prices[i], 0.0))
            aq[i] = 0
            self.na -= 1
            i += 1
            while i < WINDOW and aq[i] == 0:
                i += 1
            self.ba = i
        gone = bids
        bq = self.bq
        bottom = self.ask_lim - self.base
        while self.bb >= 0 and self.bb >= bottom:
            i = self.bb
            out.append(self._trade(ts, prices[i], bq[i], "sell"))
            gone.append((prices[i], 0.0))
            bq[i] = 0
            self.nb -= 1
            i -= 1
            while i >= 0 and bq[i] == 0:
                i -= 1
            self.bb = i

    def _trim(self, old_floor: int, old_ceil: int, bids: list[Level], asks: list[Level]) -> None:
        """Drop levels the limit has left more than MAX_DEPTH behind."""
        prices = self.prices
        new_floor = self.bid_lim - MAX_DEPTH
        for i in range(max(0, old_floor - self.base), min(WINDOW, new_floor - self.base)):
            if self.bq[i]:
                self.bq[i] = 0
                self.nb -= 1
                bids.append((prices[i], 0.0))
        new_ceil = self.ask_lim + MAX_DEPTH
        for i in range(max(0, new_ceil + 1 - self.base), min(WINDOW, old_ceil + 1 - self.base)):
            if self.aq[i]:
                self.aq[i] = 0
                self.na -= 1
                asks.append((prices[i], 0.0))
        if self.nb == 0:
            self.bb = -1
        if self.na == 0:
            self.ba = WINDOW

    def _requote(self, bids: list[Level], asks: list[Level]) -> None:
        """Market makers step in when the touch has fallen behind, or refill a thin side."""
        if self.nb < MIN_LEVELS:
            bids += self._refill(True)
        elif self.bb < self.bid_lim - 1 - self.base:
            i = self.bid_lim - self.base
            lots = self._draw_sizes(1)[0]
            self.bq[i] = lots
            self.nb += 1
            self.bb = i
            bids.append((self.prices[i], self.size(lots)))
        if self.na < MIN_LEVELS:
            asks += self._refill(False)
        elif self.ba > self.ask_lim + 1 - self.base:
            i = self.ask_lim - self.base
            lots = self._draw_sizes(1)[0]
            self.aq[i] = lots
            self.na += 1
            self.ba = i
            asks.append((self.prices[i], self.size(lots)))

    def _flow(self, t0: int, dt_ns: int, n: int, out: list[MarketEvent]) -> None:
        """n order events at sorted random times: arrivals, cancels and market orders."""
        rng = self.rng
        times = (np.sort(rng.integers(0, dt_ns, n)) + t0).tolist()
        trade_frac = min(0.3, 0.08 * math.sqrt(self.burst))
        p_buy = 0.5 + 0.2 * math.tanh(self.zlast)
        kind = rng.random(n)
        is_trade = (kind < trade_frac).tolist()
        # market orders lean with the latest move; book updates are even on both sides
        buy_a = rng.random(n) < np.where(kind < trade_frac, p_buy, 0.5)
        buy = buy_a.tolist()
        mix = rng.random(n)
        geo = np.minimum(rng.geometric(1 / 8, n) - 1, DEPTH - 1)
        uni = rng.integers(0, DEPTH, n)
        offs = np.where(mix < 0.3, 0, np.where(mix < 0.7, geo, uni))
        sizes = np.maximum(1.0, rng.lognormal(math.log(self.spec.order_lots), 1.0, n))
        lots_l = sizes.astype(np.int64).tolist()
        act = rng.random(n).tolist()

        # slot of each book update in the window (bids below the bid limit, asks above)
        idx = np.where(buy_a, self.bid_lim - self.base - offs, self.ask_lim - self.base + offs)
        slots = idx.tolist()
        prices = self.prices
        bq = self.bq
        aq = self.aq
        sym = self.symbol
        num, den = self.lot_num, self.lot_den
        # the hot loop keeps the book's counters in locals and syncs them around market orders
        nb, na, bb, ba, seq = self.nb, self.na, self.bb, self.ba, self.seq
        for j in range(n):
            ts = times[j]
            lots = lots_l[j]
            if is_trade[j]:
                self.nb, self.na, self.bb, self.ba, self.seq = nb, na, bb, ba, seq
                self._market_order(ts, buy[j], lots, out)
                nb, na, bb, ba, seq = self.nb, self.na, self.bb, self.ba, self.seq
                continue
            i = slots[j]
            seq += 1
            if buy[j]:
                q = bq[i]
                if q == 0:
                    new = lots
                    nb += 1
                    if i > bb:
                        bb = i
                else:
                    a = act[j]
                    if a < 0.5:
                        new = q + lots
                    elif a < 0.87 or nb <= MIN_LEVELS:
                        new = q - lots if q > lots else (q + 1) // 2
                        if new == q:
                            new = q + lots
                    else:
                        new = 0
                        nb -= 1
                        if i == bb:
                            k = i - 1
                            while k >= 0 and bq[k] == 0:
                                k -= 1
                            bb = k
                bq[i] = new
                out.append(BookDelta(symbol=sym, ts=ts, recv_ts=ts,
                                     bids=[(prices[i], new * num / den)], seq=seq))
            else:
                q = aq[i]
                if q == 0:
                    new = lots
                    na += 1
                    if i < ba:
                        ba = i
                else:
                    a = act[j]
                    if a < 0.5:
                        new = q + lots
                    elif a < 0.87 or na <= MIN_LEVELS:
                        new = q - lots if q > lots else (q + 1) // 2
                        if new == q:
                            new = q + lots
                    else:
                        new = 0
                        na -= 1
                        if i == ba:
                            k = i + 1
                            while k < WINDOW and aq[k] == 0:
                                k += 1
                            ba = k
                aq[i] = new
                out.append(BookDelta(symbol=sym, ts=ts, recv_ts=ts,
                                     asks=[(prices[i], new * num / den)], seq=seq))
        self.nb, self.na, self.bb, self.ba, self.seq = nb, na, bb, ba, seq

    def _market_order(self, ts: int, buy: bool, lots: int, out: list[MarketEvent]) -> None:
        """Walk the opposite side from the touch; every level hit prints and shrinks."""
        prices = self.prices
        touched: list[Level] = []
        if buy:
            q = self.aq
            while lots > 0 and self.ba < WINDOW:
                i = self.ba
                take = min(lots, q[i])
                lots -= take
                q[i] -= take
                out.append(self._trade(ts, prices[i], take, "buy"))
                touched.append((prices[i], self.size(q[i])))
                if q[i]:
                    break
                self.na -= 1
                i += 1
                while i < WINDOW and q[i] == 0:
                    i += 1
                self.ba = i
            if self.na < MIN_LEVELS:  # refilled in the same delta: never seen thin
                touched = _best_first(touched + self._refill(False), False)
            if touched:
                out.append(self._delta(ts, [], touched))
        else:
            q = self.bq
            while lots > 0 and self.bb >= 0:
                i = self.bb
                take = min(lots, q[i])
                lots -= take
                q[i] -= take
                out.append(self._trade(ts, prices[i], take, "sell"))
                touched.append((prices[i], self.size(q[i])))
                if q[i]:
                    break
                self.nb -= 1
                i -= 1
                while i >= 0 and q[i] == 0:
                    i -= 1
                self.bb = i
            if self.nb < MIN_LEVELS:
                touched = _best_first(touched + self._refill(True), True)
            if touched:
                out.append(self._delta(ts, touched, []))

    # -- quotes and views ------------------------------------------------------------------

    def top(self) -> tuple[int, int, int, int]:
        """(best bid index, its lots, best ask index, its lots) in window terms."""
        bb, ba = self.bb, self.ba
        return (bb + self.base, self.bq[bb] if bb >= 0 else 0,
                ba + self.base, self.aq[ba] if ba < WINDOW else 0)

    def quote(self, ts: int, ticks: list[Tick]) -> Quote:
        bb, ba = self.bb, self.ba
        bid = self.prices[bb] if bb >= 0 else 0.0
        ask = self.prices[ba] if ba < WINDOW else 0.0
        bsize = self.size(self.bq[bb]) if bb >= 0 else 0.0
        asize = self.size(self.aq[ba]) if ba < WINDOW else 0.0
        return Quote(symbol=self.symbol, ts=ts, recv_ts=ts, last=self.last, bid=bid, ask=ask,
                     bsize=bsize, asize=asize, volume=self.size(self.volume_lots), ticks=ticks)

    def _quote(self, ts: int, out: list[MarketEvent]) -> None:
        if ts - self.last_quote_ns < QUOTE_NS:
            return
        top = self.top()
        if top == self.quoted_top and not self.trade_ticks:
            return
        ticks = self.trade_ticks[-TRADE_TICKS:]
        if top != self.quoted_top:
            q = self.quote(ts, [])
            ticks.append(Tick("bid", q.bid, q.bsize))
            ticks.append(Tick("ask", q.ask, q.asize))
        self.trade_ticks = []
        self.quoted_top = top
        self.last_quote_ns = ts
        out.append(self.quote(ts, ticks))

    def snapshot(self, ts: int) -> BookSnapshot:
        bids, asks = self.levels()
        self.seq += 1
        return BookSnapshot(symbol=self.symbol, ts=ts, recv_ts=ts, bids=bids, asks=asks,
                            seq=self.seq)

    def levels(self) -> tuple[list[Level], list[Level]]:
        """The whole book, each side best first."""
        p, bq, aq = self.prices, self.bq, self.aq
        bids = [(p[i], self.size(bq[i])) for i in range(self.bb, -1, -1) if bq[i]]
        asks = [(p[i], self.size(aq[i])) for i in range(max(self.ba, 0), WINDOW) if aq[i]]
        return bids, asks


class SimMarket:
    """Several synthetic symbols on one virtual clock.

    `rate` is the expected number of events of every kind per second across all symbols in
    calm conditions (bursts raise it for a few seconds): order arrivals, cancels and market
    orders get what the deltas and trades of price moves and the quotes leave, but never less
    than a quarter of it. `start_prices`
    overrides the seed's start price per symbol (to continue from existing history).
    """

    def __init__(
        self,
        symbols: Sequence[str | SymbolSpec],
        seed: int = 0,
        start_ns: int = 0,
        *,
        rate: float = 200.0,
        start_prices: Mapping[str, float] | None = None,
    ) -> None:
        if not symbols:
            raise ValueError("SimMarket needs at least one symbol")
        prices = start_prices or {}
        specs = [s if isinstance(s, SymbolSpec) else spec_for(s) for s in symbols]
        total = sum(s.weight for s in specs)
        self.seed = seed
        self.rate = float(rate)
        self.now_ns = start_ns
        self.start_ns = start_ns
        self._sims = {
            s.symbol: _SymbolSim(s, seed, s.weight / total, prices.get(s.symbol)) for s in specs
        }
        self.symbols: tuple[str, ...] = tuple(self._sims)

    def instrument(self, symbol: str) -> Instrument:
        return self._sims[symbol].spec.instrument()

    def start_price(self, symbol: str) -> float:
        return self._sims[symbol].p0

    def last_price(self, symbol: str) -> float:
        return self._sims[symbol].last

    def first_quotes(self) -> list[Quote]:
        """One Quote per symbol at the start time: what the feed sends before going live."""
        out = []
        for sim in self._sims.values():
            sim.quoted_top = sim.top()
            sim.last_quote_ns = self.now_ns
            out.append(sim.quote(self.now_ns, []))
        return out

    def snapshots(self) -> list[BookSnapshot]:
        return [sim.snapshot(self.now_ns) for sim in self._sims.values()]

    def skip(self, dt_ns: int) -> None:
        """Move the clock on without trading, e.g. after the process was suspended."""
        self.now_ns += max(0, dt_ns)

    def step(self, dt_ns: int) -> list[MarketEvent]:
        """Advance the clock by dt_ns; the events of that interval, in time order."""
        if dt_ns <= 0:
            return []
        t0 = self.now_ns
        self.now_ns = t0 + dt_ns
        parts = [sim.step(t0, dt_ns, self.rate) for sim in self._sims.values()]
        if len(parts) == 1:
            return parts[0]
        merged = [e for part in parts for e in part]
        # each part is already in time order; a stable sort merges the runs and keeps ties
        order = np.argsort(np.fromiter((e.ts for e in merged), np.int64, len(merged)),
                           kind="stable")
        return [merged[k] for k in order.tolist()]

    def book(self, symbol: str) -> tuple[list[Level], list[Level]]:
        """The generator's own book for `symbol` (bids, asks), best first."""
        return self._sims[symbol].levels()


def _best_first(levels: list[Level], bids: bool) -> list[Level]:
    """Levels of one side best first, one entry per price (the last change wins)."""
    if len(levels) < 2:
        return levels
    return sorted(dict(levels).items(), reverse=bids)


