"""Which journal writers are alive: one flock-held lock file per open Journal, beside the file.

A process id can be reused after a crash, so liveness is an exclusive `flock` held for the
Journal's life on `<journal>.writers/<writer>.lock`: the kernel drops it when the process
dies however it dies, and a lock another process can take belongs to a dead writer.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def writers_dir(journal: Path) -> Path:
    return journal.with_name(journal.name + ".writers")


class WriterLock:
    """This writer's lock file, created already locked and held until `release()`."""

    def __init__(self, journal: Path, writer: str) -> None:
        self.path = writers_dir(journal) / f"{writer}.lock"
        self._fd = -1
        if fcntl is None:  # pragma: no cover - no flock: every other writer counts as gone
            return
        # locked under a private name, then renamed into place: a checker never sees the
        # file unlocked and takes a starting writer for a dead one
        tmp = self.path.with_name(f".{writer}.tmp")
        for attempt in range(3):
            self.path.parent.mkdir(exist_ok=True)
            try:
                fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
                break
            except FileNotFoundError:  # the last writer to close removed the folder
                if attempt == 2:
                    raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rename(tmp, self.path)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._fd = fd

    def release(self) -> None:
        """Remove the file, then drop the lock (removed first: never seen unlocked)."""
        if self._fd < 0:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = -1
        with contextlib.suppress(OSError):  # not empty: other writers still use it
            os.rmdir(self.path.parent)


def alive(journal: Path, writer: str) -> bool:
    """True if `writer`'s Journal is open in a live process; a dead one's file is removed."""
    if fcntl is None:  # pragma: no cover - not on POSIX
        return False
    path = writers_dir(journal) / f"{writer}.lock"
    try:
        fd = os.open(path, os.O_RDONLY)  # enough to flock, even another user's file
    except FileNotFoundError:
        return False  # closed, or wrote before writers kept lock files
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        # we hold the dead writer's lock: nobody can take it for alive while we remove it
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            os.unlink(path)
        return False
    finally:
        os.close(fd)


def live_writers(journal: Path, exclude: str) -> set[str]:
    """Every writer with a live Journal on this file, except `exclude`."""
    folder = writers_dir(journal)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return set()
    found = {n[:-5] for n in names if n.endswith(".lock") and not n.startswith(".")}
    found.discard(exclude)
    return {w for w in found if alive(journal, w)}
