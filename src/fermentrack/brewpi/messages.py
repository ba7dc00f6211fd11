"""Lines from the firmware to the controller (brewpi-protocol §4): as dataclasses, as text.

`encode_line` writes a message byte for byte as the chosen firmware dialect does (our firmware);
`parse_line` reads what either dialect writes, tolerating the quirks the real scripts tolerate
(our controller). Lines here carry no CR LF; `encode_wire_text`/`decode_wire_text` turn them into
the bytes on the wire and back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from fermentrack.brewpi.devices import DeviceDefinition, encode_device, parse_device
from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.json_values import (
    WireNumber,
    arduino_number,
    describe,
    json_string,
    load_json,
    plain,
    to_bool,
    to_int,
    to_text,
)
from fermentrack.brewpi.log_messages import LOG_TYPES, LogMessage
from fermentrack.brewpi.settings import (
    CONSTANTS_FIELDS,
    SETTINGS_FIELDS,
    VARIABLES_FIELDS,
    ControlConstants,
    ControlSettings,
    ControlVariables,
    Field,
    ValueKind,
    decode_fields,
    encode_fields,
    parse_field,
)
from fermentrack.brewpi.temperature import (
    DISABLED_TEMP,
    INVALID_TEMP,
    Dialect,
    TempFormat,
    format_temperature,
    parse_temperature,
)

# -- the messages ----------------------------------------------------------------------------


@dataclass
class VersionInfo:
    """`N:` reply to `n`. `describe` (git describe) and `revision` are sent by ESP only."""

    version: str
    build: str
    shield: int
    simulator: bool
    board: str
    log_version: int
    describe: str | None = None
    revision: str | None = None


@dataclass
class TemperatureReport:
    """`T:` temperatures and control state, internal units.

    Readings are INVALID_TEMP without a sensor; set points DISABLED_TEMP when off. `room_temp`
    None means no room sensor is installed. `missing` names the attributes a line did not carry
    (AVR simulator builds send only changed values): take them from the previous report with
    `merged_onto`.
    """

    beer_temp: int
    beer_set: int
    beer_annotation: str | None
    fridge_temp: int
    fridge_set: int
    fridge_annotation: str | None
    room_temp: int | None
    state: int
    time: int | None = None
    missing: frozenset[str] = frozenset()

    def merged_onto(self, previous: TemperatureReport) -> TemperatureReport:
        """This report with its missing values taken from `previous`, as the scripts merge."""
        carried = {attr: getattr(previous, attr) for attr in self.missing}
        return replace(self, **carried, missing=self.missing & previous.missing)


@dataclass
class SettingsReport:
    """`S:` control settings."""

    settings: ControlSettings


@dataclass
class ConstantsReport:
    """`C:` control constants; printed in their own `temp_format`."""

    constants: ControlConstants


@dataclass
class VariablesReport:
    """`V:` control variables."""

    variables: ControlVariables


@dataclass
class LcdReport:
    """`L:` the four LCD lines; the degree sign is '°' here and byte 0xB0 on the wire."""

    lines: tuple[str, str, str, str]


@dataclass
class DeviceListReport:
    """`d:` installed devices. A device's value is printed when it is not None."""

    devices: list[DeviceDefinition]


@dataclass
class HardwareReport:
    """`h:` hardware found, each with the slot it is installed in or -1."""

    devices: list[DeviceDefinition]


@dataclass
class DeviceUpdateReport:
    """`U:` the definition in a slot after an update."""

    device: DeviceDefinition


@dataclass
class ExtendedSettingsReport:
    """`X:` ESP display and glycol settings."""

    invert_tft: bool
    glycol: bool
    large_tft: bool


@dataclass
class WifiReport:
    """`W:` ESP WiFi network and signal strength (RSSI, dBm)."""

    ssid: str
    signal_strength: int


@dataclass
class ProbeReadingsReport:
    """`R:` ESP reply to `T`: (address, internal temperature, display name) per sensor."""

    readings: list[tuple[str, int, str]]


@dataclass
class ProbeNamesReport:
    """ESP reply to `p`: address -> display name. Its prefix is `N:`, like the version's."""

    names: dict[str, str]


