"""Commands from the controller to the firmware (brewpi-protocol §2, §3): writing and reading them.

`encode_command` writes what our controller sends. `CommandReader` is the firmware's side: it
turns a byte stream, in whatever chunks it arrives, into commands the way the chosen dialect's
firmware does, quirks included (AVR's string-only tokenizer, ESP's strict string values).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass

from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.temperature import Dialect


@dataclass
class Command:
    """One command letter and, for JSON commands, its arguments.

    AVR arguments are all text (its tokenizer knows no types); ESP arguments are JSON values.
    """

    letter: str
    args: dict[str, object] | None = None


@dataclass(frozen=True)
class UnknownCommand:
    """A byte that is no command. AVR answers warning 1 with the byte; ESP prints a raw line."""

    byte: int


@dataclass(frozen=True)
class MalformedJson:
    """A JSON command whose object could not be read.

    `byte` is the offending byte, or -1 when input stopped. AVR logs error 10 and still runs the
    command (a Command event follows); ESP prints `Error deserializing JSON data <reason>` and
    does not run it.
    """

    letter: str
    reason: str
    byte: int


Event = Command | UnknownCommand | MalformedJson

KNOWN_COMMANDS: dict[Dialect, frozenset[str]] = {
    Dialect.AVR: frozenset("ntscvljSCEdhURAayYeZ"),
    Dialect.ESP: frozenset("ntscvljSCEdhURAayYbxXWwTop"),
}
JSON_COMMANDS: dict[Dialect, frozenset[str]] = {
    Dialect.AVR: frozenset("jdhUy"),
    Dialect.ESP: frozenset("jdhUEXoy"),
}

# -- writing ---------------------------------------------------------------------------------


def encode_command(letter: str, args: Mapping[str, object] | None = None) -> str:
    """A command as our controller sends it, e.g. `j{"mode":"b","beerSet":20.0}`.

    Keys and string values are quoted, which both dialects accept (§13). The line end is the
    I/O layer's job.
    """
    if not (len(letter) == 1 and letter.isascii() and letter.isalpha()):
        raise ProtocolError(f"a command is one ASCII letter, got {letter!r}")
    if args is None:
        return letter
    pairs = []
    for key, value in args.items():
        if not isinstance(key, str):
            raise ProtocolError(f"command argument names must be strings, got {key!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ProtocolError(f"{key}: expected a finite number, got {value!r}")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ProtocolError(
                f"{key}: expected a string, number, bool or None (AVR reads no nesting), "
                f"got {type(value).__name__}"
            )
        pairs.append(f"{json.dumps(key)}:{json.dumps(value)}")
    return letter + "{" + ",".join(pairs) + "}"


# -- reading: AVR ----------------------------------------------------------------------------

_SPACE, _CR, _LF, _QUOTE = 0x20, 0x0D, 0x0A, 0x22
_OPEN, _CLOSE, _COLON, _COMMA = ord("{"), ord("}"), ord(":"), ord(",")
_MAX_AVR_TOKEN = 29  # the firmware's token buffer holds 29 characters and a terminator
_MAX_PAIRS = 64  # AVR handles pairs one by one; we collect them, so cap how many


class _AvrReader:
    """PiLink's reader: every byte may be a command; JSON is a flat list of text tokens."""

    def __init__(self) -> None:
        self.letter: str | None = None  # a JSON command waiting for its object
        self.opened = False
        self.args: dict[str, object] = {}
        self.key: str | None = None
        self.token = bytearray()

    @property
    def busy(self) -> bool:
        return self.letter is not None

    def step(self, byte: int, events: list[Event]) -> None:
        if self.letter is None:
            self._command(byte, events)
        elif not self.opened:
            if byte == _OPEN:
                self.opened = True
            else:
                # The byte is consumed, and the command runs with its defaults.
                events.append(MalformedJson(self.letter, "expected {", byte))
                self._finish(events)
        elif byte in (_SPACE, _QUOTE):
            pass  # dropped, so keys and values may be quoted or not
        elif byte in (_COLON, _COMMA):
            self._end_token()
        elif byte == _CLOSE:
            self._end_token()
            self._finish(events)
        elif len(self.token) < _MAX_AVR_TOKEN:
            self.token.append(byte)

    def timeout(self, events: list[Event]) -> None:
        if self.letter is None:
            return
        if not self.opened:
            events.append(MalformedJson(self.letter, "expected {", -1))
        else:
            self._end_token()  # a second without input ends the object, like `}`
        self._finish(events)

    def _command(self, byte: int, events: list[Event]) -> None:
        if byte in (_SPACE, _CR, _LF):
            return
        letter = chr(byte)
        if letter not in KNOWN_COMMANDS[Dialect.AVR]:
            events.append(UnknownCommand(byte))
        elif letter in JSON_COMMANDS[Dialect.AVR]:
            self.letter, self.opened, self.args, self.key = letter, False, {}, None
        else:
            events.append(Command(letter))

    def _end_token(self) -> None:
        # Tokens alternate key, value; either separator ends a token.
        text = self.token.decode("latin-1")
        self.token.clear()
        if self.key is None:
            self.key = text
            return
        if len(self.args) < _MAX_PAIRS or self.key in self.args:
            self.args[self.key] = text
        self.key = None

    def _finish(self, events: list[Event]) -> None:
        events.append(Command(self.letter, self.args))  # type: ignore[arg-type]
        self.letter, self.opened, self.args, self.key = None, False, {}, None
        self.token.clear()


