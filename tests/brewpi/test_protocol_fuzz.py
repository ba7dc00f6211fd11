"""Whatever arrives, the protocol package answers with messages, events or a ProtocolError."""

import contextlib
import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from fermentrack.brewpi.commands import (
    Command,
    CommandReader,
    MalformedJson,
    UnknownCommand,
    encode_command,
)
from fermentrack.brewpi.devices import DeviceDefinition, merge_update, parse_device
from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.log_messages import LogMessage, expand_log_message
from fermentrack.brewpi.messages import decode_wire_text, parse_line, strip_log_messages
from fermentrack.brewpi.temperature import Dialect, TempFormat

PREFIXES = ["N:", "T:", "S:", "C:", "V:", "L:", "D:", "d:", "h:", "U:", "X:", "W:", "R:", "Y:"]
KEYS = [
    *("BeerTemp", "BeerSet", "BeerAnn", "FridgeTemp", "FridgeSet", "FridgeAnn", "RoomTemp"),
    *("Log1Temp", "State", "Time", "bt", "bs", "ba", "ft", "fs", "fa", "rt", "s", "t"),
    *("mode", "beerSet", "fridgeSet", "heatEst", "coolEst", "tempFormat", "Kp"),
    *("maxHeatTimeForEst", "beerFastFilt", "lah", "v", "n", "c", "y", "b", "l", "e"),
    *("logType", "logID", "V", "i", "f", "h", "p", "x", "a", "j", "r"),
    *("invertTFT", "glycol", "largeTFT", "ssid", "signalStrength", "device", "value", "name"),
]
dialects = st.sampled_from([None, Dialect.AVR, Dialect.ESP])
formats = st.sampled_from(list(TempFormat))
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "null", " 20.00", "-1.5", "C", "F", "b", "28FF4A3B01160397", "1e3"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), children, max_size=6)
    ),
    max_leaves=12,
)
fuzz = settings(max_examples=200, deadline=None)


def parses_or_refuses(line: str, dialect, fmt) -> None:
    with contextlib.suppress(ProtocolError):
        parse_line(line, dialect, fmt)


@fuzz
@given(text=st.text(max_size=80), dialect=dialects, fmt=formats)
def test_random_text_only_ever_raises_protocol_errors(text, dialect, fmt):
    parses_or_refuses(text, dialect, fmt)


@fuzz
@given(prefix=st.sampled_from(PREFIXES), text=st.text(max_size=60), dialect=dialects)
def test_random_text_after_a_prefix_only_ever_raises_protocol_errors(prefix, text, dialect):
    parses_or_refuses(prefix + text, dialect, TempFormat.CELSIUS)


@fuzz
@given(prefix=st.sampled_from(PREFIXES), value=json_values, dialect=dialects, fmt=formats)
def test_random_json_after_a_prefix_only_ever_raises_protocol_errors(prefix, value, dialect, fmt):
    parses_or_refuses(prefix + json.dumps(value), dialect, fmt)


@fuzz
@given(data=st.binary(max_size=80), dialect=dialects)
def test_random_bytes_from_the_wire_only_ever_raise_protocol_errors(data, dialect):
    parses_or_refuses(decode_wire_text(data), dialect, TempFormat.CELSIUS)


@fuzz
@given(text=st.text(max_size=200))
def test_log_stripping_never_raises_and_removes_only_whole_log_lines(text):
    rest, removed = strip_log_messages(text)
    assert len(rest) + sum(len(line) for line in removed) <= len(text)
    assert all(line.startswith("D:{") and line.endswith("}") for line in removed)


@fuzz
@given(
    obj=st.dictionaries(st.sampled_from(KEYS), json_scalars | json_values, max_size=8),
    dialect=st.sampled_from(list(Dialect)),
    fmt=formats,
)
def test_device_objects_and_updates_are_read_or_refused_with_protocol_errors(obj, dialect, fmt):
    for read in (
        lambda: parse_device(obj, dialect, fmt),
        lambda: merge_update(DeviceDefinition(slot=1), obj, dialect, fmt),
    ):
        with contextlib.suppress(ProtocolError):
            read()


@fuzz
@given(
    log_type=st.sampled_from(["E", "W", "I", "Q"]),
    log_id=st.integers(-3, 30),
    values=st.lists(st.integers(-(2**40), 2**40) | st.text(max_size=8), max_size=5),
)
def test_log_message_expansion_never_raises(log_type, log_id, values):
    assert isinstance(expand_log_message(LogMessage(log_type, log_id, values)), str)


# -- the firmware's command reader -----------------------------------------------------------

EVENT_TYPES = (Command, UnknownCommand, MalformedJson)
command_bytes = st.one_of(
    st.binary(max_size=120),
    st.lists(
        st.sampled_from([b"j", b"d", b"{", b"}", b'"', b":", b",", b" ", b"\n", b"mode", b"1"])
        | st.binary(max_size=3),
        max_size=40,
    ).map(b"".join),
)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    edges = [0, *points, len(data)]
    return [data[start:end] for start, end in itertools.pairwise(edges)]


@fuzz
@given(
    data=command_bytes,
    cuts=st.lists(st.integers(0, 200), max_size=10),
    dialect=st.sampled_from(list(Dialect)),
)
def test_random_bytes_in_any_chunking_give_the_same_declared_events(data, cuts, dialect):
    whole = CommandReader(dialect).feed(data)
    reader = CommandReader(dialect)
    pieces = [event for chunk in chunked(data, cuts) for event in reader.feed(chunk)]
    assert pieces == whole
    assert all(isinstance(event, EVENT_TYPES) for event in whole + reader.timeout())


@fuzz
@given(garbage=command_bytes, dialect=st.sampled_from(list(Dialect)))
def test_a_valid_command_after_garbage_and_a_quiet_second_is_still_recognised(garbage, dialect):
    reader = CommandReader(dialect)
    reader.feed(garbage)
    reader.timeout()
    line = encode_command("j", {"mode": "b", "beerSet": 20.0}) + "\n"
    events = reader.feed(line.encode())
    beer_set = "20.0" if dialect is Dialect.AVR else 20.0
    assert events == [Command("j", {"mode": "b", "beerSet": beer_set})]
    assert reader.feed(b"t") == [Command("t")]
