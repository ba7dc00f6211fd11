"""Graph data: a device's log over a range, downsampled in SQL to at most `width` buckets.

The range [start, end) is cut into buckets of `bucket_s` = ceil((end - start) / width) seconds,
so there are never more than `width` of them. Each bucket's min, max and mean per series (and
the share of its points spent heating or cooling) are aggregated by the database, from:

- raw log points when a bucket is shorter than 5 minutes,
- the 5-minute rollups when it is shorter than an hour,
- the 1-hour rollups otherwise (a year at 1200 px reads ~9000 rows, not a million).

A rollup row falls wholly into the bucket its start lies in; the first bucket also takes the
rollup row that straddles `start`. Each row of the answer sits at its bucket's start.

Gaps stay gaps: only buckets holding data are answered, and where more than two rows in a row
are missing (more than 3 expected spacings between two rows; the spacing is the bucket, or the
device's log interval or the rollup's resolution when that is longer) a row of nulls is put in,
so a graph's lines break there. Annotations in the range come along, at most 500, evenly
thinned when there are more (`annotations_total` says how many there were). Gravity sensors'
readings in the chamber come along in the same buckets, each series on its own times
(gravity/series.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import (
    Avg,
    BigIntegerField,
    Count,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    Sum,
)

from fermentrack.web.beers.models import (
    COOLING_STATES,
    HEATING_STATES,
    Annotation,
    LogPoint,
    PointRollup,
)
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.series import device_gravity_series

MIN_WIDTH, MAX_WIDTH = 10, 4000
FIVE_MINUTES, ONE_HOUR = 300, 3600
MAX_ANNOTATIONS = 500
GAP_SPACINGS = 3  # more than this many expected spacings between two rows is a gap
SERIES = (
    "beer_temp",
    "beer_temp_min",
    "beer_temp_max",
    "fridge_temp",
    "fridge_temp_min",
    "fridge_temp_max",
    "room_temp",
    "beer_set",
    "fridge_set",
    "heating",
    "cooling",
)


@dataclass(frozen=True)
class Buckets:
    """How a range is cut: where it starts, how long a bucket is, and where the rows come from."""

    start: int
    end: int
    bucket_s: int
    source_s: int  # 0 for raw points, else the rollup resolution

    @classmethod
    def for_range(cls, start: int, end: int, width: int) -> Buckets:
        if not MIN_WIDTH <= width <= MAX_WIDTH:
            raise ValueError(f"width {width} must be from {MIN_WIDTH} to {MAX_WIDTH} pixels")
        if end <= start:
            raise ValueError(f"end {end} must be after start {start}")
        bucket_s = max(1, math.ceil((end - start) / width))
        if bucket_s < FIVE_MINUTES:
            source_s = 0
        elif bucket_s < ONE_HOUR:
            source_s = FIVE_MINUTES
        else:
            source_s = ONE_HOUR
        return cls(start, end, bucket_s, source_s)

    @property
    def count(self) -> int:
        return math.ceil((self.end - self.start) / self.bucket_s)


def graph_data(
    device: Device, start: int, end: int, width: int, *, source_s: int | None = None
) -> dict:
    """The graph answer (columnar, for uPlot) of `device` over [start, end) at `width` px.

    `source_s` forces the rows' source (0 raw, 300 or 3600), for tests that compare them.
    """
    buckets = Buckets.for_range(start, end, width)
    if source_s is not None:
        buckets = Buckets(start, end, buckets.bucket_s, source_s)
    if buckets.source_s == 0:
        rows = _raw_rows(device, buckets)
        spacing = max(buckets.bucket_s, device.log_interval_s)
    else:
        rows = _rollup_rows(device, buckets)
        spacing = max(buckets.bucket_s, buckets.source_s)
    columns = _columns(rows, buckets, spacing)
    annotations, total = _annotations(device, start, end)
    return {
        "device": device.name,
        "start": start,
        "end": end,
        "bucket_s": buckets.bucket_s,
        "temp_format": device.temp_format,
        **columns,
        "annotations": annotations,
        "annotations_total": total,
        # Each sensor's readings in this chamber, in its own unit and on its own times.
        "gravity": device_gravity_series(device, buckets),
    }


def _bucket_index(field: str, buckets: Buckets) -> ExpressionWrapper:
    # Integer division truncates toward zero in SQLite and PostgreSQL alike, which also puts
    # a rollup row that straddles `start` (a small negative offset) in bucket 0.
    return ExpressionWrapper(
        (F(field) - buckets.start) / buckets.bucket_s, output_field=BigIntegerField()
    )


def _raw_rows(device: Device, buckets: Buckets) -> list[tuple]:
    """(index, *SERIES) per non-empty bucket, from the raw log points."""
    return list(
        LogPoint.objects.filter(device=device, ts__gte=buckets.start, ts__lt=buckets.end)
        .annotate(index=_bucket_index("ts", buckets))
        .values("index")
        .annotate(
            a_beer=Avg("beer_temp"),
            a_beer_min=Min("beer_temp"),
            a_beer_max=Max("beer_temp"),
            a_fridge=Avg("fridge_temp"),
            a_fridge_min=Min("fridge_temp"),
            a_fridge_max=Max("fridge_temp"),
            a_room=Avg("room_temp"),
            a_beer_set=Avg("beer_set"),
            a_fridge_set=Avg("fridge_set"),
            a_heating=Count("id", filter=Q(state__in=HEATING_STATES)),
            a_cooling=Count("id", filter=Q(state__in=COOLING_STATES)),
            a_points=Count("id"),
        )
        .order_by("index")
        .values_list(
            "index",
            "a_beer",
            "a_beer_min",
            "a_beer_max",
            "a_fridge",
            "a_fridge_min",
            "a_fridge_max",
            "a_room",
            "a_beer_set",
            "a_fridge_set",
            "a_heating",
            "a_cooling",
            "a_points",
        )
    )


def _rollup_rows(device: Device, buckets: Buckets) -> list[tuple]:
    """(index, *SERIES) per non-empty bucket, from the rollups of `buckets.source_s`."""
    resolution = buckets.source_s
    sums = (
        PointRollup.objects.filter(
            device=device,
            resolution_s=resolution,
            bucket_ts__gt=buckets.start - resolution,
            bucket_ts__lt=buckets.end,
        )
        .annotate(index=_bucket_index("bucket_ts", buckets))
        .values("index")
        .annotate(
            a_beer_sum=Sum("beer_temp_sum"),
            a_beer_n=Sum("beer_temp_n"),
            a_beer_min=Min("beer_temp_min"),
            a_beer_max=Max("beer_temp_max"),
            a_fridge_sum=Sum("fridge_temp_sum"),
            a_fridge_n=Sum("fridge_temp_n"),
            a_fridge_min=Min("fridge_temp_min"),
            a_fridge_max=Max("fridge_temp_max"),
            a_room_sum=Sum("room_temp_sum"),
            a_room_n=Sum("room_temp_n"),
            a_beer_set_sum=Sum("beer_set_sum"),
            a_beer_set_n=Sum("beer_set_n"),
            a_fridge_set_sum=Sum("fridge_set_sum"),
            a_fridge_set_n=Sum("fridge_set_n"),
            a_heating=Sum("heating"),
            a_cooling=Sum("cooling"),
            a_points=Sum("points"),
        )
        .order_by("index")
        .values_list(
            "index",
            "a_beer_sum",
            "a_beer_n",
            "a_beer_min",
            "a_beer_max",
            "a_fridge_sum",
            "a_fridge_n",
            "a_fridge_min",
            "a_fridge_max",
            "a_room_sum",
            "a_room_n",
            "a_beer_set_sum",
            "a_beer_set_n",
            "a_fridge_set_sum",
            "a_fridge_set_n",
            "a_heating",
            "a_cooling",
            "a_points",
        )
    )
    rows = []
    for (
        index,
        beer_sum,
        beer_n,
        beer_min,
        beer_max,
        fridge_sum,
        fridge_n,
        fridge_min,
        fridge_max,
        room_sum,
        room_n,
        beer_set_sum,
        beer_set_n,
        fridge_set_sum,
        fridge_set_n,
        heating,
        cooling,
        points,
    ) in sums:
        rows.append(
            (
                index,
                _mean(beer_sum, beer_n),
                beer_min,
                beer_max,
                _mean(fridge_sum, fridge_n),
                fridge_min,
                fridge_max,
                _mean(room_sum, room_n),
                _mean(beer_set_sum, beer_set_n),
                _mean(fridge_set_sum, fridge_set_n),
                heating,
                cooling,
                points,
            )
        )
    return rows


def _mean(total: float | None, count: int | None) -> float | None:
    return total / count if count else None


def _shares(heating: int, cooling: int, points: int) -> tuple[float | None, float | None]:
    return (heating / points, cooling / points) if points else (None, None)


def _columns(rows: list[tuple], buckets: Buckets, spacing: int) -> dict[str, list]:
    """Columns t + SERIES, with a row of nulls wherever the rows leave a gap."""
    t = [buckets.start + row[0] * buckets.bucket_s for row in rows]
    values = [
        (*means_mins_maxes, *_shares(heating, cooling, points))
        for _, *means_mins_maxes, heating, cooling, points in rows
    ]
    columns = (
        {
            name: [None if value is None else round(value, 2) for value in column]
            for name, column in zip(SERIES, zip(*values, strict=True), strict=True)
        }
        if rows
        else {name: [] for name in SERIES}
    )
    # Put the null rows in from the end, so earlier positions stay where they are.
    gaps = [i for i in range(1, len(t)) if t[i] - t[i - 1] > GAP_SPACINGS * spacing]
    for i in reversed(gaps):
        t.insert(i, t[i - 1] + spacing)
        for column in columns.values():
            column.insert(i, None)
    return {"t": t, **columns}


def _annotations(device: Device, start: int, end: int) -> tuple[list[dict], int]:
    # Up to and including `end`: a note written this very second belongs on a graph that
    # runs to now.
    found = list(
        Annotation.objects.filter(device=device, ts__gte=start, ts__lte=end)
        .order_by("ts", "id")
        .values_list("ts", "text", "source")
    )
    total = len(found)
    if total > MAX_ANNOTATIONS:
        found = [found[i * total // MAX_ANNOTATIONS] for i in range(MAX_ANNOTATIONS)]
    return [{"ts": ts, "text": text, "source": source} for ts, text, source in found], total
