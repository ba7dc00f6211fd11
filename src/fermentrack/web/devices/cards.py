"""What a device's card and page show, from what its controller last reported.

Everything here reads the database only (Device.status, the latest log point, the active
beer), never the controller itself, so the dashboard never waits on a controller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.urls import get_script_prefix

from fermentrack.web.beers.models import Beer, ControlState, LogPoint
from fermentrack.web.devices.models import Device

SILENT_AFTER_INTERVALS = 3  # warn when the controller missed this many log intervals
GRAPH_WIDTH_PX = 300  # the sparkline's width: the graph API returns at most this many buckets

MODE_NAMES = {
    "off": "Off",
    "fridge_constant": "Fridge constant",
    "beer_constant": "Beer constant",
    "profile": "Beer profile",
    "test": "Test",
}
# The firmware's one-letter modes (brewpi-protocol §5.4), should a status carry those.
MODE_LETTERS = {
    "o": "off",
    "f": "fridge_constant",
    "b": "beer_constant",
    "p": "profile",
    "t": "test",
}


def duration_text(seconds: float) -> str:
    """A span of time in a brewer's words: '45 s', '3 min', '2 h 5 min', '4 days'."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes and hours < 10 else f"{hours} h"
    days = hours // 24
    return f"{days} days"


def interval_text(seconds: int) -> str:
    """A log interval as a choice label: '10 s', '1 min', '30 min', '1 h'."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def last_seen_text(last_seen_at: datetime | None, now: datetime) -> str:
    """When the controller last reported: 'never', 'just now', '40 s ago', '3 min ago'."""
    if last_seen_at is None:
        return "never"
    age = (now - last_seen_at).total_seconds()
    if age < 5:
        return "just now"
    return f"{duration_text(age)} ago"


def device_warnings(device: Device, now: datetime) -> list[str]:
    """Plain sentences about what is wrong with a device's controller, most serious first."""
    if not device.active:
        return ["This device is switched off: no controller runs for it."]
    if device.last_seen_at is None:
        return ["The controller has not reported yet."]
    warnings = []
    silence = (now - device.last_seen_at).total_seconds()
    if silence > SILENT_AFTER_INTERVALS * device.log_interval_s:
        warnings.append(
            f"The controller has not reported for {duration_text(silence)}; "
            f"it should report every {interval_text(device.log_interval_s)}."
        )
    status = device.status or {}
    if status.get("connected") is False:
        reason = status.get("last_error") or "no reason given"
        warnings.append(f"The controller cannot reach the firmware: {reason}.")
    return warnings


def mode_name(mode: object) -> str:
    """The control mode as a status carries it ('beer_constant' or 'b') -> 'Beer constant'."""
    if not mode:
        return "unknown"
    mode = MODE_LETTERS.get(str(mode), str(mode))
    return MODE_NAMES.get(mode, mode)


def mode_key(mode: object) -> str | None:
    """The contract's mode word for a status mode ('b' -> 'beer_constant'), or None."""
    if not mode:
        return None
    mode = MODE_LETTERS.get(str(mode), str(mode))
    return mode if mode in MODE_NAMES else None


def state_name(state: object) -> str:
    """The control state id (brewpi-protocol §8.5) -> 'heating', 'waiting to cool', ..."""
    if state is None or state == "":
        return "unknown"
    try:
        return ControlState(int(state)).label
    except (TypeError, ValueError):
        return str(state)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass
class DeviceCard:
    """One device as the dashboard and the device page show it."""

    device: Device
    unit: str
    beer_temp: float | None = None
    beer_set: float | None = None
    fridge_temp: float | None = None
    fridge_set: float | None = None
    room_temp: float | None = None
    mode: str = "unknown"
    mode_key: str | None = None
    state: str = "unknown"
    last_seen: str = "never"
    interval: str = ""
    warnings: list[str] = field(default_factory=list)
    lcd: list[str] = field(default_factory=list)
    firmware: str = ""
    beer: Beer | None = None
    graph_url: str = ""


def device_card(device: Device, now: datetime) -> DeviceCard:
    status = device.status if isinstance(device.status, dict) else {}
    point = LogPoint.objects.filter(device=device).order_by("-ts").first()
    unit = point.temp_format if point else device.temp_format
    card = DeviceCard(
        device=device,
        unit=f"°{unit}",
        mode=mode_name(status.get("mode")),
        mode_key=mode_key(status.get("mode")),
        state=state_name(status.get("state", point.state if point else None)),
        last_seen=last_seen_text(device.last_seen_at, now),
        interval=interval_text(device.log_interval_s),
        warnings=device_warnings(device, now),
        lcd=[str(line) for line in status.get("lcd") or []][:4],
        beer=Beer.objects.filter(device=device, ended_at__isnull=True).first(),
        graph_url=f"{get_script_prefix()}api/devices/{device.name}/graph",
    )
    firmware = status.get("firmware")
    if isinstance(firmware, dict) and firmware.get("version"):
        card.firmware = f"{firmware.get('version')} ({firmware.get('dialect') or '?'})"
    if point is not None:
        card.beer_temp = point.beer_temp
        card.fridge_temp = point.fridge_temp
        card.room_temp = point.room_temp
        card.beer_set = point.beer_set
        card.fridge_set = point.fridge_set
    # The status is newer than the last point for setpoints (a mode change shows at once).
    for key in ("beer_set", "fridge_set"):
        if key in status:
            setattr(card, key, _number(status[key]))
    return card


def device_cards(devices, now: datetime) -> list[DeviceCard]:
    return [device_card(device, now) for device in devices]
