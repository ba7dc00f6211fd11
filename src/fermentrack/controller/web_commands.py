"""What the controller does for each command of interfaces.md §2 (the web app's requests on
its socket; `socket_server.py` owns the wire). Settings go to the firmware in its own unit, the
answers come back in the device's, and a firmware that is not there or does not answer is a
CommandFailed that says so."""

from __future__ import annotations

import contextlib
import logging
import math
import time
from typing import TYPE_CHECKING, Any

from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.log_messages import expand_log_message
from fermentrack.brewpi.messages import ConstantsReport, SettingsReport
from fermentrack.brewpi.settings import (
    CONSTANTS_FIELDS,
    SETTINGS_FIELDS,
    VARIABLES_FIELDS,
    Mode,
    ValueKind,
    parse_field,
)
from fermentrack.controller.session import FirmwareSession, FirmwareTimeout, LinkLost
from fermentrack.controller.socket_server import CommandFailed
from fermentrack.controller.web_api import WebRejected, WebUnavailable
from fermentrack.controller.web_values import (
    MODE_WORDS,
    degrees_between,
    device_json,
    difference_between,
    record_json,
    web_temperature,
)

if TYPE_CHECKING:
    from fermentrack.controller.controller import Controller

log = logging.getLogger(__name__)

COMMAND_TIMEOUT_S = 1.5  # a firmware round trip for a web request; the answer is due in 2 s
DEVICE_KEYS = ("i", "c", "b", "f", "h", "p", "x", "d", "a", "j", "n", "r")
READ_ONLY_DEVICE_KEYS = ("t", "v")  # in listings; ignored when a definition is applied
_CONSTANT_FIELDS = {spec.key: spec for spec in CONSTANTS_FIELDS}


