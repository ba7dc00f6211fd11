"""Fermentation profiles: temperature over time, as points offset from the profile's start.

Temperatures are in the profile's own unit (°C or °F); the controller converts them to its
device's unit. A point may hold its temperature until the beer's gravity says so (or a time
limit passes), shifting the later points by the time held. The arithmetic (setting at a
moment, summary, offsets as text, holds) is pure and lives in fermentrack.brewpi.profile_schedule
and fermentrack.gravity.holds, shared with the controller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from django.db import models, transaction
from django.utils import timezone

from fermentrack.brewpi import profile_schedule
from fermentrack.brewpi.profile_schedule import Point, format_offset
from fermentrack.gravity.holds import (
    GRAVITY_AT_MOST,
    GRAVITY_STABLE,
    Hold,
    HoldProgress,
    points_with_longest_holds,
)

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


def hold_problems(label: str, hold: Hold | None) -> list[str]:
    """Every reason `hold` cannot be the hold of the point labelled `label` ("row 3: ...")."""
    return [] if hold is None else [f"{label}: {problem}" for problem in hold.problems()]


def holds_summary(points: Sequence[Point], holds: Mapping[int, Hold], unit: str) -> str:
    """The holds in words, after the profile's summary: "at 3 days, hold 18.0 °C until
    gravity ≤ 1.012 (at most 4 days)"; empty without holds."""
    ordered = sorted(points)
    phrases = []
    for index, hold in sorted(holds.items()):
        offset, temperature = ordered[index]
        when = "at the start" if offset == 0 else f"at {profile_schedule.duration_words(offset)}"
        phrases.append(f"{when}, hold {temperature:.1f} °{unit} {hold.describe()}")
    return "; ".join(phrases)


class FermentationProfile(models.Model):
    name = models.CharField(max_length=128, unique=True)
    notes = models.TextField(blank=True)
    temp_format = models.CharField(max_length=1, choices=[("C", "°C"), ("F", "°F")], default="C")
    created_at = models.DateTimeField(default=timezone.now)
    # Made by a ramp on a device page (profiles/ramps.py): removed once no device runs it.
    for_ramp = models.BooleanField(default=False)

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

    def hold_list(self) -> dict[int, Hold]:
        """The holds, keyed by the offset of their point."""
        return {point.offset_s: point.hold for point in self.points.all() if point.hold}

    def holds_by_index(self) -> dict[int, Hold]:
        """The holds, keyed by their point's place in offset order (as progress counts them)."""
        return {index: point.hold for index, point in enumerate(self.points.all()) if point.hold}

    def summary(self) -> str:
        points = self.point_list()
        text = profile_schedule.summary(points, self.temp_format)
        holds = holds_summary(points, self.holds_by_index(), self.temp_format)
        return f"{text}; {holds}" if holds else text

    def longest_schedule(self) -> list[Point]:
        """The points as they fall if every hold lasts its time limit (for the graph)."""
        return points_with_longest_holds(self.point_list(), self.holds_by_index())

    def replace_points(
        self, points: Sequence[Point], holds: Mapping[int, Hold] | None = None
    ) -> None:
        """Make `points` (already checked with `point_problems`) the profile's points, with
        `holds` (checked with `hold_problems`) on the points of those offsets."""
        holds = holds or {}
        with transaction.atomic():
            self.points.all().delete()
            ProfilePoint.objects.bulk_create(
                ProfilePoint(profile=self, offset_s=offset, temperature=temperature).with_hold(
                    holds.get(offset)
                )
                for offset, temperature in points
            )

    def copy(self, name: str) -> FermentationProfile:
        """A new profile with this one's unit, notes, points and holds, under another name."""
        with transaction.atomic():
            twin = FermentationProfile.objects.create(
                name=name, notes=self.notes, temp_format=self.temp_format
            )
            twin.replace_points(self.point_list(), self.hold_list())
        return twin

    def start_on(self, device, offset_s: int = 0, now: datetime | None = None) -> None:
        """Run this profile on `device` as if it had started `offset_s` seconds before `now`.

        Only the record: the view then asks the device's controller to fetch its configuration
        again (and the bumped config_version tells it at its next report anyway).
        """
        now = now or timezone.now()
        started = now - timedelta(seconds=offset_s)
        device.active_profile = self
        device.profile_started_at = started
        # A new run: no hold done yet, except those the start skips.
        progress = HoldProgress.skipping(self.point_list(), self.holds_by_index(), offset_s)
        device.profile_progress = {"id": self.pk, "started_at": int(started.timestamp())} | (
            progress.to_json()
        )
        device.save(update_fields=["active_profile", "profile_started_at", "profile_progress"])
        device.bump_config_version()


