"""A conversation with one BrewPi firmware: handshake, dialect, requests and their replies.

`FirmwareSession.connect()` opens the link, waits for a board that resets when its port opens,
asks for the version (brewpi-protocol §1), tells the dialect from the answer and refuses
firmware it cannot drive. From then on one reader task owns the link: it takes `D:` log
messages out of the stream wherever they sit, parses every line, hands each reply to the
request waiting for it, and passes every `T:` line to `on_temperatures` (merged onto the
previous one, as the scripts do), every `D:` to `on_log` and every line it cannot read to
`on_line`. Nothing the firmware sends makes the reader fail; only `connect()` and requests
raise, with LinkLost, FirmwareTimeout or FirmwareRefused.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Mapping

from fermentrack.brewpi.commands import encode_command
from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.log_messages import InfoId, LogMessage
from fermentrack.brewpi.messages import (
    ConstantsReport,
    DeviceListReport,
    DeviceUpdateReport,
    ExtendedSettingsReport,
    HardwareReport,
    LcdReport,
    Message,
    ProbeNamesReport,
    ProbeReadingsReport,
    RawText,
    SettingsReport,
    SimulatorReport,
    TemperatureReport,
    VariablesReport,
    VersionInfo,
    WifiReport,
    encode_wire_text,
    parse_line,
    strip_log_messages,
)
from fermentrack.brewpi.temperature import Dialect, TempFormat
from fermentrack.controller.link import (
    MAX_LINE_BYTES,
    LineTooLong,
    Link,
    LinkLost,
    LinkUrlError,
    link_kind,
    open_link,
)

log = logging.getLogger(__name__)

SERIAL_STARTUP_DELAY_S = 10.0  # an Uno resets when its port is opened (DTR) and boots slowly
HANDSHAKE_TIMEOUT_S = 10.0
HANDSHAKE_RETRY_S = 1.0  # `n` again after each second without a version reply
OLDEST_SUPPORTED = (0, 2, 4)  # older firmware lacks what Fermentrack relies on
FIRST_UNSUPPORTED = (0, 4, 0)  # 0.4 and later speak the binary "controlbox" protocol
ESP_BOARDS = frozenset("e3c2")  # ESP8266, ESP32, ESP32-C3, ESP32-S2 (§4.1)
UNREADABLE_LOG_LIMIT = 20  # unreadable lines logged per minute; the rest are counted
_KEPT_PER_REQUEST = 100  # D: messages and unreadable lines remembered while a request waits

_REPLY_PREFIX: dict[type, str] = {
    VersionInfo: "N:",
    TemperatureReport: "T:",
    SettingsReport: "S:",
    ConstantsReport: "C:",
    VariablesReport: "V:",
    LcdReport: "L:",
    LogMessage: "D:",
    DeviceListReport: "d:",
    HardwareReport: "h:",
    DeviceUpdateReport: "U:",
    ExtendedSettingsReport: "X:",
    WifiReport: "W:",
    ProbeReadingsReport: "R:",
    ProbeNamesReport: "N:",
    SimulatorReport: "Y:",
}
_MESSAGE_START = re.compile(r"^[A-Za-z]:[\[{]")
# JSON may escape half of a UTF-16 surrogate pair on its own ("\ud800"); json.loads keeps it,
# and a text holding one cannot be written as UTF-8: not to the outbox, not to the web app.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")

__all__ = [
    "FirmwareRefused",
    "FirmwareSession",
    "FirmwareTimeout",
    "FirmwareUnsupported",
    "LinkLost",
    "LinkUrlError",
    "check_version",
    "detect_dialect",
]


class FirmwareTimeout(Exception):
    """No answer in time. The link may still be alive."""


class FirmwareRefused(Exception):
    """The firmware cannot be driven (no version reply, a protocol we do not speak); in words."""


class FirmwareUnsupported(FirmwareRefused):
    """The firmware answered with a version this controller does not drive: retrying is futile."""


def detect_dialect(version: VersionInfo, version_line: str) -> Dialect:
    """ESP or AVR, from the `N:` reply.

    The rule: ESP when the board letter is an ESP's (e, 3, c, 2) or when `l` (the log-messages
    version) is a JSON number, as only ESP firmware prints it; AVR otherwise (AVR prints `l` as
    the string "3"; Spark/Photon legacy builds and very old bare-version replies behave as AVR).
    """
    if version.board in ESP_BOARDS:
        return Dialect.ESP
    body = version_line.strip()[2:]
    try:
        raw = json.loads(body)
    except ValueError:
        return Dialect.AVR
    log_version = raw.get("l") if isinstance(raw, dict) else None
    if isinstance(log_version, int | float) and not isinstance(log_version, bool):
        return Dialect.ESP
    return Dialect.AVR


def _version_numbers(text: str) -> tuple[int, int, int] | None:
    match = re.match(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3] or 0)


def check_version(version: VersionInfo, url: str) -> None:
    """Raise FirmwareUnsupported for a version this controller cannot drive."""
    numbers = _version_numbers(version.version)
    if numbers is None:
        raise FirmwareUnsupported(
            f"the firmware at {url} reports version {version.version!r}, "
            "which is not a BrewPi version number such as 0.2.4"
        )
    if numbers >= FIRST_UNSUPPORTED:
        raise FirmwareUnsupported(
            f"firmware {version.version} speaks the newer BrewPi protocol, which Fermentrack "
            f"does not support (firmware at {url}; Fermentrack drives 0.2.4 up to 0.3)"
        )
    if numbers < OLDEST_SUPPORTED:
        raise FirmwareUnsupported(
            f"firmware {version.version} is older than 0.2.4, the oldest BrewPi firmware "
            f"Fermentrack supports (firmware at {url}); update the firmware"
        )


class _Exchange:
    """One command in flight: the replies that complete it, in order, and what came meanwhile."""

    def __init__(self, command: str, wanted: list[Callable[[Message], bool]], what: str) -> None:
        self.command = command
        self.what = what
        self.wanted = wanted
        self.replies: list[Message] = []
        self.reply_lines: list[str] = []
        self.reply_formats: list[TempFormat] = []  # the unit each reply was read in
        self.logs: deque[LogMessage] = deque(maxlen=_KEPT_PER_REQUEST)
        self.unreadable: deque[str] = deque(maxlen=3)
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def offer(self, message: Message, line: str, fmt: TempFormat) -> bool:
        if self.done.done() or not self.wanted[len(self.replies)](message):
            return False
        self.replies.append(message)
        self.reply_lines.append(line)
        self.reply_formats.append(fmt)
        if len(self.replies) == len(self.wanted):
            self.done.set_result(None)
        return True

    def fail(self, error: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(error)
            self.done.exception()  # retrieved: nobody may be waiting any more


def _is(kind: type | tuple[type, ...]) -> Callable[[Message], bool]:
    return lambda message: isinstance(message, kind)


def _names(kinds: tuple[type, ...]) -> str:
    return " or ".join(_REPLY_PREFIX.get(kind, kind.__name__) for kind in kinds)


class FirmwareSession:
    """One firmware, reached at `url`, spoken to in its own dialect.

    Callbacks run in the reader task and must not block: `on_temperatures(TemperatureReport)`
    for every `T:` line (polled or unsolicited, merged onto the previous one), `on_log
    (LogMessage)` for every `D:` message, `on_line(str)` for a line that is no message we can
    read (ESP's raw error lines, garbage, a line that was too long). A callback that raises is
    logged and does not stop the reader.

    `startup_delay_s` is the wait between opening the link and the first `n`: by default 10 s
    for serial links (an Uno resets when opened) and 0 for TCP.
    """

    def __init__(
        self,
        url: str,
        *,
        on_temperatures: Callable[[TemperatureReport], object] | None = None,
        on_log: Callable[[LogMessage], object] | None = None,
        on_line: Callable[[str], object] | None = None,
        startup_delay_s: float | None = None,
        handshake_timeout_s: float = HANDSHAKE_TIMEOUT_S,
    ) -> None:
        self.url = url
        kind = link_kind(url)  # a URL that cannot be a link is refused here, not at connect
        if startup_delay_s is None:
            startup_delay_s = SERIAL_STARTUP_DELAY_S if kind == "serial" else 0.0
        self.startup_delay_s = startup_delay_s
        self.handshake_timeout_s = handshake_timeout_s
        self.on_temperatures = on_temperatures
        self.on_log = on_log
        self.on_line = on_line
        self.dialect: Dialect | None = None
        self.version: VersionInfo | None = None
        self.temp_format = TempFormat.CELSIUS
        self.last_temperatures: TemperatureReport | None = None
        self._link: Link | None = None
        self._reader: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self._exchange: _Exchange | None = None
        self._lost: LinkLost | None = None
        self._lost_signal: asyncio.Future[LinkLost] | None = None  # one per connection
        self._format_known = False
        self._partial = ""  # a line interrupted by a D: message, waiting for its rest
        self._unreadable_window = (0.0, 0, 0)  # window start, logged, suppressed

    # -- state --------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """The link is open and the firmware has answered the handshake."""
        return self._link is not None and self._lost is None and self.version is not None

    async def wait_lost(self) -> LinkLost:
        """Wait until the link of the current connection drops; the LinkLost that says why.

        Returns at once when there is no connection.
        """
        if self._lost_signal is None:
            return LinkLost(f"the firmware at {self.url} is not connected")
        return await asyncio.shield(self._lost_signal)

    # -- connecting ---------------------------------------------------------------------------

    async def connect(self) -> VersionInfo:
        """Open the link, wait for the board, do the handshake and read the temperature format.

        Raises LinkLost (cannot open, or dropped), FirmwareRefused (no version reply within
        `handshake_timeout_s`, or a version we do not drive), FirmwareTimeout (no `C:` reply).
        A session may connect again after close() or a lost link.
        """
        await self.close()
        self.dialect = self.version = None
        self.last_temperatures = None
        self._lost = None
        self._lost_signal = asyncio.get_running_loop().create_future()
        self._format_known, self._partial = False, ""
        try:
            self._link = await open_link(self.url)
        except LinkLost as error:
            self._set_lost(error)
            raise
        self._reader = asyncio.create_task(self._read_lines(self._link), name=f"read {self.url}")
        try:
            if self.startup_delay_s > 0:
                await self._sleep_unless_lost(self.startup_delay_s)
            started = time.monotonic()
            version, line = await self._handshake()
            dialect = detect_dialect(version, line)
            check_version(version, self.url)
            self.version, self.dialect = version, dialect
            # T: lines are printed in the firmware's unit; learn it before passing any on.
            await self.request("c", expect=ConstantsReport)
            log.info(
                "firmware %s (%s, board %s) at %s answered in %.2f s",
                version.version,
                dialect.value,
                version.board,
                self.url,
                time.monotonic() - started,
            )
        except BaseException:
            await self.close()
            raise
        return version

    async def _sleep_unless_lost(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wait_lost(), seconds)
        if self._lost is not None:
            raise self._lost_error()

    async def _handshake(self) -> tuple[VersionInfo, str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.handshake_timeout_s
        async with self._lock:
            while (remaining := deadline - loop.time()) > 0:
                try:
                    exchange = await self._exchange_messages(
                        "n", [_is(VersionInfo)], "N:", min(HANDSHAKE_RETRY_S, remaining)
                    )
                except FirmwareTimeout:
                    continue
                return exchange.replies[0], exchange.reply_lines[0]  # type: ignore[return-value]
        raise FirmwareRefused(
            f"no version reply from the firmware at {self.url} within "
            f"{self.handshake_timeout_s:g} s"
        )

    async def close(self) -> None:
        """Stop reading and close the link. Waiting requests get LinkLost."""
        reader, self._reader = self._reader, None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        link, self._link = self._link, None
        if link is not None:
            self._set_lost(LinkLost(f"the link to the firmware at {self.url} was closed"))
            await link.close()

    # -- requests -----------------------------------------------------------------------------

    async def request(
        self,
        letter: str,
        args: Mapping[str, object] | None = None,
        *,
        expect: type | tuple[type, ...],
        timeout: float = 2.0,
    ):
        """Send a command and return the first reply of type `expect` (a `T:` reply merged).

        One command is in flight at a time; others wait their turn. Raises FirmwareTimeout
        when no such reply comes within `timeout` seconds, LinkLost when the link drops.
        """
        kinds = expect if isinstance(expect, tuple) else (expect,)
        async with self._lock:
            self._check_usable()
            exchange = await self._exchange_messages(
                encode_command(letter, args), [_is(kinds)], _names(kinds), timeout
            )
        return exchange.replies[0]

    async def send(self, letter: str, args: Mapping[str, object] | None = None) -> None:
        """Send a command that has no reply (such as `R` or `A`)."""
        async with self._lock:
            self._check_usable()
            await self._write(encode_command(letter, args))

    async def apply_settings(
        self, values: Mapping[str, object], *, timeout: float = 5.0
    ) -> tuple[SettingsReport, ConstantsReport]:
        """Send `j{...}` (string values quoted, which both dialects read) and wait for the
        `S:` and `C:` the firmware answers with. Values are in the firmware's current unit.
        """
        values = dict(values)
        if "tempFormat" in values:  # applied first, so the rest is read in the new unit
            values = {"tempFormat": values.pop("tempFormat"), **values}
        async with self._lock:
            self._check_usable()
            if values.get("tempFormat") in ("C", "F"):
                # What the firmware prints from now on is in the new unit; C: confirms it.
                self.temp_format = TempFormat(values["tempFormat"])
            exchange = await self._exchange_messages(
                encode_command("j", values),
                [_is(SettingsReport), _is(ConstantsReport)],
                "S: and C:",
                timeout,
            )
        settings, constants = exchange.replies
        if exchange.reply_formats[0] is not self.temp_format:
            # The S: line was read in another unit than the one the C: line reports.
            settings = parse_line(exchange.reply_lines[0], self.dialect, self.temp_format)
        return settings, constants  # type: ignore[return-value]

    async def list_devices(self, *, timeout: float = 5.0) -> DeviceListReport:
        """Installed devices with their values (`d{r:1}` on AVR, `d{v:1}` on ESP, §13)."""
        args = {"r": 1} if self.dialect is Dialect.AVR else {"v": 1}
        return await self.request("d", args, expect=DeviceListReport, timeout=timeout)

    async def scan_hardware(
        self, *, not_installed_only: bool = False, timeout: float = 5.0
    ) -> HardwareReport:
        """Hardware the firmware can see, with values: every pin and sensor (`h{v:1}`), or only
        those not installed in a slot (`h{u:-1,v:1}`, what FT-script asks).
        """
        args = {"u": -1, "v": 1} if not_installed_only else {"v": 1}
        return await self.request("h", args, expect=HardwareReport, timeout=timeout)

    async def apply_device(
        self, definition: Mapping[str, object], *, timeout: float = 5.0
    ) -> tuple[DeviceUpdateReport, list[LogMessage]]:
        """Send `U{...}` and return the resulting definition and the error messages (`D:` of
        type E) the firmware printed before it: its reasons for refusing an invalid definition,
        for `expand_log_message`. On refusal the slot is unchanged.
        """
        # AVR reads every value as text and "true" as 0: send switches as 0/1, which ESP reads too.
        args = {
            key: int(value) if isinstance(value, bool) else value
            for key, value in definition.items()
        }
        async with self._lock:
            self._check_usable()
            exchange = await self._exchange_messages(
                encode_command("U", args), [_is(DeviceUpdateReport)], "U:", timeout
            )
        errors = [message for message in exchange.logs if message.log_type == "E"]
        return exchange.replies[0], errors  # type: ignore[return-value]

    async def reset_eeprom(self, *, timeout: float = 5.0) -> None:
        """Reset the firmware to its defaults with no devices, the right way for the dialect.

        AVR gets a bare `E`: it would run the bytes of a JSON object as commands, and the `R`
        in "confirmReset" reboots it (§9). ESP needs `E{"confirmReset":true}`. Waits for the
        "EEPROM initialized" message, then reads the constants (the unit may have changed).
        """
        args = {"confirmReset": True} if self.dialect is Dialect.ESP else None
        initialized = InfoId.EEPROM_INITIALIZED

        def is_initialized(message: Message) -> bool:
            return (
                isinstance(message, LogMessage)
                and message.log_type == "I"
                and message.log_id == initialized
            )

        async with self._lock:
            self._check_usable()
            await self._exchange_messages(
                encode_command("E", args), [is_initialized], "D: EEPROM initialized", timeout
            )
        await self.request("c", expect=ConstantsReport)

    # -- inside ---------------------------------------------------------------------------------

    def _check_usable(self) -> None:
        if self._lost is not None:
            raise self._lost_error()
        if self._link is None or self.version is None:
            raise LinkLost(f"the firmware at {self.url} is not connected")

    def _lost_error(self) -> LinkLost:
        assert self._lost is not None
        return LinkLost(str(self._lost))

    async def _write(self, command: str) -> None:
        assert self._link is not None
        await self._link.write(encode_wire_text(command) + b"\n")

    async def _exchange_messages(
        self, command: str, wanted: list[Callable[[Message], bool]], what: str, timeout: float
    ) -> _Exchange:
        """Send `command` and wait for replies matching `wanted`, in order. Hold the lock."""
        if self._lost is not None:
            raise self._lost_error()
        exchange = _Exchange(command, wanted, what)
        self._exchange = exchange
        try:
            await self._write(command)
            try:
                await asyncio.wait_for(exchange.done, timeout)
            except TimeoutError:
                said = f"; it said {exchange.unreadable[-1]!r}" if exchange.unreadable else ""
                raise FirmwareTimeout(
                    f"no {what} reply to {command!r} from the firmware at {self.url} "
                    f"within {timeout:g} s{said}"
                ) from None
        finally:
            self._exchange = None
            exchange.done.cancel()  # nothing may complete it later
        return exchange

    def _set_lost(self, error: LinkLost) -> None:
        if self._lost is None:
            self._lost = error
            if self._lost_signal is not None and not self._lost_signal.done():
                self._lost_signal.set_result(error)
        if self._exchange is not None:
            self._exchange.fail(LinkLost(str(self._lost)))

    async def _read_lines(self, link: Link) -> None:
        """The reader task: owns the link's input until it drops or the session closes."""
        try:
            while True:
                try:
                    line = await link.readline()
                except LineTooLong as error:
                    self._unreadable(str(error), "a line too long")
                    continue
                self._take_line(line)
        except LinkLost as error:
            self._set_lost(error)
            await link.close()
        except Exception as error:  # a bug here must not leave requests hanging
            log.exception("reading from the firmware at %s failed", self.url)
            self._set_lost(LinkLost(f"reading from the firmware at {self.url} failed: {error}"))
            await link.close()

    def _take_line(self, line: str) -> None:
        """One line from the link: take out D: messages, join a line they interrupted (§2)."""
        if self._partial and _MESSAGE_START.match(line):
            # A new message began: what waited for its rest is not going to get it.
            partial, self._partial = self._partial, ""
            self._unreadable(partial, "an unfinished line")
        text, log_lines = strip_log_messages(self._partial + line + "\n")
        self._partial = ""
        for log_line in log_lines:
            self._take_message_line(log_line)
        if text.endswith("\n"):
            self._take_message_line(text[:-1])
        elif len(text) > MAX_LINE_BYTES:
            self._unreadable(text[:200], "a line too long")
        else:
            self._partial = text

    def _take_message_line(self, line: str) -> None:
        if not line.strip():
            return
        try:
            message = parse_line(line, self.dialect, self.temp_format)
        except ProtocolError as error:
            self._unreadable(line, str(error))
            return
        except Exception as error:  # the parser is fuzzed; still, never let a line kill us
            log.exception("parsing a line from %s failed", self.url)
            self._unreadable(line, f"parser failure: {error!r}")
            return
        if _SURROGATE_ESCAPE.search(line):
            message = _without_surrogates(message)
        exchange = self._exchange
        if isinstance(message, LogMessage):
            if exchange is not None:
                exchange.logs.append(message)
                exchange.offer(message, line, self.temp_format)
            self._call(self.on_log, message)
        elif isinstance(message, TemperatureReport):
            self._take_temperatures(message, line)
        elif isinstance(message, RawText):
            self._unreadable(message.text, "a line without a prefix")  # ESP's error lines
        else:
            if isinstance(message, ConstantsReport):
                self.temp_format = TempFormat(message.constants.temp_format)
                self._format_known = True
            if exchange is None or not exchange.offer(message, line, self.temp_format):
                log.debug("unrequested %s from %s", type(message).__name__, self.url)

    def _take_temperatures(self, report: TemperatureReport, line: str) -> None:
        if not self._format_known:
            # Before the first C: the unit is unknown; °F read as °C would be wrong data.
            log.debug("T: before the temperature format is known, not used: %s", line)
            return
        previous = self.last_temperatures
        if report.missing and previous is not None:
            report = report.merged_onto(previous)
        self.last_temperatures = report
        if self._exchange is not None:
            self._exchange.offer(report, line, self.temp_format)
        self._call(self.on_temperatures, report)

    def _unreadable(self, text: str, reason: str) -> None:
        now = time.monotonic()
        start, logged, suppressed = self._unreadable_window
        if now - start >= 60:
            if suppressed:
                log.warning(
                    "%d more such lines from the firmware at %s were not logged",
                    suppressed,
                    self.url,
                )
            start, logged, suppressed = now, 0, 0
        if logged < UNREADABLE_LOG_LIMIT:
            shown = text if len(text) <= 200 else text[:200] + "..."
            log.warning("line from the firmware at %s (%s): %r", self.url, reason, shown)
            logged += 1
        else:
            suppressed += 1
        self._unreadable_window = (start, logged, suppressed)
        if self._exchange is not None:
            self._exchange.unreadable.append(text)
        self._call(self.on_line, text)

    def _call(self, callback: Callable[[object], object] | None, value: object) -> None:
        if callback is None:
            return
        try:
            callback(value)
        except Exception:
            log.exception("a callback of the session for %s failed", self.url)


def _without_surrogates(value):
    """`value` (a message, or anything in one) with every lone UTF-16 surrogate in its texts
    replaced by U+FFFD, so that whatever the firmware sent can be stored and sent on as UTF-8.
    Unchanged parts are the same objects."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if type(value) in (list, tuple):
        items = [_without_surrogates(item) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    if type(value) is dict:
        return {_without_surrogates(key): _without_surrogates(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for spec in dataclasses.fields(value):
            if spec.init:
                old = getattr(value, spec.name)
                new = _without_surrogates(old)
                if new is not old:
                    changes[spec.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value
