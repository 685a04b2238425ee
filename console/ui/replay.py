"""Replay in the console: the same panes as live, plus keys to pause, change speed, step and seek.

Keys (ids in brackets, remappable from config `[keys]`): space pause/resume (replay.pause),
`}` / `{` faster / slower (replay.faster, replay.slower), `.` one event (replay.step),
shift+left / shift+right seek -/+60 s (replay.back, replay.forward), `g` seek to a typed time
(replay.goto). `+ - [ ]` stay the order-size keys, so practising on a replay trades as live.

`run_replay_console(setup, config)` is what `mdconsole replay` awaits; `setup` comes from
`providers.replay.cli.replay_setup`. The feed hub runs on the replay's market clock, so bars,
staleness and the status clock follow the recording, not the wall.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from console.config import Config, ConsoleSection
from console.data.provider import TIMEFRAMES
from console.record.control import ReplayControl
from console.ui.app import TIMEFRAME_ORDER, MDConsoleApp
from console.ui.market_view import MarketView
from providers.replay.cli import ReplaySetup

SEEK_STEP_S = 60.0
"""How far shift+left / shift+right jump, in seconds of market time."""

NS = 1_000_000_000

_RELATIVE = re.compile(r"^([+-])\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class SeekError(ValueError):
    """A typed seek time that cannot be read; the message says what forms work."""


def parse_seek(text: str, position_ns: int) -> int:
    """Epoch ns of a typed seek target.

    Accepts `+90`, `-5m`, `+1h` (relative to `position_ns`; s/m/h/d, seconds by default),
    `HH:MM` or `HH:MM:SS` (UTC, on the day of `position_ns`), an ISO date-time
    (`2025-07-01 12:00:05`, UTC unless it says otherwise) or epoch seconds.
    """
    raw = text.strip()
    if not raw:
        raise SeekError("type a time: +90, -5m, 12:00:05, 2025-07-01 12:00 or epoch seconds")
    rel = _RELATIVE.match(raw)
    if rel:
        sign = 1 if rel.group(1) == "+" else -1
        seconds = float(rel.group(2)) * _UNIT_S[rel.group(3) or "s"]
        return position_ns + sign * int(seconds * NS)
    if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?", raw):
        day = datetime.fromtimestamp(position_ns / NS, UTC).date().isoformat()
        raw = f"{day}T{raw}"
    elif re.fullmatch(r"\d{9,11}(\.\d+)?", raw):
        return int(float(raw) * NS)
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise SeekError(
            f"cannot read {text.strip()!r} as a time; use +90, -5m, 12:00:05, "
            "2025-07-01 12:00:05 or epoch seconds"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * NS)


def replay_note(control: ReplayControl) -> str:
    """Speed or pause and how far through the span the replay is, for the status bar."""
    span = control.end_ns - control.start_ns
    done = (control.position_ns - control.start_ns) / span if span > 0 else 0.0
    state = "■ end" if control.finished.is_set() and not control.paused else control.label
    return f"replay {state} {min(max(done, 0.0), 1.0):.0%}"


class SeekScreen(ModalScreen[int | None]):
    """Asks for a time to seek to; dismisses with its epoch ns, or None when escaped."""

    DEFAULT_CSS = """
    SeekScreen { align: center middle; }
    SeekScreen > Vertical {
        width: 64; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    SeekScreen #seek-error { color: $error; }
    SeekScreen #seek-hint { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="replay.seek_cancel"),
    ]

    def __init__(self, position_ns: int) -> None:
        super().__init__()
        self.position_ns = position_ns

    def compose(self) -> ComposeResult:
        now = datetime.fromtimestamp(self.position_ns / NS, UTC).strftime("%Y-%m-%d %H:%M:%S")
        with Vertical():
            yield Label(f"Seek to a time (now {now} UTC)")
            yield Label("+90  -5m  12:00:05  2025-07-01 12:00:05  epoch seconds", id="seek-hint")
            yield Input(placeholder="time", id="seek-input")
            yield Label("", id="seek-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            target = parse_seek(event.value, self.position_ns)
        except SeekError as exc:
            self.query_one("#seek-error", Label).update(str(exc))
            return
        self.dismiss(target)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReplayConsoleApp(MDConsoleApp):
    """The console on a replay: the live panes plus the replay keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "replay_pause", "Pause", id="replay.pause"),
        Binding("right_curly_bracket", "replay_speed(1)", "Faster", show=False,
                id="replay.faster"),
        Binding("left_curly_bracket", "replay_speed(-1)", "Slower", show=False,
                id="replay.slower"),
        Binding("full_stop", "replay_step", "Step", show=False, id="replay.step"),
        Binding("shift+left", "replay_seek(-1)", "−60 s", show=False, id="replay.back"),
        Binding("shift+right", "replay_seek(1)", "+60 s", show=False, id="replay.forward"),
        Binding("g", "replay_goto", "Seek to", id="replay.goto"),
    ]

    def __init__(self, view: MarketView, control: ReplayControl, **kwargs: Any) -> None:
        super().__init__(view, provider="replay", **kwargs)
        self.control = control

    def _update_status(self) -> None:
        self._note = replay_note(self.control)
        super()._update_status()

    def action_replay_pause(self) -> None:
        self.control.toggle_pause()
        self._status_due = 0.0  # show the new state on the next frame

    def action_replay_speed(self, step: int) -> None:
        if step > 0:
            self.control.faster()
        else:
            self.control.slower()
        self._status_due = 0.0

    def action_replay_step(self) -> None:
        self.control.step()
        self._status_due = 0.0

    def action_replay_seek(self, direction: int) -> None:
        self.control.seek_by(direction * SEEK_STEP_S)
        self._status_due = 0.0

    def action_replay_goto(self) -> None:
        def chosen(target: int | None) -> None:
            if target is not None:
                self.control.seek(target)
                self._status_due = 0.0

        self.push_screen(SeekScreen(self.control.position_ns), chosen)


def build_replay_app(
    setup: ReplaySetup,
    config: Config | None = None,
    *,
    fps: int | None = None,
    **app_options: Any,
) -> ReplayConsoleApp:
    """The replay console for `setup` on a feed hub running on the replay's market clock.

    `app_options` go to `MDConsoleApp` as they are (e.g. a trading session for paper trading
    on the replay; give it its own journal so practice fills stay out of the live one).
    """
    from console.data.feed import FeedHub

    console = config.console if config is not None else ConsoleSection()
    keymap: Mapping[str, str] = config.keys if config is not None else {}
    hub = FeedHub(
        "replay",
        setup.symbols,
        config=setup.config,
        first_quote_timeout=max(console.first_quote_timeout, 30.0),
        clock="market",
    )
    timeframe_s = TIMEFRAMES.get(console.timeframe, 60)
    return ReplayConsoleApp(
        hub,
        setup.control,
        fps=fps or console.fps,
        timeframe_s=timeframe_s if timeframe_s in TIMEFRAME_ORDER else 60,
        theme=console.theme,
        keymap=keymap,
        **app_options,
    )


async def run_replay_console(
    setup: ReplaySetup,
    config: Config | None = None,
    *,
    headless: bool = False,
    **app_options: Any,
) -> int:
    """Run the console on a replay until the user quits; returns the exit code.

    A replay that cannot start raises its `ProviderError` after the terminal is restored.
    """
    app = build_replay_app(setup, config, **app_options)
    try:
        code = await app.run_async(headless=headless)
    finally:
        await app.stop_view()
        from providers.replay import feed

        feed.close()
    if app.failure is not None:
        raise app.failure
    return code or 0
