"""Real hardware on a Raspberry Pi: DS18B20 probes on the kernel's 1-Wire bus, relays on GPIO.

The probes are read through sysfs (`/sys/bus/w1/devices/28-*/temperature`). A conversion takes
up to 750 ms each, so a background thread reads them in turn and the control loop only takes
the latest reading: a slow or dead probe never stalls temperature control. Relays and the door
switch go through libgpiod (the `gpiod` package, `pip install fermentrack[pi]`).

Which pins are which comes from the environment, read once here:
  FERMENTRACK_GPIO_CHIP            default /dev/gpiochip0
  FERMENTRACK_GPIO_OUTPUT_PINS     BCM numbers of relay pins, default 17,27,22,23
  FERMENTRACK_GPIO_DOOR_PIN        BCM number of the door switch, default 24 (empty: none)
  FERMENTRACK_W1_DEVICES           default /sys/bus/w1/devices
"""

from __future__ import annotations

import logging
import os
import threading
import time
from functools import partial
from pathlib import Path

from fermentrack.brewpi.devices import onewire_address
from fermentrack.firmware.hardware_interface import CelsiusProbe, PinLines, PinRelay, PinSwitch

log = logging.getLogger(__name__)

ONEWIRE_BUS_PIN = 4  # the kernel's w1-gpio default: shown as the bus pin in `h` listings
STALE_AFTER_S = 10.0  # a reading older than this counts as a disconnected probe
DS18B20_FAMILY = "28"


def address_from_sysfs(name: str) -> str:
    """`28-0316a27985ff` (family, serial) as BrewPi's 16 hex digits: ROM bytes, CRC last."""
    family, _, serial = name.partition("-")
    return onewire_address(int(family, 16), int(serial, 16))


def read_sysfs_celsius(device_folder: Path) -> float | None:
    """One conversion: None when the probe does not answer or its CRC check failed."""
    try:
        text = (device_folder / "temperature").read_text().strip()
        if text:
            return int(text) / 1000.0
    except FileNotFoundError:
        pass  # older kernels only have w1_slave
    except (OSError, ValueError):
        return None
    try:
        lines = (device_folder / "w1_slave").read_text().splitlines()
    except OSError:
        return None
    if len(lines) < 2 or not lines[0].strip().endswith("YES") or "t=" not in lines[1]:
        return None
    try:
        celsius = int(lines[1].rsplit("t=", 1)[1]) / 1000.0
    except ValueError:
        return None
    # 85.000 is the DS18B20's power-on value: a conversion that never happened.
    return None if celsius == 85.0 else celsius


class OneWireBus:
    """Reads every DS18B20 in a sysfs tree in the background and keeps the latest readings."""

    def __init__(self, devices_folder: Path, *, interval_s: float = 1.0) -> None:
        self.devices_folder = Path(devices_folder)
        self.interval_s = interval_s
        self._readings: dict[str, tuple[float, float]] = {}  # address -> (celsius, when)
        self._folders: dict[str, Path] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def scan(self) -> list[str]:
        found = {}
        for folder in sorted(self.devices_folder.glob(f"{DS18B20_FAMILY}-*")):
            try:
                found[address_from_sysfs(folder.name)] = folder
            except ValueError:
                log.warning("ignoring 1-Wire device with an odd name: %s", folder.name)
        with self._lock:
            self._folders = found
        return list(found)

    def read_all_once(self) -> None:
        with self._lock:
            folders = dict(self._folders)
        for address, folder in folders.items():
            celsius = read_sysfs_celsius(folder)
            if celsius is not None:
                with self._lock:
                    self._readings[address] = (celsius, time.monotonic())

    def start(self) -> None:
        self.scan()
        self._thread = threading.Thread(target=self._run, name="onewire", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.scan()
            self.read_all_once()
            self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))

    def latest(self, address: str) -> float | None:
        with self._lock:
            reading = self._readings.get(address)
        if reading is None or time.monotonic() - reading[1] > STALE_AFTER_S:
            return None
        return reading[0]

    def addresses(self) -> list[str]:
        with self._lock:
            return list(self._folders)


