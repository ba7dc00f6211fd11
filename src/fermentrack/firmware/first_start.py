"""A simulated chamber's first start: its probes and relays fitted and the beer held at a
setting, through the same protocol commands a controller would send, as a brewer sets up a new
chamber. Used by `try-chamber` and by `firmware --fit-chamber` (what the spawner runs)."""

from __future__ import annotations

from fermentrack.brewpi.commands import encode_command
from fermentrack.brewpi.devices import DeviceHardware
from fermentrack.brewpi.settings import Mode
from fermentrack.firmware.board import Board
from fermentrack.firmware.simulated_hardware import default_wiring


def wiring_definitions() -> list[dict[str, object]]:
    """The simulated board's probes and relays as `U{...}` definitions (brewpi-protocol §7.2),
    as a brewer assigns them on the hardware page."""
    definitions = []
    for defn in default_wiring():
        definition: dict[str, object] = {
            "i": defn.slot,
            "c": 1,
            "b": defn.beer,
            "f": int(defn.function),
            "h": int(defn.hardware),
            "p": defn.pin,
            "x": int(defn.invert),
        }
        if defn.hardware == DeviceHardware.ONEWIRE_TEMP:
            definition |= {"a": defn.address, "j": 0.0}
        definitions.append(definition)
    return definitions


def wire_and_start(board: Board, beer_celsius: float) -> None:
    """Install the default devices and set beer constant, as a brewer would over the protocol."""
    for definition in wiring_definitions():
        board.receive(encode_command("U", definition).encode() + b"\n")
    command = encode_command("j", {"mode": Mode.BEER_CONSTANT.value, "beerSet": beer_celsius})
    board.receive(command.encode() + b"\n")


def fit_if_new(board: Board, beer_celsius: float) -> bool:
    """Wire and start a board that has no device installed yet; True when it did."""
    if board.devices.definitions():
        return False
    wire_and_start(board, beer_celsius)
    return True
