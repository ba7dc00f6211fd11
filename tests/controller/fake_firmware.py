"""A fake firmware PEER on a real TCP socket, for what our firmware never does.

It answers the handshake (or stays silent, or claims a version we refuse), answers a few
commands with canned lines, records every byte it receives, and lets a test push any bytes at
the controller: floods, over-long lines, invalid bytes, JSON of the wrong shape. It runs in the
test's own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib

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


class FakeFirmware:
    """A one-client TCP peer. `answers` maps a command letter to the bytes sent back for it;
    a letter that is not there gets no answer (`n` too, when `version` is None).
    """

    def __init__(
        self, *, version: bytes | None = ESP_VERSION, answers: dict[str, bytes] | None = None
    ) -> None:
        self.answers = {"c": CONSTANTS, "s": SETTINGS, **(answers or {})}
        if version is not None:
            self.answers["n"] = version
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
                    answer = self.answers.get(command[:1])
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
