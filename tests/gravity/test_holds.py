"""Holds in a profile, by hand values: the schedule held back, the gravity tests, a hold's end,
the progress kept between runs, and the runner's annotations."""

import pytest

from fermentrack.brewpi.profile_schedule import DAY, HOUR
from fermentrack.controller.profile_runner import Profile, ProfileRunner, held_words
from fermentrack.gravity.holds import (
    Hold,
    HoldEnd,
    HoldProgress,
    gravity_reached,
    gravity_stable,
    hold_due,
    hold_end,
    is_finished_now,
    points_with_longest_holds,
    schedule_position,
    seconds_to_next_change,
    setpoint_now,
)

START = 1_700_000_000
# 18 °C; at 3 days hold until 1.012 (at most 4 days); ramp to 21 °C by 5 days; then hold.
POINTS = [(0, 18.0), (3 * DAY, 18.0), (5 * DAY, 21.0)]
UNTIL_1012 = Hold("gravity_at_most", max_s=4 * DAY, gravity=1.012)
HOLDS = {1: UNTIL_1012}
NOTHING_DONE = HoldProgress()


def at(seconds: float, progress: HoldProgress = NOTHING_DONE) -> float:
    return setpoint_now(POINTS, HOLDS, START, START + seconds, progress)


# -- the schedule ------------------------------------------------------------------------------


def test_before_its_hold_a_profile_runs_as_without_holds():
    assert at(0) == 18.0
    assert at(2 * DAY) == 18.0
    assert hold_due(POINTS, HOLDS, START, START + 2 * DAY, NOTHING_DONE) is None


def test_the_schedule_waits_at_a_hold_not_yet_done_even_before_it_began():
    # A tick may come late: the setting never runs past the hold's point meanwhile.
    assert at(4 * DAY) == 18.0
    assert schedule_position(POINTS, HOLDS, START, START + 4 * DAY, NOTHING_DONE) == 3 * DAY
    assert not is_finished_now(POINTS, HOLDS, START, START + 9 * DAY, NOTHING_DONE)


def test_a_hold_is_due_from_the_second_its_point_was_reached():
    assert hold_due(POINTS, HOLDS, START, START + 3 * DAY - 1, NOTHING_DONE) is None
    assert hold_due(POINTS, HOLDS, START, START + 3 * DAY + 90, NOTHING_DONE) == (
        1,
        START + 3 * DAY,
    )


def test_while_holding_the_points_temperature_is_kept():
    holding = NOTHING_DONE.begin(1, START + 3 * DAY)
    assert at(3 * DAY + 12 * HOUR, holding) == 18.0
    assert hold_due(POINTS, HOLDS, START, START + 4 * DAY, holding) is None
    assert seconds_to_next_change(POINTS, HOLDS, START, START + 3 * DAY + HOUR, holding) == (
        4 * DAY - HOUR
    )


def test_after_a_hold_later_points_move_on_by_the_time_held():
    done = NOTHING_DONE.begin(1, START + 3 * DAY).end(DAY)  # held one day
    assert at(4 * DAY, done) == 18.0  # 3 days into the schedule
    assert at(5 * DAY, done) == 19.5  # 4 days in: half way up the ramp
    assert not is_finished_now(POINTS, HOLDS, START, START + 5 * DAY, done)
    assert is_finished_now(POINTS, HOLDS, START, START + 6 * DAY, done)
    assert seconds_to_next_change(POINTS, HOLDS, START, START + 5 * DAY, done) == DAY


def test_a_hold_on_the_last_point_keeps_the_profile_from_finishing():
    holds = {2: UNTIL_1012}
    assert not is_finished_now(POINTS, holds, START, START + 30 * DAY, NOTHING_DONE)
    done = NOTHING_DONE.begin(2, START + 5 * DAY).end(HOUR)
    assert is_finished_now(POINTS, holds, START, START + 5 * DAY + HOUR, done)


def test_a_start_part_way_skips_the_holds_before_it_but_keeps_the_one_it_starts_at():
    assert HoldProgress.skipping(POINTS, HOLDS, 4 * DAY).completed == ((1, 0),)
    assert HoldProgress.skipping(POINTS, HOLDS, 3 * DAY).completed == ()


