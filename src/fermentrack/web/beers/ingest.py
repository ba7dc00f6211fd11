"""Storing what a controller logs: batches of points and annotations, each all or nothing.

A point whose (device, ts) is already stored is a duplicate, not an error, so a controller may
always resend its outbox. Points are stored whether or not a beer is active: a beer is only a
window on the device's log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from fermentrack.web.beers.models import Annotation, LogPoint
from fermentrack.web.beers.rollups import refresh_rollups
from fermentrack.web.devices.models import Device

_LOOKUP_CHUNK = 500  # timestamps per IN (...) query, well under every database's limit


@dataclass(frozen=True)
class IngestResult:
    stored: int
    duplicates: int


def store_points(device: Device, points: Sequence[LogPoint]) -> IngestResult:
    """Store unsaved LogPoints of `device` in one transaction and refresh their rollups.

    A point is a duplicate when its ts is already stored or appears earlier in the batch.
    """
    batch: dict[int, LogPoint] = {}
    for point in points:
        batch.setdefault(point.ts, point)
    with transaction.atomic():
        stored = _stored_timestamps(device, list(batch))
        new = [point for ts, point in batch.items() if ts not in stored]
        for point in new:
            point.device = device
        # ignore_conflicts only covers a race with another writer for the same device.
        LogPoint.objects.bulk_create(new, ignore_conflicts=True)
        refresh_rollups(device.pk, [point.ts for point in new])
    return IngestResult(stored=len(new), duplicates=len(points) - len(new))


def store_annotations(device: Device, annotations: Sequence[Annotation]) -> int:
    """Store unsaved Annotations of `device`; one identical to a stored one is skipped.

    Skipping identical ones (same ts, text and source) makes resending safe here too.
    Returns how many were stored.
    """
    with transaction.atomic():
        timestamps = sorted({annotation.ts for annotation in annotations})
        seen: set[tuple[int, str, str]] = set()
        for chunk in _chunks(timestamps):
            seen.update(
                Annotation.objects.filter(device=device, ts__in=chunk).values_list(
                    "ts", "text", "source"
                )
            )
        new = []
        for annotation in annotations:
            key = (annotation.ts, annotation.text, annotation.source)
            if key not in seen:
                seen.add(key)
                annotation.device = device
                new.append(annotation)
        Annotation.objects.bulk_create(new)
    return len(new)


def _stored_timestamps(device: Device, timestamps: list[int]) -> set[int]:
    stored: set[int] = set()
    for chunk in _chunks(sorted(timestamps)):
        stored.update(
            LogPoint.objects.filter(device=device, ts__in=chunk).values_list("ts", flat=True)
        )
    return stored


def _chunks(values: list[int]) -> list[list[int]]:
    return [values[i : i + _LOOKUP_CHUNK] for i in range(0, len(values), _LOOKUP_CHUNK)]
