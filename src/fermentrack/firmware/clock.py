"""The one clock the firmware's control loop and its simulated hardware share.

Real time at speed 1; at speed N, N simulated seconds pass per real second, so tests and
benchmarks can run days of fermentation in minutes without changing the algorithm's timing.
"""

from __future__ import annotations

import time


class Clock:
    """Whole simulated seconds since boot, derived from a monotonic real-time source."""

    def __init__(self, speed: float = 1.0, *, real_time=time.monotonic) -> None:
        if not speed > 0:
            raise ValueError(f"clock speed {speed!r} must be a number above 0")
        self.speed = speed
        self._real_time = real_time
        self._started = real_time()

    def due_seconds(self) -> int:
        """How many whole simulated seconds have passed since boot."""
        return int((self._real_time() - self._started) * self.speed)

    def real_delay_until(self, simulated_second: int) -> float:
        """Real seconds to wait until `simulated_second` is due (0 when it already is)."""
        due_at = self._started + simulated_second / self.speed
        return max(0.0, due_at - self._real_time())
