"""What hydrometers post to us over HTTP: the iSpindel (gravity-and-push.md §3) and the
TiltBridge, ESP32 or Junior (§2). No login, no CSRF: these are devices, not browsers.

Every field is checked before anything is stored: a bad post gets 400 with a message naming
the field and what was expected, is logged, and stores nothing. A reading whose values cannot
be physical is refused with the reason, in the answer and the log; the post's other readings
are stored.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass

from django.core.exceptions import RequestDataTooBig
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from fermentrack.gravity.tilt import COLOURS
from fermentrack.web.gravity.models import (
    GravitySensor,
    ReadingRefused,
    SensorKind,
    store_readings,
)

log = logging.getLogger("fermentrack.gravity")

ANGLE_LIMITS = (0.0, 180.0)  # degrees from vertical; 90 is flat
BATTERY_LIMITS = (0.0, 10.0)  # volts
RSSI_LIMITS = (-150, 0)  # dBm
TEMP_UNITS = ("C", "F", "K")
_COLOUR_NAMES = {colour.lower(): colour for colour in COLOURS}


class PostProblem(Exception):
    """A post we turn away as a whole: `status` and a message a person can act on."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# -- reading fields one by one ----------------------------------------------------------------


def _shown(value: object) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _missing(path: str) -> PostProblem:
    return PostProblem(400, f"{path}: required, but missing")


def number(
    data: dict,
    key: str,
    path: str | None = None,
    *,
    required: bool = True,
    low: float | None = None,
    high: float | None = None,
) -> float | None:
    """A finite number, sent as a JSON number or a decimal string ('1.0520'), within limits.
    `path` names the field in messages (default: `key`)."""
    path = path or key
    value = data.get(key)
    if value is None:
        if required:
            raise _missing(path)
        return None
    result = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        result = float(value)
    elif isinstance(value, str) and len(value) <= 32:
        try:
            result = float(value.strip())
        except ValueError:
            result = None
    bounds = ""
    if low is not None and high is not None:
        bounds = f" from {low:g} to {high:g}"
    if (
        result is None
        or not math.isfinite(result)
        or (low is not None and result < low)
        or (high is not None and result > high)
    ):
        raise PostProblem(400, f"{path}: expected a number{bounds}, got {_shown(value)}")
    return result


def whole_number(
    data: dict,
    key: str,
    path: str | None = None,
    *,
    low: int | None = None,
    high: int | None = None,
) -> int | None:
    """An optional integer (a JSON number without a fraction) within limits."""
    path = path or key
    value = data.get(key)
    if value is None:
        return None
    ok = isinstance(value, int) and not isinstance(value, bool)
    if isinstance(value, float) and value.is_integer():
        value, ok = int(value), True
    bounds = f" from {low} to {high}" if low is not None and high is not None else ""
    if not ok or (low is not None and value < low) or (high is not None and value > high):
        raise PostProblem(400, f"{path}: expected a whole number{bounds}, got {_shown(value)}")
    return value


def text(
    data: dict, key: str, path: str | None = None, *, required: bool = True, max_length: int = 64
) -> str | None:
    path = path or key
    value = data.get(key)
    if value is None:
        if required:
            raise _missing(path)
        return None
    if not isinstance(value, str) or not value or len(value) > max_length or "\x00" in value:
        raise PostProblem(
            400, f"{path}: expected a text of 1 to {max_length} characters, got {_shown(value)}"
        )
    return value


def choice(
    data: dict, key: str, path: str | None = None, *, choices: tuple[str, ...], default: str
) -> str:
    """One of `choices` (letters compared without case), or `default` when left out."""
    path = path or key
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, str) and value.upper() in choices:
        return value.upper()
    words = ", ".join(f'"{c}"' for c in choices)
    raise PostProblem(400, f"{path}: expected one of {words}, got {_shown(value)}")


def flag(data: dict, key: str, path: str | None = None) -> bool | None:
    path = path or key
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise PostProblem(400, f"{path}: expected true or false, got {_shown(value)}")