class LibgpiodLines:
    """The Pi's pins (PinLines) on a real chip, through libgpiod 2."""

    def __init__(self, chip: str, outputs: tuple[int, ...], inputs: tuple[int, ...]) -> None:
        try:
            import gpiod  # only on a Pi: imported here so the simulator never needs it
            from gpiod.line import Direction, Value
        except ImportError:
            raise ValueError(
                "--hardware pi needs the Python bindings of libgpiod 2 (gpiod 2.x; the system's "
                "older python3-libgpiod will not do): pip install 'fermentrack[pi]'"
            ) from None

        self._value = Value
        config = {
            pin: gpiod.LineSettings(direction=Direction.OUTPUT, output_value=Value.ACTIVE)
            for pin in outputs
        }
        config.update({pin: gpiod.LineSettings(direction=Direction.INPUT) for pin in inputs})
        try:
            self._request = gpiod.request_lines(chip, consumer="fermentrack", config=config)
        except OSError as error:
            raise ValueError(
                f"GPIO chip {chip} (FERMENTRACK_GPIO_CHIP): {error.strerror or error}; "
                f"pins asked for: relays {_listed(outputs)}, door {_listed(inputs)}"
            ) from None

    def set_output(self, pin: int, high: bool) -> None:
        self._request.set_value(pin, self._value.ACTIVE if high else self._value.INACTIVE)

    def read_input(self, pin: int) -> bool:
        return self._request.get_value(pin) == self._value.ACTIVE


def _listed(pins: tuple[int, ...]) -> str:
    return ",".join(str(pin) for pin in pins) or "none"


def _pins(name: str, default: str) -> tuple[int, ...]:
    text = os.environ.get(name, default).strip()
    try:
        pins = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"{name}={text!r}: expected BCM pin numbers separated by commas") from None
    if any(not 0 <= pin <= 53 for pin in pins):
        raise ValueError(f"{name}={text!r}: BCM pin numbers go from 0 to 53")
    return pins


class PiBoard:
    """The hardware backend for `--hardware pi` (see DeviceManager's HardwareBackend)."""

    onewire_pins = (ONEWIRE_BUS_PIN,)

    def __init__(
        self,
        bus: OneWireBus,
        lines: PinLines,
        output_pins: tuple[int, ...],
        door_pins: tuple[int, ...],
    ) -> None:
        self.bus = bus
        self.lines = lines
        self.actuator_pins = output_pins
        self.switch_pins = door_pins

    @classmethod
    def from_environment(cls) -> PiBoard:
        outputs = _pins("FERMENTRACK_GPIO_OUTPUT_PINS", "17,27,22,23")
        doors = _pins("FERMENTRACK_GPIO_DOOR_PIN", "24")
        bus = OneWireBus(Path(os.environ.get("FERMENTRACK_W1_DEVICES", "/sys/bus/w1/devices")))
        lines = LibgpiodLines(
            os.environ.get("FERMENTRACK_GPIO_CHIP", "/dev/gpiochip0"), outputs, doors
        )
        bus.start()
        return cls(bus, lines, outputs, doors)

    def onewire_addresses(self, pin: int) -> list[str]:
        return self.bus.addresses() if pin == ONEWIRE_BUS_PIN else []

    def temp_sensor(self, pin: int, address: str) -> CelsiusProbe:
        return CelsiusProbe(partial(self.bus.latest, address))

    def actuator(self, pin: int, invert: bool) -> PinRelay:
        return PinRelay(self.lines, pin, invert)

    def switch(self, pin: int, invert: bool) -> PinSwitch:
        return PinSwitch(self.lines, pin, invert)

    def advance(self) -> None:
        pass  # real time moves by itself
