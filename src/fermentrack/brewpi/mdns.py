"""How BrewPi firmware announces itself on the network by mDNS (gravity-and-push §6).

Pure constants and the TXT record's rules, shared by our firmware (which advertises) and the
discovery that browses for it. No I/O here.
"""

from __future__ import annotations

import re

SERVICE_TYPE = "_brewpi._tcp.local."
DEFAULT_PORT = 23  # ESP WiFi builds serve the protocol on the telnet port

# TXT keys the ESP firmware sends; values such as board=ESP8266, branch=legacy, version=0.2.4,
# revision=0.15.
TXT_BOARD = "board"
TXT_BRANCH = "branch"
TXT_VERSION = "version"
TXT_REVISION = "revision"
# Our own firmware adds which wire dialect it speaks (esp or avr), so the add-device page can
# choose it; real firmware does not send it.
TXT_DIALECT = "dialect"
TXT_KEYS = (TXT_BOARD, TXT_BRANCH, TXT_VERSION, TXT_REVISION, TXT_DIALECT)

# Fermentrack reads TXT values as code page 437 (the ESP firmware's bytes are not promised
# to be UTF-8), and so do we.
TXT_ENCODING = "cp437"

# The boards real BrewPi ESP firmware names in `board`; all speak the ESP dialect.
ESP_BOARDS = ("ESP8266", "ESP32", "ESP32-S2", "ESP32-C3")
# What our firmware puts in `board`: the program and the hardware behind it.
OUR_BOARDS = {"sim": "Fermentrack-sim", "pi": "Fermentrack-pi"}
OUR_BRANCH = "legacy"  # we speak the legacy BrewPi protocol, as the ESP firmware's legacy branch

MDNS_NAME_MAX = 63  # one DNS label
_NOT_LETTER_OR_DIGIT = re.compile(r"[^A-Za-z0-9]")


def mdns_name_from(text: str) -> str:
    """An mDNS name (letters and digits, as BrewPi firmware's mDNS ID) made from `text`,
    e.g. a folder name 'fridge-1' gives 'fridge1'; 'brewpi' when nothing is left."""
    name = _NOT_LETTER_OR_DIGIT.sub("", text)[:MDNS_NAME_MAX]
    return name or "brewpi"


def check_mdns_name(name: str) -> str:
    """`name` if it is letters and digits only, at most 63; ValueError saying what is expected."""
    if not name or len(name) > MDNS_NAME_MAX or _NOT_LETTER_OR_DIGIT.search(name):
        raise ValueError(
            f"mDNS name {name!r} may hold only letters and digits (1 to {MDNS_NAME_MAX}), "
            "e.g. fermenter1"
        )
    return name


def decode_txt(properties: dict[bytes, bytes | None]) -> dict[str, str]:
    """A TXT record's keys and values as text (values as cp437); a key without value gives ''."""
    decoded = {}
    for key, value in properties.items():
        name = key.decode(TXT_ENCODING) if isinstance(key, bytes) else str(key)
        if isinstance(value, bytes):
            decoded[name.lower()] = value.decode(TXT_ENCODING)
        else:
            decoded[name.lower()] = "" if value is None else str(value)
    return decoded


def dialect_for_board(board: str) -> str | None:
    """The wire dialect a TXT `board` implies: 'esp' for ESP boards, None when unknown."""
    if board.upper().startswith("ESP"):
        return "esp"
    return None
