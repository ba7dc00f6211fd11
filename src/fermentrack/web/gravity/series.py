"""Gravity readings downsampled for graphs, in SQL, into the buckets the temperature graph uses
(beers/graph.py): each bucket holds the mean of its readings that count (not hidden, not marked
as outliers; a person's correction in place of the measured value), in the sensor's display
unit. Where readings stop for more than three expected spacings a row of nulls breaks the line.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

from django.db.models import Avg, BigIntegerField, ExpressionWrapper, F, Q
from django.db.models.functions import Coalesce

from fermentrack.web.gravity.models import GravityReading, GravitySensor

GAP_SPACINGS = 3  # as beers/graph.py: more than this many expected spacings is a gap
SHOWN_GRAVITY = Coalesce("corrected_gravity", "gravity")
COUNTS = Q(outlier=False)  # with hidden=False on the query itself


class Window(Protocol):
    """A range cut into buckets (beers.graph.Buckets fits)."""

    start: int
    end: int
    bucket_s: int


def _bucket_index(window: Window) -> ExpressionWrapper:
    return ExpressionWrapper(
        (F("ts") - window.start) / window.bucket_s, output_field=BigIntegerField()
    )


def _in_window(window: Window):
    return GravityReading.objects.filter(ts__gte=window.start, ts__lt=window.end, hidden=False)


def device_gravity_series(device, window: Window) -> list[dict]:
    """One series per sensor that read in `device`'s chamber during the window, by name:
    {"sensor", "sensor_id", "unit" ("sg" | "plato"), "t", "gravity"}."""
    rows = (
        _in_window(window)
        .filter(device=device)
        .filter(COUNTS)
        .exclude(gravity__isnull=True, corrected_gravity__isnull=True)
        .annotate(index=_bucket_index(window))
        .values("sensor_id", "index")
        .annotate(mean=Avg(SHOWN_GRAVITY))
        .order_by("sensor_id", "index")
        .values_list("sensor_id", "index", "mean")
    )
    by_sensor: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for sensor_id, index, mean in rows:
        by_sensor[sensor_id].append((index, mean))
    sensors = GravitySensor.objects.filter(pk__in=list(by_sensor)).order_by("name")
    series = []
    for sensor in sensors:
        t, (gravity,) = _columns(
            [(index, sensor.gravity_in_unit(mean)) for index, mean in by_sensor[sensor.pk]],
            window,
            spacing=max(window.bucket_s, sensor.expected_interval_s),
            width=1,
        )
        series.append(
            {
                "sensor": sensor.name,
                "sensor_id": sensor.pk,
                "unit": sensor.display_unit,
                "t": t,
                "gravity": gravity,
            }
        )
    return series


def sensor_series(sensor: GravitySensor, window: Window) -> dict:
    """A sensor's gravity (display unit) and temperature (its unit) over the window."""
    rows = (
        _in_window(window)
        .filter(sensor=sensor)
        .annotate(index=_bucket_index(window))
        .values("index")
        .annotate(mean=Avg(SHOWN_GRAVITY, filter=COUNTS), temperature=Avg("temperature"))
        .order_by("index")
        .values_list("index", "mean", "temperature")
    )
    t, (gravity, temperature) = _columns(
        [
            (index, sensor.gravity_in_unit(mean), None if temp is None else round(temp, 2))
            for index, mean, temp in rows
        ],
        window,
        spacing=max(window.bucket_s, sensor.expected_interval_s),
        width=2,
    )
    return {"t": t, "gravity": gravity, "temperature": temperature}


def _columns(
    rows: list[tuple], window: Window, spacing: int, width: int
) -> tuple[list[int], list[list]]:
    """(t, `width` value columns) from (index, *values) rows, with a row of nulls in every
    gap."""
    t = [window.start + row[0] * window.bucket_s for row in rows]
    columns = [[row[i + 1] for row in rows] for i in range(width)]
    for i in reversed(range(1, len(t))):
        if t[i] - t[i - 1] > GAP_SPACINGS * spacing:
            t.insert(i, t[i - 1] + spacing)
            for column in columns:
                column.insert(i, None)
    return t, columns
