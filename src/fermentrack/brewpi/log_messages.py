"""The `D:` log messages (brewpi-protocol §4.7): their ids, their values and their English text.

A message on the wire is only a type letter, an id and a list of values; the scripts turn it into
text from their copy of the firmware's message table (version 3). These tables are ours, written
from the spec, so our firmware and our controller agree on the ids and show readable text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum

LOG_MESSAGES_VERSION = 3


class ErrorId(IntEnum):
    NOT_ENOUGH_SRAM_FOR_SENSOR = 0
    NO_ADDRESS_FOR_SENSOR = 1
    OUT_OF_MEMORY_FOR_DEVICE = 2
    INVALID_DEVICE_DEFINITION = 3
    INVALID_CHAMBER = 4
    INVALID_BEER = 5
    INVALID_DEVICE_FUNCTION = 6
    INVALID_DEVICE_OWNER = 7
    CANNOT_ASSIGN_TO_HARDWARE = 8
    NOT_A_ONEWIRE_BUS = 9
    EXPECTED_BRACE = 10
    ONEWIRE_INIT_FAILED = 11
    HARDWARE_ALREADY_INSTALLED = 12
    FUNCTION_ALREADY_INSTALLED = 13


class WarningId(IntEnum):
    COULD_NOT_PROCESS_SETTING = 0
    INVALID_COMMAND = 1
    TEMP_SENSOR_DISCONNECTED = 2
    SAFE_MODE = 3
    FALLING_BACK_ON_BACKUP_SENSOR = 4
    DS2413_DISCONNECTED = 5


class InfoId(IntEnum):
    """Info ids. UNCONFIRMED_EEPROM_RESET is an info message that ESP firmware sends as type "E"."""

    TEMP_SENSOR_CONNECTED = 0
    TEMP_SENSOR_DISCONNECTED = 1
    SENSOR_INITIALIZED = 2
    UNINSTALL_TEMP_SENSOR = 3
    UNINSTALL_ACTUATOR = 4
    UNINSTALL_SWITCH_SENSOR = 5
    INSTALL_TEMP_SENSOR = 6
    INSTALL_ACTUATOR = 7
    INSTALL_SWITCH_SENSOR = 8
    INSTALL_DEVICE = 9
    MATCHING_DEVICE = 10
    SETTING_ACTUATOR = 11
    RECEIVED_SETTING = 12
    DEFAULT_CONSTANTS_LOADED = 13
    DEFAULT_SETTINGS_LOADED = 14
    EEPROM_INITIALIZED = 15
    EEPROM_ZAPPED = 16
    POSITIVE_PEAK = 17
    NEGATIVE_PEAK = 18
    POSITIVE_DRIFT = 19
    NEGATIVE_DRIFT = 20
    BACK_ON_MAIN_SENSOR = 21
    DS2413_CONNECTED = 22
    UNCONFIRMED_EEPROM_RESET = 23


class Param(Enum):
    """How a value is shown in the expanded text."""

    PLAIN = "plain"  # numbers and strings as they are
    CHARACTER = "character"  # a byte value, shown as the character (-1: no input came)
    FUNCTION = "function"  # a device function id, shown by name


P, CHR, FN = Param.PLAIN, Param.CHARACTER, Param.FUNCTION

# Text templates: each {} takes the next value, shown as its Param says.
_ERROR_TEXTS: dict[int, tuple[str, tuple[Param, ...]]] = {
    ErrorId.NOT_ENOUGH_SRAM_FOR_SENSOR: ("Not enough memory (SRAM) for temp sensor {}", (P,)),
    ErrorId.NO_ADDRESS_FOR_SENSOR: ("Cannot find an address for the sensor on pin {}", (P,)),
    ErrorId.OUT_OF_MEMORY_FOR_DEVICE: ("Out of memory for device with function {}", (FN,)),
    ErrorId.INVALID_DEVICE_DEFINITION: ("Device definition update is invalid", ()),
    ErrorId.INVALID_CHAMBER: ("Invalid chamber id {}", (P,)),
    ErrorId.INVALID_BEER: ("Invalid beer id {}", (P,)),
    ErrorId.INVALID_DEVICE_FUNCTION: ("Invalid device function id {}", (P,)),
    ErrorId.INVALID_DEVICE_OWNER: (
        "Invalid device configuration for owner type {}: beer={} chamber={}",
        (P, P, P),
    ),
    ErrorId.CANNOT_ASSIGN_TO_HARDWARE: ("Cannot assign device type {} to hardware {}", (P, P)),
    ErrorId.NOT_A_ONEWIRE_BUS: ("Device is OneWire but pin {} is not a OneWire bus", (P,)),
    ErrorId.EXPECTED_BRACE: ("Expected {{ but got {}", (CHR,)),
    ErrorId.ONEWIRE_INIT_FAILED: ("OneWire initialisation failed", ()),
    ErrorId.HARDWARE_ALREADY_INSTALLED: ("Hardware is already installed at slot {}", (P,)),
    ErrorId.FUNCTION_ALREADY_INSTALLED: ("Function is already installed at slot {}", (P,)),
}
_WARNING_TEXTS: dict[int, tuple[str, tuple[Param, ...]]] = {
    WarningId.COULD_NOT_PROCESS_SETTING: ("Could not process setting", ()),
    WarningId.INVALID_COMMAND: ("Invalid command received: {}", (CHR,)),
    WarningId.TEMP_SENSOR_DISCONNECTED: (
        "Temp sensor disconnected: pin {}, address {}",
        (P, P),
    ),
    WarningId.SAFE_MODE: ("EEPROM settings not available, starting in safe mode", ()),
    WarningId.FALLING_BACK_ON_BACKUP_SENSOR: ("Falling back on the backup sensor", ()),
    WarningId.DS2413_DISCONNECTED: ("DS2413 disconnected: {}", (P,)),
}
_INFO_TEXTS: dict[int, tuple[str, tuple[Param, ...]]] = {
    InfoId.TEMP_SENSOR_CONNECTED: ("Temp sensor connected: pin {}, address {}", (P, P)),
    InfoId.TEMP_SENSOR_DISCONNECTED: ("Temp sensor disconnected: pin {}, address {}", (P, P)),
    InfoId.SENSOR_INITIALIZED: ("Sensor initialised: pin {} {} {}", (P, P, P)),
    InfoId.UNINSTALL_TEMP_SENSOR: ("Uninstalling temp sensor with function {}", (FN,)),
    InfoId.UNINSTALL_ACTUATOR: ("Uninstalling actuator with function {}", (FN,)),
    InfoId.UNINSTALL_SWITCH_SENSOR: ("Uninstalling switch sensor with function {}", (FN,)),
    InfoId.INSTALL_TEMP_SENSOR: ("Installing temp sensor with function {}", (FN,)),
    InfoId.INSTALL_ACTUATOR: ("Installing actuator with function {}", (FN,)),
    InfoId.INSTALL_SWITCH_SENSOR: ("Installing switch sensor with function {}", (FN,)),
    InfoId.INSTALL_DEVICE: ("Installing device with function {}", (FN,)),
    InfoId.MATCHING_DEVICE: ("Matching device at slot {}", (P,)),
    InfoId.SETTING_ACTUATOR: ("Setting actuator value to {}", (P,)),
    InfoId.RECEIVED_SETTING: ("Received new setting: {} = {}", (P, P)),
    InfoId.DEFAULT_CONSTANTS_LOADED: ("Default constants loaded", ()),
    InfoId.DEFAULT_SETTINGS_LOADED: ("Default settings loaded", ()),
    InfoId.EEPROM_INITIALIZED: ("EEPROM initialised", ()),
    InfoId.EEPROM_ZAPPED: ("EEPROM zapped", ()),
    InfoId.POSITIVE_PEAK: (
        "Positive peak detected at {}, {} was estimated; heat estimator changed from {} to {}",
        (P, P, P, P),
    ),
    InfoId.NEGATIVE_PEAK: (
        "Negative peak detected at {}, {} was estimated; cool estimator changed from {} to {}",
        (P, P, P, P),
    ),
    InfoId.POSITIVE_DRIFT: (
        "No peak found: drifting up after heating to {}, {} was estimated;"
        " heat estimator changed from {} to {}",
        (P, P, P, P),
    ),
    InfoId.NEGATIVE_DRIFT: (
        "No peak found: drifting down after cooling to {}, {} was estimated;"
        " cool estimator changed from {} to {}",
        (P, P, P, P),
    ),
    InfoId.BACK_ON_MAIN_SENSOR: ("Back on the main sensor", ()),
    InfoId.DS2413_CONNECTED: ("DS2413 connected: {}", (P,)),
    InfoId.UNCONFIRMED_EEPROM_RESET: (
        'EEPROM reset not confirmed: send E{{"confirmReset":true}} to reset',
        (),
    ),
}
del P, CHR, FN

_TABLES = {
    "E": (_ERROR_TEXTS, "error"),
    "W": (_WARNING_TEXTS, "warning"),
    "I": (_INFO_TEXTS, "info"),
}
LOG_TYPES = tuple(_TABLES)


@dataclass
class LogMessage:
    """One `D:` message: type "E", "W" or "I", the id within that type, and its values."""

    log_type: str
    log_id: int
    values: list[int | str] = field(default_factory=list)

    @classmethod
    def error(cls, log_id: int, *values: int | str) -> LogMessage:
        return cls("E", int(log_id), list(values))

    @classmethod
    def warning(cls, log_id: int, *values: int | str) -> LogMessage:
        return cls("W", int(log_id), list(values))

    @classmethod
    def info(cls, log_id: int, *values: int | str) -> LogMessage:
        return cls("I", int(log_id), list(values))


def _show_character(value: int | str) -> str:
    if value == -1:
        return "END OF INPUT"
    if isinstance(value, int) and 0 <= value <= 0x10FFFF:
        return repr(chr(value))
    return str(value)


def _show_function(value: int | str) -> str:
    # devices.py builds on this module (validation returns LogMessages), so import late.
    from fermentrack.brewpi.devices import function_name

    return function_name(value) if isinstance(value, int) else str(value)


def expand_log_message(message: LogMessage) -> str:
    """The English text of a log message, values filled in; never raises.

    An id we do not know, or a message with too few values, still gives readable text with the
    raw values, so a newer firmware's log lines are not lost.
    """
    table, type_name = _TABLES.get(str(message.log_type), ({}, f"type {message.log_type!r}"))
    log_id = message.log_id if isinstance(message.log_id, int) else None
    entry = table.get(log_id) if log_id is not None else None
    # ESP sends its "unconfirmed EEPROM reset" info message with type "E".
    if entry is None and message.log_type == "E" and log_id == InfoId.UNCONFIRMED_EEPROM_RESET:
        entry = _INFO_TEXTS[log_id]
    if entry is None:
        return f"unknown {type_name} message {message.log_id} {list(message.values)}"
    template, params = entry
    if len(message.values) != len(params):
        return f"{template.replace('{}', '?').format()} (values: {list(message.values)})"
    shown = []
    for value, param in zip(message.values, params, strict=True):
        if param is Param.CHARACTER:
            shown.append(_show_character(value))
        elif param is Param.FUNCTION:
            shown.append(_show_function(value))
        else:
            shown.append(str(value))
    return template.format(*shown)


__all__ = [
    "LOG_MESSAGES_VERSION",
    "LOG_TYPES",
    "ErrorId",
    "InfoId",
    "LogMessage",
    "WarningId",
    "expand_log_message",
]