# -- reading: ESP ----------------------------------------------------------------------------

_MAX_DEPTH = 10  # ArduinoJson's default nesting limit
_MAX_OBJECT_BYTES = 1024  # the firmware parses into a fixed-size document
_WHITESPACE = frozenset(b" \t\r\n")
_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")
_NUMBER_BYTES = frozenset(b"0123456789+-.eE")
_NUMBER = re.compile(rb"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_ESCAPES = {ord("b"): b"\b", ord("f"): b"\f", ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t"}
_LITERALS = {ord("t"): (b"true", True), ord("f"): (b"false", False), ord("n"): (b"null", None)}

# A parser step receives bytes through `yield` and returns its value (and, where it had to read
# one byte too far, that byte), so the JSON grammar reads as plain recursive descent.
_Parser = Generator[None, int, object]


class _JsonFailure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _read() -> Generator[None, int, int]:
    return (yield)


def _skip_whitespace(byte: int) -> Generator[None, int, int]:
    while byte in _WHITESPACE:
        byte = yield from _read()
    return byte


def _parse_string(quote: int) -> Generator[None, int, str]:
    text = bytearray()
    while True:
        byte = yield from _read()
        if byte == quote:
            return text.decode("utf-8", errors="replace")
        if byte != ord("\\"):
            text.append(byte)
            continue
        byte = yield from _read()
        if byte == ord("u"):
            digits = bytearray()
            for _ in range(4):
                digits.append((yield from _read()))
            if not re.fullmatch(rb"[0-9a-fA-F]{4}", digits):
                raise _JsonFailure("InvalidInput")
            code = int(digits, 16)
            char = "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)  # no surrogate pairs
            text += char.encode("utf-8")
        else:
            text += _ESCAPES.get(byte, bytes([byte]))  # \" \\ \/ stand for themselves


def _parse_name(byte: int) -> Generator[None, int, tuple[str, int | None]]:
    """A member name, quoted or (as ArduinoJson allows) not; with the byte after it if read."""
    if byte in (ord('"'), ord("'")):
        return (yield from _parse_string(byte)), None
    if byte not in _NAME_BYTES:
        raise _JsonFailure("InvalidInput")
    name = bytearray()
    while byte in _NAME_BYTES:
        name.append(byte)
        byte = yield from _read()
    return name.decode("ascii"), byte


def _parse_number(byte: int) -> Generator[None, int, tuple[object, int]]:
    text = bytearray()
    while byte in _NUMBER_BYTES:
        text.append(byte)
        byte = yield from _read()
    if not _NUMBER.fullmatch(text):
        raise _JsonFailure("InvalidInput")
    if any(c in text for c in b".eE"):
        return float(text), byte
    return int(text), byte


def _parse_value(byte: int, depth: int) -> Generator[None, int, tuple[object, int | None]]:
    """A value starting at `byte`; string values must be quoted (unlike AVR)."""
    if byte == ord("{"):
        return (yield from _parse_object(depth + 1)), None
    if byte == ord("["):
        return (yield from _parse_array(depth + 1)), None
    if byte in (ord('"'), ord("'")):
        return (yield from _parse_string(byte)), None
    if byte == ord("-") or ord("0") <= byte <= ord("9"):
        return (yield from _parse_number(byte))
    if byte in _LITERALS:
        word, value = _LITERALS[byte]
        for expected in word[1:]:
            if (yield from _read()) != expected:
                raise _JsonFailure("InvalidInput")
        return value, None
    raise _JsonFailure("InvalidInput")


def _next(pending: int | None) -> Generator[None, int, int]:
    """The byte after a value: the one it already read, or a new one; whitespace skipped."""
    byte = pending if pending is not None else (yield from _read())
    return (yield from _skip_whitespace(byte))


