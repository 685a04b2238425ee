"""The EMS journal: an append-only SQLite (WAL) table of order events, the one source of truth.

Each row is one msgpack-encoded order message plus the columns we filter on. Writes are
batched: the EMS appends everything one request caused and commits once, before anything is
published. With WAL and synchronous=NORMAL a commit reaches the OS before `commit()` returns,
so a killed process loses nothing it acknowledged; only a power cut can drop the last commits
(fsync per commit would cost ~1 ms on ordinary disks, an order of magnitude over our budget).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import struct
import threading
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path

import msgspec

from console.ems.messages import (
    AmendOrder,
    Error,
    OrderEvent,
    OrderStatus,
    QueueMark,
    encoder,
    many_decoder,
)
from console.ems.writers import WriterLock, alive, live_writers

JOURNAL_ENV = "MDCONSOLE_JOURNAL"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id       INTEGER PRIMARY KEY,
    ts       INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    order_id TEXT,
    writer   TEXT    NOT NULL DEFAULT '',
    body     BLOB    NOT NULL
);
"""

# one multi-row INSERT is one implicit transaction: a single call instead of BEGIN, the
# inserts and COMMIT (secondary indexes are left out: each costs more than the whole insert)
_MULTI = 32
_COLS = 5
_INSERT_N = [""] + [
    "INSERT INTO events (ts, kind, order_id, writer, body) VALUES "
    + ",".join(["(?,?,?,?,?)"] * n)
    for n in range(1, _MULTI + 1)
]
_CHUNK = 200_000
_CONCAT = (
    "SELECT count(*), CAST(group_concat(body, '') AS BLOB) FROM "
    "(SELECT body FROM events WHERE id > ? AND id <= ? ORDER BY id)"
)
CHECKPOINT_EVERY_S = 0.5
# error rows change no order, and an amend is a request the holder applies (as a venue
# would), so neither says which process holds an order
_HOLDING = (f"order_id IS NOT NULL AND kind NOT IN ('{Error.__struct_config__.tag}', "
            f"'{AmendOrder.__struct_config__.tag}')")
# what the holder of an order writes when it applies an amend or refuses it
_ANSWERS = (OrderStatus.__struct_config__.tag, Error.__struct_config__.tag)


def _array_header(n: int) -> bytes:
    """msgpack array32 header: the chunk's bodies become one array for one decoder call."""
    return b"\xdd" + struct.pack(">I", n)


class JournalError(Exception):
    """The journal cannot be opened or read; the message names the file and what to do."""


