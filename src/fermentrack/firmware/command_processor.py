"""Answering the protocol's commands (brewpi-protocol §3) on behalf of a `Board`.

Each command letter has one small method. What a dialect does differently (AVR's `D:` warnings
versus ESP's raw error lines, the `E` confirmation, annotation texts) is decided here, from the
spec's tables; the message formats themselves live in `fermentrack.brewpi`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from fermentrack import __version__
from fermentrack.brewpi.commands import Command, MalformedJson, UnknownCommand
from fermentrack.brewpi.devices import device_type_for, is_assignable
from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.log_messages import (
    LOG_MESSAGES_VERSION,
    ErrorId,
    InfoId,
    LogMessage,
    WarningId,
)
from fermentrack.brewpi.messages import (
    ConstantsReport,
    DeviceListReport,
    DeviceUpdateReport,
    ExtendedSettingsReport,
    HardwareReport,
    LcdReport,
    ProbeNamesReport,
    ProbeReadingsReport,
    RawText,
    SettingsReport,
    SimulatorReport,
    VariablesReport,
    VersionInfo,
    WifiReport,
)
from fermentrack.brewpi.settings import (
    FIELDS_BY_KEY,
    Mode,
    ValueKind,
    parse_field,
)
from fermentrack.brewpi.temperature import Dialect, format_temperature

if TYPE_CHECKING:
    from fermentrack.firmware.board import Board

log = logging.getLogger(__name__)

# What `n` reports (§4.1): the newest legacy version of each family, so every script accepts us.
PROTOCOL_VERSION = {Dialect.AVR: "0.2.13", Dialect.ESP: "0.2.4"}
BOARD_CHAR = {Dialect.AVR: "s", Dialect.ESP: "e"}
ESP_REVISION = "0.15"
AVR_ANNOTATION_LIMIT = 31  # AVR annotations are truncated to 31 characters (§4.8)
PROFILE_ANNOTATION_THRESHOLD = 100  # AVR annotates profile steps above ~0.2 °C only

_TRUE_TEXT = {"1", "true"}


def _truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE_TEXT


def _int_arg(args: Mapping[str, object], key: str, default: int) -> int:
    try:
        return int(str(args.get(key, default)).strip())
    except ValueError:
        return default


class CommandProcessor:
    def __init__(self, board: Board) -> None:
        self.board = board
        self._handlers = {
            "n": self.version,
            "t": self.temperatures,
            "s": self.settings,
            "c": self.constants,
            "v": self.variables,
            "l": self.lcd,
            "j": self.apply_settings,
            "S": self.default_settings,
            "C": self.default_constants,
            "E": self.reset_eeprom,
            "d": self.list_devices,
            "h": self.list_hardware,
            "U": self.update_device,
            "R": self.reboot,
            "A": self.alarm_on,
            "a": self.alarm_off,
            "y": self.simulator_settings,
            "Y": self.simulator_dump,
            "b": self.ignore,  # LCD backlight: we have none
            "w": self.ignore,  # reset WiFi: we have none
            "x": self.extended_settings,
            "X": self.extended_settings,
            "W": self.wifi,
            "T": self.probe_readings,
            "o": self.set_probe_names,
            "p": self.probe_names,
        }
        self.extended = {"invertTFT": False, "glycol": False, "largeTFT": False}

    @property
    def avr(self) -> bool:
        return self.board.dialect is Dialect.AVR

    def handle(self, event: Command | UnknownCommand | MalformedJson) -> None:
        if isinstance(event, UnknownCommand):
            self.unknown(event.byte)
        elif isinstance(event, MalformedJson):
            log.info("malformed JSON after %r: %s", event.letter, event.reason)
            if self.avr:
                self.board.send(LogMessage.error(ErrorId.EXPECTED_BRACE, event.byte))
            else:
                self.board.send(RawText(f"Error deserializing JSON data {event.reason}"))
        else:
            handler = self._handlers.get(event.letter)
            if handler is None:
                self.unknown(ord(event.letter))
            else:
                handler(event.args or {})

    def unknown(self, byte: int) -> None:
        if self.avr:
            self.board.send(LogMessage.warning(WarningId.INVALID_COMMAND, byte))
        else:
            self.board.send(RawText(f'Invalid command received "{chr(byte)}" (0x{byte:02X})'))

    def ignore(self, args: Mapping[str, object]) -> None:
        pass

    # -- reading state ------------------------------------------------------------------------

    def version(self, args: Mapping[str, object]) -> None:
        dialect = self.board.dialect
        self.board.send(
            VersionInfo(
                version=PROTOCOL_VERSION[dialect],
                build=f"fermentrack-{__version__}",
                shield=2 if self.avr else 0,
                simulator=self.board.simulator is not None,
                board=BOARD_CHAR[dialect],
                log_version=LOG_MESSAGES_VERSION,
                describe=None if self.avr else f"fermentrack-{__version__}",
                revision=None if self.avr else ESP_REVISION,
            )
        )

    def temperatures(self, args: Mapping[str, object]) -> None:
        self.board.send(self.board.temperature_report())

    def settings(self, args: Mapping[str, object]) -> None:
        self.board.send(SettingsReport(self.board.control.settings))

    def constants(self, args: Mapping[str, object]) -> None:
        self.board.send(ConstantsReport(self.board.control.constants))

    def variables(self, args: Mapping[str, object]) -> None:
        self.board.send(VariablesReport(self.board.control.variables()))

    def lcd(self, args: Mapping[str, object]) -> None:
        self.board.send(LcdReport(self.board.lcd()))

    # -- j{...} -------------------------------------------------------------------------------

    def apply_settings(self, args: Mapping[str, object]) -> None:
        """Each pair in order: (AVR) info 12, apply, annotate; then S: and C: (§4.8)."""
        board = self.board
        for key, raw in args.items():
            if self.avr:
                board.send(LogMessage.info(InfoId.RECEIVED_SETTING, key, _wire_text(raw)))
            field = FIELDS_BY_KEY.get(key)
            if field is None:
                board.send(LogMessage.warning(WarningId.COULD_NOT_PROCESS_SETTING))
                continue
            control = board.control
            try:
                value = parse_field(field, raw, control.constants.temp_format, board.dialect)
            except ProtocolError as error:
                log.info("setting ignored: %s", error)  # the firmware ignores it silently
                continue
            self._apply_setting(field.attr, field.kind, value)
        board.mark_dirty()
        board.send(SettingsReport(board.control.settings))
        board.send(ConstantsReport(board.control.constants))

    def _apply_setting(self, attr: str, kind: ValueKind, value: object) -> None:
        board = self.board
        control = board.control
        now = board.now
        if attr == "mode":
            control.set_mode(value, now)
            if self.avr:
                self._annotate(fridge=f"Mode set to {value} in web interface")
        elif attr == "beer_set":
            old = control.settings.beer_set
            in_profile = control.settings.mode is Mode.BEER_PROFILE
            control.set_beer_temp(value, now, from_profile=in_profile)
            if in_profile and self.avr and abs(value - old) <= PROFILE_ANNOTATION_THRESHOLD:
                return
            source = "by temperature profile" if in_profile else "in web interface"
            self._annotate(beer=f"Beer temp set to {self._degrees(value)} {source}")
        elif attr == "fridge_set":
            control.set_fridge_temp(value, now)
            if control.settings.mode is Mode.FRIDGE_CONSTANT:
                self._annotate(fridge=f"Fridge temp set to {self._degrees(value)} in web interface")
        elif attr in ("heat_estimator", "cool_estimator"):
            setattr(control.settings, attr, value)
        elif kind is ValueKind.FILTER:
            control.set_filter_setting(attr, value)  # AVR's runtime filter quirk lives there
        else:
            setattr(control.constants, attr, value)

    def _degrees(self, temp: int) -> str:
        return format_temperature(temp, self.board.control.constants.temp_format, 1) or "null"

    def _annotate(self, *, beer: str | None = None, fridge: str | None = None) -> None:
        if self.avr:
            beer = beer[:AVR_ANNOTATION_LIMIT] if beer else beer
            fridge = fridge[:AVR_ANNOTATION_LIMIT] if fridge else fridge
        report = self.board.temperature_report(beer_annotation=beer, fridge_annotation=fridge)
        self.board.send(report)

    # -- defaults and reset -------------------------------------------------------------------

    def default_settings(self, args: Mapping[str, object]) -> None:
        board = self.board
        board.load_default_settings()
        board.send(SettingsReport(board.control.settings))
        board.send(LogMessage.info(InfoId.DEFAULT_SETTINGS_LOADED))

    def default_constants(self, args: Mapping[str, object]) -> None:
        board = self.board
        board.load_default_constants()
        board.send(ConstantsReport(board.control.constants))
        board.send(LogMessage.info(InfoId.DEFAULT_CONSTANTS_LOADED))

    def reset_eeprom(self, args: Mapping[str, object]) -> None:
        board = self.board
        if not self.avr and args.get("confirmReset") is not True:
            # ESP sends this info message with logType "E" (§4.7 quirk).
            board.send(LogMessage("E", InfoId.UNCONFIRMED_EEPROM_RESET, []))
            return
        board.devices.uninstall_all()
        board.load_default_settings()
        board.load_default_constants()
        board.store()
        board.send(LogMessage.info(InfoId.EEPROM_INITIALIZED))

    def reboot(self, args: Mapping[str, object]) -> None:
        log.info("reset requested: rebooting")
        self.board.store_if_dirty()
        self.board.devices.uninstall_all()
        self.board.boot()

    def alarm_on(self, args: Mapping[str, object]) -> None:
        self.board.alarm = True

    def alarm_off(self, args: Mapping[str, object]) -> None:
        self.board.alarm = False

    # -- devices ------------------------------------------------------------------------------

    def list_devices(self, args: Mapping[str, object]) -> None:
        board = self.board
        slot = _int_arg(args, "i", -1)
        if "w" in args:
            if slot == -2:
                board.control.set_camera_light(_truthy(args["w"]), board.now)
            else:
                board.devices.write_actuator(slot, _truthy(args["w"]))
        with_values = _truthy(args.get("r" if self.avr else "v", 0))
        listing = board.devices.installed(
            with_values=with_values, include_empty=_truthy(args.get("e", 0))
        )
        if slot >= 0:
            listing = [defn for defn in listing if defn.slot == slot]
        board.send(DeviceListReport(listing))

    def list_hardware(self, args: Mapping[str, object]) -> None:
        board = self.board
        listing = board.devices.available_hardware(
            with_values=_truthy(args.get("v", 0)),
            unused_only=_int_arg(args, "u", 0) != 0,
            hardware_filter=_int_arg(args, "h", -1),
            pin_filter=_int_arg(args, "p", -1),
        )
        function = _int_arg(args, "f", 0)
        if function:
            wanted = device_type_for(function)
            listing = [d for d in listing if is_assignable(wanted, d.hardware)]
        board.send(HardwareReport(listing))

    def update_device(self, args: Mapping[str, object]) -> None:
        board = self.board
        definition, errors = board.devices.update(args, board.control.constants.temp_format)
        for error in errors:
            board.send(error)
        if not errors:
            board.store()
        board.send(DeviceUpdateReport(definition))

    # -- the simulator ------------------------------------------------------------------------

    def simulator_settings(self, args: Mapping[str, object]) -> None:
        simulator = self.board.simulator
        if simulator is None:
            self.unknown(ord("y"))
            return
        changes = {key: _avr_value(value) for key, value in args.items()} if self.avr else args
        try:
            simulator.apply_changes(dict(changes))
        except ValueError as error:
            log.warning("simulator setting refused: %s", error)
            if self.avr:  # AVR has no raw text lines: only the warning goes out
                self.board.send(LogMessage.warning(WarningId.COULD_NOT_PROCESS_SETTING))
            else:
                self.board.send(RawText(f"Simulator setting refused: {error}"))
            return
        self.simulator_dump(args)

    def simulator_dump(self, args: Mapping[str, object]) -> None:
        simulator = self.board.simulator
        if simulator is None:
            self.unknown(ord("Y"))
            return
        self.board.send(SimulatorReport(simulator.snapshot()))

    # -- ESP extras ---------------------------------------------------------------------------

    def extended_settings(self, args: Mapping[str, object]) -> None:
        for key in self.extended:
            if key in args:
                self.extended[key] = _truthy(args[key])
        x = self.extended
        self.board.send(ExtendedSettingsReport(x["invertTFT"], x["glycol"], x["largeTFT"]))

    def wifi(self, args: Mapping[str, object]) -> None:
        self.board.send(WifiReport(ssid="", signal_strength=0))

    def probe_readings(self, args: Mapping[str, object]) -> None:
        board = self.board
        readings = [
            (d.address, d.value, board.probe_names.get(d.address, ""))
            for d in board.devices.available_hardware(with_values=True, unused_only=False)
            if d.address
        ]
        board.send(ProbeReadingsReport(readings))

    def set_probe_names(self, args: Mapping[str, object]) -> None:
        for address, name in args.items():
            self.board.probe_names[str(address).upper()] = str(name)[:32]

    def probe_names(self, args: Mapping[str, object]) -> None:
        self.board.send(ProbeNamesReport(dict(self.board.probe_names)))


def _wire_text(raw: object) -> str:
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _avr_value(text: object) -> object:
    """AVR's tokenizer hands every value over as text; the simulator wants JSON values."""
    try:
        return json.loads(str(text))
    except ValueError:
        return text
