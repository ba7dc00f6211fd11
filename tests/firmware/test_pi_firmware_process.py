"""A real `fermentrack firmware --hardware pi` process: probes from a sysfs-shaped folder, relays
on the libgpiod stand-in in tests/support (this machine has no 1-Wire bus and no GPIO chip)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from test_firmware_process import FIRMWARE, stop, tcp_client
from test_pi_hardware import add_probe

from fermentrack.brewpi.messages import HardwareReport, parse_line
from fermentrack.brewpi.temperature import Dialect

SUPPORT = Path(__file__).resolve().parents[1] / "support"


def pi_environment(tmp_path: Path, *, standin: bool = True, chip: bool = True) -> dict[str, str]:
    w1 = tmp_path / "w1"
    add_probe(w1, "28-000000000001", 18500)
    add_probe(w1, "28-000000000002", 19250)
    if chip:
        (tmp_path / "gpiochip0").mkdir()
    env = {
        **os.environ,
        "FERMENTRACK_W1_DEVICES": str(w1),
        "FERMENTRACK_GPIO_CHIP": str(tmp_path / "gpiochip0"),
        "FERMENTRACK_GPIO_OUTPUT_PINS": "17,27",
        "FERMENTRACK_GPIO_DOOR_PIN": "24",
        "FERMENTRACK_HOME": str(tmp_path / "home"),
    }
    # The stand-in, or a gpiod that is not libgpiod 2's (whatever this machine has installed).
    env["PYTHONPATH"] = str(SUPPORT if standin else SUPPORT / "without_gpiod")
    return env


def pi_firmware(tmp_path: Path, *where: str) -> list[str]:
    return [*FIRMWARE, "--eeprom", str(tmp_path / "eeprom"), "--hardware", "pi", *where]


def run_until_it_stops(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        pi_firmware(tmp_path, "--tcp", "127.0.0.1:0"),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_pi_firmware_lists_the_buses_probes_and_its_relay_pins_and_leaves_the_relays_off(
    tmp_path,
):
    env = pi_environment(tmp_path)
    process = subprocess.Popen(
        pi_firmware(tmp_path, "--tcp", "127.0.0.1:0", "--no-mdns"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with tcp_client(process) as (sock, client):
            sock.sendall(b"h{}\n")
            report = parse_line(client.line_starting("h:"), Dialect.ESP)
    finally:
        stop(process)
    assert process.returncode == 0, process.stderr.read()
    assert isinstance(report, HardwareReport)
    addresses = {d.address for d in report.devices if d.address}
    assert addresses == {"2801000000000029", "2802000000000070"}
    pins = {d.pin for d in report.devices if not d.address}
    assert {17, 27, 24} <= pins
    # Requested high: an active-low relay board's relays stay off until control turns them on.
    levels = json.loads((tmp_path / "gpiochip0" / "levels.json").read_text())
    assert levels == {"17": True, "27": True}


def test_a_pi_firmware_without_libgpiod_stops_with_one_line_naming_the_package(tmp_path):
    result = run_until_it_stops(tmp_path, pi_environment(tmp_path, standin=False))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "fermentrack firmware: --hardware pi needs the Python bindings of libgpiod 2 (gpiod 2.x; "
        "the system's older python3-libgpiod will not do): pip install 'fermentrack[pi]'"
    ]


def test_a_missing_gpio_chip_stops_the_firmware_naming_the_chip_and_the_pins(tmp_path):
    result = run_until_it_stops(tmp_path, pi_environment(tmp_path, chip=False))
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert f"GPIO chip {tmp_path / 'gpiochip0'} (FERMENTRACK_GPIO_CHIP)" in line
    assert "No such file or directory" in line
    assert "relays 17,27, door 24" in line
