"""The controller of one device: keeps the firmware link, logs, runs profiles, answers the web app.

A few coroutines, each owning one thing (ARCHITECTURE.md; no Django here):

- the link (`_keep_link`): connects, reads everything once (`s c v l d`, brewpi-protocol §9),
  then polls `t` at the device's log interval, `l` every 5 s and `s`/`v` every 60 s; when the
  link drops or the firmware falls silent for 3 intervals it says so, annotates the gap and
  reconnects with backoff (1 s up to 60 s), for ever;
- the socket server (`socket_server.py`), for the web app's commands (interfaces.md §2);
- the profile ticker, every 30 s while the firmware is in profile mode;
- the outbox writer, the uploader and the status reporter, so that neither the disk nor the
  web app ever holds up a poll.

Every `T:` line becomes a log point (at most one a second: points are keyed by their second)
and every `D:` message an annotation; both go through the outbox (interfaces.md §1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fermentrack.brewpi.devices import (
    TEMP_SENSOR_HARDWARE,
    DeviceDefinition,
    DeviceHardware,
)
from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.log_messages import InfoId, LogMessage, expand_log_message
from fermentrack.brewpi.messages import (
    ConstantsReport,
    LcdReport,
    SettingsReport,
    TemperatureReport,
    VariablesReport,
    VersionInfo,
)
from fermentrack.brewpi.settings import (
    CONSTANTS_FIELDS,
    SETTINGS_FIELDS,
    VARIABLES_FIELDS,
    ControlConstants,
    ControlSettings,
    ControlVariables,
    Field,
    Mode,
    ValueKind,
    parse_field,
)
from fermentrack.brewpi.temperature import (
    ONE_DEGREE,
    Dialect,
    TempFormat,
    diff_to_degrees,
    fixed_to_float,
    temp_from_degrees,
    temp_to_degrees,
)
from fermentrack.controller.outbox import Outbox
from fermentrack.controller.profile_runner import Profile, ProfileRunner
from fermentrack.controller.session import (
    FirmwareRefused,
    FirmwareSession,
    FirmwareTimeout,
    LinkLost,
    LinkUrlError,
)
from fermentrack.controller.socket_server import CommandFailed, SocketServer
from fermentrack.controller.uploader import Uploader
from fermentrack.controller.web_api import WebApi, WebRejected, WebUnavailable

log = logging.getLogger(__name__)

DEFAULT_LOG_INTERVAL_S = 30  # until the web app's config says otherwise
LCD_POLL_S = 5.0
SETTINGS_POLL_S = 60.0
SILENT_INTERVALS = 3  # no temperatures for this many log intervals: the firmware is lost
RECONNECT_FIRST_S = 1.0
RECONNECT_MAX_S = 60.0
CONFIG_RETRY_MAX_S = 60.0
COMMAND_TIMEOUT_S = 1.5  # a firmware round trip for a web request; the answer is due in 2 s
POLL_TIMEOUT_S = 5.0
FIRMWARE_ANNOTATIONS_PER_MINUTE = 30  # a firmware flooding D: lines must not flood the graph
WEB_TEMPERATURES = (-60.0, 150.0)  # what the web app accepts (interfaces.md §1)
MAX_ANNOTATION_CHARS = 500
MODE_WORDS = {
    Mode.OFF: "off",
    Mode.FRIDGE_CONSTANT: "fridge_constant",
    Mode.BEER_CONSTANT: "beer_constant",
    Mode.BEER_PROFILE: "profile",
    Mode.TEST: "test",
}
BOARD_NAMES = {
    "s": "Arduino Uno",
    "l": "Arduino Leonardo",
    "m": "Arduino Mega",
    "x": "Spark Core",
    "y": "Particle Photon",
    "e": "ESP8266",
    "3": "ESP32",
    "c": "ESP32-C3",
    "2": "ESP32-S2",
}
DEVICE_KEYS = ("i", "c", "b", "f", "h", "p", "x", "d", "a", "j", "n", "r")
READ_ONLY_DEVICE_KEYS = ("t", "v")  # in listings; ignored when a definition is applied


class ControllerCannotStart(Exception):
    """Nothing to retry: a link URL that cannot be one, or firmware we cannot drive."""


class _LinkChanged(Exception):
    """The config names another firmware link: reconnect there."""


# -- the device's configuration --------------------------------------------------------------


@dataclass(frozen=True)
class DeviceConfig:
    """`GET /api/controller/config` (interfaces.md §1)."""

    device: str
    link: str
    log_interval_s: int
    temp_format: TempFormat
    profile: Profile | None
    config_version: int

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> DeviceConfig:
        """ValueError naming the field that is not as interfaces.md §1 says."""
        if not isinstance(data, Mapping):
            raise ValueError(f"config: expected an object, got {type(data).__name__}")

        def whole(key: str, low: int) -> int:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"config {key}: expected a whole number >= {low}, got {value!r}")
            return value

        device, link = data.get("device"), data.get("link")
        if not isinstance(device, str) or not isinstance(link, str):
            raise ValueError(f"config device and link: expected text, got {device!r}, {link!r}")
        unit = data.get("temp_format")
        if unit not in ("C", "F"):
            raise ValueError(f'config temp_format: expected "C" or "F", got {unit!r}')
        profile = data.get("profile")
        return cls(
            device=device,
            link=link.strip(),
            log_interval_s=whole("log_interval_s", 1),
            temp_format=TempFormat(unit),
            profile=None if profile is None else Profile.from_config(profile),
            config_version=whole("config_version", 0),
        )


# -- values for the web app, in the device's unit --------------------------------------------


def _web_temperature(temp: int, unit: TempFormat, decimals: int = 2) -> float | None:
    """An internal temperature in degrees of `unit`; None when invalid or out of the web
    app's range (a sensor's garbage must not refuse a whole batch)."""
    degrees = temp_to_degrees(temp, unit)
    if degrees is None or not WEB_TEMPERATURES[0] <= degrees <= WEB_TEMPERATURES[1]:
        return None
    return round(degrees, decimals)


def _field_json(spec: Field, value: Any, unit: TempFormat) -> Any:
    kind = spec.kind
    if kind is ValueKind.TEMPERATURE:
        degrees = temp_to_degrees(value, unit)
        return None if degrees is None else round(degrees, 2)
    if kind is ValueKind.DIFFERENCE:
        return round(diff_to_degrees(value, unit), 3)
    if kind is ValueKind.FIXED_POINT:
        return round(fixed_to_float(value), 3)
    if kind is ValueKind.BOOL:
        return bool(value)
    if kind in (ValueKind.MODE, ValueKind.FORMAT):
        return str(value.value if hasattr(value, "value") else value)
    return int(value)


def record_json(record: Any, table: tuple[Field, ...], unit: TempFormat) -> dict[str, Any]:
    """Settings, constants or variables under their protocol keys, temperatures in `unit`."""
    return {spec.key: _field_json(spec, getattr(record, spec.attr), unit) for spec in table}


def device_json(defn: DeviceDefinition, unit: TempFormat) -> dict[str, Any]:
    """A device definition under its protocol keys (§7.2), as `apply_device` takes it back;
    the sensor value `v` and calibration `j` in degrees of `unit`."""
    hardware = int(defn.hardware)
    out: dict[str, Any] = {"i": defn.slot, "t": int(defn.device_type), "c": defn.chamber}
    out |= {"b": defn.beer, "f": int(defn.function), "h": hardware}
    out |= {"d": int(bool(defn.deactivated)), "p": defn.pin}
    if defn.value is not None:
        if defn.reads_temperature:
            out["v"] = _web_temperature(int(defn.value), unit, 3)
        else:
            out["v"] = int(bool(defn.value))
    if hardware == DeviceHardware.PIN:
        out["x"] = int(bool(defn.invert))
    if defn.address:
        out["a"] = defn.address
    if hardware in TEMP_SENSOR_HARDWARE:
        out["j"] = round(diff_to_degrees(defn.calibration, unit), 3)
    if defn.alias:
        out["r"] = defn.alias
    if hardware == DeviceHardware.TPLINK_PLUG:
        out["n"] = defn.child_id
    return out


def _clean_text(text: str, limit: int) -> str:
    """Text the web app takes: no NUL, at most `limit` characters."""
    text = text.replace("\x00", "")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _degrees_between(value: float, from_unit: TempFormat, to_unit: TempFormat) -> float:
    if from_unit is to_unit:
        return value
    return round(temp_to_degrees(temp_from_degrees(value, from_unit), to_unit) or 0.0, 3)


def _difference_between(value: float, from_unit: TempFormat, to_unit: TempFormat) -> float:
    if from_unit is to_unit:
        return value
    internal = value * ONE_DEGREE * (5 / 9 if from_unit is TempFormat.FAHRENHEIT else 1)
    return round(diff_to_degrees(round(internal), to_unit), 3)


_CONSTANT_FIELDS = {spec.key: spec for spec in CONSTANTS_FIELDS}


class Controller:
    """One device's controller. `run(stop)` until `stop` is set; returns the exit status."""

    def __init__(
        self,
        name: str,
        *,
        api: WebApi,
        outbox: Outbox,
        socket_path: Path,
        link: str | None = None,
        startup_delay_s: float | None = None,
    ) -> None:
        self.name = name
        self.api = api
        self.outbox = outbox
        self.uploader = Uploader(outbox, api)
        self.server = SocketServer(socket_path, self)
        self.config: DeviceConfig | None = None
        self.environment_link = link
        self.startup_delay_s = startup_delay_s
        self.profile_runner = ProfileRunner()
        # The firmware as last read.
        self.session: FirmwareSession | None = None
        self.version: VersionInfo | None = None
        self.dialect: Dialect | None = None
        self.record: TemperatureReport | None = None
        self.settings: ControlSettings | None = None
        self.constants: ControlConstants | None = None
        self.variables: ControlVariables | None = None
        self.lcd: tuple[str, ...] = ()
        self.devices: list[DeviceDefinition] = []
        self.last_error: str | None = None
        # Book-keeping.
        self.points_logged = 0
        self.annotations_logged = 0
        self.lost_at: float | None = None  # wall clock time the link went (or was never) up
        self._ever_connected = False
        self._current_url: str | None = None
        self._last_temperatures_at = time.monotonic()
        self._last_point_ts: int | None = None
        self._annotation_window = (0.0, 0, 0)  # start, recorded, dropped
        self._writes: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()
        self._link_changed = asyncio.Event()
        self._poll_now = asyncio.Event()
        self._status_due = asyncio.Event()
        self._profile_due = asyncio.Event()
        self._config_lock = asyncio.Lock()
        self._background: set[asyncio.Task] = set()

    # -- what the device is, now ----------------------------------------------------------

    @property
    def link(self) -> str | None:
        """The config's link; until it comes (or when it is empty), the environment's."""
        if self.config is not None and self.config.link:
            return self.config.link
        return self.environment_link

    @property
    def unit(self) -> TempFormat:
        """The device's unit; before the config comes, the firmware's own."""
        if self.config is not None:
            return self.config.temp_format
        if self.constants is not None:
            return TempFormat(self.constants.temp_format)
        return TempFormat.CELSIUS

    @property
    def firmware_unit(self) -> TempFormat:
        if self.constants is not None:
            return TempFormat(self.constants.temp_format)
        return self.unit

    @property
    def log_interval_s(self) -> int:
        return self.config.log_interval_s if self.config else DEFAULT_LOG_INTERVAL_S

    @property
    def connected(self) -> bool:
        return self.session is not None and self.session.connected

    # -- running ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> int:
        """Serve until `stop`; 0 then, 1 when the controller cannot do its job at all."""
        await self.server.start()
        uploader_stop = asyncio.Event()
        workers = [
            asyncio.create_task(self._keep_link(), name="link"),
            asyncio.create_task(self._report_status(), name="status"),
            asyncio.create_task(self._tick_profile(), name="profile"),
        ]
        config = asyncio.create_task(self._load_config(), name="config")
        writer = asyncio.create_task(self._write_outbox(), name="outbox")
        uploader = asyncio.create_task(self.uploader.run(uploader_stop), name="uploader")
        stopping = asyncio.create_task(stop.wait(), name="stop")
        watched = {*workers, config, writer, uploader, stopping}
        exit_status = 0
        try:
            while True:
                done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
                if stopping in done:
                    break
                if done == {config} and config.exception() is None:
                    watched.discard(config)  # the config came; status reports keep it fresh
                    continue
                exit_status = self._report_failure(next(iter(done - {config} or done)))
                break
        finally:
            for task in [*workers, config, stopping]:
                task.cancel()
            await asyncio.gather(*workers, config, stopping, return_exceptions=True)
            # Whatever was logged is put down, then sent if the web app takes it at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._writes.join(), 5.0)
            writer.cancel()
            uploader_stop.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(uploader), 2.0)
            uploader.cancel()
            await asyncio.gather(writer, uploader, return_exceptions=True)
            await self.server.close()
            await self._say_goodbye()
            for task in list(self._background):
                task.cancel()
        return exit_status

    def _report_failure(self, task: asyncio.Task) -> int:
        error = task.exception() if not task.cancelled() else None
        if isinstance(error, ControllerCannotStart):
            log.error("the controller of %s cannot run: %s", self.name, error)
        else:
            log.error("the controller's %s task stopped", task.get_name(), exc_info=error)
        return 1

    async def _say_goodbye(self) -> None:
        """A last status, so the web app shows the controller stopped (best effort)."""
        status = self.status_report() | {"connected": False, "last_error": "the controller stopped"}
        with contextlib.suppress(WebUnavailable, WebRejected, TimeoutError):
            await asyncio.wait_for(self.api.post_status(status), 1.0)

    def _spawn(self, coroutine, name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- the configuration ------------------------------------------------------------------

    async def _load_config(self) -> None:
        """Fetch the config until the web app gives it; then the status reports keep it."""
        failures = 0
        while True:
            try:
                await self.fetch_config()
                return
            except (WebUnavailable, WebRejected, ValueError) as error:
                failures += 1
                delay = min(CONFIG_RETRY_MAX_S, RECONNECT_FIRST_S * 2 ** min(failures - 1, 10))
                level = (
                    logging.ERROR
                    if isinstance(error, WebRejected | ValueError)
                    else logging.WARNING
                )
                log.log(level, "no config from the web app yet (%s); again in %.0f s", error, delay)
                await asyncio.sleep(delay)

    async def fetch_config(self) -> DeviceConfig:
        """GET the config and use it. Raises WebUnavailable, WebRejected, ValueError."""
        async with self._config_lock:
            config = DeviceConfig.from_api(await self.api.get_config())
            self._use_config(config)
            return config

    def _use_config(self, config: DeviceConfig) -> None:
        old, self.config = self.config, config
        if old == config:
            return
        if config.device != self.name:
            log.error(
                "the web app says this token belongs to device %r, not %r: check "
                "FERMENTRACK_DEVICE_TOKEN",
                config.device,
                self.name,
            )
        log.info(
            "config %d: link %s, log every %d s, unit °%s, %s",
            config.config_version,
            config.link or f"(none; using {self.environment_link})",
            config.log_interval_s,
            config.temp_format.value,
            "no profile" if config.profile is None else f"profile {config.profile.id}",
        )
        self.profile_runner = ProfileRunner(config.profile, config.temp_format.value)
        if self.link != self._current_url:
            self._link_changed.set()
        if old is None or old.log_interval_s != config.log_interval_s:
            self._poll_now.set()
        if old is None or old.profile != config.profile:
            self._profile_due.set()
        if self.connected and (old is None or old.temp_format is not config.temp_format):
            self._spawn(self._match_unit_logged(), "match unit")

    # -- the firmware link ------------------------------------------------------------------

    async def _keep_link(self) -> None:
        failures = 0
        while True:
            url = self.link
            self._link_changed.clear()
            self._current_url = url
            if url is None:
                self._note_lost("no firmware link is configured for this device")
                await self._link_changed.wait()
                continue
            try:
                session = FirmwareSession(
                    url,
                    on_temperatures=self._on_temperatures,
                    on_log=self._on_log,  # unreadable lines: the session logs them
                    startup_delay_s=self.startup_delay_s,
                )
            except LinkUrlError as error:
                raise ControllerCannotStart(str(error)) from None
            connected_at = None
            try:
                await session.connect()
                connected_at = time.monotonic()
                self.session = session
                await self._converse(session)
            except (LinkUrlError, FirmwareRefused) as error:
                if isinstance(error, LinkUrlError) or _is_unsupported(error):
                    raise ControllerCannotStart(str(error)) from None
                reason = str(error)
            except _LinkChanged:
                reason = f"the device's link changed to {self.link}"
                failures = 0
            except (LinkLost, FirmwareTimeout, OSError) as error:
                reason = str(error) or type(error).__name__
            finally:
                self.session = None
                await session.close()
            self._note_lost(reason)
            if connected_at is not None and time.monotonic() - connected_at > RECONNECT_MAX_S:
                failures = 0
            failures += 1
            delay = min(RECONNECT_MAX_S, RECONNECT_FIRST_S * 2 ** min(failures - 1, 10))
            log.info("reconnecting to %s in %.0f s", url, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._link_changed.wait(), delay)

    async def _converse(self, session: FirmwareSession) -> None:
        """Read everything, then poll until the link is lost (raises why)."""
        self._last_temperatures_at = time.monotonic()
        await self._read_everything(session, timeout=POLL_TIMEOUT_S)
        self._note_connected(session)
        await self._match_unit(session)
        polls = [
            asyncio.create_task(self._poll_temperatures(session), name="poll t"),
            asyncio.create_task(self._poll(session, LCD_POLL_S, self._read_lcd), name="poll l"),
            asyncio.create_task(
                self._poll(session, SETTINGS_POLL_S, self._read_settings), name="poll s v"
            ),
        ]
        self._profile_due.set()
        try:
            await self._watch(session)
        finally:
            for poll in polls:
                poll.cancel()
            await asyncio.gather(*polls, return_exceptions=True)

    async def _watch(self, session: FirmwareSession) -> None:
        """Until the link drops, the config names another, or the firmware falls silent."""
        lost = asyncio.ensure_future(session.wait_lost())
        changed = asyncio.ensure_future(self._link_changed.wait())
        try:
            while True:
                silent_limit = SILENT_INTERVALS * self.log_interval_s
                remaining = self._last_temperatures_at + silent_limit - time.monotonic()
                if remaining <= 0:
                    raise FirmwareTimeout(
                        f"the firmware at {session.url} sent no temperatures for "
                        f"{silent_limit} s ({SILENT_INTERVALS} log intervals)"
                    )
                await asyncio.wait(
                    {lost, changed}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                if lost.done():
                    raise lost.result()
                if changed.done():
                    raise _LinkChanged()
        finally:
            lost.cancel()
            changed.cancel()

    async def _read_everything(self, session: FirmwareSession, timeout: float) -> None:
        """`s c v l d`, as the scripts do after connecting (brewpi-protocol §9)."""
        self.settings = (
            await session.request("s", expect=SettingsReport, timeout=timeout)
        ).settings
        self.constants = (
            await session.request("c", expect=ConstantsReport, timeout=timeout)
        ).constants
        self.variables = (
            await session.request("v", expect=VariablesReport, timeout=timeout)
        ).variables
        self.lcd = (await session.request("l", expect=LcdReport, timeout=timeout)).lines
        self.devices = (await session.list_devices(timeout=timeout)).devices
        self._status_due.set()

    async def _read_lcd(self, session: FirmwareSession) -> None:
        self.lcd = (await session.request("l", expect=LcdReport, timeout=POLL_TIMEOUT_S)).lines

    async def _read_settings(self, session: FirmwareSession) -> None:
        report = await session.request("s", expect=SettingsReport, timeout=POLL_TIMEOUT_S)
        self.settings = report.settings
        report = await session.request("v", expect=VariablesReport, timeout=POLL_TIMEOUT_S)
        self.variables = report.variables

    async def _poll_temperatures(self, session: FirmwareSession) -> None:
        """`t` every log interval; each reply becomes a point in `_on_temperatures`."""
        while True:
            self._poll_now.clear()
            try:
                await session.request("t", expect=TemperatureReport, timeout=POLL_TIMEOUT_S)
            except FirmwareTimeout as error:
                log.warning("%s", error)  # _watch decides when silence means a lost link
            except LinkLost:
                return
            self._status_due.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poll_now.wait(), self.log_interval_s)

    async def _poll(self, session: FirmwareSession, every_s: float, read) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await read(session)
            except FirmwareTimeout as error:
                log.warning("%s", error)
            except LinkLost:
                return

    async def _match_unit(self, session: FirmwareSession) -> None:
        """The firmware prints in the device's unit, as the web app shows it (FT-script does
        the same when a `C:` disagrees with its database)."""
        if self.config is None or self.constants is None:
            return
        wanted = self.config.temp_format
        if self.constants.temp_format == wanted:
            return
        settings, constants = await session.apply_settings({"tempFormat": wanted.value})
        self.settings, self.constants = settings.settings, constants.constants
        self.annotate(f"Set the firmware's temperature unit to °{wanted.value}, the device's")

    async def _match_unit_logged(self) -> None:
        session = self.session
        if session is None:
            return
        try:
            await self._match_unit(session)
        except (LinkLost, FirmwareTimeout) as error:
            log.warning("could not set the firmware's unit: %s", error)

    def _note_connected(self, session: FirmwareSession) -> None:
        version = session.version
        self.version, self.dialect = version, session.dialect
        if self.lost_at is not None and self._ever_connected:
            gap = round(time.time() - self.lost_at)
            self.annotate(f"Firmware link back after {gap} s")
        elif not self._ever_connected:
            assert version is not None
            self.annotate(
                f"Connected to firmware {version.version} "
                f"({BOARD_NAMES.get(version.board, version.board)}) at {session.url}"
            )
        self._ever_connected = True
        self.lost_at = None
        self.last_error = None
        self._status_due.set()
        log.info("connected to %s", session.url)

    def _note_lost(self, reason: str) -> None:
        reason = _clean_text(reason, MAX_ANNOTATION_CHARS - 40)
        self.last_error = reason
        self._status_due.set()
        if self.lost_at is not None:
            log.info("still no firmware link: %s", reason)
            return
        self.lost_at = time.time()
        log.warning("firmware link down: %s", reason)
        if self._ever_connected:
            self.annotate(f"Lost the firmware link: {reason}")
        else:
            self.annotate(f"Cannot reach the firmware: {reason}")

    # -- what the firmware sends by itself ----------------------------------------------------

    def _on_temperatures(self, report: TemperatureReport) -> None:
        previous, self.record = self.record, report
        self._last_temperatures_at = time.monotonic()
        for attr in ("beer_annotation", "fridge_annotation"):
            text = getattr(report, attr)
            # Lines that carry only changes (AVR simulator builds) repeat an old annotation.
            if text and (previous is None or getattr(previous, attr) != text):
                self.annotate(text, source="firmware")
        ts = int(time.time())
        if ts == self._last_point_ts:
            return  # one point a second: the web app keys points by their second
        self._last_point_ts = ts
        unit = self.unit
        state = report.state if 0 <= report.state <= 9 else None
        self._record(
            "point",
            {
                "ts": ts,
                "beer_temp": _web_temperature(report.beer_temp, unit),
                "beer_set": _web_temperature(report.beer_set, unit),
                "fridge_temp": _web_temperature(report.fridge_temp, unit),
                "fridge_set": _web_temperature(report.fridge_set, unit),
                "room_temp": None
                if report.room_temp is None
                else _web_temperature(report.room_temp, unit),
                "state": state,
                "temp_format": unit.value,
            },
        )

    def _on_log(self, message: LogMessage) -> None:
        text = expand_log_message(message)
        log.info("firmware says (%s %s): %s", message.log_type, message.log_id, text)
        if message.log_type == "I" and message.log_id == InfoId.RECEIVED_SETTING:
            return  # every `j` key; the change itself is annotated by the firmware's T: line
        self.annotate(text, source="firmware")

    # -- the outbox ---------------------------------------------------------------------------

    def annotate(self, text: str, *, source: str = "controller") -> None:
        """An annotation on the device's graph, now."""
        text = _clean_text(text.strip(), MAX_ANNOTATION_CHARS)
        if not text:
            return
        if source == "firmware" and not self._annotation_allowed():
            return
        self._record("annotation", {"ts": int(time.time()), "text": text, "source": source})

    def _annotation_allowed(self) -> bool:
        now = time.monotonic()
        start, recorded, dropped = self._annotation_window
        if now - start >= 60:
            if dropped:
                log.warning("%d firmware messages in a minute were not annotated", dropped)
            start, recorded, dropped = now, 0, 0
        allowed = recorded < FIRMWARE_ANNOTATIONS_PER_MINUTE
        self._annotation_window = (start, recorded + allowed, dropped + (not allowed))
        return allowed

    def _record(self, kind: str, item: dict) -> None:
        self._writes.put_nowait((kind, item))

    async def _write_outbox(self) -> None:
        """The one writer: appends (fsync'd) in a worker thread, so the disk never holds up
        the event loop, and in order."""
        while True:
            kind, item = await self._writes.get()
            try:
                await asyncio.to_thread(self.outbox.append, kind, item)
            except (OSError, ValueError) as error:
                log.error("could not keep a %s in the outbox (%s): %r", kind, error, item)
            else:
                if kind == "point":
                    self.points_logged += 1
                    log.debug("logged point ts=%d", item["ts"])
                else:
                    self.annotations_logged += 1
                    log.info("annotation: %s", item["text"])
                self.uploader.wake()
            finally:
                self._writes.task_done()

    # -- the status -------------------------------------------------------------------------

    def status_report(self) -> dict[str, Any]:
        """The status of interfaces.md §1, in the device's unit."""
        unit = self.unit
        record, settings = self.record, self.settings
        beer_set = fridge_set = None
        if record is not None:
            beer_set = _web_temperature(record.beer_set, unit)
            fridge_set = _web_temperature(record.fridge_set, unit)
        elif settings is not None:
            beer_set = _web_temperature(settings.beer_set, unit)
            fridge_set = _web_temperature(settings.fridge_set, unit)
        version = self.version
        firmware = None
        if version is not None:
            firmware = {
                "version": _clean_text(version.version, 64),
                "board": _clean_text(BOARD_NAMES.get(version.board, version.board), 64),
                "dialect": self.dialect.value if self.dialect else None,
            }
        state = record.state if record is not None and 0 <= record.state <= 9 else None
        connected, last_error = self.connected, self.last_error
        if not connected and last_error is None:  # the moment before the loss is noted
            last_error = "the firmware link dropped" if self._ever_connected else "connecting"
        return {
            "ts": int(time.time()),
            "connected": connected,
            "firmware": firmware,
            "mode": MODE_WORDS.get(settings.mode) if settings else None,
            "beer_set": beer_set,
            "fridge_set": fridge_set,
            "lcd": [_clean_text(line, 40) for line in self.lcd[:4]],
            "state": state,
            "last_error": None if last_error is None else _clean_text(last_error, 500),
        }

    async def _report_status(self) -> None:
        """POST the status after every poll (and on every change of the link); fetch the
        config again when the web app's config_version moved on."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._status_due.wait(), self.log_interval_s)
            self._status_due.clear()
            try:
                answer = await self.api.post_status(self.status_report())
            except WebUnavailable as error:
                log.debug("status not sent: %s", error)
                continue
            except WebRejected as error:
                log.error("the web app refused the status: %s", error)
                continue
            version = answer.get("config_version")
            if isinstance(version, int) and (
                self.config is None or version != self.config.config_version
            ):
                try:
                    await self.fetch_config()
                except (WebUnavailable, WebRejected, ValueError) as error:
                    log.warning("could not fetch the new config: %s", error)

    # -- the profile ------------------------------------------------------------------------

    async def _tick_profile(self) -> None:
        while True:
            wait_s = self.profile_runner.seconds_to_next_tick(time.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._profile_due.wait(), wait_s)
            self._profile_due.clear()
            try:
                await self._profile_step()
            except (LinkLost, FirmwareTimeout) as error:
                log.warning("profile step not sent: %s", error)

    async def _profile_step(self) -> None:
        session, settings = self.session, self.settings
        if session is None or not session.connected or settings is None:
            return
        if settings.mode is not Mode.BEER_PROFILE or self.config is None:
            return  # without the config the start time is unknown: the firmware holds on
        current = temp_to_degrees(settings.beer_set, self.unit)
        if self.profile_runner.profile is None:
            values: dict[str, Any] = {"mode": Mode.BEER_CONSTANT.value}
            await self._apply_settings(session, values, timeout=POLL_TIMEOUT_S)
            held = "its last setting" if current is None else f"{current:.1f} °{self.unit.value}"
            self.annotate(f"No profile is active for this device; holding {held}")
            return
        step = self.profile_runner.step(time.time(), current)
        if step.settings:
            await self._apply_settings(session, step.settings, timeout=POLL_TIMEOUT_S)
            log.info("profile step: %s", step.settings)
        if step.annotation:
            self.annotate(step.annotation)

    # -- talking to the firmware for the web app ----------------------------------------------

    def _connected_session(self) -> FirmwareSession:
        session = self.session
        if session is None or not session.connected:
            why = f" ({self.last_error})" if self.last_error else ""
            raise CommandFailed(f"firmware not connected{why}")
        return session

    async def _apply_settings(
        self, session: FirmwareSession, values: dict[str, Any], *, timeout: float
    ) -> tuple[ControlSettings, ControlConstants]:
        """`j{...}` with temperatures given in the device's unit; the firmware's echo."""
        wire = dict(values)
        for key in ("beerSet", "fridgeSet"):
            if isinstance(wire.get(key), int | float):
                wire[key] = _degrees_between(wire[key], self.unit, self.firmware_unit)
        settings, constants = await session.apply_settings(wire, timeout=timeout)
        self.settings, self.constants = settings.settings, constants.constants
        self._status_due.set()
        return self.settings, self.constants

    @contextlib.asynccontextmanager
    async def _firmware_errors(self):
        try:
            yield
        except FirmwareTimeout as error:
            raise CommandFailed(f"the firmware did not answer: {error}") from None
        except LinkLost as error:
            raise CommandFailed(f"firmware not connected: {error}") from None

    # -- the commands of interfaces.md §2 -----------------------------------------------------

    async def status(self) -> dict:
        """The status of §1, the last settings, constants and variables, and how the
        controller itself is doing (link, outbox, profile)."""
        unit = self.unit
        profile = self.profile_runner.profile
        return self.status_report() | {
            "settings": None
            if self.settings is None
            else record_json(self.settings, SETTINGS_FIELDS, unit),
            "constants": None
            if self.constants is None
            else record_json(self.constants, CONSTANTS_FIELDS, unit),
            "variables": None
            if self.variables is None
            else record_json(self.variables, VARIABLES_FIELDS, unit),
            "temp_format": unit.value,
            "link": self.link,
            "log_interval_s": self.log_interval_s,
            "config_version": None if self.config is None else self.config.config_version,
            "profile": None
            if profile is None
            else {
                "id": profile.id,
                "started_at": profile.started_at,
                "beer_setting_now": self.profile_runner.setting_now(time.time()),
            },
            "points_logged": self.points_logged,
            "annotations_logged": self.annotations_logged,
            "outbox_backlog": self.uploader.backlog,
            "web_error": self.uploader.last_error,
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
            if self.config is None:
                raise CommandFailed(
                    "the web app has not sent this device's configuration yet, so its profile "
                    "is unknown"
                )
            profile = self.config.profile
            if profile is None:
                raise CommandFailed("no profile is active for this device: start one first")
            step = self.profile_runner.step(time.time(), None)
            if step.finished:
                values, annotation = dict(step.settings or {}), step.annotation
            else:
                values = {"mode": Mode.BEER_PROFILE.value}
                if step.settings:
                    values |= step.settings
        async with self._firmware_errors():
            settings, _ = await self._apply_settings(session, values, timeout=COMMAND_TIMEOUT_S)
        if settings.mode.value != values["mode"]:
            raise CommandFailed(
                f"the firmware answered mode {settings.mode.value!r} instead of {values['mode']!r}"
            )
        if annotation:
            self.annotate(annotation)
        unit = self.unit
        return {
            "mode": MODE_WORDS.get(settings.mode),
            "beer_set": _web_temperature(settings.beer_set, unit),
            "fridge_set": _web_temperature(settings.fridge_set, unit),
            "settings": record_json(settings, SETTINGS_FIELDS, unit),
        }

    async def set_constants(self, constants: dict[str, Any]) -> dict:
        session = self._connected_session()
        values = self._constants_for_firmware(constants, session)
        async with self._firmware_errors():
            _, echoed = await self._apply_settings(session, values, timeout=COMMAND_TIMEOUT_S)
        return {"constants": record_json(echoed, CONSTANTS_FIELDS, self.unit)}

    def _constants_for_firmware(self, constants: dict[str, Any], session) -> dict[str, Any]:
        """Check the constants and express them in the firmware's unit (CommandFailed)."""
        values: dict[str, Any] = {}
        unit, firmware_unit = self.unit, self.firmware_unit
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
                value = _degrees_between(value, unit, firmware_unit)
            elif kind is ValueKind.DIFFERENCE:
                value = _difference_between(value, unit, firmware_unit)
            try:
                parse_field(spec, value, firmware_unit, session.dialect)
            except ProtocolError as error:
                raise CommandFailed(str(error)) from None
            values[key] = value
        return values

    async def refresh(self) -> dict:
        session = self._connected_session()
        async with self._firmware_errors():
            await self._read_everything(session, timeout=COMMAND_TIMEOUT_S / 3)
        unit = self.unit
        return {
            "settings": record_json(self.settings, SETTINGS_FIELDS, unit),
            "constants": record_json(self.constants, CONSTANTS_FIELDS, unit),
            "variables": record_json(self.variables, VARIABLES_FIELDS, unit),
            "lcd": list(self.lcd),
            "devices": [device_json(defn, unit) for defn in self.devices],
        }

    async def list_devices(self) -> dict:
        session = self._connected_session()
        async with self._firmware_errors():
            self.devices = (await session.list_devices(timeout=COMMAND_TIMEOUT_S)).devices
        return {"devices": [device_json(defn, self.unit) for defn in self.devices]}

    async def scan_hardware(self) -> dict:
        session = self._connected_session()
        async with self._firmware_errors():
            report = await session.scan_hardware(timeout=COMMAND_TIMEOUT_S)
        return {"hardware": [device_json(defn, self.unit) for defn in report.devices]}

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
            self.annotate(f"Device in slot {report.device.slot} set up from the web app")
        return {"definition": device_json(report.device, self.unit), "errors": texts}

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
                args[key] = _difference_between(float(value), self.unit, self.firmware_unit)
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
        self.settings, self.constants = settings.settings, constants.constants
        self.annotate("Firmware reset to its defaults (EEPROM) from the web app")
        self._status_due.set()
        self._spawn(self._after_reset(), "after reset")
        unit = self.unit
        return {
            "settings": record_json(self.settings, SETTINGS_FIELDS, unit),
            "constants": record_json(self.constants, CONSTANTS_FIELDS, unit),
        }

    async def _after_reset(self) -> None:
        session = self.session
        if session is None:
            return
        try:
            await self._read_everything(session, timeout=POLL_TIMEOUT_S)
            await self._match_unit(session)
        except (LinkLost, FirmwareTimeout) as error:
            log.warning("could not read the firmware after its reset: %s", error)

    async def reload_config(self) -> dict:
        try:
            config = await self.fetch_config()
        except WebUnavailable as error:
            raise CommandFailed(f"the web app did not answer: {error}") from None
        except WebRejected as error:
            raise CommandFailed(f"the web app refused: {error}") from None
        except ValueError as error:
            raise CommandFailed(f"the web app's config is not usable: {error}") from None
        return {"config_version": config.config_version}


def _is_unsupported(error: FirmwareRefused) -> bool:
    """A version we do not drive (nothing to retry), rather than no version reply at all."""
    return not str(error).startswith("no version reply")
