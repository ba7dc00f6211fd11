"""The controller's side of interfaces.md §2: the web app's requests on `run/dev-<name>.sock`,
and over TCP when the controller runs on another computer than the web app.

One JSON object a line in, one answer a line out, several requests per connection. This module
owns the wire: framing, the 64 KB line limit, reading and checking a request's arguments, the
2-second answer deadline, and turning every failure into `{"ok": false, "error": "..."}`. What
a command means is the controller's business (the `Commands` it is given).

Over TCP the controller opens each connection with a challenge, `{"nonce": "<64 hex>"}`, and the
client's first line must be `{"auth": "<proof>"}`: the HMAC-SHA256 of the nonce keyed with the
device's secret (the SHA-256 of its token in hex, which the web app keeps and the controller
works out from its token). Neither the token nor the secret travels, and a recorded connection
cannot be replayed. Anything else is answered with an error and the connection closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import math
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from fermentrack.controller.client import proof

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024
ANSWER_DEADLINE_S = 2.0  # interfaces.md §2: answer within 2 s or say why not
_DEADLINE_MARGIN_S = 0.15  # time to write the answer once the command gave up
SOCKET_MODE = 0o660
AUTH_TIMEOUT_S = 5.0  # a TCP client that says nothing is dropped after this
MAX_AUTH_BYTES = 1024
MODES = ("off", "fridge_constant", "beer_constant", "profile")
CONSTANT_MODES = ("fridge_constant", "beer_constant")


class CommandFailed(Exception):
    """A command could not be carried out; the message says why, for the brewer."""


class SocketInUse(OSError):
    """Another process answers on the socket: a second controller for the same device."""


class Commands(Protocol):
    """What the controller does for each command of §2 (answers without the "ok" key)."""

    async def status(self) -> dict: ...
    async def set_mode(self, mode: str, temperature: float | None) -> dict: ...
    async def set_constants(self, constants: dict[str, Any]) -> dict: ...
    async def refresh(self) -> dict: ...
    async def list_devices(self) -> dict: ...
    async def scan_hardware(self) -> dict: ...
    async def apply_device(self, definition: dict[str, Any]) -> dict: ...
    async def reset_eeprom(self) -> dict: ...
    async def reload_config(self) -> dict: ...


# -- reading a request -----------------------------------------------------------------------


def _number(request: dict, key: str) -> float:
    value = request.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CommandFailed(f"{key}: expected a number, got {json.dumps(value)}")
    return float(value)


def _object(request: dict, key: str) -> dict[str, Any]:
    value = request.get(key)
    if not isinstance(value, dict):
        raise CommandFailed(f"{key}: expected a JSON object, got {_clip(json.dumps(value))}")
    if not value:
        raise CommandFailed(f"{key}: expected at least one key, got an empty object")
    return value


def _set_mode_args(request: dict) -> tuple[str, float | None]:
    mode = request.get("mode")
    if mode not in MODES:
        raise CommandFailed(f"mode: expected one of {', '.join(MODES)}, got {json.dumps(mode)}")
    if mode in CONSTANT_MODES:
        if "temperature" not in request:
            raise CommandFailed(f"mode {mode} needs a temperature")
        return mode, _number(request, "temperature")
    return mode, None


_Call = Callable[[Commands, dict], Awaitable[dict]]
_CALLS: dict[str, _Call] = {
    "status": lambda target, request: target.status(),
    "set_mode": lambda target, request: target.set_mode(*_set_mode_args(request)),
    "set_constants": lambda target, request: target.set_constants(_object(request, "constants")),
    "refresh": lambda target, request: target.refresh(),
    "list_devices": lambda target, request: target.list_devices(),
    "scan_hardware": lambda target, request: target.scan_hardware(),
    "apply_device": lambda target, request: target.apply_device(_object(request, "definition")),
    "reset_eeprom": lambda target, request: target.reset_eeprom(),
    "reload_config": lambda target, request: target.reload_config(),
}
COMMANDS = tuple(_CALLS)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _parse_request(line: bytes) -> tuple[str, dict]:
    try:
        request = json.loads(line)
    except (ValueError, RecursionError):
        shown = line[:60].decode("utf-8", errors="replace")
        raise CommandFailed(
            f'a request is one JSON object such as {{"cmd": "status"}}, got {shown!r}'
        ) from None
    if not isinstance(request, dict):
        raise CommandFailed(f"a request is a JSON object, got {_clip(json.dumps(request))}")
    cmd = request.get("cmd")
    if cmd not in _CALLS:
        if cmd is None:
            raise CommandFailed(f'the request has no "cmd": expected one of {", ".join(COMMANDS)}')
        raise CommandFailed(
            f"unknown cmd {_clip(json.dumps(cmd))}: expected one of {', '.join(COMMANDS)}"
        )
    return cmd, request


# -- the server ------------------------------------------------------------------------------


class SocketServer:
    """Serves `commands` on the unix socket at `path` until `close()`."""

    def __init__(
        self,
        path: Path,
        commands: Commands,
        *,
        deadline_s: float = ANSWER_DEADLINE_S,
        tcp: tuple[str, int] | None = None,
        secret: str = "",
    ) -> None:
        if tcp is not None and not secret:
            raise ValueError("serving the web app over TCP needs the device's secret")
        self.path = Path(path)
        self.commands = commands
        self.deadline_s = deadline_s
        self.tcp = tcp
        self._secret = secret
        self._servers: list[asyncio.Server] = []
        self._connections: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Listen; a socket file left by a controller that is gone is replaced.

        Raises SocketInUse when a live process answers there, OSError when the TCP address
        cannot be listened on.
        """
        self._remove_stale_socket()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._servers.append(await asyncio.start_unix_server(self._serve, path=str(self.path)))
        os.chmod(self.path, SOCKET_MODE)
        log.info("answering the web app on %s", self.path)
        if self.tcp is not None:
            try:
                server = await asyncio.start_server(self._serve_tcp, *self.tcp)
            except OSError as error:
                await self.close()
                host, port = self.tcp
                reason = os.strerror(error.errno) if error.errno else str(error)
                raise OSError(f"cannot listen on {host}:{port}: {reason}") from None
            self._servers.append(server)
            host, port = server.sockets[0].getsockname()[:2]
            self.tcp = (host, port)
            log.info("answering the web app over TCP on %s:%d", host, port)

    def _remove_stale_socket(self) -> None:
        if not (self.path.exists() or self.path.is_symlink()):
            return
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(0.5)
        try:
            probe.connect(str(self.path))
        except OSError:
            self.path.unlink(missing_ok=True)  # nobody listens: left over from a crash
            return
        finally:
            probe.close()
        raise SocketInUse(f"another controller already answers on {self.path}")

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        self._servers.clear()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.path.unlink(missing_ok=True)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        await self._serve(reader, writer, authenticate=True)

    async def _serve(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        authenticate: bool = False,
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            if authenticate and not await self._authenticated(reader, writer):
                return
            await self._serve_lines(reader, writer)
        except (ConnectionError, BrokenPipeError):
            pass  # the web app hung up; nothing to answer
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _authenticated(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Challenge a TCP client; answer and refuse anything but the proof of the secret."""
        peer = writer.get_extra_info("peername")
        nonce = secrets.token_hex(32)
        await self._write(writer, {"nonce": nonce})
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\n"), AUTH_TIMEOUT_S)
        except TimeoutError:
            problem = f"no answer to the challenge within {AUTH_TIMEOUT_S:g} s"
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            problem = "the connection ended, or its first line was too long"
        else:
            offered = _auth_proof(line[:MAX_AUTH_BYTES])
            expected = proof(self._secret, nonce).encode()
            if offered is None:
                problem = (
                    'the first line must be {"auth": "<proof>"}, the answer to the challenge '
                    "(interfaces.md §2)"
                )
            elif hmac.compare_digest(offered, expected):
                return True
            else:
                problem = (
                    "wrong proof: this controller runs with another token than the web app "
                    "knows (or is another version of Fermentrack); start it with the token the "
                    "web app showed last"
                )
        log.warning("refused a TCP client %s: %s", peer, problem)
        await self._write(writer, {"ok": False, "error": problem})
        return False

    async def _serve_lines(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        buffer = bytearray()
        skipping = False  # the rest of an over-long line, already answered
        while True:
            chunk = await reader.read(MAX_REQUEST_BYTES)
            if not chunk:
                return
            buffer += chunk
            while True:
                end = buffer.find(b"\n")
                if end < 0:
                    if len(buffer) > MAX_REQUEST_BYTES:
                        if not skipping:
                            await self._write(writer, _too_long())
                        skipping = True
                        buffer.clear()
                    break
                line = bytes(buffer[:end]).strip()
                del buffer[: end + 1]
                if skipping:
                    skipping = False
                    continue
                if len(line) > MAX_REQUEST_BYTES:
                    await self._write(writer, _too_long())
                elif line:
                    await self._write(writer, await self.answer(line))

    async def answer(self, line: bytes) -> dict:
        """The answer to one request line; never raises."""
        try:
            cmd, request = _parse_request(line)
            call = _CALLS[cmd](self.commands, request)
            budget = self.deadline_s - _DEADLINE_MARGIN_S
            try:
                result = await asyncio.wait_for(call, budget)
            except TimeoutError:
                raise CommandFailed(
                    f"{cmd} did not finish within {self.deadline_s:g} s (the firmware is slow "
                    "or not answering)"
                ) from None
        except CommandFailed as failure:
            return {"ok": False, "error": str(failure)}
        except Exception as error:  # a bug must cost one answer, not the server
            log.exception("command failed: %s", _clip(line.decode("utf-8", errors="replace")))
            return {"ok": False, "error": f"the controller failed: {type(error).__name__}: {error}"}
        return {"ok": True, **result}

    async def _write(self, writer: asyncio.StreamWriter, answer: dict) -> None:
        try:
            data = json.dumps(answer, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as error:
            log.error("cannot encode an answer as JSON (%s): %r", error, answer)
            data = json.dumps({"ok": False, "error": f"the answer could not be encoded: {error}"})
        writer.write(data.encode() + b"\n")
        await writer.drain()


def _auth_proof(line: bytes) -> bytes | None:
    try:
        first = json.loads(line)
    except (ValueError, RecursionError):
        return None
    offered = first.get("auth") if isinstance(first, dict) else None
    return offered.encode() if isinstance(offered, str) else None


def _too_long() -> dict:
    return {"ok": False, "error": f"the request is longer than {MAX_REQUEST_BYTES} bytes"}