class WebCommands:
    """The `Commands` of socket_server.py for one controller."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def _connected_session(self) -> FirmwareSession:
        session = self.controller.session
        if session is None or not session.connected:
            why = f" ({self.controller.last_error})" if self.controller.last_error else ""
            raise CommandFailed(f"firmware not connected{why}")
        return session

    @contextlib.asynccontextmanager
    async def _firmware_errors(self):
        try:
            yield
        except FirmwareTimeout as error:
            raise CommandFailed(f"the firmware did not answer: {error}") from None
        except LinkLost as error:
            raise CommandFailed(f"firmware not connected: {error}") from None

    async def status(self) -> dict:
        """The status of §1, the last settings, constants and variables, and how the
        controller itself is doing (link, outbox, profile)."""
        c = self.controller
        unit, profile = c.unit, c.profile_runner.profile

        def as_json(record, table):
            return None if record is None else record_json(record, table, unit)

        return c.status_report() | {
            "settings": as_json(c.settings, SETTINGS_FIELDS),
            "constants": as_json(c.constants, CONSTANTS_FIELDS),
            "variables": as_json(c.variables, VARIABLES_FIELDS),
            "temp_format": unit.value,
            "link": c.link,
            "log_interval_s": c.log_interval_s,
            "config_version": None if c.config is None else c.config.config_version,
            "profile": None
            if profile is None
            else {
                "id": profile.id,
                "started_at": profile.started_at,
                "beer_setting_now": c.profile_runner.setting_now(time.time()),
            },
            "points_logged": c.points_logged,
            "annotations_logged": c.annotations_logged,
            "outbox_backlog": c.uploader.backlog,
            "web_error": c.uploader.last_error,
        }

    async def set_mode(self, mode: str, temperature: float | None) -> dict:
        session = self._connected_session()
        annotation = None
        if mode == "off":
            values: dict[str, Any] = {"mode": Mode.OFF.value}
        elif mode == "beer_constant":
            values = {"mode": Mode.BEER_CONSTANT.value, "beerSet": temperature}
        elif mode == "fridge_constant":
            values = {"mode": Mode.FRIDGE_CONSTANT.value, "fridgeSet": temperature}
        else:
            if self.controller.config is None:
                raise CommandFailed(
                    "the web app has not sent this device's configuration yet, so its profile "
                    "is unknown"
                )
            profile = self.controller.config.profile
            if profile is None:
                raise CommandFailed("no profile is active for this device: start one first")
            step = self.controller.profile_runner.step(time.time(), None)
            if step.finished:
                values, annotation = dict(step.settings or {}), step.annotation
            else:
                values = {"mode": Mode.BEER_PROFILE.value}
                if step.settings:
                    values |= step.settings
        async with self._firmware_errors():
            settings, _ = await self.controller.apply_settings(
                session, values, timeout=COMMAND_TIMEOUT_S
            )
        if settings.mode.value != values["mode"]:
            raise CommandFailed(
                f"the firmware answered mode {settings.mode.value!r} instead of {values['mode']!r}"
            )
        if annotation:
            self.controller.note_profile_finished(annotation)
        unit = self.controller.unit
        return {
            "mode": MODE_WORDS.get(settings.mode),
            "beer_set": web_temperature(settings.beer_set, unit),
            "fridge_set": web_temperature(settings.fridge_set, unit),
            "settings": record_json(settings, SETTINGS_FIELDS, unit),
        }

    async def set_constants(self, constants: dict[str, Any]) -> dict:
        session = self._connected_session()
        values = self._constants_for_firmware(constants, session)
        async with self._firmware_errors():
            _, echoed = await self.controller.apply_settings(
                session, values, timeout=COMMAND_TIMEOUT_S
            )
        return {"constants": record_json(echoed, CONSTANTS_FIELDS, self.controller.unit)}

    def _constants_for_firmware(self, constants: dict[str, Any], session) -> dict[str, Any]:
        """Check the constants and express them in the firmware's unit (CommandFailed)."""
        values: dict[str, Any] = {}
        unit, firmware_unit = self.controller.unit, self.controller.firmware_unit
        for key, value in constants.items():
            spec = _CONSTANT_FIELDS.get(key)
            if spec is None:
                known = ", ".join(_CONSTANT_FIELDS)
                raise CommandFailed(f"unknown constant {key!r}: expected one of {known}")
            kind = spec.kind
            if kind is ValueKind.FORMAT:
                if value != unit.value:
                    raise CommandFailed(
                        f"tempFormat follows the device's unit (°{unit.value}): change the "
                        "unit in the device's settings instead"
                    )
                values[key] = value
                continue
            if kind is ValueKind.BOOL:
                if not isinstance(value, bool):
                    raise CommandFailed(f"{key}: expected true or false, got {value!r}")
                values[key] = value
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise CommandFailed(f"{key}: expected a number, got {value!r}")
            if not math.isfinite(value):
                raise CommandFailed(f"{key}: expected a finite number, got {value!r}")
            if kind in (ValueKind.SECONDS, ValueKind.FILTER):
                if value != int(value):
                    raise CommandFailed(f"{key}: expected a whole number, got {value!r}")
                value = int(value)
            elif kind is ValueKind.TEMPERATURE:
                value = degrees_between(value, unit, firmware_unit)
            elif kind is ValueKind.DIFFERENCE:
                value = difference_between(value, unit, firmware_unit)
            try:
                parse_field(spec, value, firmware_unit, session.dialect)
            except ProtocolError as error:
                raise CommandFailed(str(error)) from None
            values[key] = value
        return values

    async def refresh(self) -> dict:
        session = self._connected_session()
        async with self._firmware_errors():
            await self.controller.read_everything(session, timeout=COMMAND_TIMEOUT_S / 3)
        unit = self.controller.unit
        return {
            "settings": record_json(self.controller.settings, SETTINGS_FIELDS, unit),
            "constants": record_json(self.controller.constants, CONSTANTS_FIELDS, unit),
            "variables": record_json(self.controller.variables, VARIABLES_FIELDS, unit),
            "lcd": list(self.controller.lcd),
            "devices": [device_json(defn, unit) for defn in self.controller.devices],
        }

    async def list_devices(self) -> dict:
        session = self._connected_session()
        async with self._firmware_errors():
            self.controller.devices = (
                await session.list_devices(timeout=COMMAND_TIMEOUT_S)
            ).devices
        return {
            "devices": [device_json(defn, self.controller.unit) for defn in self.controller.devices]
        }

    async def scan_hardware(self) -> dict:
        session = self._connected_session()
        async with self._firmware_errors():
            report = await session.scan_hardware(timeout=COMMAND_TIMEOUT_S)
        return {"hardware": [device_json(defn, self.controller.unit) for defn in report.devices]}

    async def apply_device(self, definition: dict[str, Any]) -> dict:
        """Install or change one device; the firmware's reasons for refusing it, in words."""
        session = self._connected_session()
        args = self._definition_for_firmware(definition)
        async with self._firmware_errors():
            report, errors = await session.apply_device(args, timeout=COMMAND_TIMEOUT_S)
        texts = [expand_log_message(error) for error in errors]
        if texts:
            log.warning("the firmware refused device %s: %s", args, "; ".join(texts))
        else:
            self.controller.annotate(f"Device in slot {report.device.slot} set up from the web app")
        return {"definition": device_json(report.device, self.controller.unit), "errors": texts}

    def _definition_for_firmware(self, definition: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(definition) - set(DEVICE_KEYS) - set(READ_ONLY_DEVICE_KEYS))
        if unknown:
            raise CommandFailed(
                f"definition: unknown key {unknown[0]!r}: expected {', '.join(DEVICE_KEYS)} "
                "(brewpi-protocol §7.2)"
            )
        if "i" not in definition:
            raise CommandFailed("definition: 'i' (the slot) is required")
        args: dict[str, Any] = {}
        for key in DEVICE_KEYS:
            if key not in definition:
                continue
            value = definition[key]
            if key in ("a", "r"):
                if not isinstance(value, str) or len(value) > 64:
                    raise CommandFailed(f"definition {key!r}: expected text, got {value!r}")
                args[key] = value
            elif key in ("x", "d"):
                if value not in (0, 1) or (not isinstance(value, bool | int)):
                    raise CommandFailed(f"definition {key!r}: expected 0, 1, true or false")
                args[key] = int(value)
            elif key == "j":
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise CommandFailed(f"definition 'j': expected a number, got {value!r}")
                args[key] = difference_between(
                    float(value), self.controller.unit, self.controller.firmware_unit
                )
            else:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise CommandFailed(
                        f"definition {key!r}: expected a whole number, got {value!r}"
                    )
                if not -(2**31) <= value < 2**31:
                    raise CommandFailed(f"definition {key!r}: {value} is out of range")
                args[key] = value
        return args

    async def reset_eeprom(self) -> dict:
        session = self._connected_session()
        async with self._firmware_errors():
            await session.reset_eeprom(timeout=COMMAND_TIMEOUT_S / 2)
            settings = await session.request("s", expect=SettingsReport, timeout=0.5)
            constants = await session.request("c", expect=ConstantsReport, timeout=0.5)
        self.controller.settings, self.controller.constants = settings.settings, constants.constants
        self.controller.annotate("Firmware reset to its defaults (EEPROM) from the web app")
        self.controller.report_status_soon()
        self.controller.spawn(self.controller.read_again(), "read after reset")
        unit = self.controller.unit
        return {
            "settings": record_json(self.controller.settings, SETTINGS_FIELDS, unit),
            "constants": record_json(self.controller.constants, CONSTANTS_FIELDS, unit),
        }

    async def reload_config(self) -> dict:
        try:
            config = await self.controller.fetch_config()
        except WebUnavailable as error:
            raise CommandFailed(f"the web app did not answer: {error}") from None
        except WebRejected as error:
            raise CommandFailed(f"the web app refused: {error}") from None
        except ValueError as error:
            raise CommandFailed(f"the web app's config is not usable: {error}") from None
        return {"config_version": config.config_version}
