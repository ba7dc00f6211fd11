"""The one way the web app reaches a device's controller (interfaces.md §2).

A request is one JSON line on the controller's unix socket `run/dev-<name>.sock`; the answer is
one JSON line, `{"ok": true, ...}` or `{"ok": false, "error": "..."}`. Every call opens its own
connection and gives up after `timeout` seconds in all, so a hung controller costs a page at most
that long. Imports only the standard library and fermentrack.config: no Django here.

A controller on another computer is reached over TCP instead: it opens with a challenge
`{"nonce": "..."}`, answered with `{"auth": "<proof>"}` (`proof`: the nonce signed with the
device's secret) before the request. Which controllers those are, the web app says once at start
through `use_remote_lookup` (a function of the device's name answering a `Remote`, or None for a
controller on this computer).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from fermentrack import config

DEFAULT_TIMEOUT_S = 3.0  # the controller answers within 2 s (interfaces.md §2)
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # a status with every device definition stays far below this
MODES = ("off", "fridge_constant", "beer_constant", "profile")
CONSTANT_MODES = ("fridge_constant", "beer_constant")


class ControllerProblem(Exception):
    """The controller could not do what was asked; the message says why in plain words."""

    def __init__(self, device: str, reason: str) -> None:
        super().__init__(f"the controller of {device!r} {reason}")
        self.device = device
        self.reason = reason


class ControllerUnavailable(ControllerProblem):
    """No usable answer: no socket, a stale socket, a hung controller, or a broken answer.

    `sent` tells whether the request reached the controller: when it did (a timeout, a broken
    answer), the command may have been carried out even so.
    """

    def __init__(self, device: str, reason: str, *, sent: bool = False) -> None:
        super().__init__(device, reason)
        self.sent = sent


class ControllerError(ControllerProblem):
    """The controller answered `ok: false`; `error` is what it said."""

    def __init__(self, device: str, error: str) -> None:
        super().__init__(device, f"refused: {error}")
        self.error = error


class Remote(NamedTuple):
    """Where a controller on another computer answers, and the secret it asks for."""

    host: str
    port: int
    secret: str

    @property
    def where(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


RemoteLookup = Callable[[str], "Remote | None"]
_remote_lookup: RemoteLookup | None = None


def use_remote_lookup(lookup: RemoteLookup | None) -> RemoteLookup | None:
    """Install how a device name is looked up for a controller on another computer; answers
    the lookup it replaces."""
    global _remote_lookup
    previous, _remote_lookup = _remote_lookup, lookup
    return previous


def proof(secret: str, nonce: str) -> str:
    """The answer to a controller's challenge: HMAC-SHA256 of the nonce keyed with the device's
    secret, in hex. Only who holds the secret can give it, and it is good for one nonce."""
    return hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()


class _BrokenAnswer(Exception):
    """The controller hung up or sent no usable line; the message says which."""


def send(name: str, cmd: str, timeout: float = DEFAULT_TIMEOUT_S, **args: Any) -> dict:
    """Send one command and return the answer without its "ok" key.

    Raises ControllerUnavailable when the controller cannot be reached or gives no usable
    answer within `timeout` seconds, ControllerError when it answers ok:false, and ValueError
    (config.ConfigError) for a name that cannot be a device name.
    """
    request = json.dumps({"cmd": cmd, **args}, separators=(",", ":")).encode() + b"\n"
    deadline = time.monotonic() + timeout
    remote = _look_up(name)
    path = config.controller_socket_path(name) if remote is None else None
    if remote is None and not path.exists():
        raise ControllerUnavailable(name, "is not running")
    sent = False
    try:
        connection = _connect(remote, path, timeout)
        with connection:
            if remote is not None:
                nonce = _challenge(name, _read_line(connection, deadline))
                request = (
                    json.dumps({"auth": proof(remote.secret, nonce)}).encode() + b"\n" + request
                )
            connection.sendall(request)
            sent = True
            line = _read_line(connection, deadline)
    except _BrokenAnswer as broken:  # before the request went (the challenge) or after
        raise ControllerUnavailable(name, str(broken), sent=sent) from None
    except (FileNotFoundError, ConnectionRefusedError):
        if remote is not None:
            raise ControllerUnavailable(
                name,
                f"is not answering on {remote.where}: is it running there, with --listen on "
                f"port {remote.port}?",
            ) from None
        # The socket file is left over from a controller that is gone.
        raise ControllerUnavailable(name, "is not running") from None
    except PermissionError:
        raise ControllerUnavailable(
            name, f"cannot be reached: no permission to open {path or remote.where}"
        ) from None
    except TimeoutError:
        raise ControllerUnavailable(
            name, f"did not answer within {timeout:g} s (it may be stuck)", sent=sent
        ) from None
    except OSError as error:
        where = f" on {remote.where}" if remote is not None else ""
        raise ControllerUnavailable(
            name, f"cannot be reached{where}: {error.strerror or error}", sent=sent
        ) from None
    return _parse_answer(name, cmd, line)


def _look_up(name: str) -> Remote | None:
    if _remote_lookup is None:
        return None
    try:
        return _remote_lookup(name)
    except Exception as error:  # a database that is down must read as an unreachable controller
        raise ControllerUnavailable(
            name, f"could not be looked up: {type(error).__name__}: {error}"
        ) from None


def _challenge(name: str, line: bytes) -> str:
    """The nonce of a controller's first line over TCP; a refusal or a stranger is an error."""
    try:
        first = json.loads(line)
    except ValueError:
        first = None
    nonce = first.get("nonce") if isinstance(first, dict) else None
    if isinstance(nonce, str) and 16 <= len(nonce) <= 256:
        return nonce
    if isinstance(first, dict) and first.get("ok") is False:
        raise ControllerError(name, str(first.get("error") or "no reason given"))
    raise ControllerUnavailable(
        name, f"did not open with a challenge (is that a Fermentrack controller?): {_clip(line)}"
    )


