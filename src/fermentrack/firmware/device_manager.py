"""The firmware's device slots: which hardware does which job (`d`, `h` and `U`, §7).

A slot holds a device definition; installing it builds the hardware object and hands it to the
control algorithm under its function (beer sensor, cooler, door...). Functions with nothing
installed keep null devices. The hardware itself comes from a backend: the simulated chamber or
the Pi's 1-Wire bus and GPIO pins.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Protocol

from fermentrack.brewpi.devices import (
    DeviceDefinition,
    DeviceFunction,
    DeviceHardware,
    DeviceType,
    merge_update,
    validate_definition,
)
from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.log_messages import ErrorId, LogMessage
from fermentrack.brewpi.temperature import INVALID_TEMP, Dialect, TempFormat
from fermentrack.firmware.hardware_interface import (
    Actuator,
    NullActuator,
    NullSwitch,
    NullTempSensor,
    SwitchSensor,
    TempSensorDevice,
)
from fermentrack.firmware.tempcontrol import TempControl

log = logging.getLogger(__name__)

SLOTS = {Dialect.AVR: 16, Dialect.ESP: 20}
CAMERA_LIGHT_SLOT = -2

F = DeviceFunction
# Where each function the control loop uses lives on TempControl (§7.1: only 1–7 and 9).
_SENSOR_ATTRS = {
    F.CHAMBER_TEMP: "fridge_sensor",
    F.BEER_TEMP: "beer_sensor",
    F.ROOM_TEMP: "room_sensor",
}
_ACTUATOR_ATTRS = {
    F.CHAMBER_HEATER: "heater",
    F.CHAMBER_COOLER: "cooler",
    F.CHAMBER_LIGHT: "light",
    F.CHAMBER_FAN: "fan",
}
del F


class HardwareBackend(Protocol):
    """The pins and buses a board offers, and the device objects that drive them."""

    actuator_pins: tuple[int, ...]  # outputs, in the order `h` lists them
    switch_pins: tuple[int, ...]  # inputs (the door)
    onewire_pins: tuple[int, ...]

    def onewire_addresses(self, pin: int) -> list[str]: ...

    def temp_sensor(self, pin: int, address: str) -> TempSensorDevice: ...

    def actuator(self, pin: int, invert: bool) -> Actuator: ...

    def switch(self, pin: int, invert: bool) -> SwitchSensor: ...


class DeviceManager:
    def __init__(self, dialect: Dialect, hardware: HardwareBackend, control: TempControl) -> None:
        self.dialect = dialect
        self.hardware = hardware
        self.control = control
        self.slots: list[DeviceDefinition | None] = [None] * SLOTS[dialect]
        self._objects: dict[int, object] = {}  # slot -> the installed hardware object

    @property
    def max_slot(self) -> int:
        return len(self.slots) - 1

    def definitions(self) -> list[DeviceDefinition]:
        """What the EEPROM stores: every occupied slot."""
        return [defn for defn in self.slots if defn is not None]

    def install_all(self, definitions: list[DeviceDefinition]) -> None:
        """At boot: install what the EEPROM holds, skipping anything no longer valid."""
        for defn in definitions:
            errors = self._validate(defn)
            if errors:
                log.warning("EEPROM device in slot %s is invalid, skipped: %s", defn.slot, errors)
                continue
            self._install(defn)

    def uninstall_all(self) -> None:
        for slot, defn in enumerate(self.slots):
            if defn is not None:
                self._uninstall(slot)

    # -- U{...} -------------------------------------------------------------------------------

    def update(
        self, args: Mapping[str, object], fmt: TempFormat
    ) -> tuple[DeviceDefinition, list[LogMessage]]:
        """Apply a `U{...}`: (the resulting or unchanged definition, D: messages to send)."""
        slot = args.get("i") if isinstance(args, Mapping) else None
        try:
            slot = int(str(slot))
        except ValueError:
            slot = -1
        current = self.slots[slot] if 0 <= slot <= self.max_slot else None
        current = current or DeviceDefinition(slot=slot, value=None)
        try:
            wanted = merge_update(current, args, self.dialect, fmt)
        except ProtocolError as error:
            log.info("U rejected: %s", error)
            return current, [LogMessage.error(ErrorId.INVALID_DEVICE_DEFINITION)]
        errors = self._validate(wanted)
        if errors:
            return current, errors
        if self.slots[wanted.slot] is not None:
            self._uninstall(wanted.slot)
        if wanted.function != DeviceFunction.NONE:
            for slot_index, other in enumerate(self.slots):
                if other is not None and other.function == wanted.function:
                    self._uninstall(slot_index)
            self._install(wanted)
        return wanted, []

    def _validate(self, defn: DeviceDefinition) -> list[LogMessage]:
        errors = validate_definition(
            defn,
            max_slot=self.max_slot,
            onewire_pins=set(self.hardware.onewire_pins),
            actuator_pins=set(self.hardware.actuator_pins) | set(self.hardware.switch_pins),
        )
        if errors or defn.function == DeviceFunction.NONE:
            return errors
        if defn.hardware == DeviceHardware.ONEWIRE_TEMP and defn.address not in (
            self.hardware.onewire_addresses(defn.pin)
        ):
            return [LogMessage.error(ErrorId.NO_ADDRESS_FOR_SENSOR, defn.pin)]
        for slot, other in enumerate(self.slots):
            if other is not None and slot != defn.slot and _same_hardware(other, defn):
                return [
                    LogMessage.error(ErrorId.INVALID_DEVICE_DEFINITION),
                    LogMessage.error(ErrorId.HARDWARE_ALREADY_INSTALLED, slot),
                ]
        return []

    def _install(self, defn: DeviceDefinition) -> None:
        defn = replace(defn, value=None)
        hardware, control = self.hardware, self.control
        function = defn.function
        device: object
        if defn.device_type is DeviceType.TEMP_SENSOR:
            device = hardware.temp_sensor(defn.pin, defn.address)
            sensor = (
                getattr(control, _SENSOR_ATTRS[function], None)
                if function in _SENSOR_ATTRS
                else None
            )
            if sensor is not None:
                sensor.device = device
                sensor.calibration = defn.calibration
                sensor.reset()
                sensor.update()  # read at once, so the next report carries the probe's value
        elif defn.device_type is DeviceType.SWITCH_ACTUATOR:
            device = hardware.actuator(defn.pin, defn.invert)
            if function in _ACTUATOR_ATTRS:
                setattr(control, _ACTUATOR_ATTRS[function], device)
        elif defn.device_type is DeviceType.SWITCH_SENSOR:
            device = hardware.switch(defn.pin, defn.invert)
            control.door = device
        else:
            return
        self.slots[defn.slot] = defn
        self._objects[defn.slot] = device

    def _uninstall(self, slot: int) -> None:
        defn = self.slots[slot]
        if defn is None:
            return
        function, control = defn.function, self.control
        if function in _SENSOR_ATTRS:
            sensor = getattr(control, _SENSOR_ATTRS[function])
            sensor.device = NullTempSensor()
            sensor.reset()
        elif function in _ACTUATOR_ATTRS:
            getattr(control, _ACTUATOR_ATTRS[function]).set_active(False)
            setattr(control, _ACTUATOR_ATTRS[function], NullActuator())
        elif function == DeviceFunction.CHAMBER_DOOR:
            control.door = NullSwitch()
        self.slots[slot] = None
        self._objects.pop(slot, None)

    # -- d{...} -------------------------------------------------------------------------------

    def installed(
        self, *, with_values: bool, include_empty: bool = False
    ) -> list[DeviceDefinition]:
        listing = []
        for slot, defn in enumerate(self.slots):
            if defn is None:
                if include_empty:
                    listing.append(DeviceDefinition(slot=slot, chamber=0, value=None))
                continue
            value = self._value(self._objects.get(slot), defn) if with_values else None
            listing.append(replace(defn, value=value))
        return listing

    def write_actuator(self, slot: int, on: bool) -> bool:
        """`d{i:N,w:1}`: drive an output by hand (test mode). False if no actuator is there."""
        device = self._objects.get(slot)
        defn = self.slots[slot] if 0 <= slot <= self.max_slot else None
        if defn is None or defn.device_type is not DeviceType.SWITCH_ACTUATOR:
            return False
        device.set_active(on)  # type: ignore[union-attr]
        return True

    # -- h{...} -------------------------------------------------------------------------------

    def available_hardware(
        self,
        *,
        with_values: bool,
        unused_only: bool,
        hardware_filter: int = -1,
        pin_filter: int = -1,
    ) -> list[DeviceDefinition]:
        """Every output pin, the door pin and each sensor found on each bus (§7.4)."""
        hardware = self.hardware
        candidates: list[DeviceDefinition] = []
        for pin in hardware.actuator_pins:
            candidates.append(DeviceDefinition(hardware=DeviceHardware.PIN, pin=pin, invert=True))
        for pin in hardware.switch_pins:
            candidates.append(DeviceDefinition(hardware=DeviceHardware.PIN, pin=pin, invert=True))
        for pin in hardware.onewire_pins:
            for address in hardware.onewire_addresses(pin):
                candidates.append(
                    DeviceDefinition(hardware=DeviceHardware.ONEWIRE_TEMP, pin=pin, address=address)
                )
        listing = []
        for candidate in candidates:
            if hardware_filter not in (-1, candidate.hardware) or pin_filter not in (
                -1,
                candidate.pin,
            ):
                continue
            slot = next(
                (
                    s
                    for s, d in enumerate(self.slots)
                    if d is not None and _same_hardware(d, candidate)
                ),
                -1,
            )
            if unused_only and slot != -1:
                continue
            value = None
            if with_values:
                value = self._candidate_value(candidate, slot)
            listing.append(replace(candidate, slot=slot, value=value))
        return listing

    def _candidate_value(self, candidate: DeviceDefinition, slot: int):
        if slot != -1:
            return self._value(self._objects.get(slot), self.slots[slot])
        if candidate.hardware == DeviceHardware.ONEWIRE_TEMP:
            device = self.hardware.temp_sensor(candidate.pin, candidate.address)
            return device.read() if device.init() else INVALID_TEMP
        if candidate.pin in self.hardware.switch_pins:
            return self.hardware.switch(candidate.pin, False).sense()
        return False

    @staticmethod
    def _value(device: object, defn: DeviceDefinition | None):
        if device is None or defn is None:
            return None
        if defn.device_type is DeviceType.TEMP_SENSOR:
            return device.read() if device.init() else INVALID_TEMP  # type: ignore[attr-defined]
        if defn.device_type is DeviceType.SWITCH_ACTUATOR:
            return device.active  # type: ignore[attr-defined]
        return device.sense()  # type: ignore[attr-defined]


def _same_hardware(a: DeviceDefinition, b: DeviceDefinition) -> bool:
    if a.hardware != b.hardware or a.pin != b.pin:
        return False
    return a.hardware != DeviceHardware.ONEWIRE_TEMP or a.address == b.address
