"""The whole controller process against a hostile firmware: a fake peer on TCP that answers the
handshake properly, then floods the controller with garbage (over-long lines, invalid bytes,
NULs, JSON of every wrong shape, nonsense numbers) around the few valid `T:` lines it sends.

The controller must live through it (same process, answering `status` all along, still
connected), and the web app must end up with exactly one point per valid `T:` line, with that
line's values, never a point carrying garbage, and annotations that are bounded plain text.

The stream comes from a seeded generator, so a failure can be replayed; change SEED to explore.
Timing: the peer sends one accepted `T:` line at the start of each wall-clock second (a "slot"),
floods until the middle of the second, then lets the controller catch up. The controller keeps
one point a second, so each slot is exactly one point, whose second is known. Most slots start
with a marker (a valid line whose beer temperature names the slot: its point must carry exactly
its values); the others with a line the parser takes whose values are nonsense (their points
may only hold nulls and temperatures the web app takes). The flood holds no line the session
would read as temperatures or constants: the oracle below, the session's own parsing, says so.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.messages import (
    ConstantsReport,
    TemperatureReport,
    decode_wire_text,
    parse_line,
    strip_log_messages,
)
from fermentrack.brewpi.temperature import Dialect, TempFormat
from fermentrack.controller import client
from fermentrack.controller.link import MAX_LINE_BYTES

from .controller_rig import ControllerProcess, dump, eventually
from .fake_firmware import (
    CONTROLLER_ANSWERS,
    LCD,
    FakeFirmware,
    FakeFirmwareThread,
    temperature_line,
)

SEED = 5
SLOTS = 20
FLOOD_LINES_PER_SLOT = 2500  # sent within half a second: thousands of lines a second
FLOOD_CHUNKS = 10
SLOT_START_S = 0.1  # into each wall-clock second
FLOOD_END_S = 0.6
LONG_LINE_BYTES = 100 * 1024
WEB_RANGE = (-60.0, 150.0)  # what the web app stores (interfaces.md §1)
MAX_ANNOTATION_CHARS = 500
FIRMWARE_ANNOTATIONS_PER_MINUTE = 30

# -- what the session makes of a line (the oracle) -------------------------------------------


def messages_in(line: bytes) -> list[object]:
    """The messages the controller's session reads from `line` on its own (None for each part
    it cannot read), as it does: D: messages taken out, the rest parsed in °C, ESP dialect."""
    if len(line) > MAX_LINE_BYTES:
        return []  # the link drops it
    text, log_lines = strip_log_messages(decode_wire_text(line.rstrip(b"\r")) + "\n")
    found: list[object] = []
    for part in [*log_lines, text.rstrip("\n")]:
        if not part.strip():
            continue
        try:
            found.append(parse_line(part, Dialect.ESP, TempFormat.CELSIUS))
        except ProtocolError:
            found.append(None)
    return found


def is_harmless(line: bytes) -> bool:
    """Not a temperature line (it would be a point) nor constants (they change the unit)."""
    return not any(
        isinstance(message, TemperatureReport | ConstantsReport) for message in messages_in(line)
    )


def is_temperature_line(line: bytes) -> bool:
    messages = messages_in(line)
    return len(messages) == 1 and isinstance(messages[0], TemperatureReport)


# -- hostile lines ---------------------------------------------------------------------------

PREFIXES = "TSCVLDNdhUX"
KEYS = {
    "T": [
        *("BeerTemp", "BeerSet", "BeerAnn", "FridgeTemp", "FridgeSet", "FridgeAnn", "RoomTemp"),
        *("State", "Time", "bt", "bs", "ft", "fs", "rt", "s", "t"),
    ],
    "S": ["mode", "beerSet", "fridgeSet", "heatEst", "coolEst"],
    "C": ["tempFormat", "tempSetMin", "tempSetMax", "Kp", "Ki", "Kd", "idleRangeH", "lah", "hs"],
    "V": ["beerDiff", "diffIntegral", "beerSlope", "p", "i", "d", "estPeak", "negPeak"],
    "D": ["logType", "logID", "V"],
    "N": ["v", "n", "c", "s", "y", "b", "l", "e"],
}
NASTY_NUMBERS = ["1e308", "-1e308", "1e400", "NaN", "Infinity", "-Infinity", "-0", "1.5e-320"]
NASTY_NUMBERS += ["99999999999999999999999", "-2147483649", "-1", "4294967296", "0x1F", "1."]
NASTY_TEXTS = ["\u0000", "\u001b[2J", "<script>alert(1)</script>", "°C", "\ud83c\udf7a", "\\"]
NASTY_TEXTS += ["null", "", " ", "x" * 600, "é" * 300, "\u0007\u0008\u007f", "\ud800", "\udfff"]


def nasty_value(rng: random.Random, prefix: str, depth: int = 0) -> str:
    """JSON text (not always valid JSON) of a value of a wrong kind."""
    kind = rng.randrange(9 if depth < 3 else 5)
    if kind == 0:
        return rng.choice(NASTY_NUMBERS)
    if kind == 1:
        return repr(rng.uniform(-1e6, 1e6))
    if kind == 2:
        text = rng.choice(NASTY_TEXTS) + "".join(chr(rng.randrange(1, 0x3000)) for _ in range(5))
        return json.dumps(text, ensure_ascii=rng.random() < 0.5)
    if kind == 3:
        return rng.choice(["null", "true", "false", '""', "[]", "{}"])
    if kind == 4:
        return str(rng.randint(-(10**6), 10**6))
    if kind in (5, 6):
        return (
            "["
            + ",".join(nasty_value(rng, prefix, depth + 1) for _ in range(rng.randrange(5)))
            + "]"
        )
    return nasty_object(rng, prefix, depth + 1)


def nasty_object(rng: random.Random, prefix: str, depth: int = 0) -> str:
    keys = [*KEYS.get(prefix, []), "", "x", "BeerTemp"]
    pairs = [
        f"{json.dumps(rng.choice(keys))}:{nasty_value(rng, prefix, depth)}"
        for _ in range(rng.randrange(1, 8))
    ]
    return "{" + ",".join(pairs) + "}"


def wrong_shape_line(rng: random.Random) -> bytes:
    prefix = rng.choice(PREFIXES)
    shape = rng.randrange(6)
    if shape == 0:
        body = nasty_object(rng, prefix)
    elif shape == 1:
        body = nasty_object(rng, prefix)[: rng.randrange(1, 40)]  # cut short
    elif shape == 2:
        body = "[" + ",".join(nasty_value(rng, prefix) for _ in range(rng.randrange(4))) + "]"
    elif shape == 3:
        body = nasty_value(rng, prefix)
    elif shape == 4:  # the right keys, every value of a wrong kind
        body = (
            "{"
            + ",".join(f'"{key}":{nasty_value(rng, prefix)}' for key in KEYS.get(prefix, ["x"]))
            + "}"
        )
    else:  # objects in objects
        body = '{"BeerTemp":' * 40 + "1" + "}" * rng.choice([0, 40])
    return (prefix + ":" + body).encode("utf-8", "surrogatepass")


def log_message_line(rng: random.Random) -> bytes:
    """D: messages, readable or not: readable ones become (rate-limited) annotations."""
    log_type = rng.choice(['"E"', '"W"', '"I"', '"Z"', "1", "null"])
    log_id = rng.choice(["1", "2", "-7", "99999999999", "1e308", '"x"', "NaN"])
    values = ",".join(nasty_value(rng, "D", 2) for _ in range(rng.randrange(4)))
    return f'D:{{"logType":{log_type},"logID":{log_id},"V":[{values}]}}'.encode(
        "utf-8", "surrogatepass"
    )


def random_bytes_line(rng: random.Random) -> bytes:
    """Invalid UTF-8, NULs, control bytes: anything."""
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))


def damaged_valid_line(rng: random.Random) -> bytes:
    line = temperature_line(rng.uniform(0, 30)).rstrip(b"\r\n")
    cut = rng.randrange(1, len(line))
    return rng.choice([line[:cut], line[cut:], line[:cut] + b"\x00" + line[cut:]])


def neutralised(line: bytes) -> bytes:
    """One line: no line end inside, and no D: message starting in its middle (that would join
    it to the next line, which a test cannot tell apart from a valid split message)."""
    line = line.replace(b"\n", b" ")
    head, tail = line[:3], line[3:]
    return (head if head == b"D:{" else head.replace(b"D:{", b"D:(")) + tail.replace(b"D:{", b"D:(")


def hostile_line(rng: random.Random, log_messages: bool = True) -> bytes:
    """One line of garbage; readable D: messages only when `log_messages`."""
    kind = rng.randrange(10)
    if kind < 4:
        line = wrong_shape_line(rng)
    elif kind < 6:
        line = random_bytes_line(rng)
    elif kind < 7:
        line = log_message_line(rng) if log_messages else b"D:" + random_bytes_line(rng)
    elif kind < 8:
        line = damaged_valid_line(rng)
    elif kind < 9:
        line = b"Invalid command received \x00\xff" + bytes([rng.randrange(256)])
    else:
        line = rng.choice(PREFIXES).encode() + b":" + b"\x00" * rng.randrange(1, 50)
    return neutralised(line)


def over_long_line(rng: random.Random) -> bytes:
    """100 KB without a line end, then one: garbage, or a T: line that would be valid."""
    if rng.random() < 0.5:
        return bytes(rng.randrange(1, 256) for _ in range(256)).replace(b"\n", b"\r") * (
            LONG_LINE_BYTES // 256
        )
    return b'T:{"BeerTemp":20.0,' + b" " * LONG_LINE_BYTES + b'"State":1}'


# T: lines the parser takes whose values are nonsense: clamped, out of range, negative times,
# strings for numbers, compact keys, annotations full of control characters and lone halves of
# UTF-16 surrogate pairs (which JSON can escape and UTF-8 cannot carry).
ODD_TEMPERATURE_LINES = [
    b'T:{"BeerAnn":"\\u0000<b>Beer</b>\\u001b[2J\\u0007\\ud83c' + b"x" * 900 + b'","FridgeAnn":""}',
    b'T:{"FridgeAnn":"' + "\u00b0\u2603".encode() * 200 + b'\\udfff","State":9}',
    b'T:{"BeerTemp":200,"BeerSet":-200,"FridgeTemp":99999999999999999999999,"State":99}',
    b'T:{"Time":-5,"State":-3}',
    b'T:{"Time":-2147483648,"BeerTemp":"20.5","FridgeSet":""}',
    b'T:{"BeerTemp":-0,"FridgeTemp":127.9,"RoomTemp":-128,"BeerSet":-0.0001}',
    b'T:{"bt":150.0001,"s":12,"bs":null}',
    b'T:{"BeerSet":null,"FridgeSet":null,"BeerTemp":null,"FridgeAnn":"\\u0000\\u0000"}',
]
ODD_SLOTS = (1, 3, 5, 8, 11, 13, 16, 18)  # the first two before any readable D: message
FIRST_SLOT_WITH_LOG_MESSAGES = 4  # D: messages are annotated at most 30 a minute


def lcd_answers() -> Callable[[str], bytes]:
    """Answers to `l` in turn: the real thing, wrong shapes, and four texts of garbage."""
    garbage = ["\u0000\u001b[2J\u0007", "\ud800", "<script>alert(1)</script>", "\u00b0" * 300]
    replies = [
        b"L:" + json.dumps(garbage).encode() + b"\r\n",  # the first: read on connecting
        b'L:["one","two"]\r\n',
        LCD,
        b"L:" + json.dumps([garbage[1] * 50] * 4).encode() + b"\r\n",
        b'L:{"0":"a","1":"b","2":"c","3":"d"}\r\n',
        b"L:[1e308,NaN,null,-0]\r\n",
    ]
    turn = itertools.count()
    return lambda command: replies[next(turn) % len(replies)]


@dataclass
class Slot:
    """One wall-clock second of the stream: its first accepted T: line, then the flood."""

    first_line: bytes
    marker: float | None  # the beer temperature of a marker line; None for an odd T: line
    state: int
    flood: list[bytes]
    sent_at: float = 0.0


def plan_slots(rng: random.Random) -> list[Slot]:
    slots = []
    odd_lines = iter(ODD_TEMPERATURE_LINES)
    for index in range(SLOTS):
        log_messages = index >= FIRST_SLOT_WITH_LOG_MESSAGES
        flood = []
        while len(flood) < FLOOD_LINES_PER_SLOT:
            line = hostile_line(rng, log_messages)
            if is_harmless(line):
                flood.append(line)
        if index % 4 == 1:
            flood.insert(rng.randrange(len(flood)), over_long_line(rng))
        if index in ODD_SLOTS:
            first = next(odd_lines)
            assert is_temperature_line(first), first
            slots.append(Slot(first, None, -1, flood))
        else:
            beer, state = 10.0 + index * 0.25, 1 + index % 8
            first = temperature_line(beer, state=state).rstrip(b"\r\n")
            slots.append(Slot(first, beer, state, flood))
    return slots


async def play(peer: FakeFirmware, slots: list[Slot]) -> None:
    """On the peer's loop: each slot in its own wall-clock second."""
    for slot in slots:
        now = time.time()
        start = math.floor(now) + 1 + SLOT_START_S
        await asyncio.sleep(start - now)
        # An empty line first: it ends whatever unfinished line came before.
        slot.sent_at = time.time()
        await peer.send(b"\r\n" + slot.first_line + b"\r\n")
        chunk_size = math.ceil(len(slot.flood) / FLOOD_CHUNKS)
        pause = (FLOOD_END_S - SLOT_START_S) / FLOOD_CHUNKS
        for at in range(0, len(slot.flood), chunk_size):
            await peer.send(b"".join(line + b"\r\n" for line in slot.flood[at : at + chunk_size]))
            await asyncio.sleep(pause)


