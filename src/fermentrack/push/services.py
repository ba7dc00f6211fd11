"""The five push services of gravity-and-push.md §5: the exact request each one takes, what
each one refuses to send, and how its reply is judged.

Where Fermentrack v1 got a service wrong we do not copy it (§5): ThingSpeak gets its documented
URL with the write key in the body and only the controller the brewer chose; the gravity of the
sensor floating in a controller is filled in (v1 meant to, but read an attribute that does not
exist); replies are checked; every request has a timeout; TLS is verified.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import quote, urlsplit

from fermentrack.gravity.units import c_to_f, f_to_c
from fermentrack.push.snapshots import ControllerSnapshot, SensorSnapshot

REQUEST_TIMEOUT_S = 10.0  # a service that has not answered by then has failed this time
ERROR_BODY_CHARS = 200  # how much of an error reply the target's page shows
REPORT_SOURCE = "Fermentrack"
GENERIC_VERSION = "1.0"


class Service(StrEnum):
    GENERIC = "generic"
    BREWERS_FRIEND = "brewersfriend"
    BREWFATHER = "brewfather"
    GRAINFATHER = "grainfather"
    THINGSPEAK = "thingspeak"

    @property
    def label(self) -> str:
        return SERVICE_LABELS[self]

    @property
    def min_interval_s(self) -> int:
        return MIN_INTERVAL_S[self]


SERVICE_LABELS = {
    Service.GENERIC: "Generic JSON endpoint",
    Service.BREWERS_FRIEND: "Brewer's Friend",
    Service.BREWFATHER: "Brewfather",
    Service.GRAINFATHER: "Grainfather",
    Service.THINGSPEAK: "ThingSpeak",
}

# The shortest interval each service takes. Brewer's Friend answers 429 and Brewfather ignores
# posts more often than once per 15 min; Grainfather documents no limit, so it gets the same
# (be safe); a ThingSpeak channel takes one update per 15 s, so a minute is well within it.
MIN_INTERVAL_S = {
    Service.GENERIC: 60,
    Service.BREWERS_FRIEND: 15 * 60,
    Service.BREWFATHER: 15 * 60,
    Service.GRAINFATHER: 15 * 60,
    Service.THINGSPEAK: 60,
}

# Services that refuse or drop a post arriving sooner than their limit after the last one.
# A post may take up to the timeout to arrive, so the next one waits that much longer.
RATE_LIMITED = frozenset({Service.BREWERS_FRIEND, Service.BREWFATHER, Service.GRAINFATHER})
LIMIT_MARGIN_S = REQUEST_TIMEOUT_S


@dataclass(frozen=True)
class PushRequest:
    """One HTTP request, exactly as it goes on the wire."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> dict:
        return json.loads(self.body)


class NothingToSend(Exception):
    """The target has nothing worth sending now (no gravity yet, no data); the message says
    what is missing. Not a failure of the service."""


JSON_HEADERS = {"Content-Type": "application/json"}


