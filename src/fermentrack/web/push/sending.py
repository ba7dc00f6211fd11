"""Sending one push target: gather what it sends (controllers live from their process,
sensors from their latest counted reading), post it, and write the result back to its row.

Used by the `pusher` process; every function here may run in one of its worker threads.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

from fermentrack import config
from fermentrack.controller import client
from fermentrack.push import schedule
from fermentrack.push.services import (
    REQUEST_TIMEOUT_S,
    NothingToSend,
    PushRequest,
    Service,
    brewers_friend_request,
    brewfather_request,
    generic_request,
    grainfather_request,
    reply_problem,
    thingspeak_request,
)
from fermentrack.push.snapshots import ControllerSnapshot, SensorSnapshot, mode_letter
from fermentrack.web.beers.models import Beer, LogPoint
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import GravitySensor
from fermentrack.web.gravity.summary import STALE_AFTER_INTERVALS, counting
from fermentrack.web.push.models import Choice, Outcome, PushTarget

log = logging.getLogger("fermentrack.push")

STATUS_TIMEOUT_S = 1.5  # a live status; a controller that is slower gives way to stored data
POINT_FRESH_S = 30 * 60  # an older log point's temperatures are no longer 'now'
MAX_REPLY_BYTES = 64 * 1024
USER_AGENT = "Fermentrack-push/1.0"


# -- what a target sends ---------------------------------------------------------------------


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def controller_snapshot(
    device: Device, now: float, *, with_gravity: bool = True
) -> ControllerSnapshot:
    """The controller as it is now: mode, settings and state asked live of its process (the
    stored status when it does not answer in time); temperatures from its latest log point,
    when that is recent."""
    try:
        status = client.status(device.name, timeout=STATUS_TIMEOUT_S)
    except (client.ControllerProblem, ValueError) as problem:
        log.debug("%s: using stored status (%s)", device.name, problem)
        status = device.status if isinstance(device.status, dict) else {}
    point = LogPoint.objects.filter(device=device).order_by("-ts").first()
    if point is not None and now - point.ts > POINT_FRESH_S:
        point = None
    unit = status.get("temp_format") or (point.temp_format if point else device.temp_format)
    beer = Beer.objects.filter(device=device, ended_at__isnull=True).order_by("-started_at").first()
    state = status.get("state", point.state if point else None)
    gravity = None
    if with_gravity:
        floating = GravitySensor.objects.filter(device=device, active=True).order_by("name")
        for sensor in floating:
            gravity = sensor_snapshot(sensor, now, with_controller=False).gravity
            if gravity is not None:
                break
    return ControllerSnapshot(
        name=device.name,
        internal_id=device.pk,
        unit=unit if unit in ("C", "F") else "C",
        mode=mode_letter(status.get("mode")),
        beer_temp=point.beer_temp if point else None,
        fridge_temp=point.fridge_temp if point else None,
        room_temp=point.room_temp if point else None,
        beer_setting=_number(status.get("beer_set", point.beer_set if point else None)),
        fridge_setting=_number(status.get("fridge_set", point.fridge_set if point else None)),
        state=int(state) if _number(state) is not None else None,
        beer_name=beer.name if beer else None,
        gravity=gravity,
    )


def sensor_snapshot(
    sensor: GravitySensor, now: float, *, with_controller: bool = True
) -> SensorSnapshot:
    """The sensor's latest counted reading; a stale one (older than twice the sensor's
    interval) gives no values, so nothing old is sent as if it were new."""
    reading = counting(sensor.readings).order_by("-ts").first()
    if (
        reading is not None
        and now - reading.ts > STALE_AFTER_INTERVALS * sensor.expected_interval_s
    ):
        reading = None
    chamber = None
    if with_controller and sensor.device is not None:
        chamber = controller_snapshot(sensor.device, now, with_gravity=False)
    return SensorSnapshot(
        name=sensor.name,
        internal_id=sensor.pk,
        sensor_type=sensor.kind,
        gravity=reading.shown_gravity if reading else None,
        temperature=reading.temperature if reading else None,
        unit=sensor.temp_format,
        battery=reading.battery if reading else None,
        controller=chamber,
    )


def build_request(target: PushTarget, now: float) -> PushRequest:
    """The request `target` sends now; NothingToSend saying what is missing."""
    service = target.service_enum
    sensor = target.sensor if target.sensor_id else None
    if sensor is not None and not sensor.active:
        raise NothingToSend(f"the gravity sensor {sensor.name} is switched off")
    if service == Service.GENERIC:
        return generic_request(
            target.url,
            target.api_key,
            [controller_snapshot(d, now) for d in _generic_controllers(target)],
            [sensor_snapshot(s, now, with_controller=False) for s in _generic_sensors(target)],
        )
    if service == Service.BREWERS_FRIEND:
        snapshot = sensor_snapshot(sensor, now, with_controller=False) if sensor else None
        return brewers_friend_request(config.brewers_friend_stream_url(), target.api_key, snapshot)
    if service == Service.GRAINFATHER:
        snapshot = sensor_snapshot(sensor, now, with_controller=False) if sensor else None
        return grainfather_request(target.url, target.brew_id, snapshot)
    controller = target.controller if target.controller_id else None
    if service == Service.BREWFATHER:
        if sensor is not None:
            return brewfather_request(target.url, sensor=sensor_snapshot(sensor, now))
        snapshot = controller_snapshot(controller, now) if controller else None
        return brewfather_request(target.url, controller=snapshot)
    snapshot = controller_snapshot(controller, now) if controller else None
    return thingspeak_request(config.thingspeak_update_url(), target.api_key, snapshot)


def _generic_controllers(target: PushTarget):
    if target.send_controllers == Choice.ALL:
        return Device.objects.filter(active=True).order_by("name")
    if target.send_controllers == Choice.CHOSEN:
        return target.chosen_controllers.order_by("name")
    return []


def _generic_sensors(target: PushTarget):
    if target.send_sensors == Choice.ALL:
        return GravitySensor.objects.filter(active=True).order_by("name")
    if target.send_sensors == Choice.CHOSEN:
        return target.chosen_sensors.order_by("name")
    return []


# -- the wire --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    retry_after: str | None


class SendFailed(Exception):
    """No HTTP answer at all (no connection, no answer in time); the message says which."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would arrive as a GET without its body; the brewer should fix the
    # address instead, so a redirect is an answer like any other non-2xx.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(request: PushRequest, timeout: float = REQUEST_TIMEOUT_S) -> Reply:
    """Send `request`; any HTTP answer is a Reply, no answer is SendFailed."""
    headers = {"User-Agent": USER_AGENT} | request.headers
    http_request = urllib.request.Request(
        request.url, data=request.body, headers=headers, method=request.method
    )
    try:
        with _opener.open(http_request, timeout=timeout) as response:
            return Reply(
                response.status, response.read(MAX_REPLY_BYTES), response.headers.get("Retry-After")
            )
    except urllib.error.HTTPError as error:
        with error:
            body = error.read(MAX_REPLY_BYTES) if error.fp else b""
            return Reply(
                error.code, body, error.headers.get("Retry-After") if error.headers else None
            )
    except TimeoutError:
        raise SendFailed(f"no answer within {timeout:g} s") from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            raise SendFailed(f"no answer within {timeout:g} s") from None
        text = getattr(reason, "strerror", None) or str(reason)
        raise SendFailed(f"could not reach {_host(request.url)}: {text}") from None
    except (OSError, ValueError) as error:  # a reset connection, a malformed answer
        raise SendFailed(f"could not reach {_host(request.url)}: {error}") from None


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]