def test_the_longest_schedule_draws_each_hold_as_a_flat_stretch_of_its_limit():
    assert points_with_longest_holds(POINTS, HOLDS) == [
        (0, 18.0),
        (3 * DAY, 18.0),
        (7 * DAY, 18.0),
        (9 * DAY, 21.0),
    ]


# -- the gravity tests -------------------------------------------------------------------------


def test_gravity_is_reached_when_the_median_of_the_last_three_readings_is_at_the_target():
    assert gravity_reached([(1, 1.020), (2, 1.013), (3, 1.012), (4, 1.011)], 1.012)
    # One low reading (a bubble on the Tilt) is not enough.
    assert not gravity_reached([(1, 1.013), (2, 1.005), (3, 1.013)], 1.012)
    # Nor are two readings, however low.
    assert not gravity_reached([(1, 1.010), (2, 1.010)], 1.012)
    # The order readings come in does not matter: the latest three by time count.
    assert not gravity_reached([(4, 1.013), (1, 1.010), (3, 1.013), (2, 1.010)], 1.012)


def test_gravity_is_stable_when_every_reading_of_the_span_lies_near_their_median():
    now = 10 * HOUR
    steady = [(now - 6 * HOUR + h * HOUR, 1.010 + 0.0005 * (h % 2)) for h in range(7)]
    assert gravity_stable(steady, tolerance=1, for_s=6 * HOUR, now=now)
    wandering = [*steady[:-1], (now, 1.0130)]  # 2.5 points above the median
    assert not gravity_stable(wandering, tolerance=2, for_s=6 * HOUR, now=now)
    assert gravity_stable(wandering, tolerance=3, for_s=6 * HOUR, now=now)


def test_stable_gravity_needs_readings_covering_the_span():
    now = 10 * HOUR
    # The last six hours asked for, readings only in the last two: not known to be steady.
    recent = [(now - 2 * HOUR + m * 600, 1.010) for m in range(13)]
    assert not gravity_stable(recent, tolerance=2, for_s=6 * HOUR, now=now)
    # A gap longer than a sixth of the span (here 1 h) breaks the cover too.
    gappy = [(now - 6 * HOUR + h * HOUR, 1.010) for h in range(7) if h != 3]
    assert not gravity_stable(gappy, tolerance=2, for_s=6 * HOUR, now=now)
    assert not gravity_stable([], tolerance=2, for_s=6 * HOUR, now=now)


# -- a hold's end ------------------------------------------------------------------------------

SINCE = START + 3 * DAY


def test_a_hold_ends_on_gravity_with_the_time_held():
    readings = [(SINCE + 100, 1.013), (SINCE + 200, 1.012), (SINCE + 300, 1.011)]
    assert hold_end(UNTIL_1012, SINCE, SINCE + 330, readings) == HoldEnd("gravity", 330, 1.012)


def test_a_hold_goes_on_while_the_gravity_is_high_and_time_remains():
    readings = [(SINCE + 100, 1.015), (SINCE + 200, 1.014), (SINCE + 300, 1.014)]
    assert hold_end(UNTIL_1012, SINCE, SINCE + DAY, readings) is None
    assert hold_end(UNTIL_1012, SINCE, SINCE + DAY, []) is None


def test_a_hold_ends_at_its_time_limit_without_gravity_or_with_the_gravity_too_high():
    assert hold_end(UNTIL_1012, SINCE, SINCE + 4 * DAY, []) == HoldEnd("time_limit", 4 * DAY, None)
    readings = [(SINCE + 100, 1.015), (SINCE + 200, 1.014), (SINCE + 300, 1.014)]
    assert hold_end(UNTIL_1012, SINCE, SINCE + 5 * DAY, readings) == HoldEnd(
        "time_limit", 4 * DAY, 1.014
    )