def _json_body(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def _without_none(payload: dict) -> dict:
    return {key: value for key, value in payload.items() if value is not None}


def convert_temperature(value: float | None, unit: str, to_unit: str) -> float | None:
    """`value` degrees in `unit` ('C'/'F') in `to_unit`, to 2 decimals."""
    if value is None:
        return None
    if unit == to_unit:
        return value
    converted = c_to_f(value) if to_unit == "F" else f_to_c(value)
    return round(converted, 2)


# -- Generic (§5.2) --------------------------------------------------------------------------


def generic_controller_entry(controller: ControllerSnapshot) -> dict:
    # v1 left out zero values; a fridge at 0.0 °C or an idle state (0) is a reading too, so
    # only unknown values are left out here.
    return {
        "name": controller.name,
        "internal_id": controller.internal_id,
        "temp_format": controller.unit,
        "control_mode": controller.mode,
    } | _without_none(
        {
            "beer_temp": controller.beer_temp,
            "fridge_temp": controller.fridge_temp,
            "room_temp": controller.room_temp,
            "beer_setting": controller.beer_setting,
            "fridge_setting": controller.fridge_setting,
            "controller_state": controller.state,
            # v1 meant to send this but never did (it read an attribute that does not exist).
            "gravity": controller.gravity,
        }
    )


def generic_sensor_entry(sensor: SensorSnapshot) -> dict:
    entry = {
        "name": sensor.name,
        "internal_id": sensor.internal_id,
        "sensor_type": sensor.sensor_type,
    }
    if sensor.gravity is not None:
        entry["gravity"] = sensor.gravity
    if sensor.temperature is not None:
        entry["temp"] = sensor.temperature
        entry["temp_format"] = sensor.unit
    if sensor.battery is not None:
        entry["battery"] = sensor.battery
    return entry


def generic_request(
    url: str,
    api_key: str,
    controllers: list[ControllerSnapshot],
    sensors: list[SensorSnapshot],
) -> PushRequest:
    """All chosen controllers and sensors in one JSON document (§5.2). v1 sent no
    Content-Type; we say what the body is, which a receiver reading the raw body ignores."""
    if not controllers and not sensors:
        raise NothingToSend("no controller or gravity sensor is chosen (or none is active)")
    payload = {
        "api_key": api_key,
        "version": GENERIC_VERSION,
        "brewpi_devices": [generic_controller_entry(c) for c in controllers],
        "gravity_sensors": [generic_sensor_entry(s) for s in sensors],
    }
    # Receivers written for v1 find an iSpindel's battery at the top level (the last wins).
    batteries = [
        s.battery for s in sensors if s.sensor_type == "ispindel" and s.battery is not None
    ]
    if batteries:
        payload["battery"] = batteries[-1]
    return PushRequest("POST", url, dict(JSON_HEADERS), _json_body(payload))


# -- Brewer's Friend (§5.3) ------------------------------------------------------------------

DEVICE_SOURCES = {"tilt": "Tilt", "tiltbridge": "Tilt", "ispindel": "iSpindel", "manual": "Manual"}


def _require_gravity(sensor: SensorSnapshot | None) -> SensorSnapshot:
    if sensor is None:
        raise NothingToSend("no gravity sensor is chosen")
    if sensor.gravity is None or sensor.gravity == 0:
        raise NothingToSend(f"{sensor.name} has no recent gravity reading")
    return sensor


def brewers_friend_request(
    stream_url: str, api_key: str, sensor: SensorSnapshot | None
) -> PushRequest:
    """One sensor to `<stream_url>/<key>`, the key also in X-API-KEY (§5.3)."""
    sensor = _require_gravity(sensor)
    payload = {
        "report_source": REPORT_SOURCE,
        "name": sensor.name,
        "device_source": DEVICE_SOURCES.get(sensor.sensor_type, "Unknown"),
        "gravity": sensor.gravity,
        "gravity_unit": "G",
    }
    if sensor.temperature is not None:
        payload |= {"temp": sensor.temperature, "temp_unit": sensor.unit}
    if sensor.sensor_type == "ispindel" and sensor.battery is not None:
        payload["battery"] = sensor.battery
    url = f"{stream_url.rstrip('/')}/{quote(api_key, safe='')}"
    headers = JSON_HEADERS | {"X-API-KEY": api_key}
    return PushRequest("POST", url, headers, _json_body(payload))


# -- Brewfather (§5.4) -----------------------------------------------------------------------


def brewfather_request(
    url: str,
    *,
    sensor: SensorSnapshot | None = None,
    controller: ControllerSnapshot | None = None,
) -> PushRequest:
    """One sensor (with its chamber's temperatures and beer when it floats in one) or one
    controller, to the brewer's own Custom Stream URL (§5.4)."""
    if sensor is None and controller is None:
        raise NothingToSend("no gravity sensor or controller is chosen")
    if sensor is not None:
        sensor = _require_gravity(sensor)
        payload = {
            "report_source": REPORT_SOURCE,
            "name": sensor.name,
            "gravity": sensor.gravity,
            "gravity_unit": "G",
            "temp": sensor.temperature,
            "temp_unit": sensor.unit,
        }
        if sensor.sensor_type == "ispindel" and sensor.battery is not None:
            payload["battery"] = sensor.battery
        chamber = sensor.controller
        if chamber is not None:
            to_sensor = sensor.unit
            beer_temp = convert_temperature(chamber.beer_temp, chamber.unit, to_sensor)
            if beer_temp is not None:
                payload["temp"] = beer_temp
            payload["aux_temp"] = convert_temperature(chamber.fridge_temp, chamber.unit, to_sensor)
            payload["ext_temp"] = convert_temperature(chamber.room_temp, chamber.unit, to_sensor)
            payload["beer"] = chamber.beer_name
        if payload["temp"] is None:
            del payload["temp"], payload["temp_unit"]
        return PushRequest("POST", url, dict(JSON_HEADERS), _json_body(_without_none(payload)))
    assert controller is not None
    if (
        controller.beer_temp is None
        and controller.fridge_temp is None
        and controller.room_temp is None
    ):
        raise NothingToSend(f"{controller.name} has no recent temperatures")
    payload = {
        "report_source": REPORT_SOURCE,
        "name": controller.name,
        "temp_unit": controller.unit,
        "temp": controller.beer_temp,
        "aux_temp": controller.fridge_temp,
        "ext_temp": controller.room_temp,
        "beer": controller.beer_name,
        "gravity": controller.gravity,  # v1 left it out; Brewfather takes it
    }
    if controller.gravity is not None:
        payload["gravity_unit"] = "G"
    return PushRequest("POST", url, dict(JSON_HEADERS), _json_body(_without_none(payload)))


# -- Grainfather (§5.5) ----------------------------------------------------------------------


def grainfather_request(url: str, brew_id: str, sensor: SensorSnapshot | None) -> PushRequest:
    """One sensor posing as an iSpindel named `<brew id>,SG`, so Grainfather takes the gravity
    as sent instead of working one out from the (absent) angle (§5.5)."""
    sensor = _require_gravity(sensor)
    payload = {
        "report_source": REPORT_SOURCE,
        "name": f"{brew_id},SG",
        "token": "grainfather",
        "ID": 0,
        "angle": 0,
        "battery": 0,
        "interval": 900,
        "RSSI": 0,
        "gravity": sensor.gravity,
    }
    if sensor.temperature is not None:
        payload |= {"temperature": sensor.temperature, "temp_units": sensor.unit}
    return PushRequest("POST", url, dict(JSON_HEADERS), _json_body(payload))


# -- ThingSpeak (§5.6) -----------------------------------------------------------------------


def thingspeak_request(
    update_url: str, api_key: str, controller: ControllerSnapshot | None
) -> PushRequest:
    """The chosen controller (only that one) to the documented update URL, the channel's
    write key in the body (§5.6). Fields: 1 beer name, 2 controller name, 3 unit, 4 beer,
    5 fridge, 6 room temperature, 7 gravity of the sensor floating in it."""
    if controller is None:
        raise NothingToSend("no controller is chosen")
    if (
        controller.beer_temp is None
        and controller.fridge_temp is None
        and controller.room_temp is None
    ):
        raise NothingToSend(f"{controller.name} has no recent temperatures")
    payload = {"api_key": api_key} | _without_none(
        {
            "field1": controller.beer_name,
            "field2": controller.name,
            "field3": controller.unit,
            "field4": controller.beer_temp,
            "field5": controller.fridge_temp,
            "field6": controller.room_temp,
            "field7": controller.gravity,
        }
    )
    return PushRequest("POST", update_url, dict(JSON_HEADERS), _json_body(payload))


# -- replies and URLs ------------------------------------------------------------------------


def reply_problem(status: int, body: bytes, service: Service | None = None) -> str | None:
    """None for a 2xx reply; otherwise the error as the target's page shows it, naming the
    status and the first 200 characters of what the service said. ThingSpeak answers an update
    it drops (too soon after the last one, a wrong key) with 200 and 0 or -1 for the entry."""
    if 200 <= status < 300:
        if service == Service.THINGSPEAK and body.strip() in (b"0", b"-1"):
            return (
                f"ThingSpeak did not store the update (it answered {body.strip().decode()}): "
                "too soon after the last one, or the write key is wrong"
            )
        return None
    text = " ".join(body.decode("utf-8", errors="replace").split())
    if len(text) > ERROR_BODY_CHARS:
        text = text[:ERROR_BODY_CHARS] + "…"
    return (
        f"the service answered HTTP {status}: {text}"
        if text
        else f"the service answered HTTP {status} with no text"
    )


URL_PATTERN = re.compile(r"^https?://[^\s/?#]+[^\s]*$")


def url_problem(url: str) -> str | None:
    """Why `url` cannot be posted to, in words, or None when it can."""
    url = url.strip()
    if not url:
        return "an address is needed"
    if not url.lower().startswith(("http://", "https://")):
        return (
            f"{url!r} does not start with http:// or https://; write the whole address, "
            f"e.g. https://{url.split('://')[-1]}"
        )
    if not URL_PATTERN.match(url):
        return f"{url!r} is not a web address such as https://example.com/path (no spaces)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as error:
        return f"{url!r} is not a usable address: {error}"
    if not parts.hostname:
        return f"{url!r} names no host"
    return None
