"""The byte link to a firmware: TCP or a serial port, opened from a URL, read as lines.

`open_link` understands `tcp://host:port`, `serial:///dev/ttyUSB0?baud=57600` and
`serial-by-id://<usb serial number>` (looked up in /dev/serial/by-id). Both kinds are asyncio
streams underneath (serial through pyserial-asyncio-fast), so the session above sees one
interface: `readline()`, `write()`, `close()`. Anything that ends the link (end of stream, reset,
an I/O error such as a USB adapter pulled out) is one exception, `LinkLost`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import serial
import serial_asyncio_fast

from fermentrack.brewpi.links import DEFAULT_BAUD, DEFAULT_TCP_PORT, by_id_names_for
from fermentrack.brewpi.links import SERIAL_BY_ID_DIR as SERIAL_BY_ID
from fermentrack.brewpi.messages import decode_wire_text

log = logging.getLogger(__name__)

SERIAL_BY_ID_DIR = Path(SERIAL_BY_ID)
CONNECT_TIMEOUT_S = 5.0
WRITE_TIMEOUT_S = 5.0  # a peer that takes nothing for this long is as good as gone
READ_SIZE = 4096
# The longest real line is an ESP `h:` listing of every pin and sensor, about 3 KB; a line with
# no end past this is garbage, and is cut rather than kept in memory without bound.
MAX_LINE_BYTES = 8192


class LinkLost(Exception):
    """The connection to the firmware dropped, was closed, or could not be opened."""


class LinkUrlError(ValueError):
    """A link URL that cannot name a firmware connection; the message says what is expected."""


class LineTooLong(Exception):
    """A line ran past `MAX_LINE_BYTES` without an end; it was dropped, up to its end.

    The link stays usable: the next `readline()` returns the line after it. `head` is the start
    of the dropped line, for the log.
    """

    def __init__(self, url: str, limit: int, head: str) -> None:
        super().__init__(
            f"the firmware at {url} sent a line longer than {limit} bytes without a line end; "
            f"dropped it: {head[:60]!r}..."
        )
        self.head = head


class Link:
    """An open firmware connection: lines in (CR LF from the firmware), bytes out.

    `kind` is "tcp" or "serial". Made by `open_link`; one reader at a time.
    """

    def __init__(
        self,
        url: str,
        kind: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        max_line_bytes: int = MAX_LINE_BYTES,
        baudrate: int | None = None,
        device_path: str | None = None,
    ) -> None:
        self.url = url
        self.kind = kind
        self.baudrate = baudrate
        self.device_path = device_path
        self.max_line_bytes = max_line_bytes
        self._reader = reader
        self._writer = writer
        self._buffer = bytearray()
        self._dropping_long_line = False
        self._lost: str | None = None  # why the link is gone, once it is

    @property
    def is_lost(self) -> bool:
        return self._lost is not None

    @property
    def port_settings(self) -> dict | None:
        """A serial port's settings (baudrate, bytesize, parity, stopbits ...); None for TCP."""
        port = getattr(self._writer.transport, "serial", None)
        return port.get_settings() if port is not None else None

    def _gone(self, why: str) -> LinkLost:
        if self._lost is None:
            self._lost = why
            log.info("link %s lost: %s", self.url, why)
            self._writer.close()  # a dropped link is never used again: free it now
        return LinkLost(f"lost the link to the firmware at {self.url}: {self._lost}")

    async def readline(self) -> str:
        """The next line, decoded (cp437, byte 0xB0 as '°'), without its CR LF.

        Raises LinkLost when the link ends, LineTooLong for a line past the limit (dropped).
        """
        while True:
            if self._lost is not None:
                raise self._gone(self._lost)
            end = self._buffer.find(b"\n")
            if end >= 0:
                raw = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                if self._dropping_long_line:
                    self._dropping_long_line = False  # the tail of a line already reported
                    continue
                if len(raw) > self.max_line_bytes + 1:  # + 1: its CR
                    raise LineTooLong(self.url, self.max_line_bytes, decode_wire_text(raw[:200]))
                if raw.endswith(b"\r"):
                    raw = raw[:-1]
                return decode_wire_text(raw)
            if len(self._buffer) > self.max_line_bytes:
                head = decode_wire_text(bytes(self._buffer[:200]))
                self._buffer.clear()
                if not self._dropping_long_line:
                    self._dropping_long_line = True
                    raise LineTooLong(self.url, self.max_line_bytes, head)
            chunk = await self._read_chunk()
            self._buffer += chunk

    async def _read_chunk(self) -> bytes:
        try:
            chunk = await self._reader.read(READ_SIZE)
        except (OSError, serial.SerialException) as error:
            raise self._gone(f"read failed ({error})") from None
        if not chunk:
            raise self._gone("the connection was closed (end of stream)")
        return chunk

    async def write(self, data: bytes) -> None:
        """Send bytes; raises LinkLost when the link is gone or takes nothing for a while."""
        if self._lost is not None:
            raise self._gone(self._lost)
        # A transport closes itself after an I/O error and then drops writes silently.
        if self._writer.transport.is_closing():
            raise self._gone("the connection is closed")
        try:
            self._writer.write(data)
            await asyncio.wait_for(self._writer.drain(), WRITE_TIMEOUT_S)
        except TimeoutError:
            raise self._gone(f"nothing sent was taken for {WRITE_TIMEOUT_S:g} s") from None
        except (OSError, serial.SerialException) as error:
            raise self._gone(f"write failed ({error})") from None

    async def close(self) -> None:
        """Close the connection (idempotent); reads and writes raise LinkLost afterwards."""
        self._gone("closed by the controller")
        self._writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.wait_closed(), 2.0)


