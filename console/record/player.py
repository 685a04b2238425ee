"""The playback loop both replay and sqlite use: merges sources by time, paces them on a
virtual clock, obeys the control.

At speed max nothing waits on the wall clock, so the same files always give the same events
in the same order. A seek sends only the book events between the snapshot before the target
and the target (trades and bars there were already seen or belong to the skipped span), then
plays on from the target.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Iterator, Sequence

from console.data.provider import Send
from console.model.events import (
    BookDelta,
    BookSnapshot,
    ConnectorState,
    ConnectorStatus,
    MarketEvent,
)
from console.record.control import ReplayControl
from console.record.sources import ReplaySource

YIELD_EVERY = 2048
"""Events sent between yields to the event loop when nothing waits (keeps the UI responsive)."""
END_OF_DATA = "end of data"
"""The detail of the status sent when the last event has gone out."""


def merged(
    sources: Sequence[ReplaySource], start_ns: int | None, end_ns: int | None
) -> Iterator[MarketEvent]:
    """All sources' events from their snapshots before start_ns, by time (ties: source order)."""
    if len(sources) == 1:
        return sources[0].events(start_ns, end_ns)
    return heapq.merge(*(src.events(start_ns, end_ns) for src in sources), key=_ts)


def _ts(ev: MarketEvent) -> int:
    return ev.ts


class Player:
    """Plays `sources` into `send` between `start_ns` and `end_ns` under `control`."""

    def __init__(
        self,
        sources: Sequence[ReplaySource],
        send: Send,
        control: ReplayControl,
        *,
        provider: str,
        start_ns: int | None = None,
        end_ns: int | None = None,
        exit_at_end: bool = False,
    ) -> None:
        self.sources = list(sources)
        self.send = send
        self.control = control
        self.provider = provider
        self.exit_at_end = exit_at_end
        control.start_ns = start_ns if start_ns is not None else min(s.start_ns for s in sources)
        control.end_ns = end_ns if end_ns is not None else max(s.end_ns for s in sources)
        control.position_ns = control.start_ns
        self.end_ns = end_ns
        self.sent = 0
        self._budget = YIELD_EVERY  # events until the next yield to the event loop
        self._anchor: tuple[float, int, float] | None = None  # wall, virtual time, speed

    def status(self, state: ConnectorState, detail: str = "") -> None:
        self.send(
            ConnectorStatus(
                symbol="",
                ts=self.control.position_ns,
                provider=self.provider,
                state=state,
                detail=detail,
            )
        )

    async def run(self) -> None:
        """Plays until the end (and, unless `exit_at_end`, waits there for a seek)."""
        control = self.control
        target: int | None = control.start_ns
        while True:
            target = await self._play(target)
            if target is not None:
                continue  # a seek
            control.finished.set()
            self.status("live", END_OF_DATA)
            if self.exit_at_end:
                return
            while (target := control.take_seek()) is None:
                await control.wait(None)
            self.status("resync", "seek")

    async def _play(self, target: int | None) -> int | None:
        """Plays from `target` to the end; returns early with a seek's target."""
        control = self.control
        events = merged(self.sources, target, self.end_ns)
        self._anchor = None
        if target is not None:
            # Pacing restarts from the target: anchored at the old position, a seek forward
            # would wait out the skipped span and a seek back would rush to where it was.
            control.position_ns = target
        send = self.send
        for ev in events:
            ts = ev.ts
            if target is not None:
                if ts < target:
                    if isinstance(ev, BookSnapshot | BookDelta):
                        send(ev)  # rebuilding the book up to the target
                    continue
                target = None
                self.status("live", control.label)
            # commands arrive only while we await or from inside `send`, so at speed max the
            # checks can wait until the next yield unless a command has poked the control
            if self._budget > 0 and control.speed is None and not control.paused and control.quiet:
                self._budget -= 1
            else:
                seek = await self._turn(ts)
                if seek is not None:
                    self.status("resync", "seek")
                    return seek
            send(ev)
            self.sent += 1
            control.position_ns = ts
        return None

    async def _turn(self, ts: int) -> int | None:
        """Waits until the event at `ts` may go (pause, step, pacing, yielding to the loop);
        returns a seek's target instead if one comes."""
        control = self.control
        loop = asyncio.get_running_loop()
        while True:
            control.seen()
            seek = control.take_seek()
            if seek is not None:
                return seek
            if control.paused:
                self._anchor = None
                if control.take_step():
                    return None
                await control.wait(None)
                continue
            if self._budget <= 0:  # let the UI in, even when pacing runs behind
                self._budget = YIELD_EVERY
                await asyncio.sleep(0)
                continue
            self._budget -= 1
            speed = control.speed
            if speed is None:
                return None
            if self._anchor is None or self._anchor[2] != speed:
                self._anchor = (loop.time(), control.position_ns, speed)
            delay = self._anchor[0] + (ts - self._anchor[1]) / 1e9 / speed - loop.time()
            if delay <= 0:
                return None
            await control.wait(delay)
