"""`fermentrack tilt-scanner`: hears Tilt hydrometers over Bluetooth and posts their readings to
the web app (POST /api/gravity/bluetooth).

One process per host, run by the spawner as the `tilt-scanner` watcher while a Tilt sensor
exists. A listener hears advertisements: bleak's scanner, or for tests and demos a recording
replayed at its own pace (`--replay FILE`). Each post interval (FERMENTRACK_TILT_POST_S, 30 s)
becomes one averaged reading per colour; unphysical readings and version beacons never enter the
average. A sender posts what is held, backing off while the web app is away and keeping the last
24 h of readings in memory meanwhile. An adapter that stops hearing anything at all (BlueZ or
its firmware wedged: phones, TVs and the Tilt itself advertise all the time) is noticed after
FERMENTRACK_TILT_SILENCE_S (600 s): the scanner then exits, once nothing it holds is waiting for
the web app, and circus starts it afresh on a reopened adapter. Environment:
FERMENTRACK_SCANNER_TOKEN (required), FERMENTRACK_API_URL (default http://127.0.0.1:8123).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import signal
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fermentrack import config
from fermentrack.controller.http11 import HttpClient, HttpError
from fermentrack.controller.uploader import backoff_delay, with_jitter
from fermentrack.controller.web_api import WebRejected, WebUnavailable
from fermentrack.gravity.hygiene import reading_problem
from fermentrack.gravity.tilt import COLOURS, TiltReading, TiltVersion, decode_tilt
from fermentrack.gravity.units import f_to_c

log = logging.getLogger(__name__)

DEFAULT_POST_S = 30
BLUETOOTH_PATH = "/api/gravity/bluetooth"
HOLD_S = 24 * 3600  # readings older than this are dropped while the web app is away
MAX_READINGS_PER_POST = 1000
REQUEST_TIMEOUT_S = 10.0
INITIAL_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
REFUSED_BODY_STATUSES = frozenset({400, 413, 422})  # the body itself: sending it again won't help
APPLE_COMPANY_ID = 0x004C
USER_AGENT = "fermentrack-tilt-scanner"
DEFAULT_SILENCE_S = 600


class BluetoothUnavailable(OSError):
    """No Bluetooth scan can start here: no adapter, no BlueZ, or bleak is missing."""


class AdapterSilent(BluetoothUnavailable):
    """The adapter heard nothing for too long: the scan is to start afresh."""


@dataclass(frozen=True, slots=True)
class Advertisement:
    at: float  # unix time it was heard
    rssi: int | None  # dBm
    data: bytes  # manufacturer-specific data, from its company ID on


@dataclass(frozen=True, slots=True)
class ReplayLine:
    offset_s: float  # seconds after the replay starts
    rssi: int
    data: bytes


@dataclass(frozen=True, slots=True)
class AveragedReading:
    """One colour's readings over a post interval, as the web app receives them."""

    colour: str
    ts: int  # unix seconds: the middle of the readings averaged
    temp_f: float
    gravity: float  # SG, uncalibrated: the web app applies the sensor's calibration
    pro: bool
    battery_weeks: int | None  # the latest heard in the interval
    rssi: int | None  # the mean of those heard

    def as_json(self) -> dict[str, Any]:
        return {
            "colour": self.colour,
            "ts": self.ts,
            "temp_f": self.temp_f,
            "gravity": self.gravity,
            "pro": self.pro,
            "battery_weeks": self.battery_weeks,
            "rssi": self.rssi,
        }


