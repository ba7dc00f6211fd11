"""Fermentation profiles: temperature over time, as points offset from the profile's start.

Temperatures are in the profile's own unit (°C or °F); the controller converts them to its
device's unit. The arithmetic (setting at a moment, summary, offsets as text) is pure and lives
in fermentrack.brewpi.profile_schedule, shared with the controller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.db import models, transaction
from django.utils import timezone

from fermentrack.brewpi import profile_schedule
from fermentrack.brewpi.profile_schedule import Point, format_offset

# What a fermentation chamber can sensibly be asked for, in each unit.
TEMPERATURE_LIMITS = {"C": (-10.0, 110.0), "F": (14.0, 230.0)}
MAX_POINTS = 500
MAX_OFFSET_S = 2 * profile_schedule.YEAR  # far beyond any fermentation, well inside 32 bits


def temperature_problem(temperature: float, unit: str) -> str | None:
    """Why `temperature` cannot be a profile temperature in `unit`, or None when it can."""
    low, high = TEMPERATURE_LIMITS[unit]
    if not low <= temperature <= high:
        return f"{temperature:g} °{unit} is outside {low:g}…{high:g} °{unit}"
    return None


def point_problems(
    rows: Sequence[tuple[str, int, float]],
    unit: str,
    describe: Callable[[int], str] = format_offset,
) -> list[str]:
    """Every reason the labelled points (label, offset_s, temperature) cannot be a profile.

    Offsets must increase down the list with no two alike; temperatures must lie within the
    unit's limits. Each message starts with the row's label ("row 3: ...") and names the values;
    `describe` shows an offset as the person entered it (an offset, or a date).
    """
    problems = []
    if not rows:
        problems.append("add at least one point: an offset such as 0d and a temperature")
    if len(rows) > MAX_POINTS:
        problems.append(f"{len(rows)} points is too many: a profile holds at most {MAX_POINTS}")
    previous: tuple[str, int] | None = None
    for label, offset, temperature in rows:
        if previous is not None:
            previous_label, previous_offset = previous
            if offset == previous_offset:
                problems.append(
                    f"{label}: {describe(offset)} is the same time as {previous_label}; "
                    "each point needs its own time"
                )
            elif offset < previous_offset:
                problems.append(
                    f"{label}: {describe(offset)} comes before {previous_label} "
                    f"({describe(previous_offset)}); times must increase down the table"
                )
        if offset > MAX_OFFSET_S:
            problems.append(
                f"{label}: {describe(offset)} is later than a profile may run "
                f"({format_offset(MAX_OFFSET_S)} after its start)"
            )
        if previous is None or offset > previous[1]:
            previous = (label, offset)
        problem = temperature_problem(temperature, unit)
        if problem:
            problems.append(f"{label}: {problem}")
    return problems


class FermentationProfile(models.Model):
    name = models.CharField(max_length=128, unique=True)
    notes = models.TextField(blank=True)
    temp_format = models.CharField(max_length=1, choices=[("C", "°C"), ("F", "°F")], default="C")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def in_use(self) -> bool:
        return self.devices.exists()

    def point_list(self) -> list[Point]:
        """The points as (offset_s, temperature), in offset order."""
        return [(point.offset_s, point.temperature) for point in self.points.all()]

    def summary(self) -> str:
        return profile_schedule.summary(self.point_list(), self.temp_format)

    def replace_points(self, points: Sequence[Point]) -> None:
        """Make `points` (already checked with `point_problems`) the profile's points."""
        with transaction.atomic():
            self.points.all().delete()
            ProfilePoint.objects.bulk_create(
                ProfilePoint(profile=self, offset_s=offset, temperature=temperature)
                for offset, temperature in points
            )

    def copy(self, name: str) -> FermentationProfile:
        """A new profile with this one's unit, notes and points, under another name."""
        with transaction.atomic():
            twin = FermentationProfile.objects.create(
                name=name, notes=self.notes, temp_format=self.temp_format
            )
            twin.replace_points(self.point_list())
        return twin

    def start_on(self, device, offset_s: int = 0, now: datetime | None = None) -> None:
        """Run this profile on `device` as if it had started `offset_s` seconds before `now`.

        Only the record: the view then asks the device's controller to fetch its configuration
        again (and the bumped config_version tells it at its next report anyway).
        """
        now = now or timezone.now()
        device.active_profile = self
        device.profile_started_at = now - timedelta(seconds=offset_s)
        device.save(update_fields=["active_profile", "profile_started_at"])
        device.bump_config_version()


class ProfilePoint(models.Model):
    profile = models.ForeignKey(
        FermentationProfile, on_delete=models.CASCADE, related_name="points"
    )
    offset_s = models.PositiveIntegerField(help_text="seconds after the profile starts")
    temperature = models.FloatField()

    class Meta:
        ordering = ["offset_s"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "offset_s"], name="one_point_per_offset")
        ]