def test_a_hold_resumed_past_its_limit_ignores_readings_after_the_limit():
    late = [(SINCE + 4 * DAY + h, 1.008) for h in (10, 20, 30)]
    assert hold_end(UNTIL_1012, SINCE, SINCE + 6 * DAY, late).reason == "time_limit"
    on_time = [(SINCE + DAY + h, 1.008) for h in (10, 20, 30)]
    assert hold_end(UNTIL_1012, SINCE, SINCE + 6 * DAY, on_time) == HoldEnd(
        "gravity", 4 * DAY, 1.008
    )


def test_the_readings_a_hold_needs_start_an_hour_back_or_its_span_back():
    assert UNTIL_1012.readings_since(SINCE, SINCE + DAY) == SINCE + DAY - HOUR
    steady = Hold("gravity_stable", max_s=5 * DAY, tolerance=2, for_s=DAY)
    assert steady.readings_since(SINCE, SINCE + 2 * DAY) == SINCE + DAY
    assert steady.readings_since(SINCE, SINCE + 9 * DAY) == SINCE + 4 * DAY


# -- checking a hold ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hold", "problem"),
    [
        (Hold("gravity_below", max_s=DAY, gravity=1.01), "is not a condition"),
        (Hold("gravity_at_most", max_s=0, gravity=1.01), "every hold needs one"),
        (Hold("gravity_at_most", max_s=None, gravity=1.01), "every hold needs one"),
        (Hold("gravity_at_most", max_s=100 * DAY, gravity=1.01), "longer than a hold may last"),
        (Hold("gravity_at_most", max_s=DAY), "the gravity to wait for"),
        (Hold("gravity_at_most", max_s=DAY, gravity=12.0), "outside 0.980…1.200 SG"),
        (Hold("gravity_stable", max_s=DAY, for_s=HOUR), "needs a tolerance in gravity points"),
        (Hold("gravity_stable", max_s=DAY, tolerance=50, for_s=HOUR), "at most 20"),
        (Hold("gravity_stable", max_s=DAY, tolerance=2), "how long the gravity must stay"),
        (Hold("gravity_stable", max_s=DAY, tolerance=2, for_s=2 * DAY), "could never end"),
    ],
)
def test_a_hold_that_cannot_work_is_refused_in_words(hold, problem):
    assert any(problem in found for found in hold.problems()), hold.problems()


def test_a_good_hold_has_no_problems_and_reads_as_words():
    assert UNTIL_1012.problems() == []
    assert UNTIL_1012.describe() == "until gravity ≤ 1.012 (at most 4 days)"
    steady = Hold("gravity_stable", max_s=5 * DAY, tolerance=2, for_s=DAY)
    assert steady.describe() == ("until gravity steady within ±2 points for 1 day (at most 5 days)")


def test_progress_reads_back_from_its_json_and_refuses_a_bad_shape_naming_the_field():
    progress = HoldProgress(((1, 3600),), (2, START))
    assert HoldProgress.from_json(progress.to_json()) == progress
    assert HoldProgress.from_json(None) == HoldProgress()
    with pytest.raises(ValueError, match=r"progress.holds\[0\]"):
        HoldProgress.from_json({"holds": [{"index": "1", "held_s": 0}]})
    with pytest.raises(ValueError, match=r"progress\.holding"):
        HoldProgress.from_json({"holds": [], "holding": {"index": 1}})


def test_progress_about_holds_the_profile_does_not_have_is_dropped():
    progress = HoldProgress(((1, 60), (5, 60), (1, 90)), (7, START))
    assert progress.fitted(HOLDS) == HoldProgress(((1, 60),), None)


# -- the runner --------------------------------------------------------------------------------


def config(**changes) -> dict:
    return {
        "id": 4,
        "started_at": START,
        "points": [
            {"offset_s": 0, "temperature": 18.0, "hold_until": None},
            {
                "offset_s": 3 * DAY,
                "temperature": 18.0,
                "hold_until": "gravity_at_most",
                "hold_gravity": 1.012,
                "hold_tolerance": None,
                "hold_for_s": None,
                "hold_max_s": 4 * DAY,
            },
            {"offset_s": 5 * DAY, "temperature": 21.0},
        ],
        "progress": {"holds": [], "holding": None},
    } | changes