@dataclass
class SimulatorReport:
    """`Y:` simulator settings."""

    values: dict[str, object]


@dataclass
class RawText:
    """An ESP line without a prefix, such as `Invalid command received "X" (0x58)`."""

    text: str


Message = (
    VersionInfo
    | TemperatureReport
    | SettingsReport
    | ConstantsReport
    | VariablesReport
    | LcdReport
    | LogMessage
    | DeviceListReport
    | HardwareReport
    | DeviceUpdateReport
    | ExtendedSettingsReport
    | WifiReport
    | ProbeReadingsReport
    | ProbeNamesReport
    | SimulatorReport
    | RawText
)

# -- encoding --------------------------------------------------------------------------------


def _object(pairs: list[tuple[str, str]]) -> str:
    """A JSON object from keys and already-encoded values, in order, without spaces."""
    return "{" + ",".join(f"{json_string(key)}:{text}" for key, text in pairs) + "}"


def _number(text: str, dialect: Dialect) -> str:
    return text if dialect is Dialect.AVR else arduino_number(text)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _encode_version(msg: VersionInfo, dialect: Dialect, fmt: TempFormat) -> str:
    pairs = [("v", json_string(msg.version)), ("n", json_string(msg.build))]
    if msg.describe is not None:
        pairs.append(("c", json_string(msg.describe)))
    pairs += [("s", str(int(msg.shield))), ("y", "1" if msg.simulator else "0")]
    pairs.append(("b", json_string(msg.board)))
    # AVR prints the log-messages version as a string, ESP as a number (§4.1).
    log_version = str(int(msg.log_version))
    pairs.append(("l", json_string(log_version) if dialect is Dialect.AVR else log_version))
    if msg.revision is not None:
        pairs.append(("e", json_string(msg.revision)))
    return "N:" + _object(pairs)


def _encode_temperatures(msg: TemperatureReport, dialect: Dialect, fmt: TempFormat) -> str:
    avr = dialect is Dialect.AVR

    def temp(value: int) -> str:
        text = format_temperature(value, fmt, dialect.set_point_decimals, leading_space=avr)
        if text is None:
            return "null" if avr else "0"  # ESP turns the text "null" into the number 0
        return _number(text, dialect)

    def note(annotation: str | None) -> str:
        return "null" if annotation is None else json_string(annotation)

    pairs = [
        ("BeerTemp", temp(msg.beer_temp)),
        ("BeerSet", temp(msg.beer_set)),
        ("BeerAnn", note(msg.beer_annotation)),
        ("FridgeTemp", temp(msg.fridge_temp)),
        ("FridgeSet", temp(msg.fridge_set)),
        ("FridgeAnn", note(msg.fridge_annotation)),
    ]
    if msg.room_temp is not None:
        pairs.append(("RoomTemp", temp(msg.room_temp)))
    elif not avr:
        pairs.append(("RoomTemp", '""'))
    pairs.append(("State", str(int(msg.state))))
    if msg.time is not None:
        pairs.append(("Time", str(int(msg.time))))
    return "T:" + _object(pairs)


def _encode_record(
    prefix: str, record: object, table: tuple[Field, ...], dialect: Dialect, fmt: TempFormat
) -> str:
    pairs = []
    for spec, (key, value) in zip(table, encode_fields(record, table, fmt, dialect), strict=True):
        if value is None:
            text = "null"
        elif isinstance(value, bool):
            text = _bool(value)
        elif isinstance(value, int):
            text = str(value)
        elif spec.kind in (ValueKind.MODE, ValueKind.FORMAT):
            text = json_string(value)
        else:
            text = _number(value, dialect)
        pairs.append((key, text))
    return prefix + _object(pairs)


def _encode_settings(msg: SettingsReport, dialect: Dialect, fmt: TempFormat) -> str:
    return _encode_record("S:", msg.settings, SETTINGS_FIELDS, dialect, fmt)


def _encode_constants(msg: ConstantsReport, dialect: Dialect, fmt: TempFormat) -> str:
    fmt = TempFormat(msg.constants.temp_format)
    return _encode_record("C:", msg.constants, CONSTANTS_FIELDS, dialect, fmt)


