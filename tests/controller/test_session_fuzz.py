"""Hostile lines from a fake firmware peer over a real socket never crash the session, never reach
on_temperatures as data unless they are valid T: lines, and leave it answering requests.
"""

from __future__ import annotations

import asyncio
import json
import time

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.messages import (
    SettingsReport,
    TemperatureReport,
    decode_wire_text,
    parse_line,
    strip_log_messages,
)
from fermentrack.brewpi.temperature import TempFormat
from fermentrack.controller.link import MAX_LINE_BYTES
from fermentrack.controller.session import FirmwareSession

from .fake_firmware import ESP_VERSION, FakeFirmware

FUZZ_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PREFIXES = [*"NTSCVLDdhUXWRYE", "", "t", "Z"]
TEMPERATURE_KEYS = ["BeerTemp", "BeerSet", "BeerAnn", "FridgeTemp", "FridgeSet", "FridgeAnn"]
TEMPERATURE_KEYS += ["RoomTemp", "State", "Time", "bt", "bs", "s", "Log1Temp"]


def marker(index: int) -> bytes:
    """A valid T: line whose beer temperature tells which one it is."""
    body = {
        "BeerTemp": round(10 + index * 0.5, 1),
        "BeerSet": 20.0,
        "BeerAnn": None,
        "FridgeTemp": 5.0,
        "FridgeSet": 4.0,
        "FridgeAnn": None,
        "RoomTemp": "",
        "State": 1,
    }
    return b"T:" + json.dumps(body).encode() + b"\r\n"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(TEMPERATURE_KEYS) | st.text(max_size=6), inner, max_size=6
        )
    ),
    max_leaves=12,
)


@st.composite
def wrong_shape_json(draw) -> bytes:
    prefix = draw(st.sampled_from(PREFIXES))
    body = json.dumps(draw(json_values), ensure_ascii=draw(st.booleans()))
    return (prefix + ":" + body).encode("utf-8")


def no_line_end(data: bytes) -> bytes:
    return data.replace(b"\n", b" ").replace(b"D:{", b"D:(")


# T: lines near the real thing: known keys, values of the right and the wrong kinds.
near_temperature_line = st.dictionaries(
    st.sampled_from(TEMPERATURE_KEYS),
    st.none()
    | st.floats(-300, 300, allow_nan=False)
    | st.integers(-5, 10)
    | st.just("")
    | st.text(max_size=5)
    | st.booleans(),
    max_size=9,
).map(lambda body: b"T:" + json.dumps(body).encode())

hostile_line = st.one_of(
    near_temperature_line,
    st.binary(max_size=200).map(no_line_end),  # invalid UTF-8, control bytes, NULs
    wrong_shape_json().map(no_line_end),
    st.text(max_size=80).map(lambda text: no_line_end(text.encode("utf-8", "surrogatepass"))),
    # A D: message that is no message (stripped, then unreadable, never a temperature).
    st.text(max_size=40).map(lambda text: b"D:{" + no_line_end(text.encode()) + b"}"),
    # Over-long: garbage, and a valid T: line padded past the limit (must be dropped).
    st.integers(MAX_LINE_BYTES, 3 * MAX_LINE_BYTES).map(lambda n: b"T:" + b"x" * n),
    st.just(b'T:{"BeerTemp": 1.0' + b" " * (MAX_LINE_BYTES + 10) + b',"State":1}'),
)


def temperature_in(line: bytes) -> TemperatureReport | None:
    """What the session may pass on for `line` alone: a T: report, if it is a valid one."""
    if len(line) > MAX_LINE_BYTES:
        return None
    text, _ = strip_log_messages(decode_wire_text(line) + "\n")
    try:
        message = parse_line(text.rstrip("\n"), None, TempFormat.CELSIUS)
    except ProtocolError:
        return None
    return message if isinstance(message, TemperatureReport) else None