async def open_link(
    url: str, *, serial_by_id_dir: Path = SERIAL_BY_ID_DIR, max_line_bytes: int = MAX_LINE_BYTES
) -> Link:
    """Open the firmware connection `url` names.

    Raises LinkUrlError for a URL that cannot be one, LinkLost when the connection cannot be
    made now (refused, no such port, device not plugged in): a later try may work.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "tcp":
        host, port = _tcp_address(url, parts)
        reader, writer = await _open_tcp(url, host, port)
        return Link(url, "tcp", reader, writer, max_line_bytes=max_line_bytes)
    if scheme in ("serial", "serial-by-id"):
        baudrate = _baudrate(url, parts.query)
        if scheme == "serial":
            if parts.netloc or not parts.path.startswith("/"):
                raise LinkUrlError(
                    f"serial link {url!r} needs an absolute device path, "
                    "such as serial:///dev/ttyUSB0"
                )
            path = unquote(parts.path)
        else:
            path = str(find_serial_by_id(unquote(parts.netloc + parts.path), serial_by_id_dir))
        reader, writer = await _open_serial(url, path, baudrate)
        return Link(
            url,
            "serial",
            reader,
            writer,
            max_line_bytes=max_line_bytes,
            baudrate=baudrate,
            device_path=path,
        )
    raise LinkUrlError(
        f"link {url!r}: expected tcp://host:port, serial:///dev/ttyUSB0?baud=57600 "
        "or serial-by-id://<usb serial number>"
    )


def link_kind(url: str) -> str:
    """The kind of link a URL names, "tcp" or "serial", without opening it (or LinkUrlError)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "tcp":
        return "tcp"
    if scheme in ("serial", "serial-by-id"):
        return "serial"
    raise LinkUrlError(f"link {url!r}: expected a tcp://, serial:// or serial-by-id:// URL")


def _tcp_address(url: str, parts) -> tuple[str, int]:
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or port == -1 or port == 0:
        raise LinkUrlError(f"TCP link {url!r}: expected tcp://host:port, such as tcp://brewpi:23")
    if parts.path not in ("", "/") or parts.query:
        raise LinkUrlError(f"TCP link {url!r}: expected only tcp://host:port")
    return parts.hostname, port or DEFAULT_TCP_PORT


def _baudrate(url: str, query: str) -> int:
    try:
        options = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        options = {"": [query]}
    unknown = sorted(set(options) - {"baud"})
    if unknown:
        raise LinkUrlError(f"serial link {url!r}: unknown option {unknown[0]!r} (only baud=)")
    if "baud" not in options:
        return DEFAULT_BAUD
    text = options["baud"][-1]
    if not text.isdigit() or int(text) <= 0:
        raise LinkUrlError(f"serial link {url!r}: baud must be a whole number, got {text!r}")
    return int(text)


def find_serial_by_id(usb_serial: str, folder: Path = SERIAL_BY_ID_DIR) -> Path:
    """The device whose udev by-id name carries `usb_serial`, such as
    usb-Arduino__www.arduino.cc__0043_75237333536351F0B0A1-if00.

    Raises LinkLost (the board may be plugged in later) naming what was looked for and where.
    """
    if not usb_serial or "/" in usb_serial:
        raise LinkUrlError(f"serial-by-id link: expected a USB serial number, got {usb_serial!r}")
    try:
        names = sorted(entry.name for entry in folder.iterdir())
    except OSError:
        raise LinkLost(
            f"no serial device with USB serial number {usb_serial!r}: {folder} does not exist "
            "(no USB serial device is plugged in)"
        ) from None
    found = by_id_names_for(usb_serial, names)
    if len(found) == 1:
        return folder / found[0]
    if not found:
        seen = ", ".join(names) if names else "nothing"
        raise LinkLost(
            f"no serial device with USB serial number {usb_serial!r} in {folder} (found {seen})"
        )
    raise LinkLost(
        f"USB serial number {usb_serial!r} matches several devices in {folder}: " + ", ".join(found)
    )


async def _open_tcp(url: str, host: str, port: int):
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), CONNECT_TIMEOUT_S
        )
    except TimeoutError:
        raise LinkLost(
            f"cannot connect to the firmware at {url}: no answer within {CONNECT_TIMEOUT_S:g} s"
        ) from None
    except OSError as error:
        raise LinkLost(f"cannot connect to the firmware at {url}: {error}") from None
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    return reader, writer


async def _open_serial(url: str, path: str, baudrate: int):
    try:
        return await serial_asyncio_fast.open_serial_connection(
            url=path,
            baudrate=baudrate,
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE,
            exclusive=True,  # two controllers on one port would steal each other's replies
        )
    except (OSError, serial.SerialException) as error:
        raise LinkLost(f"cannot open the serial port of {url}: {error}") from None
    except ValueError as error:  # pyserial's word for a baud rate the port cannot do
        raise LinkUrlError(f"serial link {url!r}: {error}") from None


__all__ = [
    "DEFAULT_BAUD",
    "MAX_LINE_BYTES",
    "SERIAL_BY_ID_DIR",
    "LineTooLong",
    "Link",
    "LinkLost",
    "LinkUrlError",
    "find_serial_by_id",
    "link_kind",
    "open_link",
]
