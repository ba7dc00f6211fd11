"""Calibration curves fitted from a brewer's measurements (gravity-and-push.md §4.1, §4.3).

A Tilt maps its own reading to the true gravity with b·g² + c·g + d; an iSpindel maps its tilt
angle to gravity with a·θ³ + b·θ² + c·θ + d. Both are least-squares polynomial fits, written out
here (normal equations solved by elimination with partial pivoting) so that the web app needs
no numerical library. Coefficients are always given highest power first, with every term the
sensor stores: a lower-degree fit has its higher terms exactly zero, so a new straight-line fit
clears the curve an older fit left (Fermentrack's original kept it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

TILT_TERMS = 3  # b, c, d
ISPINDEL_TERMS = 4  # a, b, c, d
_SHAPES = {1: "straight line", 2: "quadratic", 3: "cubic"}


class CalibrationError(ValueError):
    """Points that cannot make a calibration: too few, not numbers, or too alike."""


@dataclass(frozen=True)
class Fit:
    coefficients: tuple[float, ...]  # highest power first, every stored term
    degree: int  # of the fitted polynomial: its higher coefficients are 0
    warning: str | None  # for the brewer, when the fit is usable but doubtful


def fit_tilt(points: list[tuple[float, float]]) -> Fit:
    """(Tilt reading, true SG) points to (b, c, d): a quadratic from 3 points or more, a
    straight line (b = 0) from 2; fewer are refused."""
    _check_points(points, "a Tilt calibration", "(Tilt reading, true gravity)", least=2)
    degree = 2 if len(points) >= 3 else 1
    coefficients = fit_polynomial(points, degree, "Tilt reading")
    return Fit(_with_all_terms(coefficients, TILT_TERMS), degree, None)


def fit_ispindel(points: list[tuple[float, float]]) -> Fit:
    """(angle in degrees, true SG) points to (a, b, c, d): a cubic from 4 points or more, a
    quadratic from 3, a straight line from 2 (with a warning); fewer are refused."""
    _check_points(points, "an iSpindel calibration", "(angle, true gravity)", least=2)
    degree = min(len(points) - 1, 3)
    coefficients = fit_polynomial(points, degree, "angle")
    warning = None
    if degree == 1:
        warning = (
            "a straight line through 2 points: an iSpindel's angle-to-gravity curve bends, "
            "so readings away from these two gravities will be off; add points (4 or more "
            "fit a cubic)"
        )
    return Fit(_with_all_terms(coefficients, ISPINDEL_TERMS), degree, warning)


def polynomial(coefficients: Sequence[float], x: float) -> float:
    """The polynomial with `coefficients` (highest power first) at x."""
    value = 0.0
    for coefficient in coefficients:
        value = value * x + coefficient
    return value


def fit_polynomial(
    points: Sequence[tuple[float, float]], degree: int, x_name: str = "x value"
) -> tuple[float, ...]:
    """The least-squares polynomial of `degree` through `points`, highest power first.

    Powers of raw readings are nearly alike (1.05² is close to 1.05) and angles cubed are large,
    which makes the normal equations lose most of their digits; so the fit is made in
    u = (x − centre) / spread, where u runs over −1 … 1, and then expanded back into powers of x.
    """
    distinct = sorted({x for x, _ in points})
    if len(distinct) < degree + 1:
        shown = ", ".join(f"{x:g}" for x in distinct)
        shape = _SHAPES.get(degree, f"degree-{degree} curve")
        raise CalibrationError(
            f"the {len(points)} points hold {len(distinct)} different "
            f"{x_name if len(distinct) == 1 else x_name + 's'} ({shown}); a {shape} needs "
            f"{degree + 1}: add a point at another gravity"
        )
    centre = sum(x for x, _ in points) / len(points)
    spread = max(abs(x - centre) for x, _ in points) or 1.0
    scaled = [((x - centre) / spread, y) for x, y in points]
    size = degree + 1
    # Normal equations, lowest power first: Σ u^(j+k) · α_k = Σ y · u^j.
    matrix = [[sum(u ** (j + k) for u, _ in scaled) for k in range(size)] for j in range(size)]
    right = [sum(y * u**j for u, y in scaled) for j in range(size)]
    in_u = _solve(matrix, right, x_name)
    # α_k · ((x − m)/s)^k = α_k · s^−k · Σ_j C(k, j) · x^j · (−m)^(k − j)
    in_x = [0.0] * size
    for k, alpha in enumerate(in_u):
        for j in range(k + 1):
            in_x[j] += alpha * spread**-k * math.comb(k, j) * (-centre) ** (k - j)
    return tuple(reversed(in_x))


def _solve(matrix: list[list[float]], right: list[float], x_name: str) -> list[float]:
    """Gaussian elimination with partial pivoting; CalibrationError for a singular system."""
    size = len(right)
    rows = [[*row, value] for row, value in zip(matrix, right, strict=True)]
    largest = max(abs(value) for row in matrix for value in row)
    for column in range(size):
        pivot = max(range(column, size), key=lambda row: abs(rows[row][column]))
        if abs(rows[pivot][column]) <= 1e-12 * largest:
            raise CalibrationError(
                f"the points do not fix a curve: their {x_name}s are too close together; "
                "measure at gravities further apart"
            )
        rows[column], rows[pivot] = rows[pivot], rows[column]
        for row in range(column + 1, size):
            factor = rows[row][column] / rows[column][column]
            for k in range(column, size + 1):
                rows[row][k] -= factor * rows[column][k]
    solution = [0.0] * size
    for row in reversed(range(size)):
        known = sum(rows[row][k] * solution[k] for k in range(row + 1, size))
        solution[row] = (rows[row][size] - known) / rows[row][row]
    return solution


def _check_points(points: Sequence[object], what: str, shape: str, least: int) -> None:
    if len(points) < least:
        raise CalibrationError(f"{what} needs at least {least} points {shape}, got {len(points)}")
    for point in points:
        if not (
            isinstance(point, tuple | list)
            and len(point) == 2
            and all(
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                for value in point
            )
        ):
            raise CalibrationError(f"calibration point {point!r}: expected {shape} as numbers")


def _with_all_terms(coefficients: tuple[float, ...], terms: int) -> tuple[float, ...]:
    return (0.0,) * (terms - len(coefficients)) + tuple(coefficients)