def test_a_config_profile_carries_its_holds_and_the_runs_progress():
    profile = Profile.from_config(
        config(progress={"holds": [], "holding": {"index": 1, "since": SINCE}})
    )
    assert profile.holds == ((1, UNTIL_1012),)
    assert profile.progress == HoldProgress((), (1, SINCE))
    # The progress is where a run stands, not what the profile is.
    assert profile == Profile.from_config(config())


def test_a_config_hold_that_cannot_work_is_refused_naming_the_point():
    bad = config()
    bad["points"][1]["hold_max_s"] = None
    with pytest.raises(ValueError, match=r"profile.points\[1\] hold: .*every hold needs one"):
        Profile.from_config(bad)


def test_the_runner_annotates_a_hold_as_it_begins_and_as_gravity_ends_it():
    runner = ProfileRunner(Profile.from_config(config()), "C")
    assert runner.begin_due_hold(SINCE - 1) is None
    began = runner.begin_due_hold(SINCE + 20)
    assert began == "Profile 4: holding at 18.0 °C until gravity ≤ 1.012 (at most 4 days)"
    assert runner.report() == {
        "id": 4,
        "started_at": START,
        "holds": [],
        "holding": {"index": 1, "since": SINCE},
    }
    assert runner.end_hold_if_over(SINCE + DAY, [(SINCE + DAY - 60, 1.014)] * 3) is None
    low = [(SINCE + 2 * DAY + n, 1.0112) for n in range(3)]
    ended = runner.end_hold_if_over(SINCE + 2.3 * DAY, low)
    assert ended == "Profile 4: gravity 1.011 reached after 2.3 days; continuing"
    assert runner.progress.completed == ((1, round(2.3 * DAY)),)
    assert runner.step(SINCE + 2.3 * DAY + DAY, None).settings == {"beerSet": 19.5}


def test_the_runner_says_why_a_hold_ended_at_its_time_limit():
    runner = ProfileRunner(Profile.from_config(config()), "F")
    runner.begin_due_hold(SINCE)
    assert runner.end_hold_if_over(SINCE + 4 * DAY, []) == (
        "Profile 4: hold ended at its time limit (no gravity for 1 hour); continuing"
    )
    runner = ProfileRunner(Profile.from_config(config()), "F")
    runner.begin_due_hold(SINCE)
    assert runner.end_hold_if_over(SINCE + 4 * DAY, None).endswith(
        "(the web app gave no gravity readings); continuing"
    )
    runner = ProfileRunner(Profile.from_config(config()), "F")
    runner.begin_due_hold(SINCE)
    high = [(SINCE + 4 * DAY - n, 1.0151) for n in range(3)]
    assert runner.end_hold_if_over(SINCE + 4 * DAY, high) == (
        "Profile 4: hold ended at its time limit (gravity 1.015, not ≤ 1.012); continuing"
    )


def test_the_next_tick_comes_at_a_holds_time_limit_and_not_in_a_rush_past_it():
    runner = ProfileRunner(Profile.from_config(config()), "C", tick_s=30)
    runner.begin_due_hold(SINCE)
    assert runner.seconds_to_next_tick(SINCE + 4 * DAY - 10) == 10
    assert runner.seconds_to_next_tick(SINCE + 4 * DAY + 10) == 30


def test_held_time_reads_as_a_brewer_says_it():
    assert [held_words(s) for s in (40, 25 * 60, 5.5 * HOUR, 2.3 * DAY)] == [
        "40 s",
        "25 minutes",
        "5.5 hours",
        "2.3 days",
    ]


def test_a_profile_without_holds_is_finished_once_its_last_point_is_reached():
    assert is_finished_now([], {}, START, START, NOTHING_DONE)
    assert not is_finished_now(POINTS, {}, START, START + 5 * DAY - 1, NOTHING_DONE)
    assert is_finished_now(POINTS, {}, START, START + 5 * DAY, NOTHING_DONE)
    assert is_finished_now(POINTS, {}, START, START + 6 * DAY, NOTHING_DONE)
