"""The low-pass filters BrewPi runs on every temperature reading (brewpi-protocol §8.2).

A filter is three identical second-order IIR sections in series. With b the `*Filt` setting and
a = 2b + 4, each section computes

    y[n] = (2 - 2^-b)·y[n-1] - (1 - 2^-b + 4·2^-a)·y[n-2] + 2^-a·(x[n] + 2·x[n-1] + x[n-2])

on "precise" values: 32-bit integers holding a temperature with 16 extra fraction bits. Every
power-of-two coefficient is an arithmetic right shift of its own term, so the rounding (toward
minus infinity, term by term) is part of the filter's definition; DC gain is exactly 1.

Python integers do not overflow, so results equal the firmware's 32-bit ones whenever the true
value fits in 32 bits, which it does for temperatures and realistic slopes.
"""

from __future__ import annotations

from fermentrack.brewpi.temperature import INVALID_TEMP

PRECISE_BITS = 16  # extra fraction bits of a precise value
MIN_FILTER_B = 0
MAX_FILTER_B = 6

# 50 % step-response delay of one section, in samples, as the protocol lists it; the cascade of
# three sections takes three times as long.
SECTION_STEP_DELAY_S = {0: 3, 1: 6, 2: 13, 3: 26, 4: 53, 5: 106, 6: 213}


def to_precise(temp: int) -> int:
    return temp << PRECISE_BITS


def from_precise(value: int) -> int:
    """Back to 1/512 °C, truncating toward minus infinity as the firmware's shift does."""
    return value >> PRECISE_BITS


def check_filter_b(b: int) -> int:
    if not (isinstance(b, int) and MIN_FILTER_B <= b <= MAX_FILTER_B):
        raise ValueError(f"filter setting b={b!r} must be a whole number from 0 to 6")
    return b


class FilterSection:
    """One second-order section, kept simple; `CascadedFilter` is the fast production form.

    The section is the reference the cascade is tested against, and the unit whose step
    response the protocol documents.
    """

    __slots__ = ("_a", "_b", "_x", "_y")

    def __init__(self, b: int) -> None:
        self._b = 0
        self._a = 4
        self.set_coefficients(b)
        self._x = [0, 0, 0]  # x[n], x[n-1], x[n-2], precise
        self._y = [0, 0, 0]  # y[n], y[n-1], y[n-2], precise

    @property
    def b(self) -> int:
        return self._b

    def set_coefficients(self, b: int) -> None:
        """Change b (and so a) without touching the history, as the firmware does."""
        self._b = check_filter_b(b)
        self._a = 2 * b + 4

    def init(self, temp: int) -> None:
        """Fill the whole history with one reading, so the output starts settled on it."""
        self.init_precise(to_precise(temp))

    def init_precise(self, value: int) -> None:
        self._x = [value] * 3
        self._y = [value] * 3

    def add(self, temp: int) -> int:
        return from_precise(self.add_precise(to_precise(temp)))

    def add_precise(self, value: int) -> int:
        a, b = self._a, self._b
        x1, x2 = self._x[0], self._x[1]
        y1, y2 = self._y[0], self._y[1]
        y0 = (
            (y1 << 1)
            - (y1 >> b)  # (2 - 2^-b)·y[n-1]
            - y2
            + (y2 >> b)
            - (y2 >> (a - 2))  # -(1 - 2^-b + 4·2^-a)·y[n-2]
            + (value >> a)
            + (x1 >> (a - 1))  # 2·x[n-1]·2^-a, exactly
            + (x2 >> a)
        )
        self._x = [value, x1, x2]
        self._y = [y0, y1, y2]
        return y0

    def read_output(self) -> int:
        return from_precise(self._y[0])

    def read_output_precise(self) -> int:
        return self._y[0]

    def detect_positive_peak(self) -> int:
        """y[n-1] if it was a maximum (y[n] < y[n-1] >= y[n-2]), else INVALID_TEMP."""
        y0, y1, y2 = self._y
        return from_precise(y1) if y0 < y1 >= y2 else INVALID_TEMP

    def detect_negative_peak(self) -> int:
        """y[n-1] if it was a minimum (y[n] > y[n-1] <= y[n-2]), else INVALID_TEMP."""
        y0, y1, y2 = self._y
        return from_precise(y1) if y0 > y1 <= y2 else INVALID_TEMP


class CascadedFilter:
    """Three identical `FilterSection`s in series, written out by hand for speed.

    The control loop runs four to six of these every second, and a benchmark simulates weeks
    of them, so the three sections are unrolled into one method on local integers. Because a
    section's input is the previous section's output, the input history of sections two and
    three is the output history of the section before; only the first section keeps its own.
    """

    __slots__ = ("_b", "_shifts", "_state")

    def __init__(self, b: int) -> None:
        self._b = 0
        self._shifts = (0, 4, 3, 2)
        self.set_coefficients(b)
        # x[n-1], x[n-2] of the input, then y[n], y[n-1] of sections 1 and 2, then y[n], y[n-1],
        # y[n-2] of section 3 (the last one keeps three for peak detection). All precise.
        self._state = [0] * 9

    @property
    def b(self) -> int:
        return self._b

    def set_coefficients(self, b: int) -> None:
        """Change b in every section, keeping the history (the firmware does not reset it)."""
        self._b = check_filter_b(b)
        a = 2 * b + 4
        self._shifts = (b, a, a - 1, a - 2)  # one attribute load in the hot path

    def init(self, temp: int) -> None:
        """Fill every section's history with one reading."""
        self._state = [to_precise(temp)] * 9

    def add(self, temp: int) -> int:
        """Feed one reading (1/512 °C) and return the new output (1/512 °C)."""
        return self.add_precise(temp << PRECISE_BITS) >> PRECISE_BITS

    def add_precise(self, x0: int) -> int:
        b, a, a1, a2 = self._shifts
        x1, x2, p1, p2, q1, q2, r1, r2, _ = self._state
        p0 = (
            (p1 << 1) - (p1 >> b) - p2 + (p2 >> b) - (p2 >> a2) + (x0 >> a) + (x1 >> a1) + (x2 >> a)
        )
        q0 = (
            (q1 << 1) - (q1 >> b) - q2 + (q2 >> b) - (q2 >> a2) + (p0 >> a) + (p1 >> a1) + (p2 >> a)
        )
        r0 = (
            (r1 << 1) - (r1 >> b) - r2 + (r2 >> b) - (r2 >> a2) + (q0 >> a) + (q1 >> a1) + (q2 >> a)
        )
        self._state = [x0, x1, p0, p1, q0, q1, r0, r1, r2]
        return r0

    def read_output(self) -> int:
        return self._state[6] >> PRECISE_BITS

    def read_output_precise(self) -> int:
        return self._state[6]

    def detect_positive_peak(self) -> int:
        """The last section's y[n-1] if it was a maximum, else INVALID_TEMP (§8.2)."""
        y0, y1, y2 = self._state[6:9]
        return y1 >> PRECISE_BITS if y0 < y1 >= y2 else INVALID_TEMP

    def detect_negative_peak(self) -> int:
        """The last section's y[n-1] if it was a minimum, else INVALID_TEMP (§8.2)."""
        y0, y1, y2 = self._state[6:9]
        return y1 >> PRECISE_BITS if y0 > y1 <= y2 else INVALID_TEMP
