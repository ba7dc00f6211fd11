"""The sensors and actuators of a device: what is installed, what is free, and what to send.

The controller answers `list_devices` with {"devices": [...]} and `scan_hardware` with
{"hardware": [...]}: device objects in the protocol's keys (brewpi-protocol §7.2), temperatures
in the device's unit. `apply_device` takes one definition and answers {"definition": {...}}, the
resulting one, plus "errors" (the firmware's validation messages in words) when the firmware
refused it. Reading the answers is pure; `load`, `assign` and `uninstall` talk to the controller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

from fermentrack.brewpi.devices import (
    BEER_FUNCTIONS,
    TEMP_SENSOR_HARDWARE,
    DeviceFunction,
    DeviceHardware,
    DeviceType,
    device_type_for,
    function_name,
    is_assignable,
)
from fermentrack.controller import client
from fermentrack.controller.client import ControllerProblem, ControllerUnavailable
from fermentrack.web.devices.control import Outcome, problem_message
from fermentrack.web.devices.models import Device

F = DeviceFunction
# The functions the control loop uses (brewpi-protocol §7.1), in the order a brewer picks them.
OFFERED_FUNCTIONS = (
    F.CHAMBER_COOLER,
    F.CHAMBER_HEATER,
    F.CHAMBER_TEMP,
    F.BEER_TEMP,
    F.ROOM_TEMP,
    F.CHAMBER_DOOR,
    F.CHAMBER_LIGHT,
    F.CHAMBER_FAN,
)
FUNCTION_LABELS = {
    F.NONE: "Nothing",
    F.CHAMBER_DOOR: "Chamber door",
    F.CHAMBER_HEATER: "Heater",
    F.CHAMBER_COOLER: "Cooler",
    F.CHAMBER_LIGHT: "Chamber light",
    F.CHAMBER_TEMP: "Fridge temperature",
    F.ROOM_TEMP: "Room temperature",
    F.CHAMBER_FAN: "Chamber fan",
    F.BEER_TEMP: "Beer temperature",
}
del F

H = DeviceHardware
HARDWARE_LABELS = {
    H.NONE: "No hardware",
    H.PIN: "Pin",
    H.ONEWIRE_TEMP: "1-Wire temperature sensor",
    H.DS2413: "DS2413 1-Wire switch",
    H.RESERVED_MODERN: "Reserved hardware",
    H.INKBIRD_BT: "Inkbird Bluetooth thermometer",
    H.TILT_BT: "Tilt (as a thermometer)",
    H.TPLINK_PLUG: "TP-Link Kasa plug",
}
INVERTIBLE_HARDWARE = frozenset({H.PIN, H.DS2413})
del H

# Slots in the firmware's EEPROM (brewpi-protocol §7.1), by dialect.
SLOTS = {"avr": 16, "esp": 20}


def function_label(function: int) -> str:
    """A function in the brewer's words: "Cooler"; others as the protocol names them."""
    if function in FUNCTION_LABELS:
        return FUNCTION_LABELS[function]  # type: ignore[index]
    return function_name(function).capitalize()


def hardware_label(hardware: int) -> str:
    if hardware in HARDWARE_LABELS:
        return HARDWARE_LABELS[hardware]  # type: ignore[index]
    return f"Hardware kind {hardware}"


def fitting_functions(hardware: int) -> list[int]:
    """The offered functions this kind of hardware can do (pins: door and switches; sensors:
    temperatures)."""
    return [int(f) for f in OFFERED_FUNCTIONS if is_assignable(device_type_for(f), hardware)]


def join_words(words: list[str], last: str = "or") -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


# -- reading the controller's answers ---------------------------------------------------------


