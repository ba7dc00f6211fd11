"""Profile arithmetic: setting over time, offsets as text, the plain-English summary."""

import pytest

from fermentrack.brewpi.profile_schedule import (
    DAY,
    HOUR,
    format_offset,
    parse_offset,
    setpoint_at,
    summary,
)

START = 1_700_000_000
# Hold 18 for 3 days, ramp to 21 over 2 days, hold.
ALE = [(0, 18.0), (3 * DAY, 18.0), (5 * DAY, 21.0)]


# -- setpoint_at -----------------------------------------------------------------------------


def test_before_the_first_point_the_first_temperature_holds():
    points = [(2 * DAY, 10.0), (4 * DAY, 20.0)]
    assert setpoint_at(points, START, START) == 10.0
    assert setpoint_at(points, START, START + DAY) == 10.0
    assert setpoint_at(points, START, START - 5 * DAY) == 10.0  # started in the future


def test_a_hold_between_equal_points_keeps_the_temperature():
    assert setpoint_at(ALE, START, START + 1 * DAY) == 18.0
    assert setpoint_at(ALE, START, START + 3 * DAY) == 18.0


def test_between_two_points_the_setting_moves_in_a_straight_line():
    # 3d -> 5d goes 18 -> 21: a quarter of the way (3d 12h) is 18.75, half way (4d) is 19.5.
    assert setpoint_at(ALE, START, START + 3 * DAY + 12 * HOUR) == 18.75
    assert setpoint_at(ALE, START, START + 4 * DAY) == 19.5
    # One hour into the ramp: 3 degrees over 48 hours = 0.0625 per hour, rounded to 0.01.
    assert setpoint_at(ALE, START, START + 3 * DAY + HOUR) == 18.06


def test_a_falling_ramp_interpolates_downwards():
    crash = [(0, 20.0), (10 * HOUR, 2.0)]
    assert setpoint_at(crash, START, START + 5 * HOUR) == 11.0
    assert setpoint_at(crash, START, START + 9 * HOUR) == 3.8


def test_after_the_last_point_the_last_temperature_holds():
    assert setpoint_at(ALE, START, START + 5 * DAY) == 21.0
    assert setpoint_at(ALE, START, START + 50 * DAY) == 21.0


def test_points_are_taken_in_offset_order_whatever_order_they_come_in():
    assert setpoint_at(list(reversed(ALE)), START, START + 4 * DAY) == 19.5


def test_a_profile_without_points_has_no_setting():
    assert setpoint_at([], START, START) is None


# -- offsets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0),
        ("0h", 0),
        ("3d 12h", 3 * DAY + 12 * HOUR),
        ("3d12h", 3 * DAY + 12 * HOUR),
        ("3 d 12 h", 3 * DAY + 12 * HOUR),
        ("3.5", 3 * DAY + 12 * HOUR),
        ("3.5d", 3 * DAY + 12 * HOUR),
        ("7d 3h 15m", 7 * DAY + 3 * HOUR + 15 * 60),
        ("1w 1d", 8 * DAY),
        ("1y", 365 * DAY),
        ("90m", 90 * 60),
        ("1.5h", 90 * 60),
        ("45s", 45),
        ("  2D 6H ", 2 * DAY + 6 * HOUR),
    ],
)
def test_offsets_are_read_in_days_hours_minutes_or_plain_days(text, seconds):
    assert parse_offset(text) == seconds


@pytest.mark.parametrize("text", ["", "   ", "3x", "d", "-1", "3d -2h", "3d, 12h", "three days"])
def test_an_offset_that_cannot_be_read_says_so_and_shows_the_expected_form(text):
    with pytest.raises(ValueError, match="3d 12h"):
        parse_offset(text)


def test_an_offset_naming_a_unit_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        parse_offset("3d 2d")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0h"),
        (3 * DAY, "3d"),
        (3 * DAY + 12 * HOUR, "3d 12h"),
        (DAY + 90, "1d 1m 30s"),
        (45, "45s"),
    ],
)
def test_offsets_are_written_as_days_hours_minutes_and_seconds(seconds, text):
    assert format_offset(seconds) == text


@pytest.mark.parametrize("seconds", [0, 1, 59, 3600, 86_399, 86_400, 302_400, 31_536_000 + 7])
def test_a_written_offset_reads_back_to_the_same_seconds(seconds):
    assert parse_offset(format_offset(seconds)) == seconds


def test_a_negative_offset_cannot_be_written():
    with pytest.raises(ValueError, match="negative"):
        format_offset(-1)


# -- summary ---------------------------------------------------------------------------------


def test_the_summary_tells_holds_and_ramps_in_order():
    assert summary(ALE, "C") == "hold 18.0 °C for 3 days, ramp to 21.0 °C over 2 days, then hold"


def test_a_profile_that_starts_with_a_ramp_says_where_it_starts():
    points = [(0, 64.0), (36 * HOUR, 68.0)]
    assert (
        summary(points, "F") == "start at 64.0 °F, ramp to 68.0 °F over 1 day 12 hours, then hold"
    )


def test_the_hold_before_a_late_first_point_counts_as_a_hold():
    points = [(2 * DAY, 18.0), (3 * DAY, 20.0)]
    assert summary(points, "C") == "hold 18.0 °C for 2 days, ramp to 20.0 °C over 1 day, then hold"


def test_consecutive_holds_at_one_temperature_are_told_as_one_and_a_final_hold_stays_there():
    points = [(0, 18.0), (DAY, 18.0), (2 * DAY, 18.0), (3 * DAY, 2.0), (5 * DAY, 2.0)]
    assert summary(points, "C") == (
        "hold 18.0 °C for 2 days, ramp to 2.0 °C over 1 day, hold 2.0 °C for 2 days, "
        "then stay there"
    )


def test_a_single_point_is_a_plain_hold_and_no_points_say_so():
    assert summary([(0, 19.5)], "C") == "hold 19.5 °C"
    assert summary([], "C") == "no points yet"