# -- the test --------------------------------------------------------------------------------


def control_characters(text: str) -> list[str]:
    """What plain text has no business carrying: NUL, escapes, bells, lone surrogates."""
    return [char for char in text if unicodedata.category(char) in ("Cc", "Cs")]


def plausible(value: object) -> bool:
    return value is None or (
        isinstance(value, float | int)
        and math.isfinite(value)
        and WEB_RANGE[0] <= value <= WEB_RANGE[1]
    )


def test_a_hostile_firmware_never_crashes_the_controller_nor_reaches_the_database_as_data(
    home, web
):
    name = "hostile"
    slots = plan_slots(random.Random(SEED))
    # `t` gets no answer of its own: each slot's first line answers a waiting poll.
    answers = {**CONTROLLER_ANSWERS, "l": lcd_answers()}
    with FakeFirmwareThread(answers=answers) as firmware:
        token = web.add_device(name, firmware.url)
        controller = ControllerProcess(home, name, token, web.url).start()  # link from config
        try:
            controller.wait_connected()
            pid = controller.process.pid
            stream = firmware.start(play(firmware.peer, slots))
            statuses, slowest = 0, 0.0
            while not stream.done():
                asked = time.monotonic()
                status = client.status(name, timeout=2.5)
                slowest = max(slowest, time.monotonic() - asked)
                statuses += 1
                assert status["connected"], dump("the controller lost the firmware", status)
                assert controller.process.poll() is None and controller.process.pid == pid
                time.sleep(0.2)
            stream.result()
            assert statuses >= SLOTS * 3
            assert slowest < 2.0, f"a status took {slowest:.2f} s"

            stored = eventually(
                lambda: len(points := web.stored_points(name)) >= SLOTS and points,
                15,
                "a point for every slot reaches the web app",
            )
            # Nothing more arrives: the web app holds one point a slot, no other.
            time.sleep(1)
            stored = web.stored_points(name)
            assert [point["ts"] for point in stored] == [int(slot.sent_at) for slot in slots], dump(
                [point["ts"] for point in stored], [slot.sent_at for slot in slots]
            )
            assert sorted(controller.logged_point_times()) == [point["ts"] for point in stored]
            for slot, point in zip(slots, stored, strict=True):
                if slot.marker is not None:
                    assert point == {
                        "ts": int(slot.sent_at),
                        "beer_temp": slot.marker,
                        "beer_set": 20.0,
                        "fridge_temp": 4.5,
                        "fridge_set": 4.0,
                        "room_temp": 21.0,
                        "state": slot.state,
                        "temp_format": "C",
                    }, dump(slot.first_line.decode(), point)
                else:
                    temperatures = ("beer_temp", "beer_set", "fridge_temp", "fridge_set")
                    assert all(plausible(point[key]) for key in (*temperatures, "room_temp")), dump(
                        slot.first_line.decode(errors="replace"), point
                    )
                    assert point["state"] is None or 0 <= point["state"] <= 9, point
                    assert point["temp_format"] == "C"

            eventually(lambda: controller.status()["outbox_backlog"] == 0, 10, "the outbox is sent")
            annotations = web.stored_annotations(name)
            for ts, source, text in annotations:
                assert 1 <= len(text) <= MAX_ANNOTATION_CHARS, (ts, source, text)
                assert "\x00" not in text, (ts, source, text)
            texts = [text for _, _, text in annotations]
            # The odd T: lines' annotations (control characters, a lone surrogate) got through.
            assert any(text.startswith("<b>Beer</b>") for text in texts), dump(texts)
            sent_raw = decode_wire_text("°☃".encode() * 2)  # UTF-8 bytes, read as code page 437
            assert any(text.startswith(sent_raw) for text in texts), dump(texts)
            firmware_said = [text for _, source, text in annotations if source == "firmware"]
            assert len(firmware_said) <= FIRMWARE_ANNOTATIONS_PER_MINUTE, dump(firmware_said)

            log = controller.log()
            assert "Traceback" not in log
            assert "could not keep" not in log, "a point or an annotation was lost"
            assert "the web app refused" not in log and "dropping " not in log
            assert controller.status()["connected"]
            assert controller.process.poll() is None and controller.process.pid == pid

            # Plain text: what the firmware printed, without its terminal escapes and bells.
            unclean = [item for item in annotations if control_characters(item[2])]
            assert not unclean, dump("annotations with control characters:", repr(unclean))
        finally:
            assert controller.stop() == 0


