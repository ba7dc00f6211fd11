"""Keeping gravity data clean: values that cannot be physical, and spikes among good ones.

A reading outside the physical limits is refused with the reason. A spike (a Tilt knocked by
bubbles, a reading taken as the fermenter was moved) is only marked: the data stays, and a
person decides.
"""

from __future__ import annotations

import math
from statistics import median

GRAVITY_LIMITS = (0.980, 1.200)  # SG: drier than any finished beer, heavier than any wort
TEMPERATURE_LIMITS_C = (-10.0, 60.0)  # a fermenter is neither frozen solid nor near boiling


def reading_problem(gravity: float | None, temp_c: float | None) -> str | None:
    """Why a reading is not physical, in words naming the value and the range; None when it
    is. A value that is None (not measured) is not checked."""
    low, high = GRAVITY_LIMITS
    if gravity is not None and not (math.isfinite(gravity) and low <= gravity <= high):
        return f"gravity {gravity!r} is outside {low:.3f} to {high:.3f} SG"
    low, high = TEMPERATURE_LIMITS_C
    if temp_c is not None and not (math.isfinite(temp_c) and low <= temp_c <= high):
        return f"temperature {temp_c!r} °C is outside {low:g} to {high:g} °C"
    return None


def outliers(values: list[float], window: int = 5, threshold: float = 0.005) -> list[bool]:
    """For each value, whether it lies further than `threshold` from the median of the
    `window` values centred on it: True marks a spike.

    Near either end the window keeps its width and shifts inwards (the first value is judged
    against the first `window` values), so an edge value is judged against as many neighbours
    as any other. With fewer values than `window`, all of them make the window.
    """
    if window < 1 or window % 2 == 0:
        raise ValueError(f"outlier window {window!r}: expected an odd number of values, 1 or more")
    if not threshold >= 0:
        raise ValueError(f"outlier threshold {threshold!r}: expected a number 0 or above")
    width = min(window, len(values))
    half = window // 2
    marks = []
    for index, value in enumerate(values):
        start = min(max(index - half, 0), len(values) - width)
        middle = median(values[start : start + width])
        marks.append(abs(value - middle) > threshold)
    return marks
