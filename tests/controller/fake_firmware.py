"""A fake firmware PEER on a real TCP socket, for what our firmware never does.

It answers the handshake (or stays silent, or claims a version we refuse), answers a few
commands with canned lines (or through a function of the command), records every byte it
receives, and lets a test push any bytes at the controller: floods, over-long lines, invalid
bytes, JSON of the wrong shape. It runs in the test's own event loop, or, for the tests of the
whole controller process, in a thread of its own (`FakeFirmwareThread`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

ESP_VERSION = b'N:{"v":"0.2.4","n":"fake","c":"fake","s":0,"y":0,"b":"e","l":3,"e":"0.15"}\r\n'
AVR_VERSION = b'N:{"v":"0.2.13","n":"fake","s":2,"y":0,"b":"s","l":"3"}\r\n'
CONSTANTS = (
    b'C:{"tempFormat":"C","tempSetMin":1,"tempSetMax":30,"pidMax":10,"Kp":5,"Ki":0.25,'
    b'"Kd":-1.5,"iMaxErr":0.5,"idleRangeH":1,"idleRangeL":-1,"heatTargetH":0.299,'
    b'"heatTargetL":-0.199,"coolTargetH":0.199,"coolTargetL":-0.299,"maxHeatTimeForEst":600,'
    b'"maxCoolTimeForEst":1200,"fridgeFastFilt":1,"fridgeSlowFilt":4,"fridgeSlopeFilt":3,'
    b'"beerFastFilt":3,"beerSlowFilt":4,"beerSlopeFilt":4,"lah":false,"hs":false}\r\n'
)
SETTINGS = b'S:{"mode":"b","beerSet":20,"fridgeSet":20,"heatEst":0.199,"coolEst":5}\r\n'
# What else a controller reads after connecting (brewpi-protocol §9): `v`, `l` and `d{v:1}`.
VARIABLES = (
    b'V:{"beerDiff":0,"diffIntegral":0,"beerSlope":0,"p":0,"i":0,"d":0,"estPeak":48,'
    b'"negPeakEst":48,"posPeakEst":48,"negPeak":48,"posPeak":48}\r\n'
)
LCD = (
    b'L:["Mode   Beer Const.  ","Beer   19.0  20.0 \xb0C","Fridge  4.5   4.0 \xb0C",'
    b'"Idling for 1m00     "]\r\n'
)
NO_DEVICES = b"d:[]\r\n"
CONTROLLER_ANSWERS = {"v": VARIABLES, "l": LCD, "d": NO_DEVICES}

Answer = bytes | Callable[[str], bytes | None]
T = TypeVar("T")


def temperature_line(
    beer_temp: float | None,
    *,
    beer_set: float | None = 20.0,
    fridge_temp: float | None = 4.5,
    fridge_set: float | None = 4.0,
    room_temp: float | None = 21.0,
    state: int = 1,
) -> bytes:
    """A full `T:` line as ESP firmware prints it, in °C."""
    body = {
        "BeerTemp": beer_temp,
        "BeerSet": beer_set,
        "BeerAnn": None,
        "FridgeTemp": fridge_temp,
        "FridgeSet": fridge_set,
        "FridgeAnn": None,
        "RoomTemp": "" if room_temp is None else room_temp,
        "State": state,
    }
    return b"T:" + json.dumps(body, separators=(",", ":")).encode() + b"\r\n"


class FakeFirmware:
    """A one-client TCP peer. `answers` maps a command letter to the bytes sent back for it, or
    to a function of the command line giving them (None: no answer); a letter that is not there
    gets no answer (`n` too, when `version` is None). While `silent` it reads and discards
    everything and answers nothing, as a hung firmware whose TCP stack still works.
    """

    def __init__(
        self, *, version: bytes | None = ESP_VERSION, answers: dict[str, Answer] | None = None
    ) -> None:
        self.answers: dict[str, Answer] = {"c": CONSTANTS, "s": SETTINGS, **(answers or {})}
        if version is not None:
            self.answers["n"] = version
        self.silent = False
        self.connections = 0  # clients accepted so far
        self.received = bytearray()
        self.commands: list[tuple[float, str]] = []  # (loop time, command line) as received
        self.client_connected = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._server: asyncio.Server | None = None
        self._pending = bytearray()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"tcp://127.0.0.1:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer = writer
        self.connections += 1
        self.client_connected.set()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(4096):
                self.received += data
                self._pending += data
                while b"\n" in self._pending:
                    raw, _, rest = bytes(self._pending).partition(b"\n")
                    self._pending = bytearray(rest)
                    command = raw.decode("latin-1")
                    self.commands.append((loop.time(), command))
                    if self.silent:
                        continue
                    answer = self.answers.get(command[:1])
                    if callable(answer):
                        answer = answer(command)
                    if answer is not None and not writer.is_closing():
                        writer.write(answer)
                        await writer.drain()

    async def send(self, data: bytes) -> None:
        """Push bytes at the connected controller."""
        await self.client_connected.wait()
        assert self._writer is not None
        self._writer.write(data)
        await self._writer.drain()

    def drop_client(self) -> None:
        """Hang up on the controller, as a firmware that restarts does."""
        if self._writer is not None:
            self._writer.close()

    def sent_commands(self, letter: str) -> list[str]:
        return [command for _, command in self.commands if command.startswith(letter)]

    async def close(self) -> None:
        self.drop_client()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)


class FakeFirmwareThread:
    """A FakeFirmware served from a thread with its own event loop, for tests that drive real
    processes and wait on them synchronously. Use as a context manager; `url` is its address.

    `run(coroutine)` runs a coroutine on the peer's loop (a flood, a scripted conversation) and
    returns its result; `call(function)` runs a plain function there, so that the peer's state
    (`silent`, `answers`) is only ever touched from its own thread.
    """

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.peer: FakeFirmware | None = None
        self.url = ""

    def __enter__(self) -> FakeFirmwareThread:
        self._thread.start()

        async def start() -> FakeFirmware:
            return FakeFirmware(**self.options)

        self.peer = self.run(start())
        self.url = self.run(self.peer.start())
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self.peer is not None:
                self.run(self.peer.close(), timeout=5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
            self.loop.close()

    def run(self, coroutine: Awaitable[T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self, coroutine: Awaitable[T]):
        """Run a coroutine on the peer's loop in the background: its concurrent future."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def call(self, function: Callable[[], T]) -> T:
        async def on_the_loop() -> T:
            return function()

        return self.run(on_the_loop(), timeout=5)
