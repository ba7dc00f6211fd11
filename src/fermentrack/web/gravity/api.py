"""The gravity API: what our Tilt scanner posts (by the scanner token), and a sensor's graph.

POST /api/gravity/bluetooth takes the readings the scanner averaged and the version beacons it
heard; colours no Tilt sensor listens to are skipped, readings outside the physical limits are
refused with the reason, the others stored. Resending is safe: a reading of a second already
stored counts as a duplicate.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Annotated

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer

from fermentrack.web.beers.api import READ_ERRORS, RangeQuery
from fermentrack.web.beers.graph import Buckets
from fermentrack.web.brewery.access import can_view
from fermentrack.web.devices.api import (
    POST_ERRORS,
    BodyIn,
    UnixTime,
    _refuse_oversize_body,
    _require_json,
    whole_number,
)
from fermentrack.web.gravity import series
from fermentrack.web.gravity.models import (
    GravityReading,
    GravitySensor,
    ReadingRefused,
    SensorKind,
    store_readings,
)
from fermentrack.web.gravity.scanner_auth import scanner_token_matches

log = logging.getLogger("fermentrack.gravity")
router = Router(tags=["gravity"])
MAX_READINGS_PER_CALL = 10000  # a 1 MB body holds about 8000 readings
MAX_SENSOR_ID = 2**63 - 1


class ScannerToken(HttpBearer):
    """Before the body is parsed: 413 for a body over the limit, 401 for a wrong token."""

    def __call__(self, request: HttpRequest) -> bool:
        _refuse_oversize_body(request)
        if not super().__call__(request):
            raise HttpError(
                401, "expected the Tilt scanner's token as 'Authorization: Bearer <token>'"
            )
        _require_json(request)
        return True

    def authenticate(self, request: HttpRequest, token: str) -> bool:
        return scanner_token_matches(token)


Colour = Annotated[str, Field(min_length=1, max_length=16, strict=True)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class TiltReadingIn(BodyIn):
    colour: Colour
    ts: UnixTime
    temp_f: Number
    gravity: Number = Field(description="the Tilt's own SG, before calibration")
    pro: Annotated[bool, Field(strict=True)] = False
    battery_weeks: whole_number("weeks from 0 to 255", ge=0, le=255) | None = None
    rssi: whole_number("dBm from -150 to 20", ge=-150, le=20) | None = None


class TiltVersionIn(BodyIn):
    colour: Colour
    firmware_version: whole_number("a version from 0 to 99999", ge=0, le=99999)


class BluetoothIn(BodyIn):
    readings: list[TiltReadingIn] = Field(default_factory=list, max_length=MAX_READINGS_PER_CALL)
    versions: list[TiltVersionIn] = Field(default_factory=list, max_length=100)


class RefusedOut(Schema):
    colour: str
    ts: int
    reason: str


class BluetoothOut(Schema):
    stored: int
    skipped: int = Field(description="readings of colours no active Tilt sensor listens to")
    duplicates: int = Field(description="readings of a second already stored")
    refused: list[RefusedOut] = Field(description="readings outside the physical limits")


@router.post("/bluetooth", response={200: BluetoothOut, **POST_ERRORS}, auth=ScannerToken())
def bluetooth(request, payload: BluetoothIn):
    """Store what the Tilt scanner heard: readings per colour, and firmware versions."""
    listening = {
        sensor.colour.lower(): sensor
        for sensor in GravitySensor.objects.filter(kind=SensorKind.TILT, active=True)
    }
    by_sensor: dict[int, list[GravityReading]] = {}
    skipped, refused = 0, []
    for item in payload.readings:
        sensor = listening.get(item.colour.lower())
        if sensor is None:
            skipped += 1
            continue
        extra = {"pro": item.pro}
        if item.battery_weeks is not None:
            extra["battery_weeks"] = item.battery_weeks
        try:
            reading = sensor.new_reading(
                item.ts,
                raw=item.gravity,  # the scanner's mean: it may hold a fifth decimal
                temperature=item.temp_f,
                temp_unit="F",
                rssi=item.rssi,
                extra=extra,
            )
        except ReadingRefused as reason:
            log.warning(
                "Tilt scanner: %s Tilt reading at %d refused: %s", sensor.colour, item.ts, reason
            )
            refused.append({"colour": item.colour, "ts": item.ts, "reason": str(reason)})
            continue
        by_sensor.setdefault(sensor.pk, []).append(reading)
    stored = duplicates = 0
    sensors = {sensor.pk: sensor for sensor in listening.values()}
    for pk, readings in by_sensor.items():
        new, known = store_readings(sensors[pk], readings)
        stored, duplicates = stored + new, duplicates + known
    for version in payload.versions:
        sensor = listening.get(version.colour.lower())
        if (
            sensor is not None
            and sensor.reported.get("firmware_version") != version.firmware_version
        ):
            sensor.reported = {**sensor.reported, "firmware_version": version.firmware_version}
            sensor.save(update_fields=["reported"])
    return {"stored": stored, "skipped": skipped, "duplicates": duplicates, "refused": refused}


# -- a sensor's graph ----------------------------------------------------------------------------


class SensorGraphOut(Schema):
    """Columnar series for uPlot: row i of every list belongs to time t[i]; null is a gap."""

    sensor: str
    sensor_id: int
    unit: str = Field(description='"sg" or "plato": the unit of `gravity`')
    temp_format: str
    start: int
    end: int
    bucket_s: int
    t: list[int]
    gravity: list[float | None]
    temperature: list[float | None]


@router.get("/sensors/{sensor_id}/graph", response={200: SensorGraphOut, **READ_ERRORS})
def sensor_graph(request: HttpRequest, sensor_id: int, query: Query[RangeQuery]):
    """A gravity sensor's readings over [start, end) (default: the last week), at most
    `width` rows: the mean gravity (outliers and hidden readings left out) and temperature."""
    if not can_view(request.user):
        raise HttpError(401, "log in to see this sensor's graph")
    sensor = None
    if 1 <= sensor_id <= MAX_SENSOR_ID:
        sensor = GravitySensor.objects.filter(pk=sensor_id).first()
    if sensor is None:
        raise HttpError(404, f"there is no gravity sensor {sensor_id}")
    end = query.end if query.end is not None else int(time.time())
    start = query.start if query.start is not None else end - 7 * 86400
    try:
        buckets = Buckets.for_range(start, end, query.width)
    except ValueError as error:
        raise HttpError(400, str(error)) from None
    data = {
        "sensor": sensor.name,
        "sensor_id": sensor.pk,
        "unit": sensor.display_unit,
        "temp_format": sensor.temp_format,
        "start": start,
        "end": end,
        "bucket_s": buckets.bucket_s,
        **series.sensor_series(sensor, buckets),
    }
    return HttpResponse(json.dumps(data, separators=(",", ":")), content_type="application/json")
