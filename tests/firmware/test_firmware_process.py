"""A real `fermentrack firmware` process, talked to over TCP and over a pty as a serial port."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from fermentrack.brewpi.messages import SettingsReport, VersionInfo, parse_line
from fermentrack.brewpi.settings import Mode
from fermentrack.brewpi.temperature import Dialect, temp_from_celsius

FIRMWARE = [sys.executable, "-m", "fermentrack.cli", "firmware"]


def start_firmware(tmp_path: Path, *where: str, dialect: str = "esp") -> subprocess.Popen:
    process = subprocess.Popen(
        [
            *FIRMWARE,
            "--eeprom",
            str(tmp_path / "eeprom"),
            *where,
            "--dialect",
            dialect,
            "--speed",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process


def wait_for_listening(process: subprocess.Popen) -> str:
    """The 'listening on ...' line the firmware prints once it serves."""
    line = process.stdout.readline()
    assert "listening on" in line, f"firmware did not start: {line!r} {process.stderr.read()}"
    return line


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class LineClient:
    """Reads CRLF lines from a byte source with a deadline."""

    def __init__(self, read) -> None:
        self._read = read
        self._buffer = b""

    def line_starting(self, prefix: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\r\n" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\r\n", 1)
                line = raw.decode("cp437")
                if line.startswith(prefix):
                    return line
            self._buffer += self._read()
        raise AssertionError(f"no line starting with {prefix!r} within {timeout} s")


@contextlib.contextmanager
def tcp_client(process: subprocess.Popen):
    """A TCP connection to the firmware `process` serves, and a LineClient reading from it."""
    port = int(re.search(r":(\d+)$", wait_for_listening(process).strip()).group(1))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.settimeout(0.2)

        def read() -> bytes:
            try:
                return sock.recv(4096)
            except TimeoutError:
                return b""

        yield sock, LineClient(read)


@pytest.fixture(params=["esp", "avr"])
def dialect_name(request) -> str:
    return request.param


def test_a_tcp_client_gets_version_temperatures_and_settings_answers(tmp_path, dialect_name):
    process = start_firmware(tmp_path, "--tcp", "127.0.0.1:0", dialect=dialect_name)
    try:
        with tcp_client(process) as (sock, client):
            sock.sendall(b"n\n")
            version = parse_line(client.line_starting("N:"), Dialect(dialect_name))
            assert isinstance(version, VersionInfo)
            sock.sendall(b"t\n")
            assert client.line_starting("T:")
            sock.sendall(b'j{mode:"b", beerSet:18.5}\n')
            settings = parse_line(client.line_starting("S:"), Dialect(dialect_name))
            assert isinstance(settings, SettingsReport)
            assert settings.settings.mode is Mode.BEER_CONSTANT
            assert settings.settings.beer_set == temp_from_celsius(18.5)
            assert client.line_starting("C:")
    finally:
        stop(process)
    assert process.returncode == 0, process.stderr.read()
    # The setting was written to the EEPROM and survives the process.
    assert (
        '"beer_set": ' + str(temp_from_celsius(18.5))
        in (tmp_path / "eeprom" / "eeprom.json").read_text()
    )


def test_a_new_tcp_client_replaces_the_old_one(tmp_path):
    process = start_firmware(tmp_path, "--tcp", "127.0.0.1:0")
    try:
        port = int(re.search(r":(\d+)$", wait_for_listening(process).strip()).group(1))
        first = socket.create_connection(("127.0.0.1", port), timeout=5)
        second = socket.create_connection(("127.0.0.1", port), timeout=5)
        first.settimeout(5)
        assert first.recv(100) == b"", "the old client should have been disconnected"
        second.sendall(b"n")
        second.settimeout(5)
        assert second.recv(100).startswith(b"N:")
        first.close()
        second.close()
    finally:
        stop(process)


def test_a_serial_client_on_the_pty_gets_version_temperatures_and_settings(tmp_path, dialect_name):
    link = tmp_path / "ttyBREWPI"
    process = start_firmware(tmp_path, "--pty", str(link), dialect=dialect_name)
    try:
        wait_for_listening(process)
        assert link.is_symlink()
        with serial.Serial(str(link), 57600, timeout=0.2) as port:
            client = LineClient(lambda: port.read(4096))
            port.write(b"n")
            assert isinstance(
                parse_line(client.line_starting("N:"), Dialect(dialect_name)), VersionInfo
            )
            port.write(b"t\n")
            assert client.line_starting("T:")
            port.write(b'j{mode:"f", fridgeSet:4.0}\n')
            settings = parse_line(client.line_starting("S:"), Dialect(dialect_name))
            assert settings.settings.mode is Mode.FRIDGE_CONSTANT
    finally:
        stop(process)
    assert not link.exists(), "the pty link should be removed when the firmware stops"


def test_a_bad_argument_stops_the_firmware_with_one_clear_line(tmp_path):
    result = subprocess.run(
        [*FIRMWARE, "--eeprom", str(tmp_path), "--tcp", "nowhere", "--speed", "2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "expected HOST:PORT" in result.stderr


def test_a_bad_simulator_file_stops_the_firmware_naming_the_file_and_key(tmp_path):
    folder = tmp_path / "eeprom"
    folder.mkdir()
    (folder / "simulator.json").write_text('{"beer_volume": 20}')
    result = subprocess.run(
        [*FIRMWARE, "--eeprom", str(folder), "--tcp", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ},
    )
    assert result.returncode == 1
    assert "simulator.json" in result.stderr and "beer_volume" in result.stderr


def _first_answers(tmp_path: Path, *extra: str) -> tuple[str, str]:
    """The first `t` and `s` answers of a firmware started with `extra` arguments."""
    process = start_firmware(tmp_path, "--tcp", "127.0.0.1:0", *extra)
    try:
        with tcp_client(process) as (sock, client):
            sock.sendall(b"t\n")
            temperatures = client.line_starting("T:")
            sock.sendall(b"s\n")
            return temperatures, client.line_starting("S:")
    finally:
        stop(process)


def test_fit_chamber_wires_a_new_simulated_chamber_whose_first_report_has_readings(tmp_path):
    temperatures, settings = _first_answers(tmp_path, "--fit-chamber", "19")

    report = parse_line(settings, Dialect.ESP)
    assert report.settings.mode is Mode.BEER_CONSTANT
    assert report.settings.beer_set == temp_from_celsius(19.0)
    beer = re.search(r'"BeerTemp":\s*([-\d.]+)', temperatures)
    assert beer and 5 < float(beer.group(1)) < 40, temperatures  # a reading, not 0 or null


def test_fit_chamber_leaves_a_chamber_the_brewer_already_set_up_alone(tmp_path):
    _first_answers(tmp_path, "--fit-chamber", "19")
    eeprom = tmp_path / "eeprom" / "eeprom.json"
    brewer_changed = eeprom.read_text().replace(
        f'"beer_set": {temp_from_celsius(19.0)}', f'"beer_set": {temp_from_celsius(12.5)}'
    )
    eeprom.write_text(brewer_changed)

    _, settings = _first_answers(tmp_path, "--fit-chamber", "19")

    assert parse_line(settings, Dialect.ESP).settings.beer_set == temp_from_celsius(12.5)
