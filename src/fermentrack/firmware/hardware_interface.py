"""What the control algorithm needs from hardware: temperature sensors, actuators, a door switch.

The simulated chamber and the Pi's 1-Wire and GPIO drivers implement these three small
interfaces. A function with no device installed gets a null device (brewpi-protocol §8.7):
writes do nothing and reads say "off" or "disconnected", so the algorithm never checks for None.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from fermentrack.brewpi.temperature import INVALID_TEMP


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