def _integer(value: object) -> int | None:
    """A protocol number however the dialect printed it: 5, " 5", 5.0, true."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        return int(value)
    return None


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return bool(value) if isinstance(value, bool | int | float) else False


def _degrees(value: object) -> float | None:
    """A temperature or a difference: a number, or text such as " 0.000" (ESP's `j`)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class HardwareRow:
    """One piece of hardware: installed in `slot` with `function`, or free (`slot` None)."""

    hardware: int
    pin: int
    address: str = ""
    child_id: int | None = None
    alias: str = ""
    slot: int | None = None
    function: int = 0
    inverted: bool = False
    calibration: float | None = None  # temperature sensors: a difference in the device's unit
    value: float | bool | None = None
    temp_format: str = "C"
    found: bool = True  # False: installed, but the latest scan did not list it

    @property
    def key(self) -> str:
        """Names the hardware (not the slot) in forms: kind/pin/child/address."""
        child = "" if self.child_id is None else self.child_id
        return f"{self.hardware}/{self.pin}/{child}/{self.address}"

    @property
    def html_id(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", f"hw-{self.key}".lower()).strip("-")

    @property
    def installed(self) -> bool:
        return self.slot is not None

    @property
    def reads_temperature(self) -> bool:
        return (
            self.hardware in TEMP_SENSOR_HARDWARE
            or device_type_for(self.function) is DeviceType.TEMP_SENSOR
        )

    @property
    def takes_invert(self) -> bool:
        return self.hardware in INVERTIBLE_HARDWARE

    @property
    def takes_calibration(self) -> bool:
        return self.hardware in TEMP_SENSOR_HARDWARE

    @property
    def function_label(self) -> str:
        return function_label(self.function)

    @property
    def hardware_label(self) -> str:
        return hardware_label(self.hardware)

    @property
    def functions(self) -> list[int]:
        """What this hardware may be assigned; its present function stays a choice."""
        fitting = fitting_functions(self.hardware)
        if self.installed and self.function not in fitting:
            fitting.append(self.function)
        return fitting

    @property
    def function_choices(self) -> list[tuple[int, str]]:
        return [(function, function_label(function)) for function in self.functions]

    @property
    def name(self) -> str:
        """The hardware in a few words: "pin 5", "sensor 2801EEFFC00000E9"."""
        if self.hardware == DeviceHardware.PIN:
            return f"pin {self.pin}"
        if self.takes_calibration:
            return f"sensor {self.address}" if self.address else f"sensor on pin {self.pin}"
        what = self.hardware_label.lower()
        return f"{what} {self.alias or self.address}".strip()

    @property
    def title(self) -> str:
        """A card's heading: what it does once installed, else what it is ("Pin 2")."""
        return self.function_label if self.installed else self.name[:1].upper() + self.name[1:]

    @property
    def location(self) -> str:
        """Where it is wired: the pin, or the bus and the address."""
        if self.hardware in (DeviceHardware.ONEWIRE_TEMP, DeviceHardware.DS2413):
            where = f"1-Wire bus on pin {self.pin}, address {self.address or 'unknown'}"
            return where if self.child_id is None else f"{where}, output {self.child_id}"
        if self.hardware == DeviceHardware.PIN:
            return f"pin {self.pin}"
        parts = [f"address {self.address}" if self.address else ""]
        if self.alias:
            parts.insert(0, self.alias)
        if self.child_id is not None:
            parts.append(f"outlet {self.child_id}")
        return ", ".join(part for part in parts if part) or f"pin {self.pin}"

    @property
    def reading(self) -> str:
        """Its current value in words: "19.13 °C", "no reading", "on", "door open"."""
        unit = f"°{self.temp_format}"
        if self.reads_temperature:
            if not isinstance(self.value, float):
                return "no reading"
            return f"{self.value:.2f} {unit}"
        if self.value is None:
            return "not read"
        if self.function == DeviceFunction.CHAMBER_DOOR:
            return "door open" if self.value else "door closed"
        return "on" if self.value else "off"

    @property
    def calibration_text(self) -> str:
        offset = self.calibration or 0.0
        return f"{offset:+.2f} °{self.temp_format}" if offset else "none"


@dataclass(frozen=True)
class Consequence:
    """One line of the status summary: what the installed hardware makes possible or not."""

    ok: bool
    text: str


@dataclass(frozen=True)
class HardwareListing:
    installed: list[HardwareRow] = field(default_factory=list)
    available: list[HardwareRow] = field(default_factory=list)
    slots: int = SLOTS["avr"]

    def find(self, key: str) -> HardwareRow | None:
        """The row of the hardware a form names, installed or free."""
        return next((row for row in self.installed + self.available if row.key == key), None)

    def in_slot(self, slot: int) -> HardwareRow | None:
        return next((row for row in self.installed if row.slot == slot), None)

    def free_slot(self) -> int | None:
        """The first slot nothing is installed in, or None when all are taken."""
        used = {row.slot for row in self.installed}
        return next((slot for slot in range(self.slots) if slot not in used), None)

    def summary(self) -> list[Consequence]:
        """What the installed functions allow, and what is missing and what that costs."""
        functions = {row.function for row in self.installed}
        cooler = DeviceFunction.CHAMBER_COOLER in functions
        heater = DeviceFunction.CHAMBER_HEATER in functions
        fridge = DeviceFunction.CHAMBER_TEMP in functions
        lines = []
        if not fridge or not (cooler or heater):
            missing = [] if cooler or heater else ["a cooler or a heater"]
            missing += [] if fridge else ["a fridge temperature sensor"]
            lines.append(
                Consequence(
                    False,
                    f"No temperature control: it needs {join_words(missing, 'and')}.",
                )
            )
        elif cooler and heater:
            lines.append(Consequence(True, "Temperature control: cooling and heating."))
        else:
            only, absent = ("cooling", "heater") if cooler else ("heating", "cooler")
            lines.append(
                Consequence(True, f"Temperature control: {only} only (no {absent} installed).")
            )
        if DeviceFunction.BEER_TEMP in functions:
            lines.append(Consequence(True, "Beer sensor: beer constant and beer profiles can run."))
        else:
            lines.append(
                Consequence(
                    False,
                    "No beer sensor: beer constant and beer profiles cannot run "
                    "(fridge constant can).",
                )
            )
        if DeviceFunction.ROOM_TEMP in functions:
            lines.append(Consequence(True, "Room sensor: the room temperature is logged."))
        else:
            lines.append(Consequence(False, "No room sensor: the room temperature is not logged."))
        if DeviceFunction.CHAMBER_DOOR in functions:
            lines.append(Consequence(True, "Door switch: door openings are noted on the graph."))
        else:
            lines.append(
                Consequence(False, "No door switch: door openings are not noted on the graph.")
            )
        return lines


def _row(item: dict, temp_format: str) -> HardwareRow | None:
    hardware, pin = _integer(item.get("h")), _integer(item.get("p"))
    if hardware is None or pin is None:
        return None
    slot = _integer(item.get("i"))
    function = _integer(item.get("f")) or 0
    row = HardwareRow(
        hardware=hardware,
        pin=pin,
        address=str(item.get("a") or "").strip().upper(),
        child_id=_integer(item.get("n")),
        alias=str(item.get("r") or "").strip(),
        slot=slot if slot is not None and slot >= 0 else None,
        function=function,
        inverted=_flag(item.get("x")),
        calibration=_degrees(item.get("j")),
        temp_format=temp_format,
    )
    raw_value = item.get("v")
    if raw_value is None:
        return row
    value = _degrees(raw_value) if row.reads_temperature else _flag(raw_value)
    return replace(row, value=value)


def _items(answer: object, key: str) -> list[dict] | None:
    items = answer.get(key) if isinstance(answer, dict) else None
    if not isinstance(items, list):
        return None
    return [item for item in items if isinstance(item, dict)]


def read_listing(
    devices: list[dict], hardware: list[dict], *, temp_format: str = "C", slots: int = 16
) -> HardwareListing:
    """Installed devices (from `list_devices`) and free hardware (from `scan_hardware`).

    An installed device takes its reading from the scan when its own listing has none; one the
    scan did not find (an unplugged sensor) is marked `found=False`.
    """
    installed = []
    for item in devices:
        row = _row(item, temp_format)
        if row is not None and row.installed and row.function:
            installed.append(row)
    scanned = [row for row in (_row(item, temp_format) for item in hardware) if row is not None]
    available = [row for row in scanned if not row.installed]
    by_key = {row.key: row for row in scanned}
    rows = []
    for row in sorted(installed, key=lambda row: row.slot):
        match = by_key.get(row.key)
        if match is None:
            rows.append(replace(row, found=not scanned))
        elif row.value is None and match.value is not None:
            # The scan's value was read as a function-less candidate: read it again as this one.
            rows.append(replace(row, value=_reread(match, row)))
        else:
            rows.append(row)
    return HardwareListing(installed=rows, available=available, slots=slots)


def _reread(match: HardwareRow, row: HardwareRow) -> float | bool | None:
    if row.reads_temperature:
        return match.value if isinstance(match.value, float) else None
    return bool(match.value)


def load(device: Device) -> HardwareListing:
    """Ask the controller what is installed and what hardware it finds, with readings.

    Raises ControllerProblem (the controller is down, or answered without a list).
    """
    devices = _items(client.list_devices(device.name), "devices")
    if devices is None:
        raise ControllerUnavailable(
            device.name, "gave an answer to 'list_devices' without a device list", sent=True
        )
    hardware = _items(client.scan_hardware(device.name), "hardware")
    if hardware is None:
        raise ControllerUnavailable(
            device.name, "gave an answer to 'scan_hardware' without a hardware list", sent=True
        )
    return read_listing(
        devices, hardware, temp_format=device.temp_format, slots=SLOTS.get(device.dialect, 16)
    )


# -- changes ----------------------------------------------------------------------------------


def assignment(
    row: HardwareRow,
    slot: int,
    function: int,
    *,
    invert: bool = False,
    calibration: Decimal | float | None = None,
) -> dict:
    """The `apply_device` definition that installs `row` in `slot` as `function`.

    Every key is given, since ESP firmware resets the ones left out (brewpi-protocol §7.5).
    """
    definition: dict = {
        "i": slot,
        "c": 1,
        "b": 1 if function in BEER_FUNCTIONS else 0,
        "f": function,
        "h": row.hardware,
        "p": row.pin,
    }
    if row.takes_invert:
        definition["x"] = 1 if invert else 0
    if row.address:
        definition["a"] = row.address
    if row.child_id is not None:
        definition["n"] = row.child_id
    if row.takes_calibration:
        definition["j"] = float(calibration or 0)
    return definition


def uninstalling(row: HardwareRow) -> dict:
    """The definition that empties the slot `row` is installed in (function 0)."""
    return {"i": row.slot, "f": 0}


def _firmware_errors(answer: dict) -> list[str]:
    errors = answer.get("errors")
    if isinstance(errors, str):
        errors = [errors]
    if not isinstance(errors, list):
        return []
    return [str(error).strip().rstrip(".") for error in errors if str(error).strip()]


def _send(device: Device, definition: dict, done: str) -> Outcome:
    """Send one definition; `done` is the sentence for the brewer when the firmware took it."""
    try:
        answer = client.apply_device(device.name, definition)
    except ControllerProblem as problem:
        return Outcome(False, problem_message(device, problem))
    errors = _firmware_errors(answer)
    if errors:
        return Outcome(
            False, f"The firmware of {device.name} refused the change: {'; '.join(errors)}."
        )
    result = answer.get("definition")
    if isinstance(result, dict) and _integer(result.get("f")) != definition["f"]:
        kept = function_label(_integer(result.get("f")) or 0).lower()
        return Outcome(
            False,
            f"The firmware of {device.name} did not make the change: slot {definition['i']} "
            f"holds {kept}. Refresh the list and try again.",
        )
    return Outcome(True, done)


def assign(
    device: Device,
    listing: HardwareListing,
    row: HardwareRow,
    function: int,
    *,
    invert: bool = False,
    calibration: Decimal | float | None = None,
) -> Outcome:
    """Install `row` as `function`: in its own slot when installed, else the first free one."""
    slot = row.slot if row.installed else listing.free_slot()
    if slot is None:
        return Outcome(
            False,
            f"All {listing.slots} slots of {device.name} are in use: uninstall something first. "
            "Nothing was sent.",
        )
    definition = assignment(row, slot, function, invert=invert, calibration=calibration)
    label = function_label(function).lower()
    thing = row.name[:1].upper() + row.name[1:]
    return _send(device, definition, f"{thing} is now the {label} (slot {slot}).")


def uninstall(device: Device, row: HardwareRow) -> Outcome:
    label = row.function_label.lower()
    return _send(
        device,
        uninstalling(row),
        f"Uninstalled the {label} from slot {row.slot}; {row.name} is free.",
    )
