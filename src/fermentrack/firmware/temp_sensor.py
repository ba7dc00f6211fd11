"""A temperature probe as the control algorithm sees it: filtered values, slope, peaks (§8.2).

Each probe feeds a fast filter (display, on/off decisions), a slow filter (PID error, peak
detection) and, every third reading, a slope filter giving °/hour for the PID's derivative.
"""

from __future__ import annotations

from enum import IntEnum

from fermentrack.brewpi.temperature import INVALID_TEMP, MAX_TEMP, Dialect
from fermentrack.firmware.filters import PRECISE_BITS, CascadedFilter
from fermentrack.firmware.hardware_interface import TempSensorDevice

# Filters are (re)filled with the current reading only after more failed reads than this, so a
# probe that drops out for a moment keeps its filter history.
MAX_FAILED_READS_KEEPING_FILTERS = 60
_FAILED_READS_CAP = 127  # the firmware's counter is a signed byte

SLOPE_COUNTDOWN_START = 255  # readings before the first slope sample: skip start-up transients
SLOPE_REFERENCE_AT = 4  # countdown value at which the first reference is taken
SLOPE_INTERVAL = 3  # readings between slope samples
SLOPE_PER_HOUR = 1200  # 3 s -> 1 h
# The largest change per slope sample, 27/512 °C: 27 × 1200 × 2^16 still fits in 32 bits.
SLOPE_DIFF_LIMIT = 27 << PRECISE_BITS

_LOWEST_READING = -32766  # keeps a calibrated reading clear of the INVALID/DISABLED markers


class FilterKind(IntEnum):
    FAST = 0
    SLOW = 1
    SLOPE = 2


def filter_reconfigured_at_runtime(
    beer: bool, kind: FilterKind, dialect: Dialect
) -> FilterKind | None:
    """Which of a probe's filters a `j{...Filt:n}` setting actually reconfigures right away.

    The AVR firmware numbers the six settings 0–5 (fridge fast, slow, slope, beer fast, slow,
    slope) and finds the filter kind with `number & 3` where `number % 3` was meant. The fridge
    settings come out right; beerFastFilt (3) reconfigures no filter, beerSlowFilt (4) the beer
    fast filter and beerSlopeFilt (5) the beer slow filter (§4.8). The stored constant is right,
    so the next boot applies it properly. ESP has no such bug. None means "no filter".
    """
    if dialect is not Dialect.AVR:
        return kind
    number = int(kind) + (3 if beer else 0)
    masked = number & 3
    return FilterKind(masked) if masked < 3 else None


class FilteredTempSensor:
    """One probe with its fast, slow and slope filters and its connection bookkeeping."""

    __slots__ = (
        "_connected",
        "_failed_reads",
        "_fast",
        "_slope",
        "_slope_countdown",
        "_slope_reference",
        "_slow",
        "calibration",
        "device",
    )

    def __init__(
        self,
        device: TempSensorDevice,
        fast_b: int,
        slow_b: int,
        slope_b: int,
        calibration: int = 0,
    ) -> None:
        self.device = device
        self.calibration = calibration  # 1/512 °C added to every reading
        self._fast = CascadedFilter(fast_b)
        self._slow = CascadedFilter(slow_b)
        self._slope = CascadedFilter(slope_b)
        self._connected = False
        self._failed_reads = -1
        self._slope_countdown = SLOPE_COUNTDOWN_START
        self._slope_reference = 0
        self.reset()

    def reset(self) -> None:
        """Back to power-up: disconnected, never read, every filter at zero (which reads 48 °C)."""
        for cascade in (self._fast, self._slow, self._slope):
            cascade.init(0)
        self._connected = False
        self._failed_reads = -1  # -1: never read since boot
        self._slope_countdown = SLOPE_COUNTDOWN_START
        self._slope_reference = 0

    @property
    def is_connected(self) -> bool:
        return self._connected

    @property
    def failed_reads(self) -> int:
        """Failed reads since the filters were last filled; -1 before the first reading."""
        return self._failed_reads

    @property
    def filter_coefficients(self) -> tuple[int, int, int]:
        """The b of the fast, slow and slope filters."""
        return self._fast.b, self._slow.b, self._slope.b

    def set_filter_coefficients(
        self, fast_b: int | None = None, slow_b: int | None = None, slope_b: int | None = None
    ) -> None:
        """Change some filters' b; their history is kept. None leaves a filter alone."""
        if fast_b is not None:
            self._fast.set_coefficients(fast_b)
        if slow_b is not None:
            self._slow.set_coefficients(slow_b)
        if slope_b is not None:
            self._slope.set_coefficients(slope_b)

    def update(self) -> None:
        """One tick: read the probe and feed the filters, or count a failure and try to reconnect.

        A disconnected probe is not read (the firmware's drivers refuse to), but every tick
        counts as a failed read until `init` brings it back.
        """
        if self._connected:
            temp = self.device.read()
            if temp != INVALID_TEMP:
                self._add(temp)
                return
            self._connected = False
        failed = self._failed_reads
        if 0 <= failed < _FAILED_READS_CAP:
            self._failed_reads = failed + 1
        self._reconnect()

    def _reconnect(self) -> None:
        if not self.device.init():
            return
        self._connected = True
        failed = self._failed_reads
        if 0 <= failed <= MAX_FAILED_READS_KEEPING_FILTERS:
            return  # a short dropout: carry on with the filter history we have
        temp = self.device.read()
        if temp == INVALID_TEMP:
            self._connected = False
            return
        temp = self._calibrated(temp)
        self._fast.init(temp)
        self._slow.init(temp)
        self._slope.init(0)
        # The next slope sample measures change from here, not from before the dropout.
        self._slope_reference = self._slow.read_output_precise()
        self._failed_reads = 0

    def _calibrated(self, temp: int) -> int:
        calibration = self.calibration
        if calibration:
            temp = max(_LOWEST_READING, min(MAX_TEMP, temp + calibration))
        return temp

    def _add(self, temp: int) -> None:
        if self.calibration:
            temp = self._calibrated(temp)
        precise = temp << PRECISE_BITS
        self._fast.add_precise(precise)
        slow = self._slow.add_precise(precise)
        countdown = self._slope_countdown - 1
        if countdown == 0:
            change = slow - self._slope_reference
            if change > SLOPE_DIFF_LIMIT:
                change = SLOPE_DIFF_LIMIT
            elif change < -SLOPE_DIFF_LIMIT:
                change = -SLOPE_DIFF_LIMIT
            self._slope.add_precise(change * SLOPE_PER_HOUR)
            self._slope_reference = slow
            countdown = SLOPE_INTERVAL
        elif countdown == SLOPE_REFERENCE_AT:
            self._slope_reference = slow
        self._slope_countdown = countdown

    # -- what the algorithm reads; filter outputs whether or not the probe is connected now ----

    def read_fast(self) -> int:
        return self._fast.read_output()

    def read_slow(self) -> int:
        return self._slow.read_output()

    def read_slope(self) -> int:
        """Rate of change of the slow value, in 1/512 °C per hour."""
        return self._slope.read_output()

    def detect_positive_peak(self) -> int:
        """The slow filter's last maximum if it just happened, else INVALID_TEMP."""
        return self._slow.detect_positive_peak()

    def detect_negative_peak(self) -> int:
        """The slow filter's last minimum if it just happened, else INVALID_TEMP."""
        return self._slow.detect_negative_peak()
