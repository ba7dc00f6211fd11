"""FirmwareSession against our firmware process (both dialects, TCP and a pty as a serial port),
and against a fake peer for what our firmware never does (silence, refused versions, quirks).
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fermentrack.brewpi.devices import DeviceFunction
from fermentrack.brewpi.log_messages import ErrorId, LogMessage, expand_log_message
from fermentrack.brewpi.messages import (
    ConstantsReport,
    DeviceListReport,
    HardwareReport,
    LcdReport,
    ProbeNamesReport,
    SettingsReport,
    TemperatureReport,
    VariablesReport,
    VersionInfo,
)
from fermentrack.brewpi.settings import Mode
from fermentrack.brewpi.temperature import Dialect, TempFormat, temp_from_celsius
from fermentrack.controller.session import (
    FirmwareRefused,
    FirmwareSession,
    FirmwareTimeout,
    FirmwareUnsupported,
    LinkLost,
)

from .fake_firmware import AVR_VERSION, CONSTANTS, ESP_VERSION, FakeFirmware

FIRMWARE = [sys.executable, "-m", "fermentrack.cli", "firmware"]


def firmware_options(dialect: str) -> list[str]:
    return ["--dialect", dialect, "--speed", "20"]


def run(coro, timeout: float = 20.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


class FirmwareProcess:
    """`fermentrack firmware` at --speed 20, serving TCP or a pty; `url` is its link."""

    def __init__(self, folder: Path, transport: str, dialect: str) -> None:
        where = ["--tcp", "127.0.0.1:0"] if transport == "tcp" else ["--pty", str(folder / "tty")]
        self.process = subprocess.Popen(
            [*FIRMWARE, "--eeprom", str(folder / "eeprom"), *where, *firmware_options(dialect)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()
        assert "listening on" in line, f"firmware did not start: {line!r}"
        if transport == "tcp":
            self.port = int(re.search(r":(\d+)$", line.strip()).group(1))
            self.url = f"tcp://127.0.0.1:{self.port}"
        else:
            self.url = f"serial://{folder / 'tty'}"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(5)
        self.process.stdout.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()


@pytest.fixture(params=["tcp", "pty"])
def transport(request) -> str:
    return request.param


@pytest.fixture(params=["esp", "avr"])
def dialect(request) -> str:
    return request.param


@pytest.fixture
def firmware(tmp_path, transport, dialect):
    process = FirmwareProcess(tmp_path, transport, dialect)
    yield process
    process.stop()


@pytest.fixture
def tcp_firmware(tmp_path, dialect):
    process = FirmwareProcess(tmp_path, "tcp", dialect)
    yield process
    process.stop()


def session_for(url: str, **kwargs) -> FirmwareSession:
    return FirmwareSession(url, startup_delay_s=0, **kwargs)


# -- against our firmware ---------------------------------------------------------------------


def test_the_handshake_detects_the_dialect_over_tcp_and_over_a_serial_pty(firmware, dialect):
    async def scenario():
        session = session_for(firmware.url)
        started = time.monotonic()
        version = await session.connect()
        elapsed = time.monotonic() - started
        state = (session.connected, session.dialect, session.temp_format)
        await session.close()
        return version, state, elapsed, session.connected

    version, (connected, found, unit), elapsed, after_close = run(scenario())
    assert connected and not after_close
    assert found is Dialect(dialect)
    assert version.version == ("0.2.4" if dialect == "esp" else "0.2.13")
    assert unit is TempFormat.CELSIUS
    assert elapsed < 1.0


def test_every_request_type_is_answered_and_parsed(firmware, dialect):
    async def scenario():
        temperatures: list[TemperatureReport] = []
        logs: list[LogMessage] = []
        session = session_for(firmware.url, on_temperatures=temperatures.append, on_log=logs.append)
        await session.connect()
        replies = {
            "t": await session.request("t", expect=TemperatureReport),
            "s": await session.request("s", expect=SettingsReport),
            "c": await session.request("c", expect=ConstantsReport),
            "v": await session.request("v", expect=VariablesReport),
            "l": await session.request("l", expect=LcdReport),
            "n": await session.request("n", expect=VersionInfo),
            "d": await session.list_devices(),
            "h": await session.scan_hardware(),
            "U": await session.apply_device({"i": 0, "f": 3, "h": 1, "p": 5, "x": True}),
            "j": await session.apply_settings({"mode": "f", "fridgeSet": 4.0}),
        }
        replies["d after U"] = await session.list_devices()
        await session.reset_eeprom()
        replies["d after E"] = await session.list_devices()
        replies["s after E"] = await session.request("s", expect=SettingsReport)
        still_connected = session.connected
        await session.close()
        return replies, temperatures, logs, still_connected

    replies, temperatures, logs, still_connected = run(scenario())
    assert isinstance(replies["t"], TemperatureReport)
    assert replies["t"] in temperatures  # a polled T: goes to on_temperatures too
    assert replies["s"].settings.mode is Mode.OFF
    assert replies["c"].constants.temp_format is TempFormat.CELSIUS
    assert isinstance(replies["v"], VariablesReport)
    assert replies["l"].lines[0].startswith("Mode")
    assert any("°" in line for line in replies["l"].lines)
    assert isinstance(replies["n"], VersionInfo)
    assert isinstance(replies["d"], DeviceListReport)
    hardware = replies["h"]
    assert isinstance(hardware, HardwareReport)
    assert {device.pin for device in hardware.devices} >= {2, 5, 6}
    assert all(device.value is not None for device in hardware.devices)  # asked with values
    update, errors = replies["U"]
    assert errors == []
    assert update.device.function == DeviceFunction.CHAMBER_COOLER
    assert update.device.pin == 5 and update.device.invert is True
    settings, constants = replies["j"]
    assert settings.settings.mode is Mode.FRIDGE_CONSTANT
    assert settings.settings.fridge_set == temp_from_celsius(4.0)
    assert isinstance(constants, ConstantsReport)
    assert [device.function for device in replies["d after U"].devices] == [3]
    assert replies["d after U"].devices[0].value is not None  # the right d{...} for the dialect
    # E resets to defaults: no devices, mode off, and no reboot (the AVR `R` hazard, §9).
    assert replies["d after E"].devices == []
    assert replies["s after E"].settings.mode is Mode.OFF
    assert any(log.log_type == "I" and log.log_id == 15 for log in logs)
    assert still_connected


def test_settings_are_applied_and_the_temperature_format_is_tracked(tcp_firmware):
    async def scenario():
        temperatures: list[TemperatureReport] = []
        session = session_for(tcp_firmware.url, on_temperatures=temperatures.append)
        await session.connect()
        applied = await session.apply_settings({"mode": "b", "beerSet": 18.5})
        read_back = await session.request("s", expect=SettingsReport)
        in_fahrenheit = await session.apply_settings({"tempFormat": "F", "beerSet": 65.3})
        unit = session.temp_format
        polled = await session.request("t", expect=TemperatureReport)
        await session.apply_settings({"tempFormat": "C"})
        await session.close()
        return applied, read_back, in_fahrenheit, unit, polled, temperatures

    applied, read_back, (settings_f, constants_f), unit, polled, temperatures = run(scenario())
    assert applied[0].settings.mode is Mode.BEER_CONSTANT
    assert applied[0].settings.beer_set == temp_from_celsius(18.5)
    assert read_back.settings.beer_set == temp_from_celsius(18.5)
    assert any(report.beer_annotation for report in temperatures)  # "Beer temp set to 18.5 ..."
    assert unit is TempFormat.FAHRENHEIT
    assert constants_f.constants.temp_format is TempFormat.FAHRENHEIT
    # 65.3 °F is 18.5 °C: the S: and T: lines in °F are read in °F.
    assert abs(settings_f.settings.beer_set - temp_from_celsius(18.5)) <= 2
    assert abs(polled.beer_set - temp_from_celsius(18.5)) <= 2


def test_an_invalid_device_definition_returns_the_firmwares_own_errors(tcp_firmware):
    async def scenario():
        session = session_for(tcp_firmware.url)
        await session.connect()
        # A beer temperature sensor on a digital pin: the wrong hardware for the function.
        result = await session.apply_device({"i": 0, "f": 9, "h": 1, "p": 5})
        devices = await session.list_devices()
        await session.close()
        return result, devices

    (update, errors), devices = run(scenario())
    assert [error.log_id for error in errors] == [
        ErrorId.INVALID_DEVICE_DEFINITION,
        ErrorId.CANNOT_ASSIGN_TO_HARDWARE,
    ]
    texts = [expand_log_message(error) for error in errors]
    assert any("assign" in text.lower() for text in texts), texts
    assert update.device.function == DeviceFunction.NONE  # the slot is unchanged
    assert devices.devices == []


def test_killing_the_firmware_raises_link_lost_within_two_seconds(firmware):
    async def scenario():
        session = session_for(firmware.url)
        await session.connect()
        started = time.monotonic()
        firmware.kill()
        lost = await asyncio.wait_for(session.wait_lost(), 5)
        detected = time.monotonic() - started
        with pytest.raises(LinkLost):
            await session.request("t", expect=TemperatureReport)
        connected = session.connected
        await session.close()
        return lost, detected, connected

    lost, detected, connected = run(scenario())
    assert firmware.url in str(lost)
    assert detected < 2.0
    assert not connected


def test_a_removed_pty_raises_link_lost_within_two_seconds_and_cannot_be_reopened(tmp_path):
    firmware = FirmwareProcess(tmp_path, "pty", "esp")

    async def scenario():
        session = session_for(firmware.url)
        await session.connect()
        started = time.monotonic()
        firmware.stop()  # closes the pty and removes its link, as unplugging a board does
        lost = await asyncio.wait_for(session.wait_lost(), 5)
        detected = time.monotonic() - started
        with pytest.raises(LinkLost) as reopening:
            await session.connect()
        return lost, detected, reopening.value

    try:
        lost, detected, reopening = run(scenario())
    finally:
        firmware.stop()
    assert not (tmp_path / "tty").exists()
    assert detected < 2.0
    assert "tty" in str(lost) and "cannot open the serial port" in str(reopening)


def test_a_second_tcp_client_closing_our_socket_raises_link_lost_within_two_seconds(
    tcp_firmware,
):
    async def scenario():
        session = session_for(tcp_firmware.url)
        await session.connect()
        started = time.monotonic()
        other = socket.create_connection(("127.0.0.1", tcp_firmware.port))
        try:
            await asyncio.wait_for(session.wait_lost(), 5)
            detected = time.monotonic() - started
            with pytest.raises(LinkLost):
                await session.request("s", expect=SettingsReport)
        finally:
            other.close()
        await session.close()
        return detected

    assert run(scenario()) < 2.0


def test_a_session_connects_again_after_the_firmware_came_back(tmp_path):
    async def scenario():
        first = FirmwareProcess(tmp_path, "pty", "avr")
        session = session_for(first.url)
        await session.connect()
        first.kill()
        await asyncio.wait_for(session.wait_lost(), 5)
        second = FirmwareProcess(tmp_path, "pty", "avr")
        try:
            version = await session.connect()
            settings = await session.request("s", expect=SettingsReport)
        finally:
            await session.close()
            second.stop()
        return version, settings

    version, settings = run(scenario())
    assert version.version == "0.2.13"
    assert isinstance(settings, SettingsReport)


# -- against a fake peer ----------------------------------------------------------------------


def test_a_silent_peer_gives_firmware_timeout_and_the_session_stays_usable():
    async def scenario():
        peer = FakeFirmware(answers={"s": b""})  # answers n and c, never s
        session = session_for(await peer.start())
        await session.connect()
        started = time.monotonic()
        with pytest.raises(FirmwareTimeout) as timed_out:
            await session.request("s", expect=SettingsReport, timeout=0.3)
        waited = time.monotonic() - started
        constants = await session.request("c", expect=ConstantsReport)
        connected = session.connected
        await session.close()
        await peer.close()
        return timed_out.value, waited, constants, connected

    error, waited, constants, connected = run(scenario())
    assert "no S: reply" in str(error) and "within 0.3 s" in str(error)
    assert 0.29 <= waited < 1.0
    assert isinstance(constants, ConstantsReport) and connected


def test_a_request_waiting_for_its_reply_gets_link_lost_when_the_peer_hangs_up():
    async def scenario():
        peer = FakeFirmware(answers={"s": b""})
        session = session_for(await peer.start())
        await session.connect()
        request = asyncio.ensure_future(session.request("s", expect=SettingsReport, timeout=10))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        peer.drop_client()
        with pytest.raises(LinkLost):
            await request
        elapsed = time.monotonic() - started
        await session.close()
        await peer.close()
        return elapsed

    assert run(scenario()) < 1.0


def test_no_version_reply_is_refused_after_resending_n_each_silent_second():
    async def scenario():
        peer = FakeFirmware(version=None)
        url = await peer.start()
        session = FirmwareSession(url, startup_delay_s=0, handshake_timeout_s=2.5)
        started = time.monotonic()
        with pytest.raises(FirmwareRefused) as refused:
            await session.connect()
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.05)
        await peer.close()
        return url, refused.value, elapsed, peer.sent_commands("n"), session.connected

    url, error, elapsed, sent, connected = run(scenario())
    assert str(error) == f"no version reply from the firmware at {url} within 2.5 s"
    assert not isinstance(error, FirmwareUnsupported)  # worth trying again later
    assert 2.4 <= elapsed < 3.5
    assert sent == ["n", "n", "n"]  # at 0, 1 and 2 s
    assert not connected


def test_the_default_handshake_gives_up_after_ten_seconds_and_waits_ten_on_serial():
    assert FirmwareSession("tcp://127.0.0.1:23").handshake_timeout_s == 10
    assert FirmwareSession("tcp://127.0.0.1:23").startup_delay_s == 0
    assert FirmwareSession("serial:///dev/ttyUSB0").startup_delay_s == 10
    assert FirmwareSession("serial-by-id://75237333536351F0B0A1").startup_delay_s == 10


@pytest.mark.parametrize(
    ("version", "words"),
    [
        (b'N:{"v":"0.4.2","n":"x","s":4,"y":0,"b":"y","l":"3"}\r\n', "0.4.2 speaks the newer"),
        (b'N:{"v":"0.5.0","n":"x","s":0,"y":0,"b":"y","l":"3"}\r\n', "0.5.0 speaks the newer"),
        (b'N:{"v":"0.2.3","n":"x","s":2,"y":0,"b":"s","l":"3"}\r\n', "0.2.3 is older than 0.2.4"),
        (b"N:0.1.0\r\n", "0.1.0 is older than 0.2.4"),
        (b'N:{"v":"brewblox","n":"x"}\r\n', "not a BrewPi version"),
    ],
)
def test_firmware_we_cannot_drive_is_refused_in_words(version, words):
    async def scenario():
        peer = FakeFirmware(version=version)
        session = session_for(await peer.start())
        with pytest.raises(FirmwareUnsupported) as refused:  # a FirmwareRefused
            await session.connect()
        await peer.close()
        return refused.value, session.connected

    error, connected = run(scenario())
    assert words in str(error)
    assert "Fermentrack" in str(error) or "BrewPi" in str(error)
    assert not connected


@pytest.mark.parametrize(
    ("version", "dialect"),
    [
        (ESP_VERSION, Dialect.ESP),
        (AVR_VERSION, Dialect.AVR),
        (b'N:{"v":"0.2.4","n":"x","s":0,"y":0,"b":"3","l":3}\r\n', Dialect.ESP),  # ESP32
        (b'N:{"v":"0.2.4","n":"x","s":0,"y":0,"b":"?","l":3}\r\n', Dialect.ESP),  # l a number
        (b'N:{"v":"0.2.11","n":"x","s":3,"y":0,"b":"y","l":"1"}\r\n', Dialect.AVR),  # Photon
    ],
)
def test_the_dialect_follows_the_board_letter_and_the_type_of_l(version, dialect):
    async def scenario():
        peer = FakeFirmware(version=version)
        session = session_for(await peer.start())
        await session.connect()
        found = session.dialect
        await session.close()
        await peer.close()
        return found

    assert run(scenario()) is dialect


def test_the_startup_delay_is_waited_before_the_first_n():
    async def scenario():
        peer = FakeFirmware()
        session = FirmwareSession(await peer.start(), startup_delay_s=0.4)
        loop = asyncio.get_running_loop()
        opened = loop.time()
        await session.connect()
        first_n = next(at for at, command in peer.commands if command == "n")
        await session.close()
        await peer.close()
        return first_n - opened

    assert run(scenario()) >= 0.39


def test_the_esp_probe_names_reply_is_not_taken_for_the_version():
    names = b'N:{"28FF1234567890AB":"Fermenter probe"}\r\n'

    async def scenario():
        # The probe names come first, in the same N: form: they must not count as a version.
        peer = FakeFirmware(version=names + ESP_VERSION, answers={"p": names})
        session = session_for(await peer.start())
        version = await session.connect()
        probe_names = await session.request("p", expect=ProbeNamesReport)
        await session.close()
        await peer.close()
        return version, probe_names, session.version

    version, probe_names, kept = run(scenario())
    assert version.version == "0.2.4" and kept == version
    assert probe_names.names == {"28FF1234567890AB": "Fermenter probe"}


def test_reset_eeprom_sends_bare_e_to_avr_and_the_confirmed_form_to_esp():
    done = b'D:{"logType":"I","logID":15,"V":[]}\r\n'

    async def scenario(version: bytes) -> list[str]:
        peer = FakeFirmware(version=version, answers={"E": done})
        session = session_for(await peer.start())
        await session.connect()
        await session.reset_eeprom()
        await session.close()
        await peer.close()
        return peer.sent_commands("E")

    assert run(scenario(AVR_VERSION)) == ["E"]
    assert run(scenario(ESP_VERSION)) == ['E{"confirmReset":true}']


def test_list_devices_asks_for_values_the_way_each_dialect_reads_them():
    async def scenario(version: bytes) -> list[str]:
        peer = FakeFirmware(version=version, answers={"d": b"d:[]\r\n", "h": b"h:[]\r\n"})
        session = session_for(await peer.start())
        await session.connect()
        await session.list_devices()
        await session.scan_hardware()
        await session.scan_hardware(not_installed_only=True)
        await session.close()
        await peer.close()
        return peer.sent_commands("d") + peer.sent_commands("h")

    assert run(scenario(AVR_VERSION)) == ['d{"r":1}', 'h{"v":1}', 'h{"u":-1,"v":1}']
    assert run(scenario(ESP_VERSION)) == ['d{"v":1}', 'h{"v":1}', 'h{"u":-1,"v":1}']


def test_a_log_message_inside_a_reply_is_taken_out_and_the_reply_still_parses():
    device = b'{"i":0,"t":3,"c":1,"b":0,"f":3,"h":1,"d":0,"p":5,"v":0,"x":1}'
    other = b'{"i":1,"t":3,"c":1,"b":0,"f":2,"h":1,"d":0,"p":6,"v":0,"x":1}'
    log_line = b'D:{"logType":"W","logID":2,"V":[6,"2801EEFFC00000E9"]}\r\n'
    reply = b"d:[" + device + b"," + log_line + other + b"]\r\n"

    async def scenario():
        logs: list[LogMessage] = []
        peer = FakeFirmware(version=AVR_VERSION, answers={"d": reply})
        session = session_for(await peer.start(), on_log=logs.append)
        await session.connect()
        devices = await session.list_devices()
        await session.close()
        await peer.close()
        return devices, logs

    devices, logs = run(scenario())
    assert [device.pin for device in devices.devices] == [5, 6]
    assert logs == [LogMessage("W", 2, [6, "2801EEFFC00000E9"])]


def test_compact_avr_temperature_lines_are_merged_onto_the_previous_report():
    full = b'T:{"BeerTemp": 19.50,"BeerSet": 20.00,"BeerAnn":null,"FridgeTemp": 15.00,'
    full += b'"FridgeSet": 10.00,"FridgeAnn":null,"State":4}\r\n'

    async def scenario():
        reports: list[TemperatureReport] = []
        peer = FakeFirmware(version=AVR_VERSION)
        session = session_for(await peer.start(), on_temperatures=reports.append)
        await session.connect()
        await peer.send(full + b'T:{"bt": 19.75,"s":3}\r\n')
        for _ in range(50):
            if len(reports) == 2:
                break
            await asyncio.sleep(0.02)
        await session.close()
        await peer.close()
        return reports

    first, merged = run(scenario())
    assert merged.beer_temp == temp_from_celsius(19.75) and merged.state == 3
    assert merged.fridge_temp == first.fridge_temp == temp_from_celsius(15.0)
    assert merged.beer_set == temp_from_celsius(20.0)
    assert not merged.missing


def test_raw_esp_lines_and_garbage_go_to_on_line_and_nothing_raises():
    async def scenario():
        lines: list[str] = []
        peer = FakeFirmware()
        session = session_for(await peer.start(), on_line=lines.append)
        await session.connect()
        await peer.send(
            b'Invalid command received "z" (0x7A)\r\nT:{"BeerTemp":[1]}\r\n\xff\xfe\r\nQ:{}\r\n'
        )
        settings = await session.request("s", expect=SettingsReport)
        await session.close()
        await peer.close()
        return lines, settings

    lines, settings = run(scenario())
    assert lines[0] == 'Invalid command received "z" (0x7A)'
    assert lines[1] == 'T:{"BeerTemp":[1]}'
    assert len(lines) == 4
    assert isinstance(settings, SettingsReport)


def test_lone_surrogate_escapes_from_the_firmware_arrive_as_replacement_characters():
    # JSON can escape half a UTF-16 surrogate pair; such a text could never be written as UTF-8
    # (to the outbox, to the web app), so the session hands on U+FFFD instead.
    lcd = b'L:["\\ud800","\\udfff\xb0C","\\ud83c\\udf7a ok","plain"]\r\n'
    log = b'D:{"logType":"E","logID":1,"V":["\\udc00x"]}\r\n'
    annotated = b'T:{"BeerTemp":19.5,"BeerAnn":"\\ud83c!"}\r\n'

    async def scenario():
        reports: list[TemperatureReport] = []
        logs: list[LogMessage] = []
        peer = FakeFirmware(answers={"l": log + lcd})
        session = session_for(
            await peer.start(), on_temperatures=reports.append, on_log=logs.append
        )
        await session.connect()
        await peer.send(annotated)
        reply = await session.request("l", expect=LcdReport)
        await session.close()
        await peer.close()
        return reply, logs, reports

    reply, logs, reports = run(scenario())
    assert reply.lines == ("\ufffd", "\ufffd°C", "\U0001f37a ok", "plain")
    assert [message.values for message in logs] == [["\ufffdx"]]
    assert [report.beer_annotation for report in reports] == ["\ufffd!"]
    assert reports[0].beer_temp == temp_from_celsius(19.5)


def test_temperatures_before_the_unit_is_known_are_not_passed_on():
    early = b'T:{"BeerTemp":68.0,"BeerSet":68.0,"BeerAnn":null,"FridgeTemp":60.0,"FridgeSet":'
    early += b'60.0,"FridgeAnn":null,"RoomTemp":"","State":1}\r\n'
    fahrenheit = CONSTANTS.replace(b'"tempFormat":"C"', b'"tempFormat":"F"')

    async def scenario():
        reports: list[TemperatureReport] = []
        peer = FakeFirmware(version=ESP_VERSION + early, answers={"c": fahrenheit + early})
        session = session_for(await peer.start(), on_temperatures=reports.append)
        await session.connect()
        for _ in range(50):
            if reports:
                break
            await asyncio.sleep(0.02)
        unit = session.temp_format
        await session.close()
        await peer.close()
        return reports, unit

    reports, unit = run(scenario())
    assert unit is TempFormat.FAHRENHEIT
    assert [report.beer_temp for report in reports] == [temp_from_celsius(20.0)]
