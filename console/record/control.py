"""`ReplayControl`: what the console asks of a running playback (pause, speed, step, seek).

Plain state plus one asyncio.Event that wakes the player; the UI calls the methods from the
event loop's thread, the player reads them between events.
"""

from __future__ import annotations

import asyncio

from console.record.playback import parse_speed

SPEEDS: tuple[float | None, ...] = (1.0, 10.0, 100.0, 1000.0, None)
"""The speed ladder `faster`/`slower` walk; None is as fast as possible ("max")."""


class ReplayControl:
    """Commands for one replay. `position_ns` is the virtual clock: the time of the last event
    sent. `start_ns`/`end_ns` bound what can be played; `finished` is set at the end."""

    def __init__(self, speed: float | str | None = 1.0, *, paused: bool = False) -> None:
        self.speed: float | None = parse_speed(speed)
        self.paused = paused
        self.position_ns = 0
        self.start_ns = 0
        self.end_ns = 0
        self.finished = asyncio.Event()
        self._steps = 0
        self._seek: int | None = None
        self._changed = asyncio.Event()

    def pause(self) -> None:
        self.paused = True
        self._poke()

    def resume(self) -> None:
        self.paused = False
        self._poke()

    def toggle_pause(self) -> None:
        self.resume() if self.paused else self.pause()

    def set_speed(self, speed: float | str | None) -> None:
        """1, 10, ... or None/"max"."""
        self.speed = parse_speed(speed)
        self._poke()

    def faster(self) -> None:
        current = self.speed
        if current is None:
            return
        self.set_speed(next((s for s in SPEEDS if s is None or current < s), None))

    def slower(self) -> None:
        current = self.speed
        finite = [s for s in SPEEDS if s is not None]
        if current is None:
            self.set_speed(finite[-1])
        else:
            self.set_speed(next((s for s in reversed(finite) if s < current), finite[0]))

    def step(self, events: int = 1) -> None:
        """Pause (if playing) and let `events` more events through."""
        self.paused = True
        self._steps += events
        self._poke()

    def seek(self, ts_ns: int) -> None:
        """Jump to a time (clamped to the replay's span); books rebuild from the snapshot
        before it."""
        if self.end_ns > self.start_ns:
            ts_ns = min(max(ts_ns, self.start_ns), self.end_ns)
        self._seek = ts_ns
        self.finished.clear()
        self._poke()

    def seek_by(self, seconds: float) -> None:
        """Jump forward (or back, negative) by `seconds` of market time."""
        self.seek(self.position_ns + int(seconds * 1e9))

    @property
    def label(self) -> str:
        """Speed and state for a status line, e.g. "10x" or "paused"."""
        if self.paused:
            return "paused"
        return "max" if self.speed is None else f"{self.speed:g}x"

    # --- player side ------------------------------------------------------------------------

    @property
    def quiet(self) -> bool:
        """No command since the player last looked (`seen`)."""
        return not self._changed.is_set()

    def seen(self) -> None:
        self._changed.clear()

    def take_seek(self) -> int | None:
        target, self._seek = self._seek, None
        return target

    def take_step(self) -> bool:
        if self._steps > 0:
            self._steps -= 1
            return True
        return False

    async def wait(self, timeout: float | None) -> bool:
        """Sleep until a command arrives (True) or `timeout` seconds pass (False)."""
        try:
            if timeout is None:
                await self._changed.wait()
            else:
                await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            self._changed.clear()
        return True

    def _poke(self) -> None:
        self._changed.set()
