"""The controller's outbox: log points and annotations kept on disk until the web app took them.

`run/dev-<name>.outbox` (interfaces.md §1) holds one JSON object a line:

    {"id": 7, "kind": "point", "item": {...}}   an entry: appended and fsync'd before any send
    {"ack": [[7, 9], [12, 12]]}                  entry ids the web app acknowledged (ranges)
    {"next_id": 13}                              first line of a compacted file

Entries are only ever appended, so a kill -9 at any moment leaves every entry whose append
returned; a line cut short by a crash is dropped on the next load. When acknowledged lines take
more than half of the file (and at least COMPACT_MIN_BYTES), or more than COMPACT_AT_BYTES, the
pending entries are rewritten to a new file that replaces the old one atomically. Memory holds
only where each pending entry is in the file, so weeks of points waiting for the web app cost
a few bytes each in memory; the items themselves are read back from the file when sent.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import logging
import os
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

KINDS = ("point", "annotation")
COMPACT_AT_BYTES = 1024 * 1024  # acknowledged lines past this are always worth a rewrite
COMPACT_MIN_BYTES = 64 * 1024  # below this a rewrite is not worth the SD card's wear


class _Index:
    """Where the pending entries of one kind are in the file, in id order.

    Three arrays (id, offset, size) and one flag per entry: about 25 bytes an entry, where a
    dict of items would take hundreds. Acknowledged entries are flagged, then cut off the front.
    """

    def __init__(self) -> None:
        self.ids = array("q")
        self.offsets = array("q")
        self.sizes = array("q")
        self.done = bytearray()
        self.head = 0  # entries before it are all acknowledged
        self.count = 0  # pending entries

    def add(self, entry_id: int, offset: int, size: int) -> None:
        self.ids.append(entry_id)
        self.offsets.append(offset)
        self.sizes.append(size)
        self.done.append(0)
        self.count += 1

    def positions_between(self, first: int, last: int) -> range:
        return range(
            bisect_left(self.ids, first, self.head), bisect_right(self.ids, last, self.head)
        )

    def mark_done(self, position: int) -> int:
        """Flag one entry acknowledged; returns its size in bytes, 0 when it already was."""
        if self.done[position]:
            return 0
        self.done[position] = 1
        self.count -= 1
        return self.sizes[position]

    def live(self) -> Iterator[int]:
        for position in range(self.head, len(self.ids)):
            if not self.done[position]:
                yield position

    def trim(self) -> None:
        while self.head < len(self.ids) and self.done[self.head]:
            self.head += 1
        if self.head >= 1024 and self.head * 2 >= len(self.ids):
            del self.ids[: self.head]
            del self.offsets[: self.head]
            del self.sizes[: self.head]
            del self.done[: self.head]
            self.head = 0


class Outbox:
    """Points and annotations waiting for the web app, safe against a crash at any moment.

    Thread-safe (one lock), so the controller may append from a worker thread while the
    uploader reads; one process per outbox file.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._indexes = {kind: _Index() for kind in KINDS}
        self._next_id = 1
        self._file_bytes = 0  # the file's length: appends go there
        self._live_bytes = 0  # bytes of pending entries; the rest is worth compacting away
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            _temporary_path(self.path).unlink()  # a rewrite cut short: the old file is whole
        self._load()
        self._file = open(self.path, "a+b", buffering=0)  # noqa: SIM115 (open while in use)
        self._compact_if_worth_it()

    # -- the API the controller and the uploader use -----------------------------------------

    def append(self, kind: str, item: dict) -> int:
        """Write one entry and fsync it; returns its id once it is on disk.

        Raises ValueError for an unknown kind or an item that is not plain JSON (NaN, infinity,
        values json cannot write), and OSError when the disk refuses (nothing is kept then).
        """
        if kind not in KINDS:
            raise ValueError(f"outbox kind {kind!r}: expected 'point' or 'annotation'")
        with self._lock:
            entry_id = self._next_id
            try:
                line = _encode({"id": entry_id, "kind": kind, "item": item})
            except (TypeError, ValueError) as error:
                raise ValueError(f"outbox {kind} {item!r} is not plain JSON: {error}") from None
            offset = self._append_line(line)
            self._next_id += 1
            self._indexes[kind].add(entry_id, offset, len(line))
            self._live_bytes += len(line)
        return entry_id

    def pending(self, kind: str, limit: int) -> list[tuple[int, dict]]:
        """The oldest `limit` entries of `kind` not yet acknowledged: (entry id, item)."""
        if kind not in KINDS:
            raise ValueError(f"outbox kind {kind!r}: expected 'point' or 'annotation'")
        with self._lock:
            index = self._indexes[kind]
            chosen = []
            for position in index.live():
                if len(chosen) >= limit:
                    break
                chosen.append(position)
            lines = self._read_lines(
                [(index.offsets[position], index.sizes[position]) for position in chosen]
            )
            return [
                (index.ids[p], json.loads(line)["item"])
                for p, line in zip(chosen, lines, strict=True)
            ]

    def acknowledge(self, entry_ids: Iterable[int]) -> None:
        """Mark entries delivered (or given up on): they are never returned by pending() again.

        The mark is appended to the file; if the disk refuses it, the entries are only
        forgotten in memory and would be sent again after a restart, which the web app takes
        as duplicates. Compacts the file when enough of it is acknowledged.
        """
        with self._lock:
            acknowledged = []
            for first, last in _ranges(sorted(set(entry_ids))):
                for index in self._indexes.values():
                    for position in index.positions_between(first, last):
                        size = index.mark_done(position)
                        if size:
                            self._live_bytes -= size
                            acknowledged.append(index.ids[position])
            if not acknowledged:
                return
            for index in self._indexes.values():
                index.trim()
            try:
                self._append_line(_encode({"ack": _ranges(sorted(acknowledged))}))
            except OSError as error:
                log.warning(
                    "could not record %d delivered entries in %s (%s); they will be sent "
                    "again after a restart",
                    len(acknowledged),
                    self.path,
                    error,
                )
            self._compact_if_worth_it()

    def __len__(self) -> int:
        """Entries not yet acknowledged, of both kinds."""
        return sum(index.count for index in self._indexes.values())

    def size_on_disk(self) -> int:
        """The outbox file's length in bytes."""
        return self._file_bytes

    def close(self) -> None:
        with self._lock:
            self._file.close()

    # -- the file --------------------------------------------------------------------------

    def _append_line(self, line: bytes) -> int:
        """Write a whole line at the end and fsync; on failure cut the file back. Its offset."""
        offset = self._file_bytes
        descriptor = self._file.fileno()
        try:
            written = 0
            while written < len(line):
                written += os.write(descriptor, line[written:])
            os.fsync(descriptor)
        except OSError:
            # A partial line would glue itself to the next one: take it back out.
            with contextlib.suppress(OSError):
                os.ftruncate(descriptor, offset)
            raise
        self._file_bytes = offset + len(line)
        return offset

    def _read_lines(self, places: list[tuple[int, int]]) -> list[bytes]:
        """The lines at (offset, size) places, reading runs of neighbouring lines at once."""
        lines: list[bytes] = []
        descriptor = self._file.fileno()
        start = 0
        while start < len(places):
            end = start + 1
            while end < len(places) and places[end][0] == places[end - 1][0] + places[end - 1][1]:
                end += 1
            first_offset = places[start][0]
            span = places[end - 1][0] + places[end - 1][1] - first_offset
            data = os.pread(descriptor, span, first_offset)
            for offset, size in places[start:end]:
                lines.append(data[offset - first_offset : offset - first_offset + size])
            start = end
        return lines

    def _load(self) -> None:
        try:
            file = open(self.path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            return
        self._last_loaded_id = 0
        with file:
            offset = 0
            for number, line in enumerate(file, start=1):
                if not line.endswith(b"\n"):
                    log.warning(
                        "%s: ignoring line %d, cut short by a crash while it was written: %r",
                        self.path,
                        number,
                        line[:80],
                    )
                    break
                self._load_line(number, line, offset)
                offset += len(line)
        self._file_bytes = offset
        self._next_id = max(self._next_id, self._last_loaded_id + 1)
        if self.path.stat().st_size != offset:
            # Appends go at the end: cut the torn line off so the next one starts clean.
            os.truncate(self.path, offset)
        pending = len(self)
        if pending:
            log.info("%s: %d entries waiting to be sent", self.path, pending)

    def _load_line(self, number: int, line: bytes, offset: int) -> None:
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and _is_entry(record):
            entry_id = record["id"]
            index = self._indexes[record["kind"]]
            if entry_id > self._last_loaded_id:  # ids only grow: anything else is not ours
                index.add(entry_id, offset, len(line))
                self._live_bytes += len(line)
                self._last_loaded_id = entry_id
                return
        elif isinstance(record, dict) and _is_ack(record):
            for first, last in record["ack"]:
                for index in self._indexes.values():
                    for position in index.positions_between(first, last):
                        self._live_bytes -= index.mark_done(position)
            for index in self._indexes.values():
                index.trim()
            return
        elif isinstance(record, dict) and type(record.get("next_id")) is int:
            # A compacted file's first line: the ids of the entries it dropped are not reused.
            self._next_id = max(self._next_id, record["next_id"])
            return
        log.warning(
            "%s: skipping line %d, which is not an outbox record: %r", self.path, number, line[:80]
        )

    def _compact_if_worth_it(self) -> None:
        waste = self._file_bytes - self._live_bytes
        if waste > COMPACT_AT_BYTES or (
            waste >= COMPACT_MIN_BYTES and 2 * waste > self._file_bytes
        ):
            try:
                self._compact()
            except OSError as error:
                log.warning("could not compact %s (%s); it stays as it is", self.path, error)

    def _compact(self) -> None:
        """Rewrite only the pending entries: temporary file, fsync, rename, fsync the folder."""
        temporary = _temporary_path(self.path)
        indexes = {kind: _Index() for kind in KINDS}
        entries = heapq.merge(*(_placed(kind, index) for kind, index in self._indexes.items()))
        try:
            with open(temporary, "wb") as new_file:
                header = _encode({"next_id": self._next_id})
                new_file.write(header)
                offset = len(header)
                for entry_id, kind, old_offset, size in entries:
                    new_file.write(os.pread(self._file.fileno(), size, old_offset))
                    indexes[kind].add(entry_id, offset, size)
                    offset += size
                new_file.flush()
                os.fsync(new_file.fileno())
            os.replace(temporary, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        _fsync_folder(self.path.parent)
        self._file.close()
        self._file = open(self.path, "a+b", buffering=0)  # noqa: SIM115
        self._indexes = indexes
        self._file_bytes = offset


def _placed(kind: str, index: _Index) -> Iterator[tuple[int, str, int, int]]:
    """The pending entries of one kind as (id, kind, offset, size), in id order."""
    for position in index.live():
        yield index.ids[position], kind, index.offsets[position], index.sizes[position]


def _encode(record: dict[str, Any]) -> bytes:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8") + b"\n"


def _is_entry(record: dict) -> bool:
    return (
        type(record.get("id")) is int
        and record.get("kind") in KINDS
        and isinstance(record.get("item"), dict)
    )


def _is_ack(record: dict) -> bool:
    ranges = record.get("ack")
    return isinstance(ranges, list) and all(
        isinstance(pair, list) and len(pair) == 2 and all(type(n) is int for n in pair)
        for pair in ranges
    )


def _ranges(sorted_ids: list[int]) -> list[list[int]]:
    """[1, 2, 3, 7, 9, 10] -> [[1, 3], [7, 7], [9, 10]]"""
    ranges: list[list[int]] = []
    for entry_id in sorted_ids:
        if ranges and entry_id == ranges[-1][1] + 1:
            ranges[-1][1] = entry_id
        else:
            ranges.append([entry_id, entry_id])
    return ranges


def _temporary_path(path: Path) -> Path:
    return path.with_name(path.name + ".compacting")


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable: the folder's entry must reach the disk too."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
