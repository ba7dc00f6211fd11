"""Graph data over HTTP: a device's log over any range, or a beer's window of it.

Readable by whoever `can_view` (brewery/access.py); a beer's graph also by anyone holding that
beer's share token (`?share=`), and by it only that beer.
"""

from __future__ import annotations

import json
import secrets
import time

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from fermentrack.config import DEVICE_NAME_PATTERN
from fermentrack.web.beers import graph
from fermentrack.web.beers.models import Beer
from fermentrack.web.brewery.access import can_view
from fermentrack.web.devices.api import UNIX_2100, ErrorOut
from fermentrack.web.devices.models import Device

router = Router(tags=["graphs"])
READ_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
DEFAULT_RANGE_S = 24 * 3600
MAX_BEER_ID = 2**63 - 1


class AnnotationOut(Schema):
    ts: int
    text: str
    source: str


class GravitySeriesOut(Schema):
    """One gravity sensor's readings in the chamber, bucketed like the temperatures but on
    times of its own (buckets holding readings)."""

    sensor: str
    sensor_id: int
    unit: str = Field(description='"sg" or "plato": the sensor\'s display unit')
    t: list[int]
    gravity: list[float | None] = Field(
        description="mean of the bucket's readings, outliers and hidden ones left out"
    )


class GraphOut(Schema):
    """Columnar series for uPlot: row i of every list belongs to time t[i]; null is a gap."""

    device: str
    start: int
    end: int
    bucket_s: int
    temp_format: str
    t: list[int]
    beer_temp: list[float | None]
    beer_temp_min: list[float | None]
    beer_temp_max: list[float | None]
    fridge_temp: list[float | None]
    fridge_temp_min: list[float | None]
    fridge_temp_max: list[float | None]
    room_temp: list[float | None]
    beer_set: list[float | None]
    fridge_set: list[float | None]
    heating: list[float | None] = Field(description="share of the bucket's points heating, 0..1")
    cooling: list[float | None] = Field(description="share of the bucket's points cooling, 0..1")
    annotations: list[AnnotationOut]
    annotations_total: int = Field(
        description="annotations in the range; more than 500 are evenly thinned to 500"
    )
    gravity: list[GravitySeriesOut] = Field(
        description="one series per gravity sensor that read in this chamber in the range"
    )


class RangeQuery(Schema):
    start: int | None = Field(
        None, ge=0, le=UNIX_2100, description="Unix seconds; default: a day before end"
    )
    end: int | None = Field(None, ge=0, le=UNIX_2100, description="Unix seconds; default: now")
    width: int = Field(
        1200, ge=graph.MIN_WIDTH, le=graph.MAX_WIDTH, description="pixels: at most this many rows"
    )


class BeerRangeQuery(RangeQuery):
    start: int | None = Field(
        None, ge=0, le=UNIX_2100, description="Unix seconds; default and lowest: the beer's start"
    )
    end: int | None = Field(
        None,
        ge=0,
        le=UNIX_2100,
        description="Unix seconds; default and highest: the beer's end, or now while it runs",
    )
    share: str | None = Field(None, max_length=100, description="the beer's share token")


@router.get("/devices/{name}/graph", response={200: GraphOut, **READ_ERRORS})
def device_graph(request: HttpRequest, name: str, query: Query[RangeQuery]):
    """A device's log over [start, end), at most `width` rows."""
    if not can_view(request.user):
        raise HttpError(401, "log in to see this device's graph")
    device = _device(name)
    end = query.end if query.end is not None else int(time.time())
    start = query.start if query.start is not None else end - DEFAULT_RANGE_S
    return _answer(device, start, end, query.width)


@router.get("/beers/{beer_id}/graph", response={200: GraphOut, **READ_ERRORS})
def beer_graph(request: HttpRequest, beer_id: int, query: Query[BeerRangeQuery]):
    """A beer's window of its device's log (or part of it), at most `width` rows."""
    if not 1 <= beer_id <= MAX_BEER_ID:
        raise HttpError(404, f"there is no beer {beer_id}")
    beer = Beer.objects.select_related("device").filter(pk=beer_id).first()
    if not can_view(request.user) and not share_token_opens(beer, query.share):
        if query.share:
            raise HttpError(403, "this share link does not open this beer")
        raise HttpError(401, "log in, or use the beer's share link, to see its graph")
    if beer is None:
        raise HttpError(404, f"there is no beer {beer_id}")
    window_end = beer.ended_at if beer.ended_at is not None else int(time.time())
    start = max(beer.started_at, query.start if query.start is not None else beer.started_at)
    end = min(window_end, query.end if query.end is not None else window_end)
    reversed_range = query.start is not None and query.end is not None and query.start >= query.end
    if end <= start and not reversed_range:
        # A beer started this very second, or a range outside the beer's window: an empty
        # graph at the window's edge, not an error.
        start = min(start, window_end)
        end = start + 1
    return _answer(beer.device, start, end, query.width)


def share_token_opens(beer: Beer | None, token: str | None) -> bool:
    """True when `token` is `beer`'s share token (compared in constant time)."""
    if beer is None or not token or not beer.share_token:
        return False
    return secrets.compare_digest(token.encode(), beer.share_token.encode())


def _device(name: str) -> Device:
    device = None
    if DEVICE_NAME_PATTERN.match(name):
        device = Device.objects.filter(name=name).first()
    if device is None:
        raise HttpError(404, f"there is no device named {name!r}")
    return device


def _answer(device: Device, start: int, end: int, width: int) -> HttpResponse:
    try:
        data = graph.graph_data(device, start, end, width)
    except ValueError as error:
        raise HttpError(400, str(error)) from None
    # Compact JSON: a year's graph is about 1000 rows of 11 series.
    return HttpResponse(json.dumps(data, separators=(",", ":")), content_type="application/json")
