"""A ramp: the beer taken from its temperature now to another at a set pace, a cold crash at
1 °C an hour or a warm-up for a diacetyl rest, instead of the fridge's full power at once.

A ramp is run as a profile of two points made for it (the beer's temperature now, then the
target after the time the pace takes), so it survives restarts and reboots as profiles do, is
drawn on the beer's graph as a setting, and hands over to beer constant at the target when it
ends. Its profile is removed once no device runs it (the ramp ended, or was replaced).
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

from django import forms
from django.db import transaction
from django.utils import timezone

from fermentrack.web.beers.models import LogPoint
from fermentrack.web.devices.forms import SETPOINT_RANGE
from fermentrack.web.devices.models import Device
from fermentrack.web.profiles.models import FermentationProfile, remove_finished_ramps

# Degrees an hour a ramp may move, per unit: slower than a tenth of a degree an hour is a
# profile's job; faster than 10 °C an hour is the fridge's full power anyway.
PACE_RANGE = {"C": (Decimal("0.1"), Decimal("10.0")), "F": (Decimal("0.2"), Decimal("18.0"))}
SHORTEST_S = 60
RECENT_S = 300  # a beer reading older than this (or three log intervals) is not "now"


class RampForm(forms.Form):
    target = forms.DecimalField(max_digits=5, decimal_places=1)
    pace = forms.DecimalField(max_digits=4, decimal_places=1)

    def __init__(self, *args, temp_format: str = "C", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.temp_format = temp_format
        unit = f"°{temp_format}"
        self.fields["target"].label = f"Ramp the beer to ({unit})"
        self.fields["target"].help_text = "e.g. 2.0 for a cold crash"
        self.fields["pace"].label = f"At ({unit} an hour)"
        low, high = PACE_RANGE[temp_format]
        self.fields["pace"].help_text = f"from {low} to {high}; e.g. 1.0"
        for field in self.fields.values():
            field.widget.attrs.update({"step": "0.1", "inputmode": "decimal"})

    def clean_target(self) -> Decimal:
        return self._within(self.cleaned_data["target"], SETPOINT_RANGE)

    def clean_pace(self) -> Decimal:
        return self._within(self.cleaned_data["pace"], PACE_RANGE, "a pace of ", " an hour")

    def _within(self, value: Decimal, ranges: dict, what: str = "", per: str = "") -> Decimal:
        low, high = ranges[self.temp_format]
        unit = f"°{self.temp_format}{per}"
        if not low <= value <= high:
            raise forms.ValidationError(
                f"{what}{value} {unit} is out of range: expected {low} to {high} {unit}"
            )
        return value


def beer_temperature_now(device: Device, now: float) -> float | None:
    """The beer's latest reading when it is recent and in the device's unit, else None."""
    recent = now - max(RECENT_S, 3 * device.log_interval_s)
    point = (
        LogPoint.objects.filter(device=device, ts__gte=recent, beer_temp__isnull=False)
        .order_by("-ts")
        .first()
    )
    if point is None or point.temp_format != device.temp_format:
        return None
    return point.beer_temp


def start_problem(device: Device, start: float | None) -> str | None:
    """Why a ramp cannot start from the beer's reading `start`, or None when it can."""
    unit = f"°{device.temp_format}"
    if start is None:
        return (
            f"{device.name} has no recent beer temperature in {unit}, and a ramp starts from "
            "it: check the beer sensor on the sensors and actuators page."
        )
    low, high = SETPOINT_RANGE[device.temp_format]
    if not low <= Decimal(str(round(start, 1))) <= high:
        return (
            f"The beer reads {start:.1f} {unit}, outside the {low} to {high} {unit} a ramp may "
            "start from: check the beer sensor on the sensors and actuators page."
        )
    return None


def ramp_points(start: float, target: float, pace: float) -> list[tuple[int, float]]:
    """The two points: the beer's temperature now and the target when the pace gets there
    (whole minutes, at least one)."""
    start, target = round(start, 1), round(target, 1)
    minutes = round(abs(target - start) / pace * 60, 6)  # 16.6 h is 996 minutes, not 997
    offset = max(SHORTEST_S, math.ceil(minutes) * 60)
    return [(0, start), (offset, target)]


def start_ramp(
    device: Device, start: float, target: float, pace: float, now: datetime | None = None
) -> FermentationProfile:
    """Make the ramp's profile and start it on `device` (the record; then tell the controller)."""
    now = now or timezone.now()
    unit = f"°{device.temp_format}"
    points = ramp_points(start, target, pace)
    when = timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
    name = f"Ramp {device.name} {points[0][1]:g} to {target:g} {unit} at {pace:g} {unit}/h, {when}"
    with transaction.atomic():
        taken = FermentationProfile.objects.filter(name__startswith=name).count()
        profile = FermentationProfile.objects.create(
            name=name if not taken else f"{name} ({taken + 1})",
            temp_format=device.temp_format,
            notes=f"Made by the ramp on {device.name}'s page; removed when the ramp is done.",
            for_ramp=True,
        )
        profile.replace_points(points)
        profile.start_on(device, 0, now)
        remove_finished_ramps()
    return profile
