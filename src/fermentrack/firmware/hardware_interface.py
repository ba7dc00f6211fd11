"""What the control algorithm needs from hardware: temperature sensors, actuators, a door switch.

The simulated chamber and the Pi's 1-Wire and GPIO drivers implement these three small
interfaces. A function with no device installed gets a null device (brewpi-protocol §8.7):
writes do nothing and reads say "off" or "disconnected", so the algorithm never checks for None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from fermentrack.brewpi.temperature import INVALID_TEMP, temp_from_celsius


@runtime_checkable
class TempSensorDevice(Protocol):
    """A temperature probe, read once a second."""

    def init(self) -> bool:
        """Try to (re)connect; True when the probe answers. Called every tick while disconnected."""
        ...

    def read(self) -> int:
        """The temperature in 1/512 °C (offset −48 °C), or INVALID_TEMP when it did not answer."""
        ...


@runtime_checkable
class Actuator(Protocol):
    """An on/off output: heater, cooler, light or fan."""

    @property
    def active(self) -> bool: ...

    def set_active(self, on: bool) -> None:
        """Switch on or off. Called every tick with the wanted value, so it must be cheap."""
        ...


@runtime_checkable
class SwitchSensor(Protocol):
    """An on/off input: the chamber door (True = open)."""

    def sense(self) -> bool: ...


class NullTempSensor:
    """No probe installed: never connects, never reads."""

    __slots__ = ()

    def init(self) -> bool:
        return False

    def read(self) -> int:
        return INVALID_TEMP


class NullActuator:
    """No output installed: stays off whatever it is told."""

    __slots__ = ()

    @property
    def active(self) -> bool:
        return False

    def set_active(self, on: bool) -> None:
        pass


class NullSwitch:
    """No switch installed: reads as off (door closed)."""

    __slots__ = ()

    def sense(self) -> bool:
        return False


NULL_DEVICES = (NullTempSensor, NullActuator, NullSwitch)


def is_installed(device: object) -> bool:
    """False for a null device. The state machine only cools or heats with a real output."""
    return not isinstance(device, NULL_DEVICES)


class CelsiusProbe:
    """A temperature probe read through a function giving °C, or None when it does not answer.

    The simulated chamber and the Pi's 1-Wire bus both hand out readings that way.
    """

    __slots__ = ("_read_celsius",)

    def __init__(self, read_celsius: Callable[[], float | None]) -> None:
        self._read_celsius = read_celsius

    def init(self) -> bool:
        return self._read_celsius() is not None

    def read(self) -> int:
        celsius = self._read_celsius()
        return INVALID_TEMP if celsius is None else temp_from_celsius(celsius)


class PinLines(Protocol):
    """A board's digital pins: drive an output high or low, read an input."""

    def set_output(self, pin: int, high: bool) -> None: ...

    def read_input(self, pin: int) -> bool: ...


class PinRelay:
    """An output pin driving a relay; `invert` makes "on" a low pin, as active-low boards want."""

    __slots__ = ("_active", "_invert", "_lines", "pin")

    def __init__(self, lines: PinLines, pin: int, invert: bool) -> None:
        self._lines = lines
        self.pin = pin
        self._invert = invert
        self._active = False
        lines.set_output(pin, invert)  # off

    @property
    def active(self) -> bool:
        return self._active

    def set_active(self, on: bool) -> None:
        if on is not self._active:
            self._active = on
            self._lines.set_output(self.pin, on != self._invert)


class PinSwitch:
    """An input pin such as the door switch; `invert` flips what a high pin means."""

    __slots__ = ("_invert", "_lines", "pin")

    def __init__(self, lines: PinLines, pin: int, invert: bool) -> None:
        self._lines = lines
        self.pin = pin
        self._invert = invert

    def sense(self) -> bool:
        return self._lines.read_input(self.pin) != self._invert
