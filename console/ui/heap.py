"""Keeps Python's cyclic garbage collector from pausing the event loop while the console runs.

Two causes of long pauses (tens of ms, seen as event-loop lag under load) are handled here:

- Textual's `Strip.divide` caches `[self]` in the strip's own cache when the cut is the whole
  strip, which the compositor does for every repainted line: each repaint left a reference
  cycle that only a full (generation 2) collection frees. `install()` keeps that trivial case
  out of the cache, so repainted lines are freed by reference counting as soon as replaced.
- A full collection walks every tracked object: the app, stylesheets, widgets, modules. Once the
  console is up, `settle()` collects and then freezes that start-up heap, so later collections
  only walk what was created since. `release()` undoes the freeze when the app shuts down, so
  a process that runs several apps (tests) still frees the earlier ones.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence

from textual.strip import Strip

_original_divide = Strip.divide
_frozen = False


def _divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = list(cuts)
    if len(cuts) == 1 and cuts[0] == self.cell_length:
        # Uncached: a cached `[self]` makes the strip refer to itself (a reference cycle).
        return [self]
    return _original_divide(self, cuts)


def install() -> None:
    """Stop whole-strip divides from caching the strip in itself (idempotent)."""
    if Strip.divide is not _divide:
        Strip.divide = _divide  # type: ignore[method-assign]


def settle() -> None:
    """Collect once, then freeze what survives, so later collections skip the start-up heap."""
    global _frozen
    release()  # an earlier app in this process may have died frozen: free it too
    gc.collect()
    gc.freeze()
    _frozen = True


class HeapSettler:
    """Settles the heap once per app, when its first chart is drawn or after a few seconds."""

    def __init__(self, wait_s: float = 3.0) -> None:
        install()
        self._wait_s = wait_s
        self._ready_at: float | None = None
        self.settled = False

    def frame(self, now: float, warm: bool) -> None:
        """Called by the frame pump once the view is live; `warm`: the chart has candles."""
        if self.settled:
            return
        if self._ready_at is None:
            self._ready_at = now
        if warm or now - self._ready_at >= self._wait_s:
            self.settled = True
            settle()

    def release(self) -> None:
        if self.settled:
            release()


def release() -> None:
    """Hand the frozen start-up heap back to the collector (at shutdown; safe to repeat)."""
    global _frozen
    if _frozen:
        gc.unfreeze()
        _frozen = False
