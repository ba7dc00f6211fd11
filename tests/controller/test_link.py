"""The firmware link: one interface over TCP and serial ports, lines in, bytes out, LinkLost."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import tty

import pytest
import serial

from fermentrack.controller.link import (
    MAX_LINE_BYTES,
    LineTooLong,
    LinkLost,
    LinkUrlError,
    find_serial_by_id,
    open_link,
)


def run(coro, timeout: float = 10.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


class Peer:
    """A TCP server in the test's loop that takes one client and lets the test talk to it."""

    async def start(self) -> str:
        self.connected = asyncio.Event()
        self.received = bytearray()
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"tcp://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader, writer) -> None:
        self.writer = writer
        self.connected.set()
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(4096):
                self.received += data

    async def send(self, data: bytes) -> None:
        await self.connected.wait()
        self.writer.write(data)
        await self.writer.drain()

    async def close(self) -> None:
        await self.connected.wait()
        self.writer.close()
        self.server.close()


class PseudoSerialPort:
    """A pty whose slave end a link opens through a symlink, as it would /dev/ttyUSB0."""

    def __init__(self, link_path) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.link_path = link_path
        os.symlink(os.ttyname(slave), link_path)
        os.close(slave)
        os.set_blocking(self.master, False)

    def read(self) -> bytes:
        with contextlib.suppress(BlockingIOError):
            return os.read(self.master, 4096)
        return b""

    def unplug(self) -> None:
        os.close(self.master)


def test_tcp_lines_arrive_without_their_crlf_and_the_degree_byte_reads_as_a_degree_sign():
    async def scenario():
        peer = Peer()
        link = await open_link(await peer.start())
        # One line split across writes, two in one write, and the LCD's 0xB0 degree byte.
        await peer.send(b'T:{"Beer')
        await asyncio.sleep(0.05)
        await peer.send(b'Temp":1}\r\nL:["Beer   --.-  20.0 \xb0C"]\r\n\xff\x00\xfe\r\n')
        lines = [await link.readline() for _ in range(3)]
        await link.write(b"t\n")
        await asyncio.sleep(0.05)
        await link.close()
        await peer.close()
        return lines, bytes(peer.received)

    lines, received = run(scenario())
    assert lines[0] == 'T:{"BeerTemp":1}'
    assert lines[1] == 'L:["Beer   --.-  20.0 °C"]'
    assert len(lines[2]) == 3  # every byte decodes (cp437); nothing raises
    assert received == b"t\n"


def test_an_over_long_line_is_cut_reported_once_and_the_next_line_still_arrives():
    async def scenario():
        peer = Peer()
        link = await open_link(await peer.start())
        buffer_sizes = []
        await peer.send(b"T:" + b"x" * (MAX_LINE_BYTES * 20))  # 160 KB with no line end
        with pytest.raises(LineTooLong) as cut:
            await link.readline()
        buffer_sizes.append(len(link._buffer))
        await peer.send(b"still the same line\r\nS:{}\r\n")
        line = await link.readline()
        buffer_sizes.append(len(link._buffer))
        await link.close()
        await peer.close()
        return cut.value, line, buffer_sizes

    error, line, buffer_sizes = run(scenario())
    assert "longer than 8192 bytes" in str(error) and error.head.startswith("T:xxx")
    assert line == "S:{}"
    assert max(buffer_sizes) <= MAX_LINE_BYTES + 4096


def test_end_of_stream_raises_link_lost_and_so_does_every_write_after_it():
    async def scenario():
        peer = Peer()
        url = await peer.start()
        link = await open_link(url)
        await peer.send(b"N:{}\r\n")
        assert await link.readline() == "N:{}"
        await peer.close()
        started = time.monotonic()
        with pytest.raises(LinkLost) as lost:
            await link.readline()
        elapsed = time.monotonic() - started
        with pytest.raises(LinkLost):
            await link.write(b"n\n")
        with pytest.raises(LinkLost):
            await link.readline()
        return url, lost.value, elapsed

    url, error, elapsed = run(scenario())
    assert url in str(error) and "closed" in str(error)
    assert elapsed < 1.0


def test_a_refused_tcp_connection_is_link_lost_naming_the_url():
    async def scenario():
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(LinkLost) as lost:
            await open_link(f"tcp://127.0.0.1:{port}")
        return port, lost.value

    port, error = run(scenario())
    assert f"tcp://127.0.0.1:{port}" in str(error)


