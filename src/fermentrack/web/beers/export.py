"""A whole beer as CSV, streamed from the database a chunk at a time.

Columns: time (UTC, ISO 8601), beer_temp, beer_set, fridge_temp, fridge_set, room_temp,
state (its name), unit, annotations, gravity (SG, 4 decimals), gravity_sensor. The gravity
columns come last so spreadsheets made before they existed still find every column in place.
A beer is its device's log from started_at to ended_at (both included; to now while it runs).
Annotations at the time of a point go in that row's annotations column as "text (source)",
several joined by " | "; one at a time with no point gets a row of its own with only time and
annotations filled. Gravity readings are those of the beer's chamber that the graph draws (not
hidden, not outliers; a person's correction in place of the measured value): the first at a
point's second (by sensor name) goes in that point's row, every other one gets a row of its own
with only time and the gravity columns filled. Text that a spreadsheet would take for a formula
(starting with = + - @), in annotations and sensor names, is prefixed with a quote.
"""

from __future__ import annotations

import csv
import heapq
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.text import slugify

from fermentrack.web.beers.api import share_token_opens
from fermentrack.web.beers.models import Annotation, Beer, ControlState, LogPoint
from fermentrack.web.brewery.access import can_view
from fermentrack.web.gravity.models import GRAVITY_DECIMALS, GravityReading
from fermentrack.web.gravity.summary import counting

HEADER = (
    "time",
    "beer_temp",
    "beer_set",
    "fridge_temp",
    "fridge_set",
    "room_temp",
    "state",
    "unit",
    "annotations",
    "gravity",
    "gravity_sensor",
)
CHUNK_ROWS = 2000
_STATE_NAMES = {state.value: state.label for state in ControlState}
_NO_POINT = ("",) * 7  # beer_temp to unit, in a row that holds no log point


def beer_csv(request: HttpRequest, beer_id: int):
    """The beer's CSV download, for whoever may view it or holds its share token."""
    share = request.GET.get("share")
    if not can_view(request.user) and not share:
        return redirect_to_login(request.get_full_path())
    beer = get_object_or_404(Beer.objects.select_related("device"), pk=beer_id)
    if not can_view(request.user) and not share_token_opens(beer, share):
        raise PermissionDenied("this share link does not open this beer")
    response = StreamingHttpResponse(csv_chunks(beer), content_type="text/csv; charset=utf-8")
    filename = f"{beer.device.name}-{slugify(beer.name) or beer.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_chunks(beer: Beer) -> Iterator[str]:
    """The CSV text of `beer`, a few thousand rows at a time."""
    lines = _Lines()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(HEADER)
    for row in csv_rows(beer):
        writer.writerow(row)
        if len(lines.parts) >= CHUNK_ROWS:
            yield lines.take()
    yield lines.take()


def csv_rows(beer: Beer) -> Iterator[tuple]:
    """The rows of `beer` after the header: points, annotations and gravity readings merged by
    time, the points and readings read a chunk at a time."""
    window = {"device_id": beer.device_id, "ts__gte": beer.started_at}
    if beer.ended_at is not None:
        window["ts__lte"] = beer.ended_at
    notes: dict[int, list[str]] = {}
    for ts, text, source in (
        Annotation.objects.filter(**window).order_by("ts", "id").values_list("ts", "text", "source")
    ):
        notes.setdefault(ts, []).append(f"{_safe(text)} ({source})")
    points = (
        LogPoint.objects.filter(**window)
        .order_by("ts")
        .values_list(
            "ts",
            "beer_temp",
            "beer_set",
            "fridge_temp",
            "fridge_set",
            "room_temp",
            "state",
            "temp_format",
        )
        .iterator(chunk_size=CHUNK_ROWS)
    )
    readings = (
        counting(GravityReading.objects.filter(**window))
        .order_by("ts", "sensor__name")
        .values_list("ts", "corrected_gravity", "gravity", "sensor__name")
        .iterator(chunk_size=CHUNK_ROWS)
    )
    merged = heapq.merge(
        ((point[0], "point", point) for point in points),
        ((ts, "notes", texts) for ts, texts in sorted(notes.items())),
        ((reading[0], "reading", reading) for reading in readings),
        key=itemgetter(0),
    )
    for ts, at_this_second in groupby(merged, key=itemgetter(0)):
        point, annotation, gravities = None, "", []
        for _, kind, item in at_this_second:
            if kind == "point":
                point = item
            elif kind == "notes":
                annotation = " | ".join(item)
            else:
                _, corrected, measured, sensor = item
                shown = corrected if corrected is not None else measured
                gravities.append((f"{shown:.{GRAVITY_DECIMALS}f}", _safe(sensor)))
        if point is not None:
            _, *temperatures, state, unit = point
            yield (
                _time(ts),
                *("" if value is None else value for value in temperatures),
                "" if state is None else _STATE_NAMES.get(state, state),
                unit,
                annotation,
                *(gravities.pop(0) if gravities else ("", "")),
            )
        elif annotation:
            yield (_time(ts), *_NO_POINT, annotation, "", "")
        for gravity in gravities:
            yield (_time(ts), *_NO_POINT, "", *gravity)


def _time(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _safe(text: str) -> str:
    return "'" + text if text.startswith(("=", "+", "-", "@")) else text


class _Lines:
    """A file-like sink for csv.writer that collects lines until taken."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts = []
        return text