def _parse_object(depth: int) -> Generator[None, int, dict[str, object]]:
    if depth > _MAX_DEPTH:
        raise _JsonFailure("TooDeep")
    members: dict[str, object] = {}
    byte = yield from _next(None)
    if byte == ord("}"):
        return members
    while True:
        name, pending = yield from _parse_name(byte)
        if (yield from _next(pending)) != ord(":"):
            raise _JsonFailure("InvalidInput")
        value, pending = yield from _parse_value((yield from _next(None)), depth)
        members[name] = value
        byte = yield from _next(pending)
        if byte == ord("}"):
            return members
        if byte != ord(","):
            raise _JsonFailure("InvalidInput")
        byte = yield from _next(None)


def _parse_array(depth: int) -> Generator[None, int, list[object]]:
    if depth > _MAX_DEPTH:
        raise _JsonFailure("TooDeep")
    items: list[object] = []
    byte = yield from _next(None)
    if byte == ord("]"):
        return items
    while True:
        value, pending = yield from _parse_value(byte, depth)
        items.append(value)
        byte = yield from _next(pending)
        if byte == ord("]"):
            return items
        if byte != ord(","):
            raise _JsonFailure("InvalidInput")
        byte = yield from _next(None)


def _parse_command_object() -> Generator[None, int, dict[str, object]]:
    # The firmware reads any JSON value; only an object makes sense, so we take only that.
    byte = yield from _next(None)
    if byte != ord("{"):
        raise _JsonFailure("InvalidInput")
    return (yield from _parse_object(1))


class _EspReader:
    """CommandProcessor's reader: letters A..z are commands, ArduinoJson reads the object."""

    def __init__(self) -> None:
        self.letter: str | None = None
        self.parser: Generator[None, int, dict[str, object]] | None = None
        self.size = 0
        self.started = False  # a non-whitespace byte of the object has arrived

    @property
    def busy(self) -> bool:
        return self.letter is not None

    def step(self, byte: int, events: list[Event]) -> None:
        if self.letter is None or self.parser is None:
            self._command(byte, events)
            return
        self.size += 1
        self.started = self.started or byte not in _WHITESPACE
        if self.size > _MAX_OBJECT_BYTES:
            self._fail("NoMemory", byte, events)
            return
        try:
            self.parser.send(byte)
        except StopIteration as done:
            events.append(Command(self.letter, done.value))
            self._reset()
        except _JsonFailure as failure:
            self._fail(failure.reason, byte, events)

    def timeout(self, events: list[Event]) -> None:
        if self.letter is not None:
            self._fail("IncompleteInput" if self.started else "EmptyInput", -1, events)

    def _command(self, byte: int, events: list[Event]) -> None:
        if byte < ord("A") or byte > ord("z"):
            return  # digits, braces, quotes, spaces and line ends are all ignored
        letter = chr(byte)
        if letter not in KNOWN_COMMANDS[Dialect.ESP]:
            events.append(UnknownCommand(byte))
        elif letter in JSON_COMMANDS[Dialect.ESP]:
            self.letter, self.size, self.started = letter, 0, False
            self.parser = _parse_command_object()
            next(self.parser)  # run to the first read
        else:
            events.append(Command(letter))

    def _fail(self, reason: str, byte: int, events: list[Event]) -> None:
        # The bytes read so far are gone; whatever follows is read as commands again.
        events.append(MalformedJson(self.letter, reason, byte))  # type: ignore[arg-type]
        self._reset()

    def _reset(self) -> None:
        if self.parser is not None:
            self.parser.close()
        self.letter, self.parser, self.size, self.started = None, None, 0, False


class CommandReader:
    """Bytes in, command events out, as the chosen firmware dialect reads them; no I/O.

    Keeps state between `feed` calls, so an object may arrive in pieces. When a JSON object is
    open (`awaiting_json`) and no byte came for a second, the I/O layer calls `timeout`.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._reader = _AvrReader() if dialect is Dialect.AVR else _EspReader()

    @property
    def awaiting_json(self) -> bool:
        return self._reader.busy

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for byte in bytes(data):
            self._reader.step(byte, events)
        return events

    def timeout(self) -> list[Event]:
        events: list[Event] = []
        self._reader.timeout(events)
        return events


__all__ = [
    "JSON_COMMANDS",
    "KNOWN_COMMANDS",
    "Command",
    "CommandReader",
    "Event",
    "MalformedJson",
    "UnknownCommand",
    "encode_command",
]
