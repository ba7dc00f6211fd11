"""What a device logs (points, annotations) and the beers that name windows of it."""

from __future__ import annotations

import re
import secrets
import time

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone


class ControlState(models.IntegerChoices):
    IDLE = 0, "idle"
    OFF = 1, "off"
    DOOR_OPEN = 2, "door open"
    HEATING = 3, "heating"
    COOLING = 4, "cooling"
    WAITING_TO_COOL = 5, "waiting to cool"
    WAITING_TO_HEAT = 6, "waiting to heat"
    WAITING_FOR_PEAK = 7, "waiting for peak"
    COOLING_MIN_TIME = 8, "cooling (minimum time)"
    HEATING_MIN_TIME = 9, "heating (minimum time)"


HEATING_STATES = (ControlState.HEATING, ControlState.HEATING_MIN_TIME)
COOLING_STATES = (ControlState.COOLING, ControlState.COOLING_MIN_TIME)


class LogPoint(models.Model):
    """One poll of a device, keyed by (device, ts); written whether or not a beer is active."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="points")
    ts = models.BigIntegerField(help_text="Unix seconds, UTC")
    beer_temp = models.FloatField(null=True)
    beer_set = models.FloatField(null=True)
    fridge_temp = models.FloatField(null=True)
    fridge_set = models.FloatField(null=True)
    room_temp = models.FloatField(null=True)
    state = models.SmallIntegerField(null=True, choices=ControlState.choices)
    temp_format = models.CharField(max_length=1, default="C")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "ts"], name="one_point_per_device_second")
        ]


class PointRollup(models.Model):
    """Log points folded into fixed buckets (5 min, 1 h), so a year's graph reads few rows."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    resolution_s = models.IntegerField()
    bucket_ts = models.BigIntegerField()
    points = models.IntegerField()
    beer_temp_min = models.FloatField(null=True)
    beer_temp_max = models.FloatField(null=True)
    beer_temp_sum = models.FloatField(null=True)
    beer_temp_n = models.IntegerField(default=0)
    fridge_temp_min = models.FloatField(null=True)
    fridge_temp_max = models.FloatField(null=True)
    fridge_temp_sum = models.FloatField(null=True)
    fridge_temp_n = models.IntegerField(default=0)
    room_temp_min = models.FloatField(null=True)
    room_temp_max = models.FloatField(null=True)
    room_temp_sum = models.FloatField(null=True)
    room_temp_n = models.IntegerField(default=0)
    beer_set_sum = models.FloatField(null=True)
    beer_set_n = models.IntegerField(default=0)
    fridge_set_sum = models.FloatField(null=True)
    fridge_set_n = models.IntegerField(default=0)
    heating = models.IntegerField(default=0)
    cooling = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device", "resolution_s", "bucket_ts"], name="one_rollup_per_bucket"
            )
        ]


class AnnotationSource(models.TextChoices):
    FIRMWARE = "firmware", "firmware"
    CONTROLLER = "controller", "controller"
    PERSON = "person", "person"


class Annotation(models.Model):
    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="annotations"
    )
    ts = models.BigIntegerField(help_text="Unix seconds, UTC")
    text = models.CharField(max_length=500)
    source = models.CharField(max_length=10, choices=AnnotationSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        indexes = [models.Index(fields=["device", "ts"])]
        ordering = ["ts"]


# Letters (any script), digits, spaces, '-' and '_', 1 to 255 of them (web contract 3).
BEER_NAME = re.compile(r"[\w -]{1,255}")


def beer_name_problem(name: str) -> str | None:
    """Why `name` cannot name a beer, or None when it can."""
    if not name:
        return "the beer needs a name"
    if len(name) > 255:
        return f"the name is {len(name)} characters long; at most 255 fit"
    if not BEER_NAME.fullmatch(name):
        wrong = sorted({char for char in name if not BEER_NAME.fullmatch(char)})
        return (
            f"{name!r} has {' '.join(wrong)} in it: a beer name may hold letters, digits, "
            "spaces, '-' and '_'"
        )
    return None


class Beer(models.Model):
    """A named time window on a device: its graph and CSV are that window of the device's log."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="beers")
    name = models.CharField(max_length=255)
    started_at = models.BigIntegerField(help_text="Unix seconds, UTC")
    ended_at = models.BigIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    original_gravity = models.FloatField(
        null=True, blank=True, help_text="SG before fermentation, measured by hand"
    )
    share_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["device", "name"], name="beer_names_unique_per_device")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.ended_at is None

    @classmethod
    def start(cls, device, name: str, now: int | None = None) -> Beer:
        """Start logging a beer on `device`; the one still running there ends now.

        Raises ValueError saying why when the name is not usable.
        """
        name = name.strip()
        problem = beer_name_problem(name)
        if problem:
            raise ValueError(problem)
        now = int(time.time()) if now is None else now
        with transaction.atomic():
            if cls.objects.filter(device=device, name=name).exists():
                raise ValueError(
                    f"{device.name} already has a beer named {name!r}; choose another name"
                )
            cls.objects.filter(device=device, ended_at__isnull=True).update(ended_at=now)
            return cls.objects.create(device=device, name=name, started_at=now)

    @classmethod
    def stop_active(cls, device, now: int | None = None) -> Beer | None:
        """End the active beer of `device`, if there is one; its log stays."""
        beer = cls.objects.filter(device=device, ended_at__isnull=True).first()
        if beer is not None:
            beer.ended_at = int(time.time()) if now is None else now
            beer.save(update_fields=["ended_at"])
        return beer

    def share(self) -> str:
        """Create (or replace) the read-only link token; revoke with `unshare`."""
        self.share_token = secrets.token_urlsafe(32)
        self.save(update_fields=["share_token"])
        return self.share_token

    def unshare(self) -> None:
        self.share_token = None
        self.save(update_fields=["share_token"])
