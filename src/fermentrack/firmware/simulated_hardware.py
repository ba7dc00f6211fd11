"""The simulated board: relays, a door switch and three DS18B20 probes wired to the chamber model.

Laid out like a BrewPi RevC shield: actuator pins 2, 5, 6 and 19, the door on pin 4, one 1-Wire
bus on pin 18. In the simulated chamber pin 5 drives the cooler (compressor), pin 6 the heater,
pin 2 the fan and pin 19 the light. The relays are active low, as on most relay boards, which is
why BrewPi lists pins as inverted by default. Assigning a function to the wrong pin drives the
wrong thing, exactly as it would with real wires.
"""

from __future__ import annotations

from functools import partial

from fermentrack.brewpi.devices import (
    DeviceDefinition,
    DeviceFunction,
    DeviceHardware,
    onewire_address,
)
from fermentrack.firmware.hardware_interface import CelsiusProbe, PinRelay, PinSwitch
from fermentrack.firmware.simulator import ChamberSimulator

COOLER_PIN = 5
HEATER_PIN = 6
FAN_PIN = 2
LIGHT_PIN = 19
DOOR_PIN = 4
ONEWIRE_PIN = 18

_PROBE_SERIALS = {"fridge": 0xC0FFEE01, "beer": 0xC0FFEE02, "room": 0xC0FFEE03}


def probe_address(name: str) -> str:
    """The 16-hex-digit ROM code of a simulated probe (a DS18B20, family 0x28)."""
    return onewire_address(0x28, _PROBE_SERIALS[name])


PROBE_ADDRESSES = {probe_address(name): name for name in _PROBE_SERIALS}


class SimulatedBoard:
    """The hardware backend for `--hardware sim` (see DeviceManager's HardwareBackend)."""

    actuator_pins = (FAN_PIN, COOLER_PIN, HEATER_PIN, LIGHT_PIN)
    switch_pins = (DOOR_PIN,)
    onewire_pins = (ONEWIRE_PIN,)

    def __init__(self, simulator: ChamberSimulator) -> None:
        self.simulator = simulator
        # Pin levels: high (True) = relay off. Unconfigured pins float high.
        self._levels = dict.fromkeys(self.actuator_pins, True)

    def set_output(self, pin: int, high: bool) -> None:
        self._levels[pin] = high

    def read_input(self, pin: int) -> bool:
        """The door switch reads high while the door is open; other pins float low."""
        return pin == DOOR_PIN and self.simulator.door_open

    def read_output(self, pin: int) -> bool:
        """The level an output pin is driven to (high: its relay is off)."""
        return self._levels[pin]

    def onewire_addresses(self, pin: int) -> list[str]:
        if pin != ONEWIRE_PIN:
            return []
        return [a for a, name in PROBE_ADDRESSES.items() if self.simulator.sensor_fitted(name)]

    def temp_sensor(self, pin: int, address: str) -> CelsiusProbe:
        return CelsiusProbe(partial(self.simulator.read_celsius, PROBE_ADDRESSES[address]))

    def actuator(self, pin: int, invert: bool) -> PinRelay:
        return PinRelay(self, pin, invert)

    def switch(self, pin: int, invert: bool) -> PinSwitch:
        return PinSwitch(self, pin, invert)

    def advance(self) -> None:
        """One simulated second of the chamber with the relays as they are now."""
        levels = self._levels
        self.simulator.step(
            not levels[HEATER_PIN],
            not levels[COOLER_PIN],
            not levels[FAN_PIN],
            not levels[LIGHT_PIN],
        )


def default_wiring() -> list[DeviceDefinition]:
    """The device assignment a brewer would make for the simulated chamber."""
    F, H = DeviceFunction, DeviceHardware
    return [
        DeviceDefinition(
            slot=0,
            function=F.CHAMBER_TEMP,
            hardware=H.ONEWIRE_TEMP,
            pin=ONEWIRE_PIN,
            address=probe_address("fridge"),
        ),
        DeviceDefinition(
            slot=1,
            function=F.BEER_TEMP,
            beer=1,
            hardware=H.ONEWIRE_TEMP,
            pin=ONEWIRE_PIN,
            address=probe_address("beer"),
        ),
        DeviceDefinition(
            slot=2,
            function=F.ROOM_TEMP,
            hardware=H.ONEWIRE_TEMP,
            pin=ONEWIRE_PIN,
            address=probe_address("room"),
        ),
        DeviceDefinition(
            slot=3, function=F.CHAMBER_COOLER, hardware=H.PIN, pin=COOLER_PIN, invert=True
        ),
        DeviceDefinition(
            slot=4, function=F.CHAMBER_HEATER, hardware=H.PIN, pin=HEATER_PIN, invert=True
        ),
        DeviceDefinition(
            slot=5, function=F.CHAMBER_DOOR, hardware=H.PIN, pin=DOOR_PIN, invert=False
        ),
    ]
