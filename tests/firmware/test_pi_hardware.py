"""The Pi backend: DS18B20 probes through a sysfs tree, relays and the door through GPIO lines.

This machine has no 1-Wire bus and no GPIO chip, so the tests give it a sysfs-shaped folder and
a recording stand-in for libgpiod, the two things the backend touches.
"""

from __future__ import annotations

from pathlib import Path

from board_rig import CapturedBoard

from fermentrack.brewpi.commands import encode_command
from fermentrack.brewpi.temperature import INVALID_TEMP, Dialect, temp_from_celsius
from fermentrack.firmware import pi_hardware
from fermentrack.firmware.board import Board
from fermentrack.firmware.pi_hardware import (
    ONEWIRE_BUS_PIN,
    OneWireBus,
    PiBoard,
    address_from_sysfs,
    read_sysfs_celsius,
)


class RecordingLines:
    def __init__(self) -> None:
        self.levels: dict[int, bool] = {}
        self.inputs: dict[int, bool] = {}

    def set_output(self, pin: int, high: bool) -> None:
        self.levels[pin] = high

    def read_input(self, pin: int) -> bool:
        return self.inputs.get(pin, False)


def add_probe(root: Path, name: str, millidegrees: int | None, *, legacy: bool = False) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    if legacy:
        crc = "YES" if millidegrees is not None else "NO"
        scratchpad = "72 01 4b 46 7f ff 0e 10 57"
        (folder / "w1_slave").write_text(
            f"{scratchpad} : crc=57 {crc}\n{scratchpad} t={millidegrees or 0}\n"
        )
    else:
        (folder / "temperature").write_text("" if millidegrees is None else f"{millidegrees}\n")
    return folder


def test_probe_readings_come_from_the_temperature_file_or_the_older_w1_slave(tmp_path):
    assert read_sysfs_celsius(add_probe(tmp_path, "28-000000000001", 19625)) == 19.625
    assert read_sysfs_celsius(add_probe(tmp_path, "28-000000000002", 4500, legacy=True)) == 4.5


def test_a_failed_crc_or_the_power_on_value_is_not_a_reading(tmp_path):
    assert read_sysfs_celsius(add_probe(tmp_path, "28-000000000003", None, legacy=True)) is None
    assert read_sysfs_celsius(add_probe(tmp_path, "28-000000000004", 85000, legacy=True)) is None
    assert read_sysfs_celsius(tmp_path / "28-gone") is None


def test_sysfs_names_become_brewpi_rom_addresses():
    assert address_from_sysfs("28-0316a27985ff") == "28FF8579A2160377"


def test_the_bus_lists_probes_and_serves_their_latest_reading(tmp_path):
    add_probe(tmp_path, "28-000000000001", 20125)
    add_probe(tmp_path, "10-000000000009", 1000)  # not a DS18B20: ignored
    bus = OneWireBus(tmp_path)
    (address,) = bus.scan()
    assert bus.latest(address) is None  # nothing read yet
    bus.read_all_once()
    assert bus.latest(address) == 20.125


def test_a_pi_board_drives_its_relays_from_the_control_loop(tmp_path):
    w1 = tmp_path / "w1"
    add_probe(w1, "28-000000000001", 24000)  # fridge, too warm
    add_probe(w1, "28-000000000002", 22000)  # beer, too warm
    bus = OneWireBus(w1)
    bus.scan()
    bus.read_all_once()
    lines = RecordingLines()
    pi = PiBoard(bus, lines, output_pins=(17, 27), door_pins=(24,))
    board = CapturedBoard(Board(tmp_path / "eeprom", Dialect.ESP, pi))
    fridge, beer = bus.addresses()
    for slot, function, address in ((0, 5, fridge), (1, 9, beer)):
        board.ask(
            encode_command(
                "U", {"i": slot, "f": function, "h": 2, "p": ONEWIRE_BUS_PIN, "a": address}
            )
        )
    board.ask(encode_command("U", {"i": 2, "f": 3, "h": 1, "p": 17, "x": 1}))  # cooler, active low
    assert lines.levels[17] is True  # relay off
    board.ask('j{mode:"b",beerSet:18}')
    for _ in range(700):  # past the 600 s guard after boot
        bus.read_all_once()
        board.board.tick()
    assert board.board.control.cooler.active
    assert lines.levels[17] is False  # active low: the pin is pulled down to run the compressor
    assert board.board.control.beer_sensor.read_fast() == temp_from_celsius(22.0)


def test_a_probe_that_stops_answering_reads_as_invalid(tmp_path, monkeypatch):
    folder = add_probe(tmp_path, "28-000000000001", 20000)
    bus = OneWireBus(tmp_path)
    (address,) = bus.scan()
    pi = PiBoard(bus, RecordingLines(), output_pins=(17,), door_pins=())
    probe = pi.temp_sensor(ONEWIRE_BUS_PIN, address)
    assert probe.read() == INVALID_TEMP
    bus.read_all_once()
    assert probe.init() and probe.read() == temp_from_celsius(20.0)
    (folder / "temperature").unlink()
    bus.read_all_once()
    assert probe.read() == temp_from_celsius(20.0)  # the last reading, while it is fresh
    monkeypatch.setattr(pi_hardware, "STALE_AFTER_S", -1.0)
    assert probe.read() == INVALID_TEMP


def test_the_door_switch_reads_its_input_pin(tmp_path):
    lines = RecordingLines()
    pi = PiBoard(OneWireBus(tmp_path), lines, output_pins=(17,), door_pins=(24,))
    door = pi.switch(24, invert=False)
    assert not door.sense()
    lines.inputs[24] = True
    assert door.sense()
