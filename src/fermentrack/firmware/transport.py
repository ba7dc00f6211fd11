"""Serving our firmware's protocol over TCP (as ESP WiFi builds do) or a pseudo-terminal.

Either way the firmware sees bytes in and lines out; the transport owns the connection. TCP takes
one client at a time and a new connection replaces the old one (brewpi-protocol §1). The
pseudo-terminal gets a symlink that a controller opens as a serial port (interfaces.md §3).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tty
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

READ_SIZE = 4096
INPUT_IDLE_S = 1.0  # AVR ends a half-received JSON object after 1 s without a byte


class ByteEndpoint(Protocol):
    """What a transport needs from the firmware."""

    def receive(self, data: bytes) -> None: ...

    def input_idle(self) -> None: ...

    def attach_output(self, write) -> None: ...


async def serve_tcp(firmware: ByteEndpoint, host: str, port: int) -> asyncio.Server:
    """Start serving; returns the server (its sockets tell the bound port)."""
    current: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        for old in current:
            log.info("new client %s replaces the old one", peer)
            old.close()
        current[:] = [writer]
        firmware.attach_output(lambda data: _write_or_drop(writer, data))
        log.info("client %s connected", peer)
        try:
            while True:
                try:
                    data = await asyncio.wait_for(reader.read(READ_SIZE), INPUT_IDLE_S)
                except TimeoutError:
                    firmware.input_idle()
                    continue
                if not data:
                    break
                firmware.receive(data)
        except (ConnectionError, OSError) as error:
            log.info("client %s dropped: %s", peer, error)
        finally:
            if current and current[0] is writer:
                firmware.attach_output(None)
                current.clear()
            writer.close()
            log.info("client %s disconnected", peer)

    return await asyncio.start_server(handle, host, port, reuse_address=True)


def _write_or_drop(writer: asyncio.StreamWriter, data: bytes) -> None:
    # A client that stops reading must not make the firmware buffer without bound: like a
    # serial line with nobody listening, output beyond a generous buffer is dropped.
    transport = writer.transport
    if transport.is_closing():
        return
    if transport.get_write_buffer_size() > 256 * 1024:
        return
    writer.write(data)


class PseudoTerminal:
    """A pty whose other end is reachable at `link_path`, like /dev/ttyUSB0 for a real board."""

    def __init__(self, link_path: Path) -> None:
        self.link_path = Path(link_path)
        self.master_fd, self._slave_fd = os.openpty()
        # Raw mode: no echo, no line editing, bytes pass as they are, like a UART.
        tty.setraw(self._slave_fd)
        os.set_blocking(self.master_fd, False)
        self.device_path = os.ttyname(self._slave_fd)
        self.link_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.link_path.unlink()
        os.symlink(self.device_path, self.link_path)

    def write(self, data: bytes) -> None:
        try:
            os.write(self.master_fd, data)
        except BlockingIOError:
            pass  # nobody is reading the port: the line is lost, as on a real serial port
        except OSError as error:
            log.warning("pty write failed: %s", error)

    def close(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self.link_path.is_symlink() and os.readlink(self.link_path) == self.device_path:
                self.link_path.unlink()
        for fd in (self.master_fd, self._slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


async def serve_pty(firmware: ByteEndpoint, link_path: Path) -> PseudoTerminal:
    """Serve over a new pseudo-terminal; the caller closes it when done."""
    terminal = PseudoTerminal(link_path)
    loop = asyncio.get_running_loop()
    idle_timer: list[asyncio.TimerHandle] = []

    def on_readable() -> None:
        try:
            data = os.read(terminal.master_fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError as error:
            log.warning("pty read failed: %s", error)
            return
        for timer in idle_timer:
            timer.cancel()
        idle_timer[:] = [loop.call_later(INPUT_IDLE_S, firmware.input_idle)]
        firmware.receive(data)

    loop.add_reader(terminal.master_fd, on_readable)
    firmware.attach_output(terminal.write)
    log.info("serving on %s (link %s)", terminal.device_path, terminal.link_path)
    return terminal
