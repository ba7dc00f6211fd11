"""A push target: one service (Brewer's Friend, Brewfather, Grainfather, ThingSpeak or a
generic JSON endpoint), what it sends, how often, and how its last sends went.

The `pusher` process (management/commands/pusher.py) sends each active target when it is due
and writes the result back here; the pages only read it and mark a target due ("send now").
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import models
from django.utils import timezone

from fermentrack import config
from fermentrack.push.schedule import earliest_send_now
from fermentrack.push.services import MIN_INTERVAL_S, Service

INTERVAL_MINUTES = [1, 2, 5, 10, 15, 30, 60]  # the menu; each service offers those ≥ its limit
DEFAULT_INTERVAL_S = 15 * 60
KEY_SHOWN_CHARS = 4  # an API key is shown back as its last 4 characters only


def interval_choices(service: str) -> list[tuple[int, str]]:
    """The intervals (seconds, label) a service takes, none shorter than its minimum."""
    shortest = MIN_INTERVAL_S[Service(service)]
    return [
        (minutes * 60, "1 h" if minutes == 60 else f"{minutes} min")
        for minutes in INTERVAL_MINUTES
        if minutes * 60 >= shortest
    ]


class Choice(models.TextChoices):
    ALL = "all", "All active ones"
    CHOSEN = "chosen", "The ones I choose"
    NONE = "none", "None"


class Outcome(models.TextChoices):
    SENT = "sent", "sent"
    FAILED = "failed", "failed"
    SKIPPED = "skipped", "nothing to send"


class PushTarget(models.Model):
    name = models.CharField(max_length=48, unique=True)
    service = models.CharField(
        max_length=16, choices=[(s.value, s.label) for s in Service], default="generic"
    )
    active = models.BooleanField(default=True, help_text="send to it")
    url = models.CharField(
        "address",
        max_length=500,
        blank=True,
        help_text="where to post: the endpoint, Brewfather's Custom Stream URL or Grainfather's "
        "iSpindel logging URL",
    )
    api_key = models.CharField("API key", max_length=128, blank=True)
    brew_id = models.CharField(
        "brew id", max_length=32, blank=True, help_text="the Grainfather brew session's id"
    )
    interval_s = models.PositiveIntegerField(
        "how often", default=DEFAULT_INTERVAL_S, help_text="seconds between two sends"
    )
    # What to send: one sensor (Brewer's Friend, Grainfather, Brewfather), one controller
    # (ThingSpeak, Brewfather), or for the generic endpoint controllers and sensors as chosen.
    sensor = models.ForeignKey(
        "gravity.GravitySensor", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    controller = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    send_controllers = models.CharField(
        "controllers to send", max_length=8, choices=Choice.choices, default=Choice.ALL
    )
    chosen_controllers = models.ManyToManyField("devices.Device", blank=True, related_name="+")
    send_sensors = models.CharField(
        "gravity sensors to send", max_length=8, choices=Choice.choices, default=Choice.ALL
    )
    chosen_sensors = models.ManyToManyField("gravity.GravitySensor", blank=True, related_name="+")
    # How it went: written by the pusher only.
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=8, choices=Outcome.choices, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="failures in a row")
    next_due_at = models.DateTimeField(null=True, blank=True, help_text="empty: due now")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def service_enum(self) -> Service:
        return Service(self.service)

    @property
    def masked_key(self) -> str:
        """The API key as the pages show it: '••••1234'."""
        if not self.api_key:
            return ""
        return "••••" + self.api_key[-KEY_SHOWN_CHARS:] if len(self.api_key) > 8 else "••••"

    def what_it_sends(self) -> str:
        """In words: 'Spindle 1', 'fridge-1', 'all controllers and Spindle 1, Purple Tilt'."""
        service = self.service_enum
        if service == Service.GENERIC:
            parts = []
            for choice, chosen, noun in (
                (self.send_controllers, self.chosen_controllers, "controllers"),
                (self.send_sensors, self.chosen_sensors, "gravity sensors"),
            ):
                if choice == Choice.ALL:
                    parts.append(f"all active {noun}")
                elif choice == Choice.CHOSEN:
                    names = ", ".join(str(item) for item in chosen.all())
                    parts.append(names or f"no {noun} (none chosen)")
            return " and ".join(parts) or "nothing"
        if self.sensor_id is not None:
            return str(self.sensor)
        if self.controller_id is not None:
            return str(self.controller)
        return "nothing chosen (the sensor or controller was deleted)"

    def result_text(self) -> str:
        """The last result in plain words, for the list."""
        if self.last_attempt_at is None:
            return "Not sent yet."
        if self.last_outcome == Outcome.SENT:
            return f"Sent (HTTP {self.last_status})."
        if self.last_outcome == Outcome.SKIPPED:
            return f"Nothing sent: {self.last_error}."
        tries = f" ({self.failures} failures in a row)" if self.failures > 1 else ""
        return f"Failed{tries}: {self.last_error}"


def send_now_time(target: PushTarget) -> datetime:
    """When 'send now' (or a change) may send `target`: now, unless the service's own limit
    since the last attempt has not passed yet."""
    last = target.last_attempt_at.timestamp() if target.last_attempt_at else None
    when = earliest_send_now(
        target.service_enum, last, timezone.now().timestamp(), config.push_time_scale()
    )
    return datetime.fromtimestamp(when, UTC)
