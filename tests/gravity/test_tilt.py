"""Decoding Tilt advertisements, from the composed recordings in recordings/ (spec §1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fermentrack.gravity.scanner import parse_replay
from fermentrack.gravity.tilt import COLOURS, TiltReading, TiltVersion, decode_tilt

RECORDINGS = Path(__file__).parent / "recordings"


def decoded(recording: str) -> list[TiltReading | TiltVersion | None]:
    path = RECORDINGS / recording
    return [decode_tilt(line.data, line.rssi) for line in parse_replay(path.read_text(), path.name)]


def test_every_colour_decodes_to_its_name_temperature_gravity_and_battery_age() -> None:
    assert decoded("every_colour.replay") == [
        TiltReading("Red", 68.0, 1.040, pro=False, battery_weeks=None, rssi=-61),
        TiltReading("Green", 66.0, 1.045, pro=False, battery_weeks=3, rssi=-62),
        TiltReading("Black", 70.0, 1.050, pro=False, battery_weeks=None, rssi=-63),
        TiltReading("Purple", 64.0, 1.052, pro=False, battery_weeks=None, rssi=-71),
        TiltReading("Orange", 62.0, 1.060, pro=False, battery_weeks=20, rssi=-65),
        TiltReading("Blue", 60.0, 1.065, pro=False, battery_weeks=None, rssi=-66),
        TiltReading("Yellow", 72.0, 1.070, pro=False, battery_weeks=7, rssi=-67),
        TiltReading("Pink", 75.0, 1.080, pro=False, battery_weeks=None, rssi=-68),
        TiltReading("Purple", 64.0, 1.052, pro=False, battery_weeks=None, rssi=-73),
    ]


def test_the_recording_covers_every_colour_of_the_spec() -> None:
    colours = {reading.colour for reading in decoded("every_colour.replay") if reading}
    assert (
        colours
        == set(COLOURS)
        == {
            "Red",
            "Green",
            "Black",
            "Purple",
            "Orange",
            "Blue",
            "Yellow",
            "Pink",
        }
    )


def test_the_27_byte_ad_structure_decodes_like_the_25_bytes_inside_it() -> None:
    lines = parse_replay((RECORDINGS / "every_colour.replay").read_text())
    with_header = lines[-1].data
    assert len(with_header) == 27 and with_header[:2] == bytes.fromhex("1aff")
    assert decode_tilt(with_header) == decode_tilt(with_header[2:])


def test_a_tilt_pro_reads_tenths_of_a_degree_and_four_decimals_of_gravity() -> None:
    first, second, version = decoded("tilt_pro.replay")
    assert first == TiltReading("Blue", 64.3, 1.0521, pro=True, battery_weeks=12, rssi=-66)
    assert second == TiltReading("Blue", 64.5, 1.0519, pro=True, battery_weeks=None, rssi=-68)
    assert version == TiltVersion("Blue", 1008)


def test_the_spec_examples_decode_as_the_spec_says() -> None:
    purple = bytes.fromhex("4C000215A495BB40C5B14B44B5121370F02D74DE0040041CC5")
    assert decode_tilt(purple) == TiltReading("Purple", 64.0, 1.052, False, None, None)
    blue_pro = purple[:7] + b"\x60" + purple[8:20] + bytes.fromhex("028329190C")
    assert decode_tilt(blue_pro, rssi=-66) == TiltReading("Blue", 64.3, 1.0521, True, 12, -66)
    version = purple[:20] + bytes.fromhex("03E703ECC5")
    assert decode_tilt(version) == TiltVersion("Purple", 1004)


def test_a_version_beacon_is_not_taken_for_a_pro_reading() -> None:
    # minor 10 000 would make a Pro reading of SG 1.0000; major 999 makes it a version beacon.
    frame = bytes.fromhex("4C000215A495BB40C5B14B44B5121370F02D74DE03E72710C5")
    assert decode_tilt(frame) == TiltVersion("Purple", 10000)


def test_a_pro_is_told_from_a_classic_by_a_minor_of_5000_or_more() -> None:
    def minor(value: int) -> bytes:
        return (
            bytes.fromhex("4C000215A495BB40C5B14B44B5121370F02D74DE0040")
            + value.to_bytes(2, "big")
            + bytes([0xC5])
        )

    assert decode_tilt(minor(4999)).pro is False
    assert decode_tilt(minor(4999)).gravity == 4.999
    assert decode_tilt(minor(5000)).pro is True
    assert decode_tilt(minor(5000)).gravity == 0.5
    assert decode_tilt(minor(5000)).temp_f == 6.4


def test_the_ios_filler_byte_197_is_no_battery_age_but_any_other_value_is() -> None:
    frame = bytes.fromhex("4C000215A495BB40C5B14B44B5121370F02D74DE0040041C")
    assert decode_tilt(frame + bytes([197])).battery_weeks is None
    assert decode_tilt(frame + bytes([196])).battery_weeks == 196
    assert decode_tilt(frame + bytes([0])).battery_weeks == 0
    assert decode_tilt(frame + bytes([255])).battery_weeks == 255


def test_version_beacons_unknown_colours_and_frames_of_other_shapes_are_not_readings() -> None:
    version, *not_tilts, spike, reading = decoded("not_readings.replay")
    assert version == TiltVersion("Purple", 1004)
    assert not_tilts == [None] * 7
    # Decoding reports what was sent; hygiene, not the decoder, refuses a gravity of 1.800.
    assert spike == TiltReading("Purple", 64.0, 1.8, False, None, -71)
    assert reading == TiltReading("Purple", 64.0, 1.052, False, 30, -71)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x4c",
        bytes(25),
        bytes(27),
        bytes.fromhex("4C000215") + bytes(21),
        bytes.fromhex("4C000215A495BB40C5B14B44B5121370F02D74DE0040041CC5") + b"\x00",
        bytes.fromhex("1AFF4C000215A495BB40C5B14B44B5121370F02D74DE0040041C"),
        bytes.fromhex("4C000215A495BB40C5B14B44B5121370F02D74DF0040041CC5"),  # last UUID byte
    ],
    ids=[
        "empty",
        "one byte",
        "25 zeros",
        "27 zeros",
        "no uuid",
        "26 bytes",
        "26 with header",
        "uuid off by one",
    ],
)
def test_short_long_and_garbled_frames_are_ignored(data: bytes) -> None:
    assert decode_tilt(data) is None


@given(
    start=st.sampled_from(
        [
            b"",
            bytes.fromhex("4C000215"),
            bytes.fromhex("4C000215A495BB"),
            bytes.fromhex("1AFF4C000215A495BB"),
        ]
    ),
    rest=st.binary(max_size=30),
)
def test_any_bytes_decode_to_a_reading_a_version_or_nothing_without_raising(
    start: bytes, rest: bytes
) -> None:
    result = decode_tilt(start + rest)
    assert result is None or isinstance(result, TiltReading | TiltVersion)
    if result is not None:
        assert result.colour in COLOURS