def test_what_the_firmware_says_is_annotated_as_plain_text(home, web):
    """Its annotations and messages, with terminal escapes, a bell, a tab, a NUL and half a
    surrogate pair, reach the graph as text a page can show: none of those characters."""
    name = "plain-text"
    noisy = "\u001b[1mBeer\u001b[0m set to 19\u0007\t\u0000 \ud83c"
    annotated = b'T:{"BeerTemp":19.0,"BeerAnn":' + json.dumps(noisy).encode() + b',"State":1}'
    message = b'D:{"logType":"E","logID":4,"V":[' + json.dumps("\u001b[31m7\u0008").encode() + b"]}"
    answers = {**CONTROLLER_ANSWERS, "t": annotated + b"\r\n" + message + b"\r\n"}
    with FakeFirmwareThread(answers=answers) as firmware:
        token = web.add_device(name, firmware.url)
        controller = ControllerProcess(home, name, token, web.url).start()
        try:
            controller.wait_connected()

            def firmware_annotations() -> list[str] | None:
                texts = [
                    text for _, source, text in web.stored_annotations(name) if source == "firmware"
                ]
                return texts if len(texts) >= 2 else None

            texts = eventually(firmware_annotations, 15, "the firmware's words are annotated")
            assert any("Beer" in text and "set to 19" in text for text in texts), dump(texts)
            assert controller.process.poll() is None
            assert not [text for text in texts if control_characters(text)], dump(repr(texts))
        finally:
            assert controller.stop() == 0