@pytest.mark.parametrize(
    "url",
    [
        "http://brewpi:80",
        "tcp://",
        "tcp://brewpi:notaport",
        "tcp://brewpi:23/path",
        "serial://dev/ttyUSB0",
        "serial:///dev/ttyUSB0?baud=fast",
        "serial:///dev/ttyUSB0?speed=9600",
        "serial-by-id://",
        "/dev/ttyUSB0",
    ],
)
def test_a_url_that_names_no_link_is_refused_with_what_was_expected(url):
    with pytest.raises(LinkUrlError) as refused:
        run(open_link(url))
    assert url in str(refused.value) or "serial number" in str(refused.value)


def test_a_missing_serial_port_is_link_lost(tmp_path):
    with pytest.raises(LinkLost) as lost:
        run(open_link(f"serial://{tmp_path}/ttyUSB7"))
    assert "ttyUSB7" in str(lost.value)


def test_a_serial_port_opens_at_57600_8n1_and_carries_lines_both_ways(tmp_path):
    port = PseudoSerialPort(tmp_path / "ttyBREWPI")

    async def scenario():
        link = await open_link(f"serial://{port.link_path}")
        settings = link.port_settings
        os.write(port.master, b'N:{"v":"0.2.13"}\r\n')
        line = await link.readline()
        await link.write(b"n\n")
        await asyncio.sleep(0.05)
        written = port.read()
        await link.close()
        return link, settings, line, written

    link, settings, line, written = run(scenario())
    port.unplug()
    assert link.kind == "serial" and link.baudrate == 57600
    assert (settings["bytesize"], settings["parity"], settings["stopbits"]) == (
        serial.EIGHTBITS,
        serial.PARITY_NONE,
        serial.STOPBITS_ONE,
    )
    assert line == 'N:{"v":"0.2.13"}'
    assert written == b"n\n"


def test_the_baud_option_of_a_serial_url_is_honoured(tmp_path):
    port = PseudoSerialPort(tmp_path / "ttyBREWPI")

    async def scenario():
        link = await open_link(f"serial://{port.link_path}?baud=115200")
        settings = link.port_settings
        await link.close()
        return settings

    assert run(scenario())["baudrate"] == 115200
    port.unplug()


def test_an_unplugged_serial_port_raises_link_lost_promptly_for_reads_and_writes(tmp_path):
    port = PseudoSerialPort(tmp_path / "ttyBREWPI")

    async def scenario():
        link = await open_link(f"serial://{port.link_path}")
        reading = asyncio.ensure_future(link.readline())
        await asyncio.sleep(0.1)
        started = time.monotonic()
        port.unplug()
        with pytest.raises(LinkLost) as lost:
            await reading
        elapsed = time.monotonic() - started
        with pytest.raises(LinkLost):
            await link.write(b"t\n")
        await link.close()
        return lost.value, elapsed

    error, elapsed = run(scenario())
    assert "ttyBREWPI" in str(error)
    assert elapsed < 2.0


def test_serial_by_id_finds_the_port_by_its_usb_serial_number(tmp_path):
    port = PseudoSerialPort(tmp_path / "ttyACM0")
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    name = "usb-Arduino__www.arduino.cc__0043_75237333536351F0B0A1-if00"
    (by_id / name).symlink_to(port.link_path)
    (by_id / "usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0").symlink_to(port.link_path)

    async def scenario():
        link = await open_link("serial-by-id://75237333536351F0B0A1", serial_by_id_dir=by_id)
        os.write(port.master, b"N:{}\r\n")
        line = await link.readline()
        await link.close()
        return link.device_path, line

    device_path, line = run(scenario())
    port.unplug()
    assert device_path == str(by_id / name)
    assert line == "N:{}"
    assert find_serial_by_id("A50285BI", by_id).name.startswith("usb-FTDI")


def test_serial_by_id_says_what_it_looked_for_and_where_when_nothing_matches(tmp_path):
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    (by_id / "usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0").symlink_to("/dev/null")
    with pytest.raises(LinkLost) as lost:
        run(open_link("serial-by-id://75237333536351F0B0A1", serial_by_id_dir=by_id))
    message = str(lost.value)
    assert "75237333536351F0B0A1" in message and str(by_id) in message
    assert "A50285BI" in message  # what is there instead
    with pytest.raises(LinkLost) as no_folder:
        find_serial_by_id("75237333536351F0B0A1", tmp_path / "nothing-here")
    assert "does not exist" in str(no_folder.value)