def _encode_variables(msg: VariablesReport, dialect: Dialect, fmt: TempFormat) -> str:
    return _encode_record("V:", msg.variables, VARIABLES_FIELDS, dialect, fmt)


def _encode_lcd(msg: LcdReport, dialect: Dialect, fmt: TempFormat) -> str:
    return "L:[" + ",".join(json_string(line) for line in msg.lines) + "]"


def _encode_log(msg: LogMessage, dialect: Dialect, fmt: TempFormat) -> str:
    values = []
    for value in msg.values:
        if isinstance(value, int):
            values.append(str(int(value)))
        else:
            # §2: the scripts cut a D: line at the first `}` before the line end, so a `}`
            # inside a string would break it.
            values.append(json_string(str(value).replace("}", ")")))
    pairs = [("logType", json_string(msg.log_type)), ("logID", str(int(msg.log_id)))]
    pairs.append(("V", "[" + ",".join(values) + "]"))
    return "D:" + _object(pairs)


def _encode_devices(
    prefix: str, devices: list[DeviceDefinition], dialect: Dialect, fmt: TempFormat
) -> str:
    texts = [
        encode_device(device, dialect, fmt, with_value=device.value is not None)
        for device in devices
    ]
    return prefix + "[" + ",".join(texts) + "]"


def _encode_device_list(msg: DeviceListReport, dialect: Dialect, fmt: TempFormat) -> str:
    return _encode_devices("d:", msg.devices, dialect, fmt)


def _encode_hardware(msg: HardwareReport, dialect: Dialect, fmt: TempFormat) -> str:
    return _encode_devices("h:", msg.devices, dialect, fmt)


def _encode_device_update(msg: DeviceUpdateReport, dialect: Dialect, fmt: TempFormat) -> str:
    device = msg.device
    return "U:" + encode_device(device, dialect, fmt, with_value=device.value is not None)


def _encode_extended(msg: ExtendedSettingsReport, dialect: Dialect, fmt: TempFormat) -> str:
    pairs = [("invertTFT", _bool(msg.invert_tft)), ("glycol", _bool(msg.glycol))]
    pairs.append(("largeTFT", _bool(msg.large_tft)))
    return "X:" + _object(pairs)


def _encode_wifi(msg: WifiReport, dialect: Dialect, fmt: TempFormat) -> str:
    pairs = [("ssid", json_string(msg.ssid)), ("signalStrength", str(int(msg.signal_strength)))]
    return "W:" + _object(pairs)


def _encode_probe_readings(msg: ProbeReadingsReport, dialect: Dialect, fmt: TempFormat) -> str:
    items = []
    for address, value, name in msg.readings:
        text = format_temperature(value, fmt, 3)
        value_json = "null" if text is None else json_string(text)
        pairs = [("device", json_string(address)), ("value", value_json)]
        items.append(_object([*pairs, ("name", json_string(name))]))
    return "R:[" + ",".join(items) + "]"


def _encode_probe_names(msg: ProbeNamesReport, dialect: Dialect, fmt: TempFormat) -> str:
    return "N:" + _object([(address, json_string(name)) for address, name in msg.names.items()])


