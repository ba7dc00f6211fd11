"""Log points folded into 5-minute and 1-hour buckets, so a long graph reads few rows.

A bucket is always recomputed from the raw rows it covers (delete it, insert the aggregate),
never updated in place: a late, resent or duplicate point cannot leave it wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, Max, Min, Q, Sum

from fermentrack.web.beers.models import COOLING_STATES, HEATING_STATES, LogPoint, PointRollup

RESOLUTIONS_S = (300, 3600)
_MEASURED = ("beer_temp", "fridge_temp", "room_temp")  # min, max, sum and count
_SETTINGS = ("beer_set", "fridge_set")  # sum and count (their mean is what a graph shows)


def refresh_rollups(device_id: int, timestamps: Iterable[int]) -> None:
    """Recompute every bucket, at every resolution, that holds one of `timestamps`."""
    timestamps = list(timestamps)
    for resolution in RESOLUTIONS_S:
        buckets = sorted({ts - ts % resolution for ts in timestamps})
        for first, last in _runs(buckets, resolution):
            recompute_buckets(device_id, resolution, first, last + resolution)


def recompute_buckets(device_id: int, resolution: int, start: int, end: int) -> None:
    """Rebuild the buckets of one resolution whose start lies in [start, end) from raw rows."""
    PointRollup.objects.filter(
        device_id=device_id, resolution_s=resolution, bucket_ts__gte=start, bucket_ts__lt=end
    ).delete()
    # Integer division truncates in SQLite and PostgreSQL alike; ts is never negative.
    bucket = ExpressionWrapper(F("ts") / resolution * resolution, output_field=BigIntegerField())
    aggregates = {"points": Count("id")}
    for name in _MEASURED:
        aggregates[f"{name}_min"] = Min(name)
        aggregates[f"{name}_max"] = Max(name)
    for name in (*_MEASURED, *_SETTINGS):
        aggregates[f"{name}_sum"] = Sum(name)
        aggregates[f"{name}_n"] = Count(name)
    aggregates["heating"] = Count("id", filter=Q(state__in=HEATING_STATES))
    aggregates["cooling"] = Count("id", filter=Q(state__in=COOLING_STATES))
    rows = (
        LogPoint.objects.filter(device_id=device_id, ts__gte=start, ts__lt=end)
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(**aggregates)
        .order_by("bucket")
    )
    PointRollup.objects.bulk_create(
        PointRollup(
            device_id=device_id, resolution_s=resolution, bucket_ts=row.pop("bucket"), **row
        )
        for row in rows
    )


def _runs(buckets: list[int], step: int) -> Iterator[tuple[int, int]]:
    """Sorted bucket starts as (first, last) runs of neighbours, so each run is one query."""
    if not buckets:
        return
    first = previous = buckets[0]
    for bucket in buckets[1:]:
        if bucket != previous + step:
            yield first, previous
            first = bucket
        previous = bucket
    yield first, previous
