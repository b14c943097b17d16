"""One writer per output folder: an OS file lock that dies with its process.

A sweep or compare holds its output folder for as long as it runs. The lock is
``flock`` on ``FOLDER/.reglab.lock`` (a byte-range lock on Windows): the kernel
releases it when the process ends, however it ends, so a ``kill -9`` never leaves
a stale lock behind, and a second run into the folder is refused with the pid,
host and command line of the one holding it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
from pathlib import Path

from .._validation import ReglabError


#: The lock file of an output folder; it stays, the lock dies with its holder.
LOCK_NAME = ".reglab.lock"

#: Folders this process holds: resolved path -> [file descriptor, depth of nesting].
_HELD: dict[Path, list] = {}


class FolderBusy(ReglabError):
    """Another process is writing into the output folder."""


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows: the C runtime's byte-range lock, also released at exit
        import msvcrt
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_holder(fd: int, tries: int = 20) -> str:
    """The holder's line, read until two reads agree: a holder that has just taken the lock
    truncates the file and then writes its line, and a read in between sees nothing (or the
    line of the holder before it)."""
    previous = None
    for _ in range(tries):
        os.lseek(fd, 0, os.SEEK_SET)  # not os.pread: Windows has none
        text = os.read(fd, 500).decode("utf-8", "replace").strip()
        if text and text == previous:
            return text
        previous = text
        time.sleep(0.05)
    return previous or ""


@contextlib.contextmanager
def folder_lock(folder):
    """Hold ``folder`` exclusively for this process while the block runs.

    The lock is an OS file lock on ``folder/.reglab.lock`` (``flock``): it ends
    with the process however the process ends (even ``kill -9``), so a crash
    never leaves a stale lock. Nested use in one process is allowed. A second
    process is refused with :class:`FolderBusy` naming the holder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.resolve()
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    if not _try_lock(fd):
        try:
            holder = _read_holder(fd) or "a process that gave no details"
        finally:
            os.close(fd)
        raise FolderBusy(f"{folder} is in use by another reglab run ({holder}); wait for it to end "
                         f"or write to another --out")
    try:
        os.ftruncate(fd, 0)
        os.write(fd, (f"pid {os.getpid()} on {socket.gethostname()}, since "
                      f"{time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(sys.argv)}"[:480]).encode())
        _HELD[key] = [fd, 1]
        yield
    finally:
        _HELD.pop(key, None)
        os.close(fd)  # releases the lock; the file stays, so no other process can race its removal
