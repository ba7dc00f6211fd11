"""What the pages say about a sensor's latest reading: its gravity and temperature in the
sensor's units, its battery, its age, and whether it is stale (older than twice the sensor's
expected interval: then it is shown as the last reading, never as the current one). And, for a
beer, apparent attenuation and an ABV estimate from the original gravity set by hand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db.models import Q

from fermentrack.web.devices.cards import duration_text, interval_text
from fermentrack.web.gravity.models import GravityReading, GravitySensor, SensorKind

STALE_AFTER_INTERVALS = 2
ABV_PER_SG_POINT = 131.25  # the common homebrew estimate: ABV % = (OG − SG) × 131.25


def counting(readings):
    """The readings graphs and 'latest' use: not hidden, not outliers, with a gravity."""
    return readings.filter(hidden=False, outlier=False).filter(
        Q(gravity__isnull=False) | Q(corrected_gravity__isnull=False)
    )


@dataclass(frozen=True)
class Latest:
    """A sensor's latest reading as the pages show it."""

    sensor: GravitySensor
    reading: GravityReading | None
    now: int

    @property
    def age_s(self) -> int | None:
        return None if self.reading is None else max(0, self.now - self.reading.ts)

    @property
    def stale(self) -> bool:
        """True when there is no reading, or it is older than twice the expected interval."""
        if self.age_s is None:
            return True
        return self.age_s > STALE_AFTER_INTERVALS * self.sensor.expected_interval_s

    @property
    def gravity_text(self) -> str:
        return self.sensor.format_gravity(self.reading.shown_gravity if self.reading else None)

    @property
    def temperature_text(self) -> str:
        if self.reading is None or self.reading.temperature is None:
            return "–"
        return f"{self.reading.temperature:.1f} °{self.sensor.temp_format}"

    @property
    def battery_text(self) -> str:
        """'3.98 V' for an iSpindel, '12 weeks on its battery' for a Tilt, '' when unknown."""
        if self.reading is None:
            return ""
        if self.reading.battery is not None:
            return f"{self.reading.battery:.2f} V"
        weeks = (self.reading.extra or {}).get("battery_weeks")
        if isinstance(weeks, int):
            return f"{weeks} week{'' if weeks == 1 else 's'} on its battery"
        return ""

    @property
    def age_text(self) -> str:
        if self.age_s is None:
            return "no reading yet"
        if self.age_s < 5:
            return "just now"
        return f"{duration_text(self.age_s)} ago"

    @property
    def expected_text(self) -> str:
        return f"expected every {interval_text(self.sensor.expected_interval_s)}"

    @property
    def stale_text(self) -> str:
        """The sentence a stale reading is shown with."""
        if self.reading is None:
            if self.sensor.kind == SensorKind.MANUAL:
                return "No reading yet: add one."
            return "No reading yet."
        return (
            f"No current reading: the last, {self.gravity_text}, is {duration_text(self.age_s)} "
            f"old ({self.expected_text})."
        )


def latest(sensor: GravitySensor, now: int | None = None, *, before: int | None = None) -> Latest:
    """The sensor's latest reading that counts (at or before `before`, when given)."""
    now = int(time.time()) if now is None else now
    readings = counting(sensor.readings.all())
    if before is not None:
        readings = readings.filter(ts__lte=before)
    return Latest(sensor, readings.order_by("-ts").first(), now)


def apparent_attenuation(original_gravity: float, gravity: float) -> float | None:
    """Percent of the original gravity's extract gone: (OG − SG) / (OG − 1) × 100."""
    if original_gravity <= 1.0:
        return None
    return round((original_gravity - gravity) / (original_gravity - 1.0) * 100, 1)


def abv_estimate(original_gravity: float, gravity: float) -> float:
    return round((original_gravity - gravity) * ABV_PER_SG_POINT, 1)


@dataclass(frozen=True)
class BeerGravity:
    """One sensor's latest reading within a beer, with what follows from the OG."""

    latest: Latest
    attenuation: float | None
    abv: float | None


def beer_gravity(beer, now: int | None = None) -> list[BeerGravity]:
    """For every sensor that read in the beer's chamber during the beer, its latest reading
    there, and the apparent attenuation and ABV from the beer's original gravity."""
    now = int(time.time()) if now is None else now
    end = beer.ended_at if beer.ended_at is not None else now
    in_beer = counting(GravityReading.objects.filter(device=beer.device_id)).filter(
        ts__gte=beer.started_at, ts__lte=end
    )
    sensor_ids = set(in_beer.values_list("sensor_id", flat=True).distinct())
    found = []
    for sensor in GravitySensor.objects.filter(pk__in=sensor_ids).order_by("name"):
        reading = in_beer.filter(sensor=sensor).order_by("-ts").first()
        attenuation = abv = None
        if reading is not None and beer.original_gravity is not None:
            attenuation = apparent_attenuation(beer.original_gravity, reading.shown_gravity)
            abv = abv_estimate(beer.original_gravity, reading.shown_gravity)
        found.append(BeerGravity(Latest(sensor, reading, now), attenuation, abv))
    return found
