"""What a command's payload means: a mode, or a temperature. The rules on what may be changed,
and how, are the device pages' (web/mqtt/commands.py applies them)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from fermentrack.mqtt.state import MODE_LABELS

MAX_PAYLOAD_CHARS = 64


class CommandRefused(ValueError):
    """A command that is not carried out; the message says why in words."""


def payload_text(payload: bytes) -> str:
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CommandRefused("the payload is not UTF-8 text") from None
    if not text:
        raise CommandRefused("the payload is empty")
    if len(text) > MAX_PAYLOAD_CHARS:
        raise CommandRefused(
            f"the payload is {len(text)} characters long: at most {MAX_PAYLOAD_CHARS} expected"
        )
    return text


def parse_mode(payload: bytes) -> str:
    """The mode (a key of MODE_LABELS) a payload names, by its label or its key, in any case."""
    text = payload_text(payload)
    if len(text) > 1 and text[0] == text[-1] == '"':  # a JSON string
        text = text[1:-1].strip()
    wanted = text.casefold()
    for mode, label in MODE_LABELS.items():
        if wanted in (mode, label.casefold()):
            return mode
    choices = ", ".join(MODE_LABELS.values())
    keys = ", ".join(MODE_LABELS)
    raise CommandRefused(f"mode {text!r} is not one of {choices} (or {keys})")


def parse_temperature(payload: bytes, what: str) -> str:
    """The temperature a payload holds, as the decimal text the device page's form takes."""
    text = payload_text(payload)
    try:
        number = json.loads(text)
    except ValueError:
        number = text
    if isinstance(number, bool) or not isinstance(number, (int, float, str)):
        raise CommandRefused(f"{what} {text!r} is not a temperature: expected a number, e.g. 19.5")
    try:
        value = Decimal(str(number))
    except InvalidOperation:
        raise CommandRefused(
            f"{what} {text!r} is not a temperature: expected a number, e.g. 19.5"
        ) from None
    if not value.is_finite():
        raise CommandRefused(f"{what} {text!r} is not a temperature: expected a number, e.g. 19.5")
    return str(value)