def remove_finished_ramps() -> int:
    """Remove the profiles ramps made (profiles/ramps.py) that no device runs any more: the
    ramp ended, or another mode or profile replaced it. Answers how many."""
    done = FermentationProfile.objects.filter(for_ramp=True, devices__isnull=True)
    return done.delete()[1].get("profiles.FermentationProfile", 0)


class ProfilePoint(models.Model):
    profile = models.ForeignKey(
        FermentationProfile, on_delete=models.CASCADE, related_name="points"
    )
    offset_s = models.PositiveIntegerField(help_text="seconds after the profile starts")
    temperature = models.FloatField()
    # A hold (fermentrack.gravity.holds): keep this point's temperature until the
    # condition is met or hold_max_s has passed. Empty hold_until: no hold.
    hold_until = models.CharField(
        max_length=16,
        blank=True,
        choices=[
            (GRAVITY_AT_MOST, "the gravity is at most"),
            (GRAVITY_STABLE, "the gravity is steady"),
        ],
    )
    hold_gravity = models.FloatField(null=True, blank=True, help_text="SG, for gravity_at_most")
    hold_tolerance = models.FloatField(
        null=True, blank=True, help_text="gravity points (0.001 SG), for gravity_stable"
    )
    hold_for_s = models.PositiveIntegerField(
        null=True, blank=True, help_text="seconds the gravity must stay steady"
    )
    hold_max_s = models.PositiveIntegerField(
        null=True, blank=True, help_text="the hold's time limit in seconds"
    )

    class Meta:
        ordering = ["offset_s"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "offset_s"], name="one_point_per_offset")
        ]

    @property
    def hold(self) -> Hold | None:
        return Hold.from_fields(
            {
                "hold_until": self.hold_until,
                "hold_gravity": self.hold_gravity,
                "hold_tolerance": self.hold_tolerance,
                "hold_for_s": self.hold_for_s,
                "hold_max_s": self.hold_max_s,
            }
        )

    def with_hold(self, hold: Hold | None) -> ProfilePoint:
        """This point carrying `hold` (None: no hold); for chaining before a save."""
        fields = hold.fields() if hold else {}
        self.hold_until = fields.get("hold_until") or ""
        for name in ("hold_gravity", "hold_tolerance", "hold_for_s", "hold_max_s"):
            setattr(self, name, fields.get(name))
        return self


def stored_progress(device, profile_id: int, started_at: int) -> HoldProgress:
    """The holds' progress the device keeps when it belongs to this run of the profile (started
    at `started_at`); else none yet (a progress written by hand or by an older version too)."""
    stored = device.profile_progress or {}
    if (stored.get("id"), stored.get("started_at")) == (profile_id, started_at):
        try:
            return HoldProgress.from_json(stored)
        except ValueError:
            pass
    return HoldProgress()


def hold_under_way(device, now: float) -> str | None:
    """'holding until gravity ≤ 1.030 for 5 hours (at most 3 days)' while the device's running
    profile waits on one of its holds; None otherwise."""
    profile, started = device.active_profile, device.profile_started_at
    if profile is None or started is None:
        return None
    holding = stored_progress(device, profile.pk, int(started.timestamp())).holding
    hold = None if holding is None else profile.holds_by_index().get(holding[0])
    if hold is None:
        return None
    held_s = int(now - holding[1]) // 60 * 60  # whole minutes: the page is read, not timed
    held = profile_schedule.duration_words(held_s) if held_s > 0 else "less than a minute"
    return (
        f"holding until {hold.condition_words()} for {held} "
        f"(at most {profile_schedule.duration_words(hold.max_s)})"
    )