def _json_body(request: HttpRequest) -> dict:
    try:
        body = request.body
    except RequestDataTooBig:
        raise PostProblem(413, "the body is too large: expected a JSON object under 1 MB") from None
    if not body:
        raise PostProblem(400, "the body is empty: expected a JSON object")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise PostProblem(400, f"the body is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise PostProblem(400, f"the body is {_shown(data)}: expected a JSON object")
    return data


def _refused_post(sender: str, request: HttpRequest, problem: PostProblem) -> JsonResponse:
    log.warning(
        "%s post from %s refused (%d): %s",
        sender,
        request.META.get("REMOTE_ADDR", "?"),
        problem.status,
        problem.message,
    )
    return JsonResponse({"status": "failed", "message": problem.message}, status=problem.status)


def _only_post(request: HttpRequest) -> None:
    if request.method != "POST":
        raise PostProblem(405, f"{request.method} is not accepted here: expected a POST")


# -- iSpindel ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ISpindelPost:
    name: str
    token: str | None
    angle: float
    temperature: float
    temp_units: str
    battery: float | None
    device_gravity: float | None
    interval: int | None
    rssi: int | None
    chip_id: int | None

    @classmethod
    def read(cls, data: dict) -> ISpindelPost:
        return cls(
            name=text(data, "name", max_length=64),
            # An empty token is no token (the firmware leaves an empty one out).
            token=text(data, "token", required=False, max_length=128)
            if data.get("token")
            else None,
            angle=number(data, "angle", low=ANGLE_LIMITS[0], high=ANGLE_LIMITS[1]),
            temperature=number(data, "temperature", low=-273.15, high=400),
            # Firmware before 6.x leaves temp_units out and sends °C.
            temp_units=choice(data, "temp_units", choices=TEMP_UNITS, default="C"),
            battery=number(
                data,
                "battery",
                "battery",
                required=False,
                low=BATTERY_LIMITS[0],
                high=BATTERY_LIMITS[1],
            ),
            device_gravity=number(data, "gravity", required=False),
            interval=whole_number(data, "interval", low=0, high=86400 * 7),
            rssi=whole_number(data, "RSSI", low=RSSI_LIMITS[0], high=RSSI_LIMITS[1]),
            chip_id=whole_number(data, "ID", low=0, high=2**32 - 1),
        )


@csrf_exempt
def ispindel(request: HttpRequest) -> JsonResponse:
    """An iSpindel's post: identity by `name`, gravity from the angle by the sensor's
    polynomial. Answers {"status": "ok", "gravity": "1.0480"} (gravity null until the sensor
    is calibrated: its angle and temperature are stored all the same)."""
    try:
        _only_post(request)
        post = ISpindelPost.read(_json_body(request))
        sensor = GravitySensor.objects.filter(
            kind=SensorKind.ISPINDEL, name_on_device=post.name
        ).first()
        if sensor is None:
            raise PostProblem(
                404,
                f"no iSpindel named {post.name!r} here: add a gravity sensor of kind iSpindel "
                "with that name on the device",
            )
        if not sensor.token_accepts(post.token):
            raise PostProblem(
                401, f"iSpindel {post.name!r} must send the token set for it in Fermentrack"
            )
        if not sensor.active:
            raise PostProblem(
                409, f"iSpindel {post.name!r} is switched off here: its readings are not stored"
            )
    except PostProblem as problem:
        return _refused_post("iSpindel", request, problem)

    extra = {
        key: value
        for key, value in (
            ("chip_id", post.chip_id),
            ("device_gravity", post.device_gravity),
            ("interval", post.interval),
        )
        if value is not None
    }
    try:
        reading = sensor.new_reading(
            int(time.time()),
            raw=round(post.angle, 4),
            temperature=post.temperature,
            temp_unit=post.temp_units,
            battery=post.battery,
            rssi=post.rssi,
            extra=extra,
        )
    except ReadingRefused as refused:
        log.warning("iSpindel %r: reading refused: %s", post.name, refused)
        return JsonResponse({"status": "refused", "message": str(refused)}, status=422)
    stored, _ = store_readings(sensor, [reading])
    _remember(sensor, {"chip_id": post.chip_id, "interval": post.interval})
    answer = {
        "status": "ok",
        "gravity": None if reading.gravity is None else f"{reading.gravity:.4f}",
    }
    if reading.gravity is None:
        answer["message"] = (
            "angle and temperature stored; calibrate this iSpindel in Fermentrack to get gravity"
        )
    if not stored:
        answer["message"] = "a reading of this second was already stored; this one was not"
    return JsonResponse(answer)


def _remember(sensor: GravitySensor, facts: dict) -> None:
    """Keep what a hydrometer said about itself (firmware version, chip ID) on the sensor."""
    facts = {key: value for key, value in facts.items() if value is not None}
    if facts and any(sensor.reported.get(key) != value for key, value in facts.items()):
        sensor.reported = {**sensor.reported, **facts}
        sensor.save(update_fields=["reported"])


# -- TiltBridge --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TiltPost:
    """One colour's entry of a bridge's post, checked."""

    colour: str  # as we spell it, 'Purple'; the sender's spelling when it is no Tilt colour
    gravity: float  # the Tilt's SG as the bridge sends it
    temperature: float
    temp_unit: str
    rssi: int | None
    battery_weeks: int | None
    pro: bool | None
    firmware_version: int | None

    def extra(self) -> dict:
        facts = {"pro": self.pro, "battery_weeks": self.battery_weeks}
        return {key: value for key, value in facts.items() if value is not None}


def _bridge_entry(entry: object, path: str, colour_key: str | None) -> TiltPost:
    """An entry of an ESP32 bridge's `tilts` object (§2.2)."""
    if not isinstance(entry, dict):
        raise PostProblem(400, f"{path}: expected an object, got {_shown(entry)}")
    colour = text(entry, "color", f"{path}.color", required=colour_key is None, max_length=16)
    colour = colour or colour_key
    return TiltPost(
        colour=_COLOUR_NAMES.get(colour.lower(), colour),
        gravity=number(entry, "gravity", f"{path}.gravity"),
        temperature=number(entry, "temp", f"{path}.temp"),
        temp_unit=_required_choice(entry, "tempUnit", f"{path}.tempUnit", ("C", "F")),
        rssi=whole_number(entry, "rssi", f"{path}.rssi", low=RSSI_LIMITS[0], high=RSSI_LIMITS[1]),
        battery_weeks=_battery_weeks(entry, path),
        pro=flag(entry, "high_resolution", f"{path}.high_resolution"),
        firmware_version=whole_number(entry, "fwVersion", f"{path}.fwVersion", low=0, high=99999),
    )


def _junior_entry(entry: object, path: str) -> TiltPost:
    """An entry of a TiltBridge Junior's `tilts` list (§2.3): smoothed values, else raw ones."""
    if not isinstance(entry, dict):
        raise PostProblem(400, f"{path}: expected an object, got {_shown(entry)}")
    colour = text(entry, "color", f"{path}.color", max_length=16)
    gravity_key = "smoothed_gravity" if entry.get("smoothed_gravity") is not None else "raw_gravity"
    temp_key = "smoothed_temp" if entry.get("smoothed_temp") is not None else "raw_temp"
    return TiltPost(
        colour=_COLOUR_NAMES.get(colour.lower(), colour),
        gravity=number(entry, gravity_key, f"{path}.{gravity_key}"),
        temperature=number(entry, temp_key, f"{path}.{temp_key}"),
        temp_unit=choice(
            entry, "temp_format", f"{path}.temp_format", choices=("C", "F"), default="F"
        ),
        rssi=whole_number(entry, "rssi", f"{path}.rssi", low=RSSI_LIMITS[0], high=RSSI_LIMITS[1]),
        battery_weeks=_battery_weeks(entry, path),
        pro=flag(entry, "tilt_pro", f"{path}.tilt_pro"),
        firmware_version=whole_number(
            entry, "firmware_version", f"{path}.firmware_version", low=0, high=99999
        ),
    )


def _battery_weeks(entry: dict, path: str) -> int | None:
    sends = flag(entry, "sends_battery", f"{path}.sends_battery")
    weeks = whole_number(entry, "weeks_on_battery", f"{path}.weeks_on_battery", low=0, high=255)
    return weeks if sends else None


def _required_choice(data: dict, key: str, path: str, choices: tuple[str, ...]) -> str:
    if data.get(key) is None:
        raise _missing(path)
    return choice(data, key, path, choices=choices, default=choices[0])


@csrf_exempt
def tiltbridge(request: HttpRequest) -> JsonResponse:
    """A TiltBridge's post (its Tilts keyed by colour, the bridge named by `mdns_id`) or a
    TiltBridge Junior's (a list, matched to the Tilts heard over Bluetooth). Colours no sensor
    listens to are skipped. Answers {"status": "success", "stored": n, "skipped": [colours],
    "refused": [{"colour", "reason"}]}."""
    try:
        _only_post(request)
        data = _json_body(request)
        junior = flag(data, "tiltbridge_junior")
        if junior:
            entries, sensors = _junior_post(data)
            sender = "TiltBridge Junior"
        else:
            entries, sensors = _bridge_post(data)
            sender = f"TiltBridge {data['mdns_id']}"
    except PostProblem as problem:
        return _refused_post("TiltBridge", request, problem)

    now = int(time.time())
    stored, skipped, refused = 0, [], []
    for entry in entries:
        sensor = sensors.get(entry.colour)
        if sensor is None:
            skipped.append(entry.colour)
            continue
        try:
            reading = sensor.new_reading(
                now,
                raw=round(entry.gravity, 4),
                temperature=entry.temperature,
                temp_unit=entry.temp_unit,
                rssi=entry.rssi,
                extra=entry.extra(),
            )
        except ReadingRefused as reason:
            log.warning("%s: %s Tilt reading refused: %s", sender, entry.colour, reason)
            refused.append({"colour": entry.colour, "reason": str(reason)})
            continue
        stored += store_readings(sensor, [reading])[0]
        _remember(sensor, {"firmware_version": entry.firmware_version or None, "pro": entry.pro})
    return JsonResponse(
        {"status": "success", "stored": stored, "skipped": skipped, "refused": refused}
    )


def _bridge_post(data: dict) -> tuple[list[TiltPost], dict[str, GravitySensor]]:
    mdns_id = text(data, "mdns_id", max_length=64)
    tilts = data.get("tilts")
    if tilts is None:
        entries = []
    elif isinstance(tilts, dict):
        entries = [_bridge_entry(entry, f"tilts.{key}", str(key)) for key, entry in tilts.items()]
    else:
        raise PostProblem(400, f"tilts: expected an object keyed by colour, got {_shown(tilts)}")
    on_bridge = GravitySensor.objects.filter(
        kind=SensorKind.TILTBRIDGE, bridge_mdns_id__iexact=mdns_id.removesuffix(".local")
    )
    if not on_bridge.exists():
        raise PostProblem(
            404,
            f"no Tilt here listens to a TiltBridge named {mdns_id!r}: add a gravity sensor of "
            "kind TiltBridge with that bridge name",
        )
    return entries, {sensor.colour: sensor for sensor in on_bridge.filter(active=True)}


def _junior_post(data: dict) -> tuple[list[TiltPost], dict[str, GravitySensor]]:
    tilts = data.get("tilts")
    if tilts is None:
        entries = []
    elif isinstance(tilts, list):
        entries = [_junior_entry(entry, f"tilts[{i}]") for i, entry in enumerate(tilts)]
    else:
        raise PostProblem(400, f"tilts: expected a list, got {_shown(tilts)}")
    listening = GravitySensor.objects.filter(Q(kind=SensorKind.TILT) & Q(active=True))
    return entries, {sensor.colour: sensor for sensor in listening}
