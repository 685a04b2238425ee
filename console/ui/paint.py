"""Writes what a key changed to the terminal at once, instead of on Textual's next update tick.

A refresh normally reaches the terminal through four hops of the event loop (the widget's
idle, the screen's update message, the screen's idle, its update timer), and the timer, once
it has been paused, ticks 1 to 2 periods (17 to 33 ms at 60 fps) after the previous update.
Under a busy market each hop can also wait behind an ingest turn, so a key's effect took up to
~100 ms to show. `paint_now` runs the screen's own update step straight away instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.screen import Screen
from textual.widget import Widget


def paint_now(screen: Screen[Any], widgets: Iterable[Widget]) -> bool:
    """Composite the regions `widgets` refreshed on `screen` and write them now.

    Does what the screen's update timer would do on its next tick (a pending layout first,
    then every widget already waiting to be painted, so nothing queued is dropped). Returns
    False, leaving the update to Textual, when `screen` is not the one on top or updates are
    being batched.
    """
    app = screen.app
    update = getattr(screen, "_on_timer_update", None)
    dirty = getattr(screen, "_dirty_widgets", None)
    # Private parts of Textual 8: should a release rename them, keys paint on the next tick
    # as before rather than fail (tests/test_ui_trading_keys.py notices the slower path).
    if update is None or not isinstance(dirty, set):
        return False
    if screen is not app.screen or app._batch_count:
        return False
    # Only widgets already laid out: an unknown one would invalidate the compositor's map.
    dirty.update(w for w in widgets if w.is_on_screen)
    update()
    return True