def _connect(remote: Remote | None, path: Path | None, timeout: float) -> socket.socket:
    if remote is not None:
        return socket.create_connection((remote.host, remote.port), timeout=timeout)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.settimeout(timeout)
        connection.connect(str(path))
    except BaseException:
        connection.close()
        raise
    return connection


def _read_line(connection: socket.socket, deadline: float) -> bytes:
    received = bytearray()
    while b"\n" not in received:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        connection.settimeout(remaining)
        chunk = connection.recv(65536)
        if not chunk:
            break
        received += chunk
        if len(received) > MAX_ANSWER_BYTES:
            break
    line, newline, _ = bytes(received).partition(b"\n")
    if not newline:
        if len(received) > MAX_ANSWER_BYTES:
            raise _BrokenAnswer(f"sent an answer longer than {MAX_ANSWER_BYTES} bytes")
        raise _BrokenAnswer("closed the connection without answering")
    return line


def _parse_answer(name: str, cmd: str, line: bytes) -> dict:
    try:
        answer = json.loads(line)
    except ValueError:
        raise ControllerUnavailable(
            name, f"gave an answer to {cmd!r} that is not JSON: {_clip(line)}", sent=True
        ) from None
    if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
        raise ControllerUnavailable(
            name,
            f'gave an answer to {cmd!r} without "ok": true or false: {_clip(line)}',
            sent=True,
        )
    if not answer.pop("ok"):
        error = answer.get("error")
        raise ControllerError(name, str(error) if error else "no reason given")
    return answer


def _clip(line: bytes, limit: int = 80) -> str:
    text = line.decode("utf-8", errors="replace")
    return repr(text if len(text) <= limit else text[:limit] + "...")


def status(name: str, timeout: float = DEFAULT_TIMEOUT_S) -> dict:
    """The last status, with `settings`, `constants` and `variables` as last read."""
    return send(name, "status", timeout=timeout)


def set_mode(name: str, mode: str, temperature: float | None = None) -> dict:
    """Change the control mode; the two constant modes need a temperature (device unit)."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if mode in CONSTANT_MODES:
        if temperature is None:
            raise ValueError(f"mode {mode!r} needs a temperature")
        return send(name, "set_mode", mode=mode, temperature=float(temperature))
    return send(name, "set_mode", mode=mode)


def set_constants(name: str, constants: dict) -> dict:
    """Write control constants (keys of brewpi-protocol §4.8); answers the new constants."""
    return send(name, "set_constants", constants=constants)


def refresh(name: str) -> dict:
    """Re-read settings, constants, variables, LCD and devices from the firmware."""
    return send(name, "refresh")


def list_devices(name: str) -> dict:
    """The installed device definitions (`d`)."""
    return send(name, "list_devices")


def scan_hardware(name: str) -> dict:
    """The available hardware (`h`), with values."""
    return send(name, "scan_hardware")


def apply_device(name: str, definition: dict) -> dict:
    """Install or change one device definition (`U`); answers the resulting definition."""
    return send(name, "apply_device", definition=definition)


def reset_eeprom(name: str) -> dict:
    """Firmware defaults (`E`): sensors, actuators and constants must be set up again."""
    return send(name, "reset_eeprom")


def reload_config(name: str) -> dict:
    """Make the controller fetch its configuration from the web app now."""
    return send(name, "reload_config")
