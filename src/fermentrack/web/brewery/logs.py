"""Reading the processes' log files in FERMENTRACK_HOME/log/ for the log page.

Only names found by listing that folder are ever opened, and only regular files that really
live in it: a name from a request is looked up in the listing, never joined to a path.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_LINES = 100
MAX_LINES = 2000
# interfaces.md §4: the stack's own logs first, then the devices' (dev-<name>-*, fw-<name>-*).
_STACK_LOGS = ("fermentrack.log", "fermentrack-brewpi-spawner.log", "circusd.log")
_BLOCK = 64 * 1024


def log_files(folder: Path) -> list[str]:
    """Names of the *.log files in `folder`: the stack's own first, then the rest by name."""
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    names = [e.name for e in entries if e.name.endswith(".log") and _inside(folder, e)]
    return sorted(names, key=_listing_order)


def _listing_order(name: str) -> tuple[int, int, str]:
    if name in _STACK_LOGS:
        return (0, _STACK_LOGS.index(name), "")
    return (1, 0, name)


def _inside(folder: Path, entry: os.DirEntry) -> bool:
    """A regular file whose real path is in `folder` (a symlink out of log/ is not a log)."""
    path = Path(entry.path).resolve()
    return path.parent == folder.resolve() and path.is_file()


def last_lines(path: Path, count: int) -> list[str]:
    """The last `count` lines of the file at `path`, read backwards in blocks from its end."""
    with open(path, "rb") as file:
        file.seek(0, os.SEEK_END)
        position = file.tell()
        data = b""
        while position > 0 and data.count(b"\n") <= count:
            step = min(_BLOCK, position)
            position -= step
            file.seek(position)
            data = file.read(step) + data
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[-count:] if count else []
