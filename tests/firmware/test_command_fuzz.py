"""Random bytes and random command sequences never crash the firmware or stop it serving."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from board_rig import CapturedBoard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fermentrack.brewpi.commands import encode_command
from fermentrack.brewpi.messages import VersionInfo, parse_line
from fermentrack.brewpi.settings import CONSTANTS_FIELDS, SETTINGS_FIELDS
from fermentrack.brewpi.temperature import Dialect
from fermentrack.firmware.main import build_board

KEYS = [f.key for f in SETTINGS_FIELDS + CONSTANTS_FIELDS] + [
    "i",
    "c",
    "b",
    "f",
    "h",
    "p",
    "x",
    "a",
    "w",
    "r",
    "v",
    "u",
    "bogus",
]
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-70000, 70000),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["b", "f", "o", "p", "t", "C", "F", "null", "28FF", "-1"]),
)
commands = st.builds(
    lambda letter, args: encode_command(letter, args).encode() + b"\n",
    st.sampled_from(list("ntscvljSCEdhUAayYbxXWwTopR")),
    st.one_of(st.none(), st.dictionaries(st.sampled_from(KEYS), values, max_size=4)),
)
chunks = st.lists(
    st.one_of(st.binary(max_size=40), commands, st.integers(0, 30)),
    max_size=12,
)


def check_output_parses(board: CapturedBoard, dialect: Dialect) -> list[str]:
    lines = board.lines()
    for line in lines:
        parse_line(line, dialect)  # raises if we ever wrote something the protocol forbids
    return lines


def fuzz(dialect: Dialect, sequence: list) -> None:
    with tempfile.TemporaryDirectory() as folder:
        board = CapturedBoard(build_board(Path(folder), dialect, "sim"))
        for chunk in sequence:
            if isinstance(chunk, int):
                board.run(chunk)
            else:
                board.board.receive(chunk)
            check_output_parses(board, dialect)
        board.board.input_idle()  # ends any half-sent JSON object, as 1 s of silence would
        check_output_parses(board, dialect)
        board.board.receive(b"n")
        lines = check_output_parses(board, dialect)
        assert lines and isinstance(parse_line(lines[-1], dialect), VersionInfo), lines


# A deeper hunt, by hand: FUZZ_EXAMPLES=2000 pytest tests/firmware/test_command_fuzz.py
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(chunks)
def test_the_esp_firmware_survives_random_input_and_still_answers(sequence):
    fuzz(Dialect.ESP, sequence)


@FUZZ
@given(chunks)
def test_the_avr_firmware_survives_random_input_and_still_answers(sequence):
    fuzz(Dialect.AVR, sequence)


@FUZZ
@given(st.binary(min_size=1, max_size=200))
def test_avr_answers_every_byte_that_is_no_command_with_warning_1(data):
    with tempfile.TemporaryDirectory() as folder:
        board = CapturedBoard(build_board(Path(folder), Dialect.AVR, "sim"))
        garbage = bytes(b for b in data if chr(b) not in "ntscvljSCEdhURAayYeZ \r\n")
        if not garbage:
            return
        lines = board.ask(garbage)
        warnings = [line for line in lines if line.startswith('D:{"logType":"W","logID":1,')]
        assert len(warnings) == len(garbage)