def parse_replay(text: str, source: str = "replay") -> list[ReplayLine]:
    """Lines `<seconds offset> <rssi> <hex manufacturer data>` (the hex may hold spaces), in
    time order; blank lines and `#` comments are skipped. ValueError naming the line."""
    lines: list[ReplayLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split(None, 2)
        try:
            offset, rssi, data = float(fields[0]), int(fields[1]), bytes.fromhex(fields[2])
        except (IndexError, ValueError):
            raise ValueError(
                f"{source}, line {number}: expected '<seconds offset> <rssi> <hex manufacturer "
                f"data>', got {raw.strip()!r}"
            ) from None
        if not math.isfinite(offset) or offset < 0:
            raise ValueError(f"{source}, line {number}: offset {fields[0]!r} is not 0 or more")
        if lines and offset < lines[-1].offset_s:
            raise ValueError(
                f"{source}, line {number}: offset {offset:g} s comes before the line above "
                f"({lines[-1].offset_s:g} s); lines must be in time order"
            )
        lines.append(ReplayLine(offset, rssi, data))
    return lines


class ColourAverages:
    """The readings heard in the open post interval, per colour, and their averages."""

    def __init__(self) -> None:
        self._heard: dict[str, list[tuple[float, TiltReading]]] = {}
        self._last_ts: dict[str, int] = {}

    def add(self, reading: TiltReading, at: float) -> None:
        heard = self._heard.setdefault(reading.colour, [])
        # Colour is a Tilt's only identity, so a Pro and a classic of one colour collide; their
        # values differ in resolution, never average them together: the newer kind wins.
        if heard and heard[-1][1].pro != reading.pro:
            heard.clear()
        heard.append((at, reading))

    def close(self) -> list[AveragedReading]:
        """One averaged reading per colour heard (in COLOURS order); starts a new interval."""
        averaged = []
        for colour in sorted(self._heard, key=list(COLOURS).index):
            heard = [reading for _, reading in self._heard[colour]]
            times = [at for at, _ in self._heard[colour]]
            # Rows are keyed by (sensor, ts): never repeat or go back on a colour's last ts.
            ts = max(round(sum(times) / len(times)), self._last_ts.get(colour, -1) + 1)
            self._last_ts[colour] = ts
            weeks = [r.battery_weeks for r in heard if r.battery_weeks is not None]
            rssis = [r.rssi for r in heard if r.rssi is not None]
            averaged.append(
                AveragedReading(
                    colour=colour,
                    ts=ts,
                    # One decimal more than a Tilt Pro sends: averaging gains resolution.
                    temp_f=round(sum(r.temp_f for r in heard) / len(heard), 2),
                    gravity=round(sum(r.gravity for r in heard) / len(heard), 5),
                    pro=heard[-1].pro,
                    battery_weeks=weeks[-1] if weeks else None,
                    rssi=round(sum(rssis) / len(rssis)) if rssis else None,
                )
            )
        self._heard.clear()
        return averaged


@dataclass(frozen=True)
class Post:
    readings: list[AveragedReading]
    versions: dict[str, int]

    def body(self) -> dict[str, Any]:
        return {
            "readings": [reading.as_json() for reading in self.readings],
            "versions": [
                {"colour": colour, "firmware_version": version}
                for colour, version in self.versions.items()
            ],
        }


class HeldReadings:
    """What waits to be posted, oldest first. Only the sender takes from it."""

    def __init__(self) -> None:
        self.readings: deque[AveragedReading] = deque()
        self.versions: dict[str, int] = {}

    def __bool__(self) -> bool:
        return bool(self.readings or self.versions)

    def add(self, readings: list[AveragedReading]) -> None:
        self.readings.extend(readings)

    def add_version(self, version: TiltVersion) -> None:
        self.versions[version.colour] = version.firmware_version

    def drop_older_than(self, cutoff_ts: float) -> int:
        dropped = 0
        while self.readings and self.readings[0].ts < cutoff_ts:
            self.readings.popleft()
            dropped += 1
        return dropped

    def next_post(self, limit: int = MAX_READINGS_PER_POST) -> Post:
        readings = [self.readings[index] for index in range(min(limit, len(self.readings)))]
        return Post(readings, dict(self.versions))

    def delivered(self, post: Post) -> None:
        for _ in post.readings:
            self.readings.popleft()
        for colour, version in post.versions.items():
            if self.versions.get(colour) == version:
                del self.versions[colour]


class TiltScanner:
    """Turns advertisements into averaged readings, one per colour and post interval, counted
    from `origin` (unix time)."""

    def __init__(self, post_interval_s: float, origin: float) -> None:
        self.post_interval_s = post_interval_s
        self.origin = origin
        self.averages = ColourAverages()
        self.held = HeldReadings()
        self.new_readings = asyncio.Event()  # set when something was added to `held`
        self._interval = 0  # index of the open post interval
        self._dropped: dict[str, tuple[int, str]] = {}  # colour: (count, last reason)

    def hear(self, advertisement: Advertisement) -> None:
        self.close_intervals_before(advertisement.at)
        decoded = decode_tilt(advertisement.data, advertisement.rssi)
        if isinstance(decoded, TiltVersion):
            self.held.add_version(decoded)  # posted with the interval's readings
        elif isinstance(decoded, TiltReading):
            problem = reading_problem(decoded.gravity, f_to_c(decoded.temp_f))
            if problem is None:
                self.averages.add(decoded, advertisement.at)
            else:
                count, _ = self._dropped.get(decoded.colour, (0, ""))
                self._dropped[decoded.colour] = (count + 1, problem)

    def close_intervals_before(self, at: float) -> None:
        """Close the open interval when `at` lies past its end."""
        # The epsilon: a timer that wakes exactly at an interval's end must close it.
        interval = math.floor((at - self.origin) / self.post_interval_s + 1e-9)
        if interval > self._interval:
            self._interval = interval
            self.close()

    def close(self) -> None:
        for colour, (count, reason) in self._dropped.items():
            if count == 1:
                log.warning("%s Tilt: dropped an unphysical reading: %s", colour, reason)
            else:
                log.warning(
                    "%s Tilt: dropped %d unphysical readings, the last: %s", colour, count, reason
                )
        self._dropped.clear()
        self.held.add(self.averages.close())
        if self.held:
            self.new_readings.set()

    def next_interval_end(self) -> float:
        return self.origin + (self._interval + 1) * self.post_interval_s


class BluetoothApi:
    """POST /api/gravity/bluetooth with the scanner's token, over one kept-alive connection."""

    def __init__(self, base_url: str, token: str, *, timeout: float = REQUEST_TIMEOUT_S) -> None:
        if not token.isascii() or not token.isprintable():
            raise config.ConfigError(
                "FERMENTRACK_SCANNER_TOKEN holds characters an HTTP header cannot carry"
            )
        self.url = base_url.rstrip("/") + BLUETOOTH_PATH
        self.timeout = timeout
        self._http = HttpClient(
            base_url.rstrip("/"),
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
        )

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """The web app's answer ({stored, skipped}); WebUnavailable or WebRejected."""
        content = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._http.request(
                    "POST", BLUETOOTH_PATH, content, "application/json"
                )
        except TimeoutError:
            raise WebUnavailable(f"POST {self.url}: no answer within {self.timeout:g} s") from None
        except HttpError as error:
            raise WebUnavailable(f"POST {self.url}: {error}") from None
        try:
            answer = json.loads(response.body)
        except (ValueError, RecursionError):
            answer = None
        if response.status == 429 or response.status >= 500:
            raise WebUnavailable(f"POST {self.url}: HTTP {response.status} {response.reason}")
        if not 200 <= response.status < 300:
            detail = answer.get("detail") if isinstance(answer, dict) else None
            raise WebRejected(response.status, str(detail or response.reason))
        if not isinstance(answer, dict):
            raise WebUnavailable(f"POST {self.url}: HTTP {response.status} but no JSON object")
        return answer

    async def aclose(self) -> None:
        await self._http.aclose()


class ReplayListener:
    """Advertisements from a recording, each at its offset after the replay started."""

    def __init__(self, lines: list[ReplayLine]) -> None:
        self.lines = lines
        self.started = time.time()
        self.heard_at = time.monotonic()

    async def __aenter__(self) -> ReplayListener:
        self.started = time.time()
        self.heard_at = time.monotonic()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        pass

    async def __aiter__(self) -> AsyncIterator[Advertisement]:
        for line in self.lines:
            at = self.started + line.offset_s
            if (wait := at - time.time()) > 0:
                await asyncio.sleep(wait)
            self.heard_at = time.monotonic()
            yield Advertisement(at, line.rssi, line.data)


class BluetoothListener:
    """Apple manufacturer data from every advertisement the host's adapter hears (bleak)."""

    def __init__(self) -> None:
        self.started = time.time()
        self.heard_at = time.monotonic()  # when anything at all was last heard
        self._heard: asyncio.Queue[Advertisement] = asyncio.Queue(maxsize=10_000)
        self._scanner: Any = None

    async def __aenter__(self) -> BluetoothListener:
        try:
            from bleak import BleakScanner  # only here: tests and replays need no Bluetooth
        except ImportError as error:
            raise BluetoothUnavailable(
                f"cannot scan for Tilts: bleak is not installed ({error})"
            ) from None
        # DuplicateData: report every advertisement, not only changed ones: each is a reading.
        self._scanner = BleakScanner(
            self._on_advertisement, bluez={"filters": {"DuplicateData": True}}
        )
        try:
            await self._scanner.start()
        except Exception as error:  # bleak's errors differ per platform and failure
            raise BluetoothUnavailable(
                "cannot scan for Tilts: no Bluetooth adapter is usable "
                f"({type(error).__name__}: {error or 'no detail'}); check that the adapter is "
                "present and powered and that BlueZ (bluetoothd) runs"
            ) from None
        self.started = time.time()
        self.heard_at = time.monotonic()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self._scanner.stop()
        except Exception as error:  # stopping a scan the adapter already lost
            log.debug("stopping the Bluetooth scan: %s", error)

    async def __aiter__(self) -> AsyncIterator[Advertisement]:
        while True:
            yield await self._heard.get()

    def _on_advertisement(self, device: object, advertisement: Any) -> None:
        self.heard_at = time.monotonic()  # anything heard: the adapter works
        payload = advertisement.manufacturer_data.get(APPLE_COMPANY_ID)
        if payload is None:
            return
        # bleak strips the company ID; decode_tilt wants the data as sent, from the ID on.
        data = APPLE_COMPANY_ID.to_bytes(2, "little") + payload
        # When the queue is full the loop is stalled; fresher advertisements will follow.
        with contextlib.suppress(asyncio.QueueFull):
            self._heard.put_nowait(Advertisement(time.time(), advertisement.rssi, data))


def run_tilt_scanner(replay: Path | None = None) -> int:
    """Run the scanner until SIGTERM (or, replaying, until all is delivered); the exit status.

    Raises config.ConfigError for a missing token or a bad setting, BluetoothUnavailable when
    no scan can start, OSError or ValueError for a replay file that cannot be read.
    """
    token = config.required_token(
        "FERMENTRACK_SCANNER_TOKEN",
        "the scanner needs the token the web app issues when it adds the tilt-scanner watcher",
    )
    api_url = config.api_url()
    post_s = config.env_int("FERMENTRACK_TILT_POST_S", DEFAULT_POST_S, low=1, high=3600)
    silence_s = config.env_int(
        "FERMENTRACK_TILT_SILENCE_S", DEFAULT_SILENCE_S, low=1, high=7 * 24 * 3600
    )
    lines = None if replay is None else parse_replay(replay.read_text(), str(replay))
    return asyncio.run(_run(api_url, token, post_s, lines, silence_s))


async def _run(
    api_url: str,
    token: str,
    post_s: int,
    replay: list[ReplayLine] | None,
    silence_s: int = DEFAULT_SILENCE_S,
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    api = BluetoothApi(api_url, token)
    listener = BluetoothListener() if replay is None else ReplayListener(replay)
    try:
        async with listener:
            scanner = TiltScanner(post_s, listener.started)
            log.info(
                "tilt scanner listening (%s), posting every %d s to %s",
                "Bluetooth" if replay is None else f"replay of {len(replay)} advertisements",
                post_s,
                api.url,
            )
            await _run_until_stopped_or_delivered(scanner, listener, api, stop, silence_s)
    finally:
        await api.aclose()
    if waiting := len(scanner.held.readings):
        log.warning("tilt scanner stopped with %d readings not delivered", waiting)
    else:
        log.info("tilt scanner stopped")
    return 0


async def _run_until_stopped_or_delivered(
    scanner: TiltScanner,
    listener: ReplayListener | BluetoothListener,
    api: BluetoothApi,
    stop: asyncio.Event,
    silence_s: float = DEFAULT_SILENCE_S,
) -> None:
    """Listen, close intervals and send until `stop`, or until a replay was all delivered;
    AdapterSilent when the adapter heard nothing for `silence_s`."""
    heard_all = asyncio.Event()
    listening = asyncio.create_task(_listen(listener, scanner, heard_all))
    sending = asyncio.create_task(_send(scanner, api, heard_all))
    stopping = asyncio.create_task(stop.wait())
    watching = asyncio.create_task(watch_for_silence(listener, scanner, silence_s))
    tasks = {listening, sending, stopping, watching}
    if isinstance(listener, BluetoothListener):  # a replay keeps its own time
        tasks.add(asyncio.create_task(_close_intervals_on_time(scanner)))
    pending = set(tasks)
    try:
        while sending in pending and stopping in pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a failure ends the scanner (circus restarts it)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _listen(
    listener: ReplayListener | BluetoothListener, scanner: TiltScanner, heard_all: asyncio.Event
) -> None:
    async for advertisement in listener:
        scanner.hear(advertisement)
    scanner.close()  # a replay ended: its last interval is complete
    heard_all.set()


async def watch_for_silence(listener, scanner: TiltScanner, silence_s: float) -> None:
    """Raise AdapterSilent once `listener` has heard nothing for `silence_s` (by the monotonic
    clock: a Pi's clock set by NTP at boot must not trip it) and nothing heard is waiting for
    the web app: a restart must not lose readings, so the open interval is closed and what is
    held is delivered first."""
    said = False
    while True:
        await asyncio.sleep(min(30.0, silence_s / 4))
        quiet_s = time.monotonic() - listener.heard_at
        if quiet_s < silence_s:
            said = False
            continue
        scanner.close()
        if scanner.held:
            if not said:
                log.info(
                    "heard nothing for %.0f s; restarting once held readings are sent", quiet_s
                )
                said = True
            continue
        raise AdapterSilent(
            f"heard no Bluetooth advertisement at all for {quiet_s:.0f} s (any phone, TV or Tilt "
            "nearby advertises all the time): the adapter or BlueZ seems stuck, so the scanner "
            "stops to start afresh"
        )


async def _close_intervals_on_time(scanner: TiltScanner) -> None:
    """Close each interval at its end, whether or not a Tilt was heard since."""
    while True:
        await asyncio.sleep(max(0.0, scanner.next_interval_end() - time.time()))
        scanner.close_intervals_before(time.time())


async def _send(scanner: TiltScanner, api: BluetoothApi, heard_all: asyncio.Event) -> None:
    """Post what is held, oldest first; returns once a finished replay is all delivered."""
    held = scanner.held
    failures = 0
    while True:
        if not held:
            if heard_all.is_set():
                return
            scanner.new_readings.clear()
            await _wait_for_any(scanner.new_readings, heard_all)
            continue
        if dropped := held.drop_older_than(time.time() - HOLD_S):
            log.warning(
                "dropped %d readings older than %d h: not delivered", dropped, HOLD_S // 3600
            )
            continue
        post = held.next_post()
        try:
            answer = await api.post(post.body())
        except WebUnavailable as error:
            failures += 1
            delay = with_jitter(backoff_delay(failures, INITIAL_BACKOFF_S, MAX_BACKOFF_S))
            # Loud once, then quieter: an outage must not fill the log with one line a minute.
            log.log(
                logging.WARNING if failures == 1 else logging.INFO,
                "web app unavailable: %s; %d readings held, trying again in %.1f s",
                error,
                len(held.readings),
                delay,
            )
            await asyncio.sleep(delay)
            continue
        except WebRejected as error:
            if error.status_code in REFUSED_BODY_STATUSES:
                log.error("the web app refused %d readings, dropped: %s", len(post.readings), error)
                held.delivered(post)
                continue
            log.error(
                "the web app refused the scanner (%s): check FERMENTRACK_SCANNER_TOKEN; "
                "%d readings held",
                error,
                len(held.readings),
            )
            await asyncio.sleep(with_jitter(MAX_BACKOFF_S))
            continue
        if failures:
            log.info("web app reachable again")
        failures = 0
        held.delivered(post)
        log.debug("posted %d readings: %s", len(post.readings), answer)
        for refused in answer.get("refused") or []:  # limits the web app holds beyond ours
            log.warning("the web app refused a reading: %s", refused)


async def _wait_for_any(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
