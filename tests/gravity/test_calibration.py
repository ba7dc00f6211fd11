"""Calibration fits against values worked out by hand (spec §4.1, §4.3)."""

from __future__ import annotations

import pytest

from fermentrack.gravity.calibration import (
    CalibrationError,
    Fit,
    fit_ispindel,
    fit_tilt,
    polynomial,
)


def close_to(*values: float) -> object:
    return pytest.approx(values, abs=1e-9)


def test_polynomial_takes_coefficients_highest_power_first() -> None:
    # 2x³ − 3x² + 0x + 5 at x = 2: 16 − 12 + 0 + 5 = 9
    assert polynomial((2.0, -3.0, 0.0, 5.0), 2.0) == 9.0
    assert polynomial((0.0, 1.0, 0.0), 1.052) == 1.052  # the identity Tilt calibration
    assert polynomial((), 3.0) == 0.0


def test_two_tilt_points_make_a_line_through_both_with_the_quadratic_term_zero() -> None:
    # Through (1.000, 1.002) and (1.060, 1.059): slope c = (1.059 − 1.002) / (1.060 − 1.000)
    # = 0.057 / 0.060 = 0.95; d = 1.002 − 0.95 · 1.000 = 0.052. b is exactly 0, not left over.
    fit = fit_tilt([(1.000, 1.002), (1.060, 1.059)])
    assert fit.degree == 1
    assert fit.coefficients == close_to(0.0, 0.95, 0.052)
    assert fit.coefficients[0] == 0.0
    assert fit.warning is None


def test_three_tilt_points_make_the_parabola_through_them() -> None:
    # y = 0.5·x² + 0.5: x = 1.00 → 1.0; x = 1.04 → 0.5 · 1.0816 + 0.5 = 1.0408;
    # x = 1.10 → 0.5 · 1.21 + 0.5 = 1.105. Three points fix a quadratic exactly.
    fit = fit_tilt([(1.00, 1.0), (1.04, 1.0408), (1.10, 1.105)])
    assert fit == Fit(fit.coefficients, 2, None)
    assert fit.coefficients == close_to(0.5, 0.0, 0.5)


def test_four_tilt_points_get_the_least_squares_parabola_worked_out_on_paper() -> None:
    # Tilt readings 1.000, 1.020, 1.040, 1.060; with u = (x − 1.030) / 0.010 they sit at
    # u = −3, −1, 1, 3. Fit y = α + β·u + γ·u². Sums over the points: Σ1 = 4, Σu = 0, Σu² = 20,
    # Σu³ = 0, Σu⁴ = 81 + 1 + 1 + 81 = 164. True gravities y = 1.0007, 1.0207, 1.0395, 1.0611:
    #   Σy    = 4.1220
    #   Σu·y  = −3.0021 − 1.0207 + 1.0395 + 3.1833 = 0.2000
    #   Σu²·y = 9.0063 + 1.0207 + 1.0395 + 9.5499 = 20.6164
    # Normal equations:  4α + 20γ = 4.1220;  20β = 0.2000;  20α + 164γ = 20.6164.
    # β = 0.01. From the first, α = 1.0305 − 5γ; into the third: 20.61 − 100γ + 164γ = 20.6164,
    # so 64γ = 0.0064, γ = 0.0001 and α = 1.0300. In x (u = 100x − 103):
    #   y = 1.03 + 0.01·(100x − 103) + 0.0001·(100x − 103)²
    #     = 1.03 + x − 1.03 + (x² − 2.06x + 1.0609) = x² − 1.06x + 1.0609.
    # (The points miss this parabola by 0.0002 · (−1, 3, −3, 1): no parabola fits them all.)
    fit = fit_tilt([(1.000, 1.0007), (1.020, 1.0207), (1.040, 1.0395), (1.060, 1.0611)])
    assert fit.degree == 2
    assert fit.coefficients == close_to(1.0, -1.06, 1.0609)
    residuals = [
        y - polynomial(fit.coefficients, x)
        for x, y in [(1.000, 1.0007), (1.020, 1.0207), (1.040, 1.0395), (1.060, 1.0611)]
    ]
    assert residuals == close_to(-0.0002, 0.0006, -0.0006, 0.0002)


def test_four_ispindel_angles_make_the_cubic_through_them() -> None:
    # SG = 0.000001·θ³ − 0.0001·θ² + 0.005·θ + 0.95 at
    #   θ = 25: 0.015625 − 0.0625 + 0.125 + 0.95 = 1.028125
    #   θ = 40: 0.064    − 0.16   + 0.2   + 0.95 = 1.054
    #   θ = 55: 0.166375 − 0.3025 + 0.275 + 0.95 = 1.088875
    #   θ = 70: 0.343    − 0.49   + 0.35  + 0.95 = 1.153
    fit = fit_ispindel([(25, 1.028125), (40, 1.054), (55, 1.088875), (70, 1.153)])
    assert fit.degree == 3
    assert fit.coefficients == close_to(0.000001, -0.0001, 0.005, 0.95)
    assert fit.warning is None


