"""Our BrewPi firmware for one chamber: control loop, devices, EEPROM and the protocol, together.

A `Board` is fed bytes (`receive`), writes lines (through `attach_output`) and is ticked once a
simulated second (`tick`). It does no I/O of its own beyond its EEPROM folder: the transports
(TCP, pty) and the clock (`run_board`) drive it, so tests and benchmarks can tick it directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

from fermentrack.brewpi.commands import CommandReader
from fermentrack.brewpi.devices import DeviceFunction
from fermentrack.brewpi.log_messages import InfoId, LogMessage, WarningId
from fermentrack.brewpi.messages import (
    Message,
    TemperatureReport,
    encode_line,
    encode_wire_text,
)
from fermentrack.brewpi.settings import ControlState, default_constants, default_settings
from fermentrack.brewpi.temperature import INVALID_TEMP, Dialect
from fermentrack.firmware.clock import Clock
from fermentrack.firmware.device_manager import DeviceManager, HardwareBackend
from fermentrack.firmware.eeprom import Eeprom, EepromContents, OwnedFile
from fermentrack.firmware.lcd import lcd_lines
from fermentrack.firmware.tempcontrol import TempControl

log = logging.getLogger(__name__)

SIMULATOR_FILE = "simulator.json"
SIMULATOR_STATE_FILE = "simulator-state.json"
SIMULATOR_SAVE_S = 300  # simulated seconds between saves of the chamber's physical state
_TICKS_PER_BATCH = 500  # ticks run back to back before the event loop serves I/O again


class Board:
    def __init__(
        self,
        folder: Path,
        dialect: Dialect,
        hardware: HardwareBackend,
        *,
        simulator=None,
    ) -> None:
        from fermentrack.firmware.command_processor import CommandProcessor

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dialect = dialect
        self.hardware = hardware
        self.simulator = simulator
        self.eeprom = Eeprom(self.folder)
        self.simulator_state_file = OwnedFile(self.folder / SIMULATOR_STATE_FILE)
        self.reader = CommandReader(dialect)
        self.commands = CommandProcessor(self)
        self._write: Callable[[bytes], None] | None = None
        self.ticks = 0  # seconds ticked since the process started (paces the clock)
        self.alarm = False
        self.probe_names: dict[str, str] = {}
        self.boot()

    # -- power-up -----------------------------------------------------------------------------

    def boot(self) -> None:
        """Power-up (and `R`): load the EEPROM, or start in safe mode if it is blank or bad."""
        self.now = 0  # the firmware's clock: seconds since boot
        contents = self.eeprom.load()
        self.safe_mode = contents is None
        if contents is None:
            contents = EepromContents(
                default_settings(self.dialect), default_constants(self.dialect)
            )
        self.control = TempControl(
            self.dialect,
            contents.settings,
            contents.constants,
            on_settings_changed=self.mark_dirty,
            on_log=self._log_from_control,
        )
        self.devices = DeviceManager(self.dialect, self.hardware, self.control)
        self.devices.install_all(contents.devices)
        self._dirty = False
        self._door_open = False
        self._sensors_connected = self._sensor_connections()
        if self.safe_mode:
            self.send(LogMessage.warning(WarningId.SAFE_MODE))

    # -- output -------------------------------------------------------------------------------

    def attach_output(self, write: Callable[[bytes], None] | None) -> None:
        self._write = write

    def send(self, message: Message) -> None:
        write = self._write
        if write is None:
            return  # nobody listening: the line is lost, as on a real serial port
        line = encode_line(message, self.dialect, self.control.constants.temp_format)
        write(encode_wire_text(line) + b"\r\n")

    # -- input --------------------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        for event in self.reader.feed(data):
            self.commands.handle(event)
        self.store_if_dirty()

    def input_idle(self) -> None:
        for event in self.reader.timeout():
            self.commands.handle(event)
        self.store_if_dirty()

    # -- persistence --------------------------------------------------------------------------

    def mark_dirty(self) -> None:
        self._dirty = True

    def store_if_dirty(self) -> None:
        if self._dirty:
            self._dirty = False
            self.store()

    def save_simulator_state(self) -> None:
        """Keep the simulated beer's temperature and fermentation across a firmware restart.

        A real beer does not go back to room temperature when its controller reboots.
        """
        if self.simulator is not None:
            state = json.dumps(self.simulator.physical_state())
            self.simulator_state_file.write(state)

    def load_default_settings(self) -> None:
        """`S`: mode off and the dialect's default set points and estimators."""
        control = self.control
        defaults = default_settings(self.dialect)
        control.set_mode(defaults.mode, self.now)
        for attr in ("beer_set", "fridge_set", "heat_estimator", "cool_estimator"):
            setattr(control.settings, attr, getattr(defaults, attr))
        self.mark_dirty()

    def load_default_constants(self) -> None:
        """`C`: the dialect's default control constants."""
        self.control.apply_constants(default_constants(self.dialect))
        self.mark_dirty()

    def store(self) -> None:
        control = self.control
        self.eeprom.save(
            EepromContents(control.settings, control.constants, self.devices.definitions())
        )
        self.safe_mode = False

    # -- time ---------------------------------------------------------------------------------

    def tick(self) -> None:
        """One second of the firmware's loop (§8.1), then one second of the hardware."""
        control = self.control
        if control.tick(self.now):
            self.send(self.temperature_report())
        door_open = control.door.sense()
        if door_open != self._door_open:
            self._door_open = door_open
            text = "Fridge door opened" if door_open else "Fridge door closed"
            self.send(self.temperature_report(fridge_annotation=text))
        connections = self._sensor_connections()
        if connections != self._sensors_connected:
            self._report_connection_changes(connections)
        self.hardware.advance()
        self.now += 1
        self.ticks += 1
        if self.simulator is not None and self.ticks % SIMULATOR_SAVE_S == 0:
            self.save_simulator_state()
        if self._dirty:
            self.store_if_dirty()

    def _sensor_connections(self) -> tuple[bool, bool, bool]:
        c = self.control
        return (
            c.beer_sensor.is_connected,
            c.fridge_sensor.is_connected,
            c.room_sensor.is_connected,
        )

    def _report_connection_changes(self, connections: tuple[bool, bool, bool]) -> None:
        functions = (
            DeviceFunction.BEER_TEMP,
            DeviceFunction.CHAMBER_TEMP,
            DeviceFunction.ROOM_TEMP,
        )
        for function, before, after in zip(
            functions, self._sensors_connected, connections, strict=True
        ):
            if before == after:
                continue
            defn = next((d for d in self.devices.definitions() if d.function == function), None)
            if defn is None:
                continue
            if after:
                self.send(LogMessage.info(InfoId.TEMP_SENSOR_CONNECTED, defn.pin, defn.address))
            else:
                message = LogMessage.warning(
                    WarningId.TEMP_SENSOR_DISCONNECTED, defn.pin, defn.address
                )
                self.send(message)
        self._sensors_connected = connections

    def _log_from_control(self, log_type: str, log_id: int, values: list) -> None:
        self.send(LogMessage(log_type, log_id, list(values)))

    # -- what the board reports ---------------------------------------------------------------

    def temperature_report(
        self, *, beer_annotation: str | None = None, fridge_annotation: str | None = None
    ) -> TemperatureReport:
        c = self.control
        settings = c.settings

        def reading(sensor) -> int:
            return sensor.read_fast() if sensor.is_connected else INVALID_TEMP

        room_installed = any(
            d.function == DeviceFunction.ROOM_TEMP for d in self.devices.definitions()
        )
        state = c.state
        return TemperatureReport(
            beer_temp=reading(c.beer_sensor),
            beer_set=settings.beer_set,
            beer_annotation=beer_annotation,
            fridge_temp=reading(c.fridge_sensor),
            fridge_set=settings.fridge_set,
            fridge_annotation=fridge_annotation,
            room_temp=reading(c.room_sensor) if room_installed else None,
            state=int(state),
            time=self.now if self.simulator is not None and self.dialect is Dialect.ESP else None,
        )

    def lcd(self) -> tuple[str, str, str, str]:
        c = self.control
        now = self.now
        report = self.temperature_report()
        state = ControlState(c.display_state)
        min_times = c.min_times
        shown: dict[ControlState, int | None] = {
            ControlState.IDLE: min(c.time_since_cooling(now), c.time_since_heating(now)),
            ControlState.WAITING_TO_COOL: c.wait_time,
            ControlState.WAITING_TO_HEAT: c.wait_time,
            ControlState.COOLING: c.time_since_idle(now),
            ControlState.HEATING: c.time_since_idle(now),
            ControlState.COOLING_MIN_TIME: min_times.min_cool_on_time - c.time_since_idle(now),
            ControlState.HEATING_MIN_TIME: min_times.min_heat_on_time - c.time_since_idle(now),
        }
        return lcd_lines(
            mode=c.settings.mode,
            fmt=c.constants.temp_format,
            beer_temp=report.beer_temp,
            beer_set=report.beer_set,
            fridge_temp=report.fridge_temp,
            fridge_set=report.fridge_set,
            room_temp=report.room_temp,
            state=state,
            state_seconds=shown.get(state),
            now=now,
        )


async def run_board(board: Board, clock: Clock, stop: asyncio.Event) -> None:
    """Tick `board` once per simulated second of `clock` until `stop` is set.

    At high speed several ticks run back to back, in batches, so commands are still served.
    """
    while not stop.is_set():
        due = clock.due_seconds()
        ran = 0
        while board.ticks < due and ran < _TICKS_PER_BATCH:
            board.tick()
            ran += 1
        if board.ticks < due:
            await asyncio.sleep(0)
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), clock.real_delay_until(board.ticks + 1))
