"""The controller of one device: keeps the firmware link, logs, runs profiles, answers the web app.

A few coroutines, each owning one thing (ARCHITECTURE.md; no Django here):

- the link (`_keep_link`): connects, reads everything once (`s c v l d`, brewpi-protocol §9),
  then polls `t` at the device's log interval, `l` every 5 s and `s`/`v` every 60 s; when the
  link drops or the firmware falls silent for 3 intervals it says so, annotates the gap and
  reconnects with backoff (1 s up to 60 s), for ever;
- the socket server (`socket_server.py`), for the web app's commands (interfaces.md §2);
- the profile ticker, every 30 s while the firmware is in profile mode; while a profile point
  holds for the beer's gravity it asks the web app for the readings at each tick (a web app
  that cannot answer leaves the hold going until its time limit);
- the outbox writer, the uploader and the status reporter, so that neither the disk nor the
  web app ever holds up a poll.

Every `T:` line becomes a log point (at most one a second: points are keyed by their second)
and every `D:` message an annotation; both go through the outbox (interfaces.md §1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from fermentrack.brewpi.devices import (
    DeviceDefinition,
)
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
    ControlConstants,
    ControlSettings,
    ControlVariables,
    Mode,
)
from fermentrack.brewpi.temperature import (
    Dialect,
    TempFormat,
    temp_to_degrees,
)
from fermentrack.config import env_int
from fermentrack.controller.device_config import DeviceConfig
from fermentrack.controller.outbox import Outbox
from fermentrack.controller.profile_runner import PROFILE_TICK_S, Profile, ProfileRunner
from fermentrack.controller.session import (
    FirmwareRefused,
    FirmwareSession,
    FirmwareTimeout,
    LinkLost,
    LinkUrlError,
)
from fermentrack.controller.socket_server import SocketServer
from fermentrack.controller.uploader import Uploader
from fermentrack.controller.web_api import WebApi, WebRejected, WebUnavailable
from fermentrack.controller.web_commands import WebCommands
from fermentrack.controller.web_values import (
    BOARD_NAMES,
    MODE_WORDS,
    clean_text,
    degrees_between,
    web_temperature,
)

log = logging.getLogger(__name__)

DEFAULT_LOG_INTERVAL_S = 30  # until the web app's config says otherwise
LCD_POLL_S = 5.0
SETTINGS_POLL_S = 60.0
SILENT_INTERVALS = 3  # no temperatures for this many log intervals: the firmware is lost
RECONNECT_FIRST_S = 1.0
RECONNECT_MAX_S = 60.0
CONFIG_RETRY_MAX_S = 60.0
POLL_TIMEOUT_S = 5.0
GRAVITY_TIMEOUT_S = 5.0  # a hold's readings: the profile tick never waits longer on the web app
FIRMWARE_ANNOTATIONS_PER_MINUTE = 30  # a firmware flooding D: lines must not flood the graph
MAX_ANNOTATION_CHARS = 500


class ControllerCannotStart(Exception):
    """Nothing to retry: a link URL that cannot be one, or firmware we cannot drive."""


class _LinkChanged(Exception):
    """The config names another firmware link: reconnect there."""


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
        listen: tuple[str, int] | None = None,
        secret: str = "",
    ) -> None:
        self.name = name
        self.api = api
        self.outbox = outbox
        self.uploader = Uploader(outbox, api)
        self.server = SocketServer(socket_path, WebCommands(self), tcp=listen, secret=secret)
        self.config: DeviceConfig | None = None
        self.environment_link = link
        self.startup_delay_s = startup_delay_s
        self.profile_tick_s = env_int("FERMENTRACK_PROFILE_TICK_S", PROFILE_TICK_S, low=1, high=300)
        self.profile_runner = ProfileRunner(tick_s=self.profile_tick_s)
        self.profile_finished: Profile | None = None  # until the web app stops sending it
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
        self._interval_changed = asyncio.Event()  # the silence watchdog's limit moved
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
        with contextlib.suppress(WebUnavailable, WebRejected, TimeoutError, ValueError):
            await asyncio.wait_for(self.api.post_status(status), 1.0)

    def report_status_soon(self) -> None:
        """Post the status now rather than at the next poll."""
        self._status_due.set()

    def spawn(self, coroutine, name: str) -> None:
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
        # The same run keeps the progress of its holds as this process knows it: the config's
        # copy is only as fresh as the last status the web app received.
        runner = self.profile_runner
        kept = None
        if config.profile is not None and config.profile.same_run(runner.profile):
            kept = runner.progress
        self.profile_runner = ProfileRunner(
            config.profile, config.temp_format.value, progress=kept, tick_s=self.profile_tick_s
        )
        if config.profile != self.profile_finished:
            self.profile_finished = None
        if self.link != self._current_url:
            self._link_changed.set()
        if old is None or old.log_interval_s != config.log_interval_s:
            self._poll_now.set()
            self._interval_changed.set()
        if old is None or old.profile != config.profile:
            self._profile_due.set()
        if self.connected and (old is None or old.temp_format is not config.temp_format):
            self.spawn(self._match_unit_logged(), "match unit")

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
                # What the firmware is comes with the session: the status never shows a
                # connected link without it.
                self.version, self.dialect = session.version, session.dialect
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
            log.info("reconnecting to %s in %.0f s", self.link, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._link_changed.wait(), delay)

    async def _converse(self, session: FirmwareSession) -> None:
        """Read everything, then poll until the link is lost (raises why)."""
        self._last_temperatures_at = time.monotonic()
        await self.read_everything(session, timeout=POLL_TIMEOUT_S)
        self._note_connected(session)
        await self.match_unit(session)
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
                self._interval_changed.clear()
                silent_limit = SILENT_INTERVALS * self.log_interval_s
                remaining = self._last_temperatures_at + silent_limit - time.monotonic()
                if remaining <= 0:
                    raise FirmwareTimeout(
                        f"the firmware at {session.url} sent no temperatures for "
                        f"{silent_limit} s ({SILENT_INTERVALS} log intervals)"
                    )
                # A new config may shorten the interval meanwhile: then the limit is worked out
                # again at once.
                interval_changed = asyncio.ensure_future(self._interval_changed.wait())
                try:
                    await asyncio.wait(
                        {lost, changed, interval_changed},
                        timeout=remaining,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    interval_changed.cancel()
                if lost.done():
                    raise lost.result()
                if changed.done():
                    raise _LinkChanged()
        finally:
            lost.cancel()
            changed.cancel()

    async def read_everything(self, session: FirmwareSession, timeout: float) -> None:
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

    async def match_unit(self, session: FirmwareSession) -> None:
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

    async def read_again(self) -> None:
        """Read everything again (after the firmware reset its EEPROM), logging a failure."""
        session = self.session
        if session is None:
            return
        try:
            await self.read_everything(session, timeout=POLL_TIMEOUT_S)
            await self.match_unit(session)
        except (LinkLost, FirmwareTimeout) as error:
            log.warning("could not read the firmware after its reset: %s", error)

    async def _match_unit_logged(self) -> None:
        session = self.session
        if session is None:
            return
        try:
            await self.match_unit(session)
        except (LinkLost, FirmwareTimeout) as error:
            log.warning("could not set the firmware's unit: %s", error)

    def _note_connected(self, session: FirmwareSession) -> None:
        version = session.version
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
        reason = clean_text(reason, MAX_ANNOTATION_CHARS - 40)
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
                "beer_temp": web_temperature(report.beer_temp, unit),
                "beer_set": web_temperature(report.beer_set, unit),
                "fridge_temp": web_temperature(report.fridge_temp, unit),
                "fridge_set": web_temperature(report.fridge_set, unit),
                "room_temp": None
                if report.room_temp is None
                else web_temperature(report.room_temp, unit),
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
        text = clean_text(text.strip(), MAX_ANNOTATION_CHARS)
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
            beer_set = web_temperature(record.beer_set, unit)
            fridge_set = web_temperature(record.fridge_set, unit)
        elif settings is not None:
            beer_set = web_temperature(settings.beer_set, unit)
            fridge_set = web_temperature(settings.fridge_set, unit)
        version = self.version
        firmware = None
        if version is not None:
            firmware = {
                "version": clean_text(version.version, 64),
                "board": clean_text(BOARD_NAMES.get(version.board, version.board), 64),
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
            "lcd": [clean_text(line, 40) for line in self.lcd[:4]],
            "state": state,
            "last_error": None if last_error is None else clean_text(last_error, 500),
            "profile_finished": None
            if self.profile_finished is None
            else {"id": self.profile_finished.id, "started_at": self.profile_finished.started_at},
            "profile_progress": self.profile_runner.report(),
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
            except (WebRejected, ValueError) as error:  # ValueError: a value JSON cannot carry
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
            await self.apply_settings(session, values, timeout=POLL_TIMEOUT_S)
            held = "its last setting" if current is None else f"{current:.1f} °{self.unit.value}"
            self.annotate(f"No profile is active for this device; holding {held}")
            return
        await self._follow_holds(time.time())
        step = self.profile_runner.step(time.time(), current)
        if step.settings:
            await self.apply_settings(session, step.settings, timeout=POLL_TIMEOUT_S)
            log.info("profile step: %s", step.settings)
        if step.finished:
            self.note_profile_finished(step.annotation)
        elif step.annotation:
            self.annotate(step.annotation)

    async def _follow_holds(self, now: float) -> None:
        """Begin the hold the profile has reached; end the one under way when the gravity
        readings meet its condition or its time is up. Several may settle at once after the
        controller was down, each timed as it would have been."""
        runner = self.profile_runner
        for _ in range(len(runner.profile.holds) + 1 if runner.profile else 0):
            began = runner.begin_due_hold(now)
            if began:
                self.annotate(began)
                self._status_due.set()
            under_way = runner.hold_under_way()
            if under_way is None:
                return
            hold, since = under_way
            readings = await self._gravity_readings(hold.readings_since(since, now))
            if runner is not self.profile_runner:
                return  # a new config came meanwhile: its runner starts afresh
            ended = runner.end_hold_if_over(now, readings)
            if ended is None:
                return
            self.annotate(ended)
            self._status_due.set()

    async def _gravity_readings(self, since: int) -> list[tuple[int, float]] | None:
        """The device's gravity readings from `since`, or None when the web app gives none."""
        try:
            answer = await asyncio.wait_for(self.api.get_gravity(since), GRAVITY_TIMEOUT_S)
            readings = [(int(item["ts"]), float(item["gravity"])) for item in answer["readings"]]
        except (WebUnavailable, WebRejected, TimeoutError) as error:
            log.warning("no gravity readings for the profile's hold: %s", error)
            return None
        except (KeyError, TypeError, ValueError) as error:
            log.error("the web app's gravity readings are not as agreed: %r", error)
            return None
        log.debug("%d gravity readings since %d", len(readings), since)
        return readings

    def note_profile_finished(self, annotation: str | None) -> None:
        """The profile handed over to beer constant: annotate it, and tell the web app in the
        status (`profile_finished`) so it shows the profile as done, not as running."""
        self.profile_finished = self.profile_runner.profile
        if annotation:
            self.annotate(annotation)
        self._status_due.set()

    # -- talking to the firmware for the web app ----------------------------------------------

    async def apply_settings(
        self, session: FirmwareSession, values: dict[str, Any], *, timeout: float
    ) -> tuple[ControlSettings, ControlConstants]:
        """`j{...}` with temperatures given in the device's unit; the firmware's echo."""
        wire = dict(values)
        for key in ("beerSet", "fridgeSet"):
            if isinstance(wire.get(key), int | float):
                wire[key] = degrees_between(wire[key], self.unit, self.firmware_unit)
        settings, constants = await session.apply_settings(wire, timeout=timeout)
        self.settings, self.constants = settings.settings, constants.constants
        self._status_due.set()
        return self.settings, self.constants


def _is_unsupported(error: FirmwareRefused) -> bool:
    """A version we do not drive (nothing to retry), rather than no version reply at all."""
    return not str(error).startswith("no version reply")