def default_path() -> Path:
    """`$MDCONSOLE_JOURNAL`, else `journal.sqlite` in the platform's user data folder."""
    env = os.environ.get(JOURNAL_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs  # only the CLI needs it; keeps `import console.ems` light

    return platformdirs.user_data_path("mdconsole") / "journal.sqlite"


def _checkpoint_loop(path: Path, stop: threading.Event) -> None:
    """Checkpoint the WAL into the database every CHECKPOINT_EVERY_S until `stop`."""
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        con.execute("PRAGMA busy_timeout=100")
        while not stop.wait(CHECKPOINT_EVERY_S):
            # busy: the next round catches up
            with contextlib.suppress(sqlite3.OperationalError):
                con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        con.close()


class Journal:
    """Append and read order events. Not thread-safe: one EMS owns one Journal."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # autocommit off, explicit BEGIN: one transaction per batch.
            self._con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._con.execute("PRAGMA busy_timeout=5000")
            mode = self._con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JournalError(f"{self.path}: the file system does not support SQLite WAL "
                                   "mode; put the journal on a local disk (MDCONSOLE_JOURNAL)")
            self._con.execute("PRAGMA synchronous=NORMAL")
            # checkpoints fsync the database file: a background thread runs them so no
            # commit on the order path ever waits for one
            self._con.execute("PRAGMA wal_autocheckpoint=0")
            self._con.executescript(_SCHEMA)
            # one cursor for every commit: `Connection.execute` would make a new one each time
            self._cur = self._con.cursor()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: cannot open the order journal ({exc}); "
                               "check the path and its permissions, or move a damaged file "
                               "aside") from None
        self._args: list[object] = []  # staged rows, _COLS values each
        # tells this process's rows from those of others sharing the file (see `foreign`)
        self.writer = f"{os.getpid()}-{secrets.token_hex(4)}"
        try:
            self._lock = WriterLock(self.path, self.writer)
        except OSError as exc:
            self._con.close()
            raise JournalError(f"{self.path}: cannot create the writer lock beside the journal "
                               f"({exc}); check the folder's permissions") from None
        self._stop = threading.Event()
        # the thread holds no reference to the journal, so an unclosed one is still collected
        # and its finalizer stops the thread
        self._checkpointer = threading.Thread(
            target=_checkpoint_loop, args=(self.path, self._stop),
            name="journal-checkpoint", daemon=True,
        )
        self._checkpointer.start()
        weakref.finalize(self, self._stop.set)
        weakref.finalize(self, self._lock.release)

    def append(self, event: OrderEvent) -> None:
        """Stage one event; it becomes durable at the next `commit()`."""
        # staged as the flat parameter list of the multi-row INSERT: no per-row tuple to
        # build and flatten again at commit
        self._args += (event.ts, event.__struct_config__.tag,
                       getattr(event, "order_id", None), self.writer, encoder.encode(event))

    def commit(self) -> None:
        """Write every staged event in one transaction."""
        args = self._args
        if not args:
            return
        self._args = []
        cur = self._cur
        n = len(args) // _COLS
        try:
            if n <= _MULTI:
                cur.execute(_INSERT_N[n], args)
            else:
                cur.execute("BEGIN")
                try:
                    # multi-row INSERTs of _MULTI rows: one statement step per chunk, where
                    # executemany takes one per row
                    step = _MULTI * _COLS
                    for i in range(0, len(args), step):
                        part = args[i:i + step]
                        cur.execute(_INSERT_N[len(part) // _COLS], part)
                    cur.execute("COMMIT")
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
        except BaseException:
            self._args = args + self._args
            raise

    def write(self, events: Sequence[OrderEvent]) -> None:
        """Append and commit."""
        for ev in events:
            self.append(ev)
        self.commit()

    def replay(self, kinds: Sequence[str] = (), after_id: int = 0,
               upto: int | None = None) -> Iterator[list[OrderEvent]]:
        """Events with `after_id < id <= upto` (default: all) in journal order, decoded in
        bulk chunks, optionally only some kinds."""
        if kinds:
            yield from self._replay_rows(kinds, after_id, upto)
            return
        last = self.last_id() if upto is None else upto
        lo = after_id
        while lo < last:
            hi = min(lo + _CHUNK, last)
            # SQLite concatenates the chunk's bodies itself: one value crosses into Python
            # instead of a tuple and a bytes object per row (the cheapest way to read 1M rows)
            n, blob = self._con.execute(_CONCAT, (lo, hi)).fetchone()
            if n:
                try:
                    chunk = many_decoder.decode(_array_header(n) + blob)
                    if len(chunk) != n:
                        raise ValueError("short chunk")
                except Exception:
                    chunk = []
                    for part in self._replay_rows((), lo, hi):
                        chunk.extend(part)
                yield chunk
            lo = hi

    def _replay_rows(self, kinds: Sequence[str], after_id: int,
                     upto: int | None) -> Iterator[list[OrderEvent]]:
        sql = "SELECT body FROM events WHERE id > ?"
        args: list[object] = [after_id]
        if upto is not None:
            sql += " AND id <= ?"
            args.append(upto)
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args.extend(kinds)
        sql += " ORDER BY id"
        cur = self._con.execute(sql, args)
        while True:
            rows = cur.fetchmany(_CHUNK)
            if not rows:
                return
            # one msgpack array for the whole chunk: one decoder call instead of one per row
            blob = b"".join([_array_header(len(rows)), *[r[0] for r in rows]])
            try:
                yield many_decoder.decode(blob)
            except Exception as exc:
                raise JournalError(f"{self.path}: a journal record does not decode ({exc}); "
                                   "the file was written by another version or damaged") from None

    def events(self, kinds: Sequence[str] = ()) -> list[OrderEvent]:
        out: list[OrderEvent] = []
        for chunk in self.replay(kinds):
            out.extend(chunk)
        return out

    def foreign(self, after_id: int) -> tuple[list[OrderEvent], dict[str, str], int]:
        """Events other processes appended after `after_id`, the writer of the newest row
        after `after_id` of each order they touched (ours included; error rows left out),
        and the id read up to.
        """
        self.commit()
        con = self._con
        con.execute("BEGIN")  # one snapshot for every read
        try:
            upto = int(con.execute("SELECT max(id) FROM events").fetchone()[0] or 0)
            rows = con.execute(
                "SELECT body FROM events WHERE id > ? AND id <= ? AND writer != ? ORDER BY id",
                (after_id, upto, self.writer),
            ).fetchall()
            # SQLite takes the bare `writer` column from the row holding max(id)
            last = con.execute(
                f"SELECT order_id, writer, max(id) FROM events WHERE id > ? AND id <= ? "
                f"AND {_HOLDING} GROUP BY order_id",
                (after_id, upto),
            ).fetchall() if rows else []
        finally:
            con.execute("COMMIT")
        if not rows:
            return [], {}, upto
        try:
            events = many_decoder.decode(_array_header(len(rows)) + b"".join(r[0] for r in rows))
        except Exception as exc:
            raise JournalError(f"{self.path}: a journal record does not decode ({exc}); "
                               "the file was written by another version or damaged") from None
        return events, {oid: w for oid, w, _ in last}, upto

    def alive(self, writer: str) -> bool:
        """True if `writer` (the `writer` column of a row) is an open Journal of a live process."""
        return writer == self.writer or alive(self.path, writer)

    def claim(self, marks: Sequence[QueueMark]) -> dict[str, str]:
        """Take over the orders of `marks` unless a live other writer holds them.

        One write transaction checks who wrote each order's newest row and journals the
        mark of each order no live other writer holds, so of two processes claiming the same
        order only one gets it. Returns the orders left alone, with the writer holding each.
        """
        self.commit()
        cur = self._cur
        held: dict[str, str] = {}
        cur.execute("BEGIN IMMEDIATE")
        try:
            held = self._held([m.order_id for m in marks])
            for m in marks:
                if m.order_id not in held:
                    self.append(m)
            args, self._args = self._args, []
            step = _MULTI * _COLS
            for i in range(0, len(args), step):
                part = args[i:i + step]
                cur.execute(_INSERT_N[len(part) // _COLS], part)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return held

    def _held(self, order_ids: Sequence[str]) -> dict[str, str]:
        """The orders of `order_ids` whose newest holding row a live other writer wrote."""
        live = live_writers(self.path, self.writer)
        if not live:
            return {}
        # a full scan (no index on order_id): only when another live process shares the
        # file, and only when orders change hands or a command asks, never per request
        rows = self._cur.execute(
            f"SELECT order_id, writer, max(id) FROM events WHERE order_id IN "
            f"(SELECT value FROM json_each(?)) AND {_HOLDING} GROUP BY order_id",
            (msgspec.json.encode(list(order_ids)).decode(),),
        ).fetchall()
        return {oid: w for oid, w, _ in rows if w in live}

    def holder(self, order_id: str) -> str | None:
        """The live other writer that matches or watches `order_id`, if one does."""
        self.commit()
        return self._held([order_id]).get(order_id)

    def own_last_id(self) -> int:
        """The id of the newest row this journal wrote (0 if none)."""
        self.commit()
        # walks back from the newest row: ours is near the end when a command asks
        row = self._con.execute("SELECT id FROM events WHERE writer = ? ORDER BY id DESC "
                                "LIMIT 1", (self.writer,)).fetchone()
        return int(row[0]) if row else 0

    def answers(self, order_id: str, after_id: int) -> list[OrderEvent]:
        """Status and error rows other writers wrote for `order_id` after `after_id`."""
        rows = self._con.execute(
            "SELECT body FROM events WHERE id > ? AND order_id = ? AND kind IN (?, ?) "
            "AND writer != ? ORDER BY id", (after_id, order_id, *_ANSWERS, self.writer),
        ).fetchall()
        if not rows:
            return []
        try:
            events: list[OrderEvent] = many_decoder.decode(
                _array_header(len(rows)) + b"".join(r[0] for r in rows))
        except Exception as exc:
            raise JournalError(f"{self.path}: a journal record does not decode ({exc}); "
                               "the file was written by another version or damaged") from None
        return events

    def last_id(self) -> int:
        row = self._con.execute("SELECT max(id) FROM events").fetchone()
        return int(row[0] or 0)

    def count(self) -> int:
        return int(self._con.execute("SELECT count(*) FROM events").fetchone()[0])

    def close(self) -> None:
        self.commit()
        self._stop.set()
        self._checkpointer.join()
        # another process may be reading: then the WAL simply stays as it is
        with contextlib.suppress(sqlite3.OperationalError):
            self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        self._con.close()
        # only now: a process that sees us gone may take our orders, and we write no more
        self._lock.release()