def test_three_ispindel_angles_make_a_quadratic_with_the_cubic_term_zero() -> None:
    # SG = 0.00002·θ² + 0.001·θ + 0.98: θ = 20 → 0.008 + 0.02 + 0.98 = 1.008;
    # θ = 40 → 0.032 + 0.04 + 0.98 = 1.052; θ = 60 → 0.072 + 0.06 + 0.98 = 1.112.
    fit = fit_ispindel([(20, 1.008), (40, 1.052), (60, 1.112)])
    assert fit.degree == 2
    assert fit.coefficients == close_to(0.0, 0.00002, 0.001, 0.98)
    assert fit.coefficients[0] == 0.0


def test_two_ispindel_angles_make_a_line_with_a_warning() -> None:
    # Through (30, 1.010) and (50, 1.060): slope 0.050 / 20 = 0.0025; 1.010 − 0.075 = 0.935.
    fit = fit_ispindel([(30, 1.010), (50, 1.060)])
    assert fit.degree == 1
    assert fit.coefficients == close_to(0.0, 0.0, 0.0025, 0.935)
    assert fit.warning is not None and "straight line" in fit.warning


def test_many_ispindel_points_on_a_real_range_fit_without_losing_digits() -> None:
    # Angles cubed reach 10^5; the fit must still recover a known cubic from 8 exact points.
    truth = (0.0000012, -0.00013, 0.0071, 0.9)
    points = [(angle, polynomial(truth, angle)) for angle in (22, 28, 35, 41, 48, 56, 63, 77)]
    assert fit_ispindel(points).coefficients == pytest.approx(truth, rel=1e-7)


def test_fewer_than_two_points_are_refused() -> None:
    with pytest.raises(CalibrationError, match=r"at least 2 points.*got 1"):
        fit_tilt([(1.000, 1.000)])
    with pytest.raises(CalibrationError, match=r"at least 2 points.*got 0"):
        fit_ispindel([])


def test_points_sharing_their_x_value_are_refused_with_the_values_named() -> None:
    with pytest.raises(CalibrationError) as refused:
        fit_tilt([(1.050, 1.048), (1.050, 1.052)])
    assert str(refused.value) == (
        "the 2 points hold 1 different Tilt reading (1.05); a straight line needs 2: "
        "add a point at another gravity"
    )
    with pytest.raises(
        CalibrationError,
        match=r"3 points hold 2 different Tilt readings \(1, 1.05\); a quadratic needs 3",
    ):
        fit_tilt([(1.000, 1.000), (1.050, 1.048), (1.050, 1.052)])
    with pytest.raises(
        CalibrationError, match=r"3 different angles \(30, 50, 60\); a cubic needs 4"
    ):
        fit_ispindel([(30, 1.01), (30, 1.02), (50, 1.06), (60, 1.08)])


def test_repeated_measurements_at_one_x_still_fit_when_enough_x_values_differ() -> None:
    # Two readings at 1.040 (actual 1.041 and 1.043). Three different readings fix the three
    # terms of a quadratic, so the least-squares fit passes through each reading's mean:
    # (1.000, 1.000), (1.040, 1.042), (1.080, 1.084), which all lie on y = 1.05x − 0.05.
    fit = fit_tilt([(1.000, 1.000), (1.040, 1.041), (1.040, 1.043), (1.080, 1.084)])
    assert fit.degree == 2
    assert fit.coefficients == close_to(0.0, 1.05, -0.05)


@pytest.mark.parametrize(
    "point", [(1.0,), (1.0, 1.0, 1.0), ("1.0", 1.0), (float("nan"), 1.0), (1.0, float("inf"))]
)
def test_points_that_are_not_two_finite_numbers_are_refused(point: tuple) -> None:
    with pytest.raises(CalibrationError, match="calibration point"):
        fit_tilt([(1.0, 1.0), point, (1.1, 1.1)])


def test_calibration_errors_are_value_errors() -> None:
    assert issubclass(CalibrationError, ValueError)


def test_readings_too_close_to_tell_apart_are_refused_rather_than_fitted_wildly() -> None:
    with pytest.raises(CalibrationError, match="too close together"):
        fit_tilt([(1.0, 1.0), (1.0 + 1e-10, 1.01), (1.1, 1.1)])