# -- one send, recorded ----------------------------------------------------------------------


def _moment(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def send_target(target_id: int, time_scale: float = 1.0) -> str:
    """Send one target now and write the result to its row; answers the outcome. Never raises
    for a problem of the target, its data or its service: those are recorded."""
    try:
        target = PushTarget.objects.select_related("sensor", "controller", "sensor__device").get(
            pk=target_id
        )
    except PushTarget.DoesNotExist:
        return "gone"
    started = time.time()
    service = target.service_enum
    status = None
    retry_after = None
    try:
        request = build_request(target, started)
        reply = post(request)
        status = reply.status
        error = reply_problem(reply.status, reply.body, service)
        if reply.status == 429 or reply.status == 503:
            retry_after = schedule.retry_after_seconds(reply.retry_after, time.time())
        outcome = Outcome.SENT if error is None else Outcome.FAILED
    except NothingToSend as nothing:
        outcome, error = Outcome.SKIPPED, str(nothing)
    except SendFailed as failed:
        outcome, error = Outcome.FAILED, str(failed)
    except Exception as error_:  # a bug must not stop the other targets: record it
        log.exception("push %r: could not send", target.name)
        outcome, error = Outcome.FAILED, f"internal error: {error_!r}"[:500]
    elapsed_ms = (time.time() - started) * 1000
    failures = target.failures + 1 if outcome == Outcome.FAILED else 0
    due = schedule.next_due(service, target.interval_s, started, failures, retry_after, time_scale)
    fields = {
        "last_attempt_at": _moment(started),
        "last_outcome": outcome,
        "last_status": status,
        "last_error": error or "",
        "failures": failures,
        "next_due_at": _moment(due),
    }
    if outcome == Outcome.SENT:
        fields["last_success_at"] = _moment(started)
    # Only the result columns: an edit made meanwhile on the page is kept.
    PushTarget.objects.filter(pk=target.pk).update(**fields)
    words = {Outcome.SENT: "sent", Outcome.FAILED: "FAILED", Outcome.SKIPPED: "nothing to send"}[
        outcome
    ]
    log.info(
        "push %r (%s): %s, HTTP %s, %d ms%s; next in %.1f s",
        target.name,
        service.value,
        words,
        status if status is not None else "-",
        elapsed_ms,
        f": {error}" if error else "",
        max(0, due - time.time()),
    )
    return outcome
