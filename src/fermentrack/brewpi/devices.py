"""Device definitions (brewpi-protocol §7): what is installed in each slot, as JSON per dialect.

Used by the firmware to answer `d`, `h` and `U` and by the controller to read those replies.
Temperatures (the calibration offset `j` and sensor values `v`) are internal integers here, and
are printed and parsed in the controller's temperature format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import IntEnum

from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.json_values import (
    arduino_number,
    describe,
    json_string,
    to_bool,
    to_int,
    to_text,
)
from fermentrack.brewpi.log_messages import ErrorId, LogMessage
from fermentrack.brewpi.temperature import (
    INVALID_TEMP,
    Dialect,
    TempFormat,
    format_temp_diff,
    format_temperature,
    parse_temp_diff,
    parse_temperature,
)


class DeviceFunction(IntEnum):
    NONE = 0
    CHAMBER_DOOR = 1
    CHAMBER_HEATER = 2
    CHAMBER_COOLER = 3
    CHAMBER_LIGHT = 4
    CHAMBER_TEMP = 5
    ROOM_TEMP = 6
    CHAMBER_FAN = 7
    CHAMBER_RESERVED = 8
    BEER_TEMP = 9
    BEER_TEMP_2 = 10
    BEER_HEATER = 11
    BEER_COOLER = 12
    BEER_SG = 13
    BEER_RESERVED_1 = 14
    BEER_RESERVED_2 = 15


class DeviceType(IntEnum):
    NONE = 0
    TEMP_SENSOR = 1
    SWITCH_SENSOR = 2
    SWITCH_ACTUATOR = 3


class DeviceHardware(IntEnum):
    NONE = 0
    PIN = 1
    ONEWIRE_TEMP = 2
    DS2413 = 3
    RESERVED_MODERN = 4
    INKBIRD_BT = 5
    TILT_BT = 6
    TPLINK_PLUG = 7


class DeviceOwner(IntEnum):
    """Who a function belongs to; the owner type printed in error 7."""

    NONE = 0
    CHAMBER = 1
    BEER = 2


F = DeviceFunction
CHAMBER_FUNCTIONS = frozenset(f for f in F if F.CHAMBER_DOOR <= f <= F.CHAMBER_RESERVED)
BEER_FUNCTIONS = frozenset(f for f in F if F.BEER_TEMP <= f <= F.BEER_RESERVED_2)
_TYPE_OF_FUNCTION = {
    F.CHAMBER_DOOR: DeviceType.SWITCH_SENSOR,
    F.CHAMBER_HEATER: DeviceType.SWITCH_ACTUATOR,
    F.CHAMBER_COOLER: DeviceType.SWITCH_ACTUATOR,
    F.CHAMBER_LIGHT: DeviceType.SWITCH_ACTUATOR,
    F.CHAMBER_FAN: DeviceType.SWITCH_ACTUATOR,
    F.BEER_HEATER: DeviceType.SWITCH_ACTUATOR,
    F.BEER_COOLER: DeviceType.SWITCH_ACTUATOR,
    F.CHAMBER_TEMP: DeviceType.TEMP_SENSOR,
    F.ROOM_TEMP: DeviceType.TEMP_SENSOR,
    F.BEER_TEMP: DeviceType.TEMP_SENSOR,
    F.BEER_TEMP_2: DeviceType.TEMP_SENSOR,
}
del F

H = DeviceHardware
ONEWIRE_HARDWARE = frozenset({H.ONEWIRE_TEMP, H.DS2413})
TEMP_SENSOR_HARDWARE = frozenset({H.ONEWIRE_TEMP, H.INKBIRD_BT, H.TILT_BT})
_ASSIGNABLE = {
    DeviceType.TEMP_SENSOR: TEMP_SENSOR_HARDWARE,
    DeviceType.SWITCH_SENSOR: frozenset({H.PIN, H.DS2413}),
    DeviceType.SWITCH_ACTUATOR: frozenset({H.PIN, H.DS2413, H.TPLINK_PLUG}),
}
del H

MAX_CHAMBER = 4
MAX_BEER = 6
FUNCTION_LIMIT = 16  # function ids are below this


def device_type_for(function: int) -> DeviceType:
    return _TYPE_OF_FUNCTION.get(function, DeviceType.NONE)  # type: ignore[call-overload]


def owner_for(function: int) -> DeviceOwner:
    if function in BEER_FUNCTIONS:
        return DeviceOwner.BEER
    if function in CHAMBER_FUNCTIONS:
        return DeviceOwner.CHAMBER
    return DeviceOwner.NONE


def is_assignable(device_type: DeviceType, hardware: int) -> bool:
    """Whether hardware of this kind can act as a device of this type (§7.1)."""
    return hardware in _ASSIGNABLE.get(device_type, frozenset())


def function_name(function: int) -> str:
    """A device function for people: "chamber heater"; unknown ids as "function 42"."""
    try:
        return DeviceFunction(function).name.lower().replace("_", " ")
    except ValueError:
        return f"function {function}"


@dataclass
class DeviceDefinition:
    """One device slot, or one hardware candidate (`slot` -1) in an `h:` listing.

    `calibration` is a temperature difference and `value` a temperature for temperature sensors
    (INVALID_TEMP when unreadable), both internal; a switch's value is on/off. `value` None means
    the value was not asked for.
    """

    slot: int = -1
    chamber: int = 1
    beer: int = 0
    function: DeviceFunction | int = DeviceFunction.NONE
    hardware: DeviceHardware | int = DeviceHardware.NONE
    pin: int = 0
    invert: bool = False
    deactivated: bool = False
    address: str = ""
    calibration: int = 0
    value: int | bool | None = None
    alias: str = ""
    child_id: int = 0

    @property
    def device_type(self) -> DeviceType:
        return device_type_for(self.function)

    @property
    def reads_temperature(self) -> bool:
        """True when `value` is a temperature (a sensor, even one not yet given a function)."""
        return self.hardware in TEMP_SENSOR_HARDWARE or self.device_type is DeviceType.TEMP_SENSOR


# -- JSON output -----------------------------------------------------------------------------


def _value_text(defn: DeviceDefinition, dialect: Dialect, fmt: TempFormat) -> str:
    if not defn.reads_temperature:
        return "1" if defn.value else "0"
    temp = INVALID_TEMP if defn.value is None else int(defn.value)
    text = format_temperature(temp, fmt, 3, leading_space=dialect is Dialect.AVR)
    if text is None:
        return "null"
    return text if dialect is Dialect.AVR else arduino_number(text)


def encode_device(
    defn: DeviceDefinition, dialect: Dialect, fmt: TempFormat, *, with_value: bool
) -> str:
    """The JSON object text of one device, in the key order and number style of the dialect."""
    avr = dialect is Dialect.AVR
    calibration = format_temp_diff(defn.calibration, fmt, 3, leading_space=True)
    pairs: list[tuple[str, str]] = []
    if avr:
        flag = {True: "1", False: "0"}
        pairs += [("i", str(defn.slot)), ("t", str(int(defn.device_type)))]
        pairs += [("c", str(defn.chamber)), ("b", str(defn.beer)), ("f", str(int(defn.function)))]
        pairs += [("h", str(int(defn.hardware))), ("d", flag[bool(defn.deactivated)])]
        pairs.append(("p", str(defn.pin)))
        if with_value:
            pairs.append(("v", _value_text(defn, dialect, fmt)))
        if defn.hardware == DeviceHardware.PIN:
            pairs.append(("x", flag[bool(defn.invert)]))
        if defn.hardware == DeviceHardware.ONEWIRE_TEMP:
            pairs += [("a", json_string(defn.address)), ("j", calibration)]
    else:
        flag = {True: "true", False: "false"}
        pairs += [("c", str(defn.chamber)), ("b", str(defn.beer)), ("f", str(int(defn.function)))]
        pairs += [("h", str(int(defn.hardware))), ("p", str(defn.pin))]
        pairs += [("x", flag[bool(defn.invert)]), ("d", flag[bool(defn.deactivated)])]
        if defn.alias:
            pairs.append(("r", json_string(defn.alias)))
        if defn.address:
            pairs.append(("a", json_string(defn.address)))
        if defn.hardware == DeviceHardware.TPLINK_PLUG:
            pairs.append(("n", str(defn.child_id)))
        if defn.hardware in TEMP_SENSOR_HARDWARE:
            pairs.append(("j", json_string(calibration)))  # ESP prints it as a string
        if with_value:
            pairs.append(("v", _value_text(defn, dialect, fmt)))
        pairs.append(("i", str(defn.slot)))
    return "{" + ",".join(f'"{key}":{text}' for key, text in pairs) + "}"


# -- reading definitions and updates ---------------------------------------------------------

_ADDRESS = re.compile(r"^[0-9A-F:\-]{0,23}$")
_INT_RANGE = (-(2**31), 2**31 - 1)


def _int(args: Mapping[str, object], key: str) -> int:
    number = to_int(args[key], f"device key {key!r}")
    if not _INT_RANGE[0] <= number <= _INT_RANGE[1]:
        raise ProtocolError(f"device key {key!r}: {number} is out of range")
    return number


def _enum_or_int(enum: type[IntEnum], number: int) -> int:
    try:
        return enum(number)
    except ValueError:
        return number  # kept as a plain int, so validation can name it


def _address(value: object) -> str:
    text = to_text(value, "device key 'a'").strip().upper()
    if not _ADDRESS.match(text):
        raise ProtocolError(
            f"device key 'a': expected 16 hex digits (or a MAC address), got {describe(value)}"
        )
    return text


def _value(defn: DeviceDefinition, raw: object, dialect: Dialect, fmt: TempFormat):
    if defn.reads_temperature:
        if raw is None or raw == "" or raw == "null":
            return INVALID_TEMP
        try:
            return parse_temperature(raw, fmt, dialect)  # type: ignore[arg-type]
        except ProtocolError as error:
            raise ProtocolError(f"device key 'v': {error}") from None
    return to_bool(raw, "device key 'v'")


def _calibration(raw: object, dialect: Dialect, fmt: TempFormat) -> int:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ProtocolError(f"device key 'j': expected a temperature difference, got {raw!r}")
    try:
        return parse_temp_diff(raw, fmt, dialect)
    except ProtocolError as error:
        raise ProtocolError(f"device key 'j': {error}") from None


def _apply(
    defn: DeviceDefinition, args: Mapping[str, object], dialect: Dialect, fmt: TempFormat
) -> DeviceDefinition:
    """`defn` with every known key of `args` applied; other keys are ignored."""
    changes: dict[str, object] = {}
    for key, attr in (("i", "slot"), ("c", "chamber"), ("b", "beer"), ("p", "pin")):
        if key in args:
            changes[attr] = _int(args, key)
    if "n" in args:
        changes["child_id"] = _int(args, "n")
    if "f" in args:
        changes["function"] = _enum_or_int(DeviceFunction, _int(args, "f"))
    if "h" in args:
        changes["hardware"] = _enum_or_int(DeviceHardware, _int(args, "h"))
    if "x" in args:
        changes["invert"] = to_bool(args["x"], "device key 'x'")
    if "d" in args:
        changes["deactivated"] = to_bool(args["d"], "device key 'd'")
    if "a" in args:
        changes["address"] = _address(args["a"])
    if "r" in args:
        changes["alias"] = to_text(args["r"], "device key 'r'")
    if "j" in args:
        changes["calibration"] = _calibration(args["j"], dialect, fmt)
    defn = replace(defn, **changes)
    if "v" in args:
        defn = replace(defn, value=_value(defn, args["v"], dialect, fmt))
    return defn


def _object(obj: object) -> Mapping[str, object]:
    if not isinstance(obj, Mapping):
        raise ProtocolError(f"expected a device definition as a JSON object, got {describe(obj)}")
    return obj


def parse_device(obj: Mapping[str, object], dialect: Dialect, fmt: TempFormat) -> DeviceDefinition:
    """A definition from a `d:`, `h:` or `U:` object, written by either dialect.

    Missing keys keep the defaults; `t` is derived from the function, so it is not read.
    """
    return _apply(DeviceDefinition(value=None), _object(obj), dialect, fmt)


def requested_slot(args: Mapping[str, object] | None) -> int:
    """The slot a `U{...}` addresses, or -1 when it names none (or not a number)."""
    if not args or "i" not in args:
        return -1
    try:
        return _int(args, "i")
    except ProtocolError:
        return -1


# Calibration is stored as a signed byte of 1/16 °C (§5.1): 32 internal units a step.
_CALIBRATION_STEP = 32


def _stored_calibration(calibration: int) -> int:
    steps = (abs(calibration) + _CALIBRATION_STEP // 2) // _CALIBRATION_STEP
    steps = max(-128, min(127, -steps if calibration < 0 else steps))
    return steps * _CALIBRATION_STEP


def merge_update(
    current: DeviceDefinition, args: Mapping[str, object], dialect: Dialect, fmt: TempFormat
) -> DeviceDefinition:
    """The definition a `U{...}` asks for, before validation (§7.5).

    AVR merges the given keys into `current` (an address starting with FF leaves it unchanged);
    ESP starts from a blank definition, so missing keys become 0/false. Both then force chamber 1
    and beer 1 for beer functions, 0 otherwise. Raises ProtocolError for a value that does not
    parse; the firmware answers that like an invalid definition.
    """
    args = _object(args)
    if dialect is Dialect.AVR:
        base = replace(current, value=None)
        if "a" in args and str(args["a"]).strip().upper().startswith("FF"):
            args = {key: value for key, value in args.items() if key != "a"}
    else:
        # Without `i` an ESP update would land in slot 0; keep the slot asked for instead.
        base = DeviceDefinition(slot=current.slot, value=None)
    defn = _apply(base, {key: value for key, value in args.items() if key != "v"}, dialect, fmt)
    beer = 1 if defn.function in BEER_FUNCTIONS else 0
    return replace(defn, chamber=1, beer=beer, calibration=_stored_calibration(defn.calibration))


def validate_definition(
    defn: DeviceDefinition,
    *,
    max_slot: int,
    onewire_pins: set[int],
    actuator_pins: set[int],
) -> list[LogMessage]:
    """The `D:` errors for an invalid definition (error 3, then the specific one); [] if valid.

    `actuator_pins` are the pins pin hardware may use (outputs and the door input). A function of
    NONE clears the slot, so it needs no hardware.
    """
    invalid = LogMessage.error(ErrorId.INVALID_DEVICE_DEFINITION)
    if not 0 <= defn.slot <= max_slot:
        return [invalid]
    if not 0 <= defn.chamber <= MAX_CHAMBER:
        return [invalid, LogMessage.error(ErrorId.INVALID_CHAMBER, defn.chamber)]
    if not 0 <= defn.beer <= MAX_BEER:
        return [invalid, LogMessage.error(ErrorId.INVALID_BEER, defn.beer)]
    if not 0 <= defn.function < FUNCTION_LIMIT:
        return [invalid, LogMessage.error(ErrorId.INVALID_DEVICE_FUNCTION, int(defn.function))]
    if defn.function == DeviceFunction.NONE:
        return []
    owner = owner_for(defn.function)
    if (owner is DeviceOwner.BEER and defn.beer <= 0) or (
        owner is DeviceOwner.CHAMBER and defn.chamber <= 0
    ):
        owner_error = LogMessage.error(
            ErrorId.INVALID_DEVICE_OWNER, int(owner), defn.beer, defn.chamber
        )
        return [invalid, owner_error]
    device_type = defn.device_type
    if not is_assignable(device_type, defn.hardware):
        hardware_error = LogMessage.error(
            ErrorId.CANNOT_ASSIGN_TO_HARDWARE, int(device_type), int(defn.hardware)
        )
        return [invalid, hardware_error]
    if defn.hardware in ONEWIRE_HARDWARE and defn.pin not in onewire_pins:
        return [invalid, LogMessage.error(ErrorId.NOT_A_ONEWIRE_BUS, defn.pin)]
    if defn.hardware == DeviceHardware.PIN and defn.pin not in actuator_pins:
        return [invalid]  # the spec names no specific error for an unknown pin
    return []


def _crc8(data: bytes) -> int:
    """The Dallas/Maxim 1-Wire CRC of a ROM code's first seven bytes."""
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


def onewire_address(family: int, serial: int) -> str:
    """A 1-Wire ROM code as BrewPi writes it (key `a`): family, 48-bit serial, CRC; 16 hex."""
    rom = bytes([family]) + serial.to_bytes(6, "little")
    return (rom + bytes([_crc8(rom)])).hex().upper()


__all__ = [
    "BEER_FUNCTIONS",
    "CHAMBER_FUNCTIONS",
    "ONEWIRE_HARDWARE",
    "TEMP_SENSOR_HARDWARE",
    "DeviceDefinition",
    "DeviceFunction",
    "DeviceHardware",
    "DeviceOwner",
    "DeviceType",
    "device_type_for",
    "encode_device",
    "function_name",
    "is_assignable",
    "merge_update",
    "onewire_address",
    "owner_for",
    "parse_device",
    "requested_slot",
    "validate_definition",
]
