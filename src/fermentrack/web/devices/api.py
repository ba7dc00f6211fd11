"""The controller API (interfaces.md §1): what a controller fetches and posts, by device token,
and the gravity readings a profile's hold waits on (docs/interfaces-additions.md §1).

Every call carries `Authorization: Bearer <device token>`. Before a body is parsed, a body over
1 MB gets 413 and a wrong or missing token 401; a body that does not validate gets 400 naming
the field and what was expected. A batch is stored all or nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.http.request import RawPostDataException
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer
from pydantic import BaseModel, ValidationError, WrapValidator
from pydantic_core import PydanticCustomError

from fermentrack.web.beers.ingest import store_annotations, store_points
from fermentrack.web.beers.models import Annotation, AnnotationSource, LogPoint
from fermentrack.web.devices.models import Device, hash_token
from fermentrack.web.gravity.models import GravityReading
from fermentrack.web.profiles.models import remove_finished_ramps, stored_progress

MAX_POINTS_PER_CALL = 1000
MAX_ANNOTATIONS_PER_CALL = 1000
MAX_GRAVITY_READINGS = 2000
MAX_PROFILE_POINTS = 500
HOLD_FIELDS = ("hold_until", "hold_gravity", "hold_tolerance", "hold_for_s", "hold_max_s")
UNIX_2000 = 946_684_800
UNIX_2100 = 4_102_444_800
LOWEST_TEMP, HIGHEST_TEMP = -60, 150


class ErrorOut(Schema):
    """Every error answer of the API: `detail` says what was wrong and what was expected."""

    detail: str
    errors: list[str] | None = Field(
        None, description="one line per invalid field, when the request did not validate"
    )


# -- readable validation ---------------------------------------------------------------------


def _expect(what: str, *, refuse: tuple[type, ...] = ()) -> WrapValidator:
    """Replace pydantic's wording for a field with `expected <what>, got <value>`.

    `refuse`: types turned away before pydantic sees them (its lax integers take "12" and true).
    """

    def validate(value: Any, handler):
        try:
            if isinstance(value, refuse):
                raise ValueError(value)
            return handler(value)
        except (ValidationError, ValueError):
            got = json.dumps(value, default=str)
            if len(got) > 40:
                got = got[:37] + "..."
            raise PydanticCustomError(
                "expected", "expected {what}, got {got}", {"what": what, "got": got}
            ) from None

    return WrapValidator(validate)


def whole_number(what: str, **bounds):
    """A lax integer, as UnixTime: 10.0 is an integer to JSON Schema; "10" and true are not."""
    return Annotated[int, Field(**bounds), _expect(what, refuse=(bool, str))]


# Integers are lax so that 1700000000.0 counts (JSON Schema calls it an integer), but never a
# string or a boolean.
UnixTime = Annotated[
    int,
    Field(ge=UNIX_2000, lt=UNIX_2100),
    _expect("an integer Unix time in seconds (years 2000 to 2099)", refuse=(bool, str)),
]
Temperature = Annotated[
    Annotated[float, Field(strict=True, ge=LOWEST_TEMP, le=HIGHEST_TEMP)] | None,
    _expect(f"a temperature from {LOWEST_TEMP} to {HIGHEST_TEMP}, or null"),
]
StateNumber = Annotated[
    Annotated[int, Field(ge=0, le=9)] | None,
    _expect("a control state from 0 to 9, or null", refuse=(bool, str)),
]
UnitLetter = Annotated[Literal["C", "F"], _expect('"C" or "F"')]


# PostgreSQL cannot store NUL in text or JSON, and no firmware means one: refuse it for all.
NO_NUL = r"^[^\x00]*$"


def _text(max_length: int, what: str):
    return Annotated[
        Annotated[str, Field(max_length=max_length, pattern=NO_NUL)] | None,
        _expect(f"{what} of at most {max_length} characters without NUL, or null"),
    ]


# -- the gate: size, then token --------------------------------------------------------------


class DeviceToken(HttpBearer):
    """Runs before the body is parsed: 413 for a body over the limit, 401 for a bad token."""

    def __call__(self, request: HttpRequest) -> Device:
        if request.method == "POST":
            _refuse_oversize_body(request)
        device = super().__call__(request)
        if device is None:
            raise HttpError(401, "expected the device's token as 'Authorization: Bearer <token>'")
        if request.method == "POST":
            _require_json(request)
        return device

    def authenticate(self, request: HttpRequest, token: str) -> Device | None:
        if not token:
            return None
        # The lookup is by hash, so it leaks nothing about the token; the final comparison is
        # constant-time all the same.
        device = Device.objects.filter(token_hash=hash_token(token)).first()
        if device is None or not device.token_matches(token):
            return None
        return device


def _refuse_oversize_body(request: HttpRequest) -> None:
    limit = settings.FERMENTRACK_API_MAX_BODY
    too_big = HttpError(413, f"the body may hold at most {limit} bytes")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HttpError(400, "expected a number in the Content-Length header") from None
    if declared > limit:
        raise too_big
    try:
        body = request.body
    except (RequestDataTooBig, RawPostDataException):
        raise too_big from None
    if len(body) > limit:
        raise too_big


def _require_json(request: HttpRequest) -> None:
    """Say plainly why a body is not JSON (ninja would only say it could not parse it)."""
    if not request.body:
        raise HttpError(400, "the body is empty: expected a JSON object")
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError) as error:
        raise HttpError(400, f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        kind = {list: "a list", str: "a string", type(None): "null"}.get(type(body), "a value")
        raise HttpError(400, f"the body is {kind}: expected a JSON object")


class BodyIn(BaseModel):
    """What a controller sends: plain pydantic, so only JSON objects count as objects.

    (ninja's Schema also reads attributes, which would take a list for an object.)
    """


router = Router(tags=["controller"], auth=DeviceToken())
POST_ERRORS = {400: ErrorOut, 401: ErrorOut, 413: ErrorOut}


# -- GET config ------------------------------------------------------------------------------


class ProfilePointOut(Schema):
    offset_s: int
    temperature: float
    hold_until: Literal["gravity_at_most", "gravity_stable"] | None = Field(
        None, description="hold this point's temperature until the condition, or no hold"
    )
    hold_gravity: float | None = Field(None, description="SG, for gravity_at_most")
    hold_tolerance: float | None = Field(
        None, description="gravity points (0.001 SG), for gravity_stable"
    )
    hold_for_s: int | None = Field(None, description="seconds steady, for gravity_stable")
    hold_max_s: int | None = Field(None, description="the hold's time limit in seconds")


class HoldDoneOut(Schema):
    index: int = Field(description="the point's place in offset order, from 0")
    held_s: int


class HoldingOut(Schema):
    index: int
    since: int = Field(description="Unix seconds the hold began")


class ProgressOut(Schema):
    holds: list[HoldDoneOut]
    holding: HoldingOut | None


class ProfileOut(Schema):
    id: int
    started_at: int = Field(description="Unix seconds")
    points: list[ProfilePointOut] = Field(description="temperatures in the device's unit")
    progress: ProgressOut = Field(
        description="the holds this run has done and the one under way, as last reported"
    )


class ConfigOut(Schema):
    device: str
    link: str
    log_interval_s: int
    temp_format: Literal["C", "F"]
    profile: ProfileOut | None
    config_version: int


@router.get("/config", response={200: ConfigOut, 401: ErrorOut})
def config(request):
    """What the controller needs to run its device; fetch again when config_version changes."""
    device: Device = request.auth
    return {
        "device": device.name,
        "link": device.link,
        "log_interval_s": device.log_interval_s,
        "temp_format": device.temp_format,
        "profile": _active_profile(device),
        "config_version": device.config_version,
    }


def _active_profile(device: Device) -> dict | None:
    profile = device.active_profile
    if profile is None or device.profile_started_at is None:
        return None
    started_at = int(device.profile_started_at.timestamp())
    points = []
    for point in profile.points.all():
        hold = point.hold
        points.append(
            {
                "offset_s": point.offset_s,
                "temperature": convert_temperature(
                    point.temperature, profile.temp_format, device.temp_format
                ),
                **(hold.fields() if hold else dict.fromkeys(HOLD_FIELDS)),
            }
        )
    return {
        "id": profile.pk,
        "started_at": started_at,
        "points": points,
        "progress": stored_progress(device, profile.pk, started_at).to_json(),
    }


def convert_temperature(value: float, unit: str, to_unit: str) -> float:
    """Degrees in `unit` ("C" or "F") as degrees in `to_unit`, to 2 decimals."""
    if unit == to_unit:
        return value
    if to_unit == "F":
        return round(value * 9 / 5 + 32, 2)
    return round((value - 32) * 5 / 9, 2)


# -- POST points -----------------------------------------------------------------------------


class PointIn(BodyIn):
    ts: UnixTime
    beer_temp: Temperature = None
    beer_set: Temperature = None
    fridge_temp: Temperature = None
    fridge_set: Temperature = None
    room_temp: Temperature = None
    state: StateNumber = None
    temp_format: UnitLetter


class PointsIn(BodyIn):
    points: list[PointIn] = Field(max_length=MAX_POINTS_PER_CALL)


class PointsOut(Schema):
    stored: int
    duplicates: int = Field(description="points whose (device, ts) was already stored")


@router.post("/points", response={200: PointsOut, **POST_ERRORS})
def points(request, payload: PointsIn):
    """Store a batch of log points; resending is safe (known points count as duplicates)."""
    result = store_points(
        request.auth, [LogPoint(**point.model_dump()) for point in payload.points]
    )
    return {"stored": result.stored, "duplicates": result.duplicates}


# -- POST annotations ------------------------------------------------------------------------


class AnnotationIn(BodyIn):
    ts: UnixTime
    text: Annotated[
        str,
        Field(min_length=1, max_length=500, pattern=NO_NUL),
        _expect("a text of 1 to 500 characters without NUL"),
    ]
    source: Literal["firmware", "controller"]


class AnnotationsIn(BodyIn):
    annotations: list[AnnotationIn] = Field(max_length=MAX_ANNOTATIONS_PER_CALL)


class AnnotationsOut(Schema):
    stored: int


@router.post("/annotations", response={200: AnnotationsOut, **POST_ERRORS})
def annotations(request, payload: AnnotationsIn):
    """Store annotations (firmware messages, controller events); resending is safe."""
    stored = store_annotations(
        request.auth,
        [
            Annotation(ts=item.ts, text=item.text, source=AnnotationSource(item.source))
            for item in payload.annotations
        ],
    )
    return {"stored": stored}


# -- POST status -----------------------------------------------------------------------------


class FirmwareIn(BodyIn):
    version: _text(64, "a version") = None
    board: _text(64, "a board name") = None
    dialect: _text(8, "a dialect") = None


class ProfileRefIn(BodyIn):
    id: whole_number("a profile id", ge=1, lt=2**63)
    started_at: UnixTime


PointIndex = whole_number("a point's index", ge=0, lt=MAX_PROFILE_POINTS)


class HoldDoneIn(BodyIn):
    index: PointIndex
    held_s: whole_number("seconds held, 0 or more", ge=0, lt=2**63)


class HoldingIn(BodyIn):
    index: PointIndex
    since: UnixTime


class ProgressIn(BodyIn):
    id: whole_number("a profile id", ge=1, lt=2**63)
    started_at: UnixTime
    holds: list[HoldDoneIn] = Field(default_factory=list, max_length=MAX_PROFILE_POINTS)
    holding: HoldingIn | None = None


class StatusIn(BodyIn):
    ts: UnixTime
    connected: Annotated[bool, Field(strict=True), _expect("true or false")]
    firmware: FirmwareIn | None = None
    mode: _text(32, "a mode name") = None
    beer_set: Temperature = None
    fridge_set: Temperature = None
    lcd: list[
        Annotated[
            str, Field(max_length=40, pattern=NO_NUL), _expect("a line of at most 40 characters")
        ]
    ] = Field(default_factory=list, max_length=4)
    state: StateNumber = None
    last_error: _text(500, "a message") = None
    profile_finished: ProfileRefIn | None = None
    profile_progress: ProgressIn | None = None


class StatusOut(Schema):
    config_version: int = Field(
        description="when it differs from the controller's, fetch the config again"
    )


@router.post("/status", response={200: StatusOut, **POST_ERRORS})
def status(request, payload: StatusIn):
    """Keep the controller's last status for the pages; answer the current config version."""
    device: Device = request.auth
    # update() touches only these columns, so a config change made meanwhile is kept.
    Device.objects.filter(pk=device.pk).update(
        status=payload.model_dump(mode="json", exclude={"profile_finished", "profile_progress"}),
        last_seen_at=timezone.now(),
    )
    if payload.profile_progress is not None:
        _keep_progress(device, payload.profile_progress)
    if payload.profile_finished is not None:
        _end_finished_profile(device, payload.profile_finished)
    device.refresh_from_db(fields=["config_version"])
    return {"config_version": device.config_version}


def _end_finished_profile(device: Device, finished: ProfileRefIn) -> None:
    """The controller handed the profile over to beer constant: it is no longer running. Only
    the run the controller names ends; a profile started since then keeps running."""
    started = datetime.fromtimestamp(finished.started_at, tz=UTC)  # the config's whole second
    ended = Device.objects.filter(
        pk=device.pk,
        active_profile_id=finished.id,
        profile_started_at__gte=started,
        profile_started_at__lt=started + timedelta(seconds=1),
    ).update(active_profile=None, profile_started_at=None)
    if ended:
        device.bump_config_version()
        remove_finished_ramps()


def _keep_progress(device: Device, progress: ProgressIn) -> None:
    """Keep the progress of the profile's holds, so a restarted controller resumes them; only
    for the run the device is on (a status sent just before a new start names the old one)."""
    started = datetime.fromtimestamp(progress.started_at, tz=UTC)
    Device.objects.filter(
        pk=device.pk,
        active_profile_id=progress.id,
        profile_started_at__gte=started,
        profile_started_at__lt=started + timedelta(seconds=1),
    ).update(profile_progress=progress.model_dump(mode="json"))


# -- GET gravity -----------------------------------------------------------------------------


class GravityReadingOut(Schema):
    ts: int = Field(description="Unix seconds")
    gravity: float = Field(description="SG; a person's correction when there is one")


class GravityOut(Schema):
    readings: list[GravityReadingOut] = Field(
        description=f"oldest first; at most {MAX_GRAVITY_READINGS}, evenly thinned when more "
        "came (the newest always kept)"
    )


# A query parameter: text that must read as a whole Unix second.
SinceTime = Annotated[
    int,
    Field(ge=UNIX_2000, lt=UNIX_2100),
    _expect("an integer Unix time in seconds (years 2000 to 2099)"),
]


@router.get("/gravity", response={200: GravityOut, 400: ErrorOut, 401: ErrorOut})
def gravity(request, since: SinceTime):
    """The gravity readings of the device's hydrometers from `since` on, for a profile's hold:
    hidden readings and outliers left out."""
    device: Device = request.auth
    unknown = sorted(set(request.GET) - {"since"})
    if unknown:
        raise HttpError(400, f"unknown query parameter {unknown[0]!r}: expected only since")
    rows = list(
        GravityReading.objects.filter(device=device, ts__gte=since, hidden=False, outlier=False)
        .exclude(gravity__isnull=True, corrected_gravity__isnull=True)
        .order_by("ts")
        .values_list("ts", "gravity", "corrected_gravity")
    )
    readings = [
        {"ts": ts, "gravity": gravity if corrected is None else corrected}
        for ts, gravity, corrected in rows
    ]
    return {"readings": thin_out(readings, MAX_GRAVITY_READINGS)}


def thin_out(items: list, limit: int) -> list:
    """At most `limit` of `items`, evenly spaced, the first and the last always among them."""
    if len(items) <= limit:
        return items
    if limit == 1:
        return items[-1:]
    last = len(items) - 1
    return [items[round(step * last / (limit - 1))] for step in range(limit)]