def _encode_simulator(msg: SimulatorReport, dialect: Dialect, fmt: TempFormat) -> str:
    try:
        body = json.dumps(msg.values, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ProtocolError(f"Y: simulator values must be plain JSON values ({error})") from None
    return "Y:" + body


def _encode_raw(msg: RawText, dialect: Dialect, fmt: TempFormat) -> str:
    return msg.text


_ENCODERS: dict[type, Callable[..., str]] = {
    VersionInfo: _encode_version,
    TemperatureReport: _encode_temperatures,
    SettingsReport: _encode_settings,
    ConstantsReport: _encode_constants,
    VariablesReport: _encode_variables,
    LcdReport: _encode_lcd,
    LogMessage: _encode_log,
    DeviceListReport: _encode_device_list,
    HardwareReport: _encode_hardware,
    DeviceUpdateReport: _encode_device_update,
    ExtendedSettingsReport: _encode_extended,
    WifiReport: _encode_wifi,
    ProbeReadingsReport: _encode_probe_readings,
    ProbeNamesReport: _encode_probe_names,
    SimulatorReport: _encode_simulator,
    RawText: _encode_raw,
}


def encode_line(message: Message, dialect: Dialect, fmt: TempFormat = TempFormat.CELSIUS) -> str:
    """The line the firmware prints for `message`, without the CR LF.

    `fmt` is the controller's current temperature format; `C:` lines use their own.
    """
    encoder = _ENCODERS.get(type(message))
    if encoder is None:
        raise ProtocolError(f"cannot encode {type(message).__name__}: not a firmware message")
    return encoder(message, dialect, fmt)


# -- parsing ---------------------------------------------------------------------------------


def _shape_error(prefix: str, shape: str, got: object) -> ProtocolError:
    return ProtocolError(f"{prefix} expected {shape} after {prefix!r}, got {describe(got)}")


def _expect_object(value: object, prefix: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise _shape_error(prefix, "a JSON object", value)
    return value


def _expect_list(value: object, prefix: str) -> list[object]:
    if not isinstance(value, list):
        raise _shape_error(prefix, "a JSON array", value)
    return value


def _load_object(body: str, prefix: str) -> Mapping[str, object]:
    if not body.lstrip().startswith("{"):
        raise _shape_error(prefix, "a JSON object", body)
    return _expect_object(load_json(body, prefix), prefix)


def _load_list(body: str, prefix: str) -> list[object]:
    if not body.lstrip().startswith("["):
        raise _shape_error(prefix, "a JSON array", body)
    return _expect_list(load_json(body, prefix), prefix)


def _get(obj: Mapping[str, object], key: str, prefix: str) -> object:
    if key not in obj:
        raise ProtocolError(f"{prefix} missing key {key!r}")
    return obj[key]


_BARE_VERSION = re.compile(r"^\s*\d+\.\d+\.\d+\S*\s*$")


def _parse_n(body: str, dialect: Dialect, fmt: TempFormat) -> VersionInfo | ProbeNamesReport:
    if not body.lstrip().startswith("{"):
        if _BARE_VERSION.match(body):  # very old firmware answers with the version alone
            return VersionInfo(body.strip(), "", 0, False, "?", 0)
        raise ProtocolError(
            f"N: expected a JSON object or a version such as 0.2.4, got {describe(body)}"
        )
    obj = _load_object(body, "N:")
    if "v" not in obj:
        # ESP's answer to `p` shares the prefix: an object of address -> name, no "v".
        names = {key: to_text(name, f"N: name of {key!r}") for key, name in obj.items()}
        return ProbeNamesReport(names)

    def text(key: str) -> str | None:
        return to_text(obj[key], f"N: {key!r}") if key in obj else None

    return VersionInfo(
        version=to_text(obj["v"], "N: 'v'"),
        build=text("n") or "",
        shield=to_int(obj.get("s", 0), "N: 's'"),
        simulator=to_bool(obj.get("y", 0), "N: 'y'"),
        board=text("b") or "?",
        log_version=to_int(obj.get("l", 0), "N: 'l'"),
        describe=text("c"),
        revision=text("e"),
    )


_TEMPERATURE_KEYS = {
    "BeerTemp": "beer_temp",
    "BeerSet": "beer_set",
    "BeerAnn": "beer_annotation",
    "FridgeTemp": "fridge_temp",
    "FridgeSet": "fridge_set",
    "FridgeAnn": "fridge_annotation",
    "RoomTemp": "room_temp",
    "Log1Temp": "room_temp",  # FT-script reads this name as the room temperature too
    "State": "state",
    "Time": "time",
}
# AVR simulator builds (COMPACT_SERIAL) use short keys and send only values that changed.
_COMPACT_TEMPERATURE_KEYS = {
    "bt": "beer_temp",
    "bs": "beer_set",
    "ba": "beer_annotation",
    "ft": "fridge_temp",
    "fs": "fridge_set",
    "fa": "fridge_annotation",
    "rt": "room_temp",
    "s": "state",
    "t": "time",
}
_REPORT_ATTRS = ("beer_temp", "beer_set", "beer_annotation", "fridge_temp", "fridge_set")
_REPORT_ATTRS += ("fridge_annotation", "room_temp", "state")


def _temperature_value(attr: str, raw: object, dialect: Dialect, fmt: TempFormat) -> object:
    what = f"T: {attr}"
    if attr.endswith("annotation"):
        return None if raw is None else to_text(raw, what)
    if attr in ("state", "time"):
        return to_int(raw, what)
    if attr == "room_temp" and raw == "":
        return None  # ESP: no room sensor installed
    if raw is None or raw == "":
        # null is a missing reading, or a set point switched off (AVR).
        return DISABLED_TEMP if attr.endswith("set") else INVALID_TEMP
    if isinstance(raw, bool) or not isinstance(raw, str):
        raise ProtocolError(f"{what}: expected a temperature, got {describe(raw)}")
    try:
        return parse_temperature(raw, fmt, dialect)
    except ProtocolError as error:
        raise ProtocolError(f"{what}: {error}") from None


def _parse_t(body: str, dialect: Dialect, fmt: TempFormat) -> TemperatureReport:
    obj = _load_object(body, "T:")
    values: dict[str, object] = {}
    compact = False
    for key, raw in obj.items():
        attr = _TEMPERATURE_KEYS.get(key)
        if attr is None:
            attr = _COMPACT_TEMPERATURE_KEYS.get(key)
            compact = compact or attr is not None
        if attr is not None:
            values[attr] = _temperature_value(attr, raw, dialect, fmt)
    if not values:
        raise ProtocolError(f"T: expected keys such as BeerTemp or State, got {describe(body)}")
    missing = {attr for attr in _REPORT_ATTRS if attr not in values}
    if not compact:
        missing.discard("room_temp")  # a full AVR line leaves it out when there is no sensor
    defaults = dict.fromkeys(("beer_temp", "beer_set", "fridge_temp", "fridge_set"), INVALID_TEMP)
    defaults |= {"beer_annotation": None, "fridge_annotation": None, "room_temp": None}
    defaults |= {"state": 0, "time": None}
    return TemperatureReport(**(defaults | values), missing=frozenset(missing))  # type: ignore[arg-type]


def _decode_record(
    obj: Mapping[str, object],
    cls: type,
    table: tuple[Field, ...],
    fmt: TempFormat,
    dialect: Dialect,
    prefix: str,
):
    for spec in table:
        if spec.kind in (ValueKind.MODE, ValueKind.FORMAT) and obj.get(spec.key, "?") in ("", None):
            raise ProtocolError(f"{prefix} {spec.key}: expected a letter, got {obj[spec.key]!r}")
    # null for a temperature is a disabled value; decode_fields would read it as invalid.
    values = {
        key: "null" if value is None and key in _TEMPERATURE_FIELD_KEYS else value
        for key, value in obj.items()
    }
    try:
        return decode_fields(cls, table, values, fmt, dialect)
    except ProtocolError as error:
        raise ProtocolError(f"{prefix} {error}") from None


_FIELD_BY_KEY: dict[str, Field] = {
    spec.key: spec for spec in SETTINGS_FIELDS + CONSTANTS_FIELDS + VARIABLES_FIELDS
}
_TEMPERATURE_FIELD_KEYS = {
    key for key, spec in _FIELD_BY_KEY.items() if spec.kind is ValueKind.TEMPERATURE
}


def _parse_s(body: str, dialect: Dialect, fmt: TempFormat) -> SettingsReport:
    obj = _load_object(body, "S:")
    return SettingsReport(_decode_record(obj, ControlSettings, SETTINGS_FIELDS, fmt, dialect, "S:"))


def _parse_c(body: str, dialect: Dialect, fmt: TempFormat) -> ConstantsReport:
    obj = _load_object(body, "C:")
    # A C: line is printed in its own format; read that first.
    raw_format = _get(obj, "tempFormat", "C:")
    try:
        own_format = parse_field(_FIELD_BY_KEY["tempFormat"], raw_format, fmt, dialect)
    except ProtocolError as error:
        raise ProtocolError(f"C: {error}") from None
    constants = _decode_record(obj, ControlConstants, CONSTANTS_FIELDS, own_format, dialect, "C:")
    return ConstantsReport(constants)


def _parse_v(body: str, dialect: Dialect, fmt: TempFormat) -> VariablesReport:
    obj = _load_object(body, "V:")
    variables = _decode_record(obj, ControlVariables, VARIABLES_FIELDS, fmt, dialect, "V:")
    return VariablesReport(variables)


def _parse_l(body: str, dialect: Dialect, fmt: TempFormat) -> LcdReport:
    lines = _load_list(body, "L:")
    if len(lines) != 4 or not all(isinstance(line, str) for line in lines):
        raise ProtocolError(f"L: expected an array of 4 strings, got {describe(body)}")
    return LcdReport(tuple(str(line) for line in lines))  # type: ignore[arg-type]


def _log_value(value: object) -> int | str:
    if isinstance(value, WireNumber):
        return to_int(value, "D: value") if re.fullmatch(r"\s*-?\d{1,12}\s*", value) else str(value)
    if isinstance(value, str):
        return value
    raise ProtocolError(f"D: expected numbers and strings in 'V', got {describe(value)}")


def _parse_d_log(body: str, dialect: Dialect, fmt: TempFormat) -> LogMessage:
    obj = _load_object(body, "D:")
    log_type = _get(obj, "logType", "D:")
    if log_type not in LOG_TYPES:
        raise ProtocolError(f"D: expected logType E, W or I, got {describe(log_type)}")
    log_id = to_int(_get(obj, "logID", "D:"), "D: logID")
    values = _expect_list(obj.get("V", []), "D: 'V'")
    return LogMessage(str(log_type), log_id, [_log_value(value) for value in values])


def _parse_devices(
    body: str, dialect: Dialect, fmt: TempFormat, prefix: str
) -> list[DeviceDefinition]:
    items = _load_list(body, prefix)
    try:
        return [parse_device(item, dialect, fmt) for item in items]  # type: ignore[arg-type]
    except ProtocolError as error:
        raise ProtocolError(f"{prefix} {error}") from None


def _parse_d(body: str, dialect: Dialect, fmt: TempFormat) -> DeviceListReport:
    return DeviceListReport(_parse_devices(body, dialect, fmt, "d:"))


def _parse_h(body: str, dialect: Dialect, fmt: TempFormat) -> HardwareReport:
    return HardwareReport(_parse_devices(body, dialect, fmt, "h:"))


def _parse_u(body: str, dialect: Dialect, fmt: TempFormat) -> DeviceUpdateReport:
    obj = _load_object(body, "U:")
    try:
        return DeviceUpdateReport(parse_device(obj, dialect, fmt))
    except ProtocolError as error:
        raise ProtocolError(f"U: {error}") from None


def _parse_x(body: str, dialect: Dialect, fmt: TempFormat) -> ExtendedSettingsReport:
    obj = _load_object(body, "X:")

    def flag(key: str) -> bool:  # older ESP builds lack some of these keys
        return to_bool(obj.get(key, False), f"X: {key!r}")

    return ExtendedSettingsReport(flag("invertTFT"), flag("glycol"), flag("largeTFT"))


def _parse_w(body: str, dialect: Dialect, fmt: TempFormat) -> WifiReport:
    obj = _load_object(body, "W:")
    ssid = to_text(_get(obj, "ssid", "W:"), "W: 'ssid'")
    return WifiReport(ssid, to_int(_get(obj, "signalStrength", "W:"), "W: 'signalStrength'"))


def _parse_r(body: str, dialect: Dialect, fmt: TempFormat) -> ProbeReadingsReport:
    readings = []
    for item in _load_list(body, "R:"):
        reading = _expect_object(item, "R:")
        address = to_text(_get(reading, "device", "R:"), "R: 'device'")
        raw = reading.get("value")
        if raw is None or raw in ("", "null"):
            value = INVALID_TEMP
        elif isinstance(raw, str):
            try:
                value = parse_temperature(raw, fmt, dialect)
            except ProtocolError as error:
                raise ProtocolError(f"R: 'value': {error}") from None
        else:
            raise ProtocolError(f"R: 'value': expected a temperature, got {describe(raw)}")
        readings.append((address, value, to_text(reading.get("name", ""), "R: 'name'")))
    return ProbeReadingsReport(readings)


def _parse_y(body: str, dialect: Dialect, fmt: TempFormat) -> SimulatorReport:
    return SimulatorReport(plain(_load_object(body, "Y:")))  # type: ignore[arg-type]


_PARSERS: dict[str, Callable[[str, Dialect, TempFormat], Message]] = {
    "N": _parse_n,
    "T": _parse_t,
    "S": _parse_s,
    "C": _parse_c,
    "V": _parse_v,
    "L": _parse_l,
    "D": _parse_d_log,
    "d": _parse_d,
    "h": _parse_h,
    "U": _parse_u,
    "X": _parse_x,
    "W": _parse_w,
    "R": _parse_r,
    "Y": _parse_y,
}


def parse_line(
    line: str, dialect: Dialect | None = None, fmt: TempFormat = TempFormat.CELSIUS
) -> Message:
    """The message in one line from the firmware (trailing CR/LF allowed).

    Either dialect's line is understood whatever `dialect` says; it only decides whether a line
    without a prefix is an ESP raw line (RawText) or an error (AVR sends none; None accepts it).
    `fmt` is the controller's temperature format; a `C:` line carries its own. Raises
    ProtocolError.
    """
    if not isinstance(line, str):
        raise ProtocolError(f"expected a line of text, got {type(line).__name__}")
    text = line.rstrip("\r\n")
    if not text.strip():
        raise ProtocolError("expected a reply line such as T:{...}, got an empty line")
    # Printed values are read to the nearest internal unit (the AVR way), which gets back the
    # value the firmware printed; ESP's own truncating reader would lose a unit now and then.
    numbers = Dialect.AVR
    if len(text) >= 2 and text[1] == ":" and text[0].isascii() and text[0].isalpha():
        parser = _PARSERS.get(text[0])
        if parser is None:
            raise ProtocolError(f"unknown reply prefix {text[:2]!r} in {describe(text)}")
        return parser(text[2:], numbers, fmt)
    if dialect is Dialect.AVR:
        raise ProtocolError(f"expected a reply prefix such as 'T:', got {describe(text)}")
    return RawText(text)


_LOG_LINE = re.compile(r"D:\{.*?\}\r?\n")


def strip_log_messages(buffer: str) -> tuple[str, list[str]]:
    """Take every complete `D:{...}` line out of a receive buffer, wherever it sits (§2).

    A log message may be printed in the middle of another reply. Returns the buffer without them
    and the removed lines (without line ends). An unfinished D: line at the end stays.
    """
    removed = [match.group().rstrip("\r\n") for match in _LOG_LINE.finditer(buffer)]
    return _LOG_LINE.sub("", buffer), removed


# The LCD degree sign is byte 0xB0; the rest of a line is read as code page 437 (§2, §4.6).
_DEGREE_BYTE_CHAR = b"\xb0".decode("cp437")


def encode_wire_text(line: str) -> bytes:
    """The bytes for a line of text ('°' becomes 0xB0; characters cp437 lacks become '?')."""
    return line.replace("°", _DEGREE_BYTE_CHAR).encode("cp437", errors="replace")


def decode_wire_text(data: bytes) -> str:
    """Received bytes as text, byte 0xB0 as '°'."""
    return data.decode("cp437").replace(_DEGREE_BYTE_CHAR, "°")


__all__ = [
    "ConstantsReport",
    "DeviceListReport",
    "DeviceUpdateReport",
    "ExtendedSettingsReport",
    "HardwareReport",
    "LcdReport",
    "LogMessage",
    "Message",
    "ProbeNamesReport",
    "ProbeReadingsReport",
    "RawText",
    "SettingsReport",
    "SimulatorReport",
    "TemperatureReport",
    "VariablesReport",
    "VersionInfo",
    "WifiReport",
    "decode_wire_text",
    "encode_line",
    "parse_line",
    "strip_log_messages",
]
