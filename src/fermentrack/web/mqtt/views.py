"""The MQTT settings page: the form, and how the bridge is doing in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from fermentrack.mqtt.topics import COMMANDS
from fermentrack.web.brewery.access import change_required
from fermentrack.web.devices.cards import last_seen_text
from fermentrack.web.devices.models import Device
from fermentrack.web.mqtt.forms import MqttSettingsForm
from fermentrack.web.mqtt.models import MqttSettings


@dataclass(frozen=True)
class Line:
    text: str
    kind: str = ""  # "", "success" or "error": the message classes of site.css


def bridge_state(settings: MqttSettings, now: datetime) -> list[Line]:
    """How the bridge is doing, in sentences, most important first."""
    if not settings.enabled:
        return [Line("MQTT is off: nothing is published and no bridge runs.")]
    where = f"{settings.host}:{settings.port}"
    if not settings.bridge_running(now):
        if settings.bridge_seen_at is None:
            lines = [Line("The bridge has not started yet.", "error")]
        else:
            seen = last_seen_text(settings.bridge_seen_at, now)
            lines = [Line(f"The bridge is not running: it last reported {seen}.", "error")]
        lines.append(
            Line(
                "While Fermentrack runs (fermentrack start), it starts within a few seconds of "
                "saving. Its log is mqtt-stderr.log on the Logs page."
            )
        )
        return lines
    if settings.connected:
        since = last_seen_text(settings.last_connected_at, now).removesuffix(" ago")
        lines = [Line(f"Connected to the broker at {where} ({since} ago).", "success")]
    else:
        lines = [
            Line(
                f"Not connected to the broker at {where}: "
                f"{settings.last_error or 'connecting'}. It keeps trying, waiting longer each "
                "time, at most a minute.",
                "error",
            )
        ]
    if settings.accept_commands and settings.command_user is not None:
        lines.append(
            Line(f"Commands from MQTT are accepted, acting as {settings.command_user.username}.")
        )
    else:
        lines.append(Line("Commands from MQTT are refused: only states are published."))
    return lines


@change_required
def mqtt_settings(request):
    settings = MqttSettings.load()
    form = MqttSettingsForm(request.POST if request.method == "POST" else None, instance=settings)
    if request.method == "POST" and form.is_valid():
        form.save()
        if form.instance.enabled:
            messages.success(
                request, "MQTT settings saved: the bridge (re)starts with them in a few seconds."
            )
        else:
            messages.success(request, "MQTT settings saved: MQTT is off.")
        return redirect("mqtt_settings")
    settings.refresh_from_db()  # the bridge's fields, as fresh as can be
    topics = settings.topics()
    device = Device.objects.filter(active=True).values_list("name", flat=True).first() or "fridge-1"
    context = {
        "form": form,
        "state": bridge_state(settings, timezone.now()),
        "example": {
            "device": device,
            "status": topics.status,
            "state": topics.state(device),
            "availability": topics.availability(device),
            "error": topics.error(device),
            "commands": [topics.command(device, name) for name in COMMANDS],
            "discovery": topics.config("<component>", device, "<entity>"),
        },
    }
    return render(request, "mqtt/settings.html", context)