async def fuzz_session(
    stream: list[bytes], chunk_size: int | None = None
) -> tuple[list, list, SettingsReport]:
    """Connect to a fake peer, let it send `stream`, then make a request. Returns what
    on_temperatures and on_line got, and the request's reply.
    """
    peer = FakeFirmware(version=ESP_VERSION)
    reports: list[TemperatureReport] = []
    lines: list[str] = []
    session = FirmwareSession(
        await peer.start(), startup_delay_s=0, on_temperatures=reports.append, on_line=lines.append
    )
    await session.connect()
    data = b"".join(stream)
    step = chunk_size or len(data) or 1
    for start in range(0, len(data), step):
        await peer.send(data[start : start + step])
    # The request's S: reply comes after everything sent: when it arrives, all was read.
    reply = await session.request("s", expect=SettingsReport, timeout=5)
    assert session.connected
    await session.close()
    await peer.close()
    return reports, lines, reply


@FUZZ_SETTINGS
@given(st.lists(st.tuples(hostile_line, st.booleans()), max_size=25))
@example([(b"junk", True), (b'T:{"BeerTemp": 10.0}', False)])  # merged: repeats the marker
def test_hostile_lines_never_crash_the_session_nor_pass_as_temperatures(plan):
    stream: list[bytes] = []
    allowed: list[TemperatureReport] = []
    expected_markers = []
    for index, (line, then_marker) in enumerate(plan):
        stream.append(line + b"\r\n")
        report = temperature_in(line)
        if report is not None:
            allowed.append(report)
        if then_marker:
            stream.append(marker(index))
            expected_markers.append(temperature_in(marker(index)))

    reports, _, reply = asyncio.run(asyncio.wait_for(fuzz_session(stream), 20))

    assert isinstance(reply, SettingsReport)
    for report in reports:
        assert report in expected_markers or any(carries(report, a) for a in allowed), report
    # Every valid line got through, in order, whatever came before it. (A hostile line that
    # leaves keys out is merged onto the report before it, and may repeat a marker.)
    remaining = iter(reports)
    assert all(any(report == expected for report in remaining) for expected in expected_markers)


def carries(report: TemperatureReport, line_report: TemperatureReport) -> bool:
    """`report` is `line_report`, its missing values (compact AVR lines) filled from before."""
    attributes = ("beer_temp", "beer_set", "beer_annotation", "fridge_temp", "fridge_set")
    attributes += ("fridge_annotation", "room_temp", "state", "time")
    return all(
        getattr(report, name) == getattr(line_report, name)
        for name in attributes
        if name not in line_report.missing
    )


@settings(FUZZ_SETTINGS, max_examples=64)
@given(st.integers(1, 64))
def test_lines_cut_into_any_chunks_give_the_same_messages(chunk_size):
    device = b'{"i":0,"t":3,"c":1,"b":0,"f":3,"h":1,"d":0,"p":5,"v":0,"x":1}'
    log_line = b'D:{"logType":"W","logID":2,"V":[6,"2801EEFFC00000E9"]}\r\n'
    stream = [marker(0), b"d:[" + device + b"," + log_line + device + b"]\r\n", marker(1)]

    reports, lines, reply = asyncio.run(asyncio.wait_for(fuzz_session(stream, chunk_size), 20))

    assert reports == [temperature_in(marker(0)), temperature_in(marker(1))]
    assert lines == []  # the d: reply, its log message taken out, parsed whole
    assert isinstance(reply, SettingsReport)


def test_a_flood_of_hostile_lines_is_survived_and_the_session_still_answers():
    short = [
        b'T:{"BeerTemp":"hot"}',
        b"\xff\xfe\x00\x80" * 10,
        b'D:{"logType":"E","logID":"x"}',
        b'S:{"mode":5}',
        b"d:[1,2,3]",
        b'Invalid command received "z" (0x7A)',
    ]
    long = [b"T:" + b"x" * 2 * MAX_LINE_BYTES, b"\xb0" * 1_000_000]  # the second: 1 MB
    stream = [line + b"\r\n" for line in short] * 3000 + [line + b"\r\n" for line in long] * 5
    stream.append(marker(1))
    started = time.monotonic()

    reports, seen, reply = asyncio.run(asyncio.wait_for(fuzz_session(stream), 45))

    elapsed = time.monotonic() - started
    assert reports == [temperature_in(marker(1))]
    assert isinstance(reply, SettingsReport)
    assert len(seen) == len(stream) - 1  # each hostile line reported once, the long ones too
    assert elapsed < 20
