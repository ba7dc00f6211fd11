"""Physical limits and the outlier filter (issue 7, data hygiene)."""

from __future__ import annotations

import pytest

from fermentrack.gravity.hygiene import (
    GRAVITY_LIMITS,
    TEMPERATURE_LIMITS_C,
    outliers,
    reading_problem,
)


def test_the_limits_are_the_agreed_ones() -> None:
    assert GRAVITY_LIMITS == (0.980, 1.200)
    assert TEMPERATURE_LIMITS_C == (-10.0, 60.0)


def test_a_fermenting_beer_has_no_problem() -> None:
    assert reading_problem(1.052, 18.5) is None
    assert reading_problem(0.980, -10.0) is None
    assert reading_problem(1.200, 60.0) is None


def test_a_value_not_measured_is_not_checked() -> None:
    assert reading_problem(None, 18.5) is None
    assert reading_problem(1.052, None) is None
    assert reading_problem(None, None) is None


def test_a_gravity_spike_is_named_with_the_value_and_the_range() -> None:
    assert reading_problem(1.8, 18.5) == "gravity 1.8 is outside 0.980 to 1.200 SG"
    assert reading_problem(0.0, 18.5) == "gravity 0.0 is outside 0.980 to 1.200 SG"


def test_an_impossible_temperature_is_named_with_the_value_and_the_range() -> None:
    assert reading_problem(1.052, 85.0) == "temperature 85.0 °C is outside -10 to 60 °C"
    assert reading_problem(1.052, -40.0) == "temperature -40.0 °C is outside -10 to 60 °C"


def test_not_a_number_is_never_physical() -> None:
    assert reading_problem(float("nan"), 18.5) == "gravity nan is outside 0.980 to 1.200 SG"
    assert reading_problem(1.05, float("inf")) == "temperature inf °C is outside -10 to 60 °C"


def test_gravity_is_reported_before_temperature_when_both_are_wrong() -> None:
    assert reading_problem(2.0, 99.0).startswith("gravity 2.0")


def test_a_single_spike_is_marked_and_its_neighbours_are_not() -> None:
    values = [1.050, 1.049, 1.048, 1.080, 1.047, 1.046, 1.045]
    assert outliers(values) == [False, False, False, True, False, False, False]


def test_a_steady_fall_is_not_an_outlier() -> None:
    falling = [1.060 - 0.002 * step for step in range(20)]
    assert outliers(falling) == [False] * 20


def test_spikes_at_either_end_are_judged_against_a_full_window() -> None:
    # The first value's window is the first five values (median 1.049), not just three.
    values = [1.090, 1.050, 1.049, 1.048, 1.047, 1.046, 0.990]
    assert outliers(values) == [True, False, False, False, False, False, True]


def test_the_threshold_is_a_distance_from_the_median_in_sg() -> None:
    values = [1.050, 1.050, 1.054, 1.050, 1.050]
    assert outliers(values) == [False] * 5
    assert outliers(values, threshold=0.003) == [False, False, True, False, False]


def test_a_wider_window_outvotes_two_spikes_in_a_row() -> None:
    values = [1.050, 1.050, 1.050, 1.090, 1.090, 1.050, 1.050, 1.050]
    assert outliers(values, window=3) == [False] * 8  # each spike's window holds the other
    assert outliers(values, window=5) == [False, False, False, True, True, False, False, False]


def test_fewer_values_than_the_window_are_judged_together() -> None:
    assert outliers([]) == []
    assert outliers([1.050]) == [False]
    assert outliers([1.050, 1.051, 1.100]) == [False, False, True]


def test_the_window_must_be_odd_and_positive() -> None:
    with pytest.raises(ValueError, match="window 4: expected an odd number"):
        outliers([1.0] * 10, window=4)
    with pytest.raises(ValueError, match="window 0"):
        outliers([1.0] * 10, window=0)
