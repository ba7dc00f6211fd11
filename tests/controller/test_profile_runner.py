"""Profile steps: which beer setting to send, when, and the hand-over at the end."""

import pytest

from fermentrack.brewpi.profile_schedule import DAY, HOUR
from fermentrack.controller.profile_runner import (
    PROFILE_TICK_S,
    Profile,
    ProfileRunner,
    ProfileStep,
    beer_setting,
    run_profile_step,
    seconds_to_next_point,
)

START = 1_700_000_000
# Hold 18 for 3 days, ramp to 21 over 2 days, then the end.
ALE = Profile(id=7, started_at=START, points=((0, 18.0), (3 * DAY, 18.0), (5 * DAY, 21.0)))


def config(**changes) -> dict:
    data = {
        "id": 7,
        "started_at": START,
        "points": [
            {"offset_s": 3 * DAY, "temperature": 18.0},
            {"offset_s": 0, "temperature": 18},
            {"offset_s": 5 * DAY, "temperature": 21.0},
        ],
    }
    return data | changes


def test_a_profile_is_read_from_the_config_with_its_points_in_order():
    assert Profile.from_config(config()) == ALE


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"id": "7"}, "profile.id"),
        ({"started_at": None}, "profile.started_at"),
        ({"points": "18 then 21"}, "profile.points"),
        ({"points": [{"offset_s": -1, "temperature": 18}]}, "profile.points[0].offset_s"),
        ({"points": [{"offset_s": 0, "temperature": "cold"}]}, "profile.points[0].temperature"),
        ({"points": [{"offset_s": 0, "temperature": True}]}, "profile.points[0].temperature"),
    ],
)
def test_a_config_profile_that_is_not_as_the_contract_says_is_refused_naming_the_field(
    changes, named
):
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        Profile.from_config(config(**changes))


def test_the_beer_setting_moves_along_the_profile_rounded_to_a_tenth():
    assert beer_setting(ALE, START) == 18.0
    assert beer_setting(ALE, START + 3 * DAY + HOUR) == 18.1  # 18.0625 on the ramp
    assert beer_setting(ALE, START + 4 * DAY) == 19.5


def test_the_setting_is_sent_when_it_differs_from_the_firmwares():
    step = run_profile_step(ALE, START + 4 * DAY, current_beer_set=18.0, unit="C")
    assert step == ProfileStep(settings={"beerSet": 19.5})


def test_nothing_is_sent_while_the_firmware_already_has_the_setting():
    # The firmware prints and stores 1/512 degrees: 19.5 comes back as 19.5, 18.1 as 18.10078.
    assert run_profile_step(ALE, START + 4 * DAY, 19.5, "C") == ProfileStep()
    assert run_profile_step(ALE, START + 3 * DAY + HOUR, 18.10078, "C") == ProfileStep()


def test_an_unknown_firmware_setting_gets_the_profiles():
    assert run_profile_step(ALE, START, None, "C").settings == {"beerSet": 18.0}


def test_past_the_last_point_the_profile_hands_over_to_beer_constant_at_its_last_temperature():
    step = run_profile_step(ALE, START + 5 * DAY, current_beer_set=20.9, unit="C")
    assert step.finished
    assert step.settings == {"mode": "b", "beerSet": 21.0}
    assert step.annotation == "Profile 7 finished; holding 21.0 °C"


def test_the_place_in_a_profile_comes_from_its_start_time_alone():
    # A controller started afresh at any moment computes what one running all along sent.
    fresh = ProfileRunner(ALE, "F")
    assert fresh.step(START + 4 * DAY, None).settings == {"beerSet": 19.5}
    assert fresh.step(START + 6 * DAY, None).annotation == "Profile 7 finished; holding 21.0 °F"


def test_a_runner_without_a_profile_does_nothing():
    assert ProfileRunner().step(START, 18.0) == ProfileStep()
    assert ProfileRunner().seconds_to_next_tick(START) == PROFILE_TICK_S


def test_a_profile_without_points_does_nothing():
    assert run_profile_step(Profile(1, START, ()), START, 18.0, "C") == ProfileStep()


def test_the_next_tick_comes_early_when_a_point_is_reached_before_it():
    steps = Profile(3, START, ((0, 18.0), (10, 18.0), (11, 21.0)))
    runner = ProfileRunner(steps, "C")
    assert seconds_to_next_point(steps, START + 4) == 6
    assert runner.seconds_to_next_tick(START + 4) == 6
    assert runner.seconds_to_next_tick(START + 10.5) == 0.5
    assert seconds_to_next_point(steps, START + 11) is None
    assert runner.seconds_to_next_tick(START + 11) == PROFILE_TICK_S
    assert ProfileRunner(ALE, "C").seconds_to_next_tick(START) == PROFILE_TICK_S
