"""The brewery's own settings (one row) and the roles of the people who use it."""

from __future__ import annotations

import zoneinfo
from functools import cache
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group
from django.db import models

DEFAULT_GRAPH_COLOURS = {
    "beer_temp": "#e3b505",
    "beer_set": "#8a6d00",
    "fridge_temp": "#1f6fb2",
    "fridge_set": "#0f8a87",
    "room_temp": "#8b2a6b",
    "heating": "#d9534f",
    "cooling": "#5bc0de",
    "gravity": "#95190c",
}
GRAPH_SERIES_LABELS = {
    "beer_temp": "Beer temperature",
    "beer_set": "Beer setting",
    "fridge_temp": "Fridge temperature",
    "fridge_set": "Fridge setting",
    "room_temp": "Room temperature",
    "heating": "Heating",
    "cooling": "Cooling",
    "gravity": "Gravity",
}
GUESTS_GROUP = "Guests"  # logged-in users who may look but not change anything

# The roles a person can have, least power first: a guest looks, a brewer changes things, an
# admin also manages people (Django's staff and superuser flags).
GUEST, BREWER, ADMIN = "guest", "brewer", "admin"
ROLES = {
    GUEST: "Guest: looks only",
    BREWER: "Brewer: changes things",
    ADMIN: "Admin: also manages people",
}
_ZONE_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def time_zone_names() -> tuple[str, ...]:
    """The zones a brewery may pick: UTC and every Area/Place zone the system knows."""
    names = {n for n in zoneinfo.available_timezones() if n.split("/")[0] in _ZONE_AREAS}
    return ("UTC", *sorted(names))


def role_of(user) -> str:
    if user.is_staff and user.is_superuser:
        return ADMIN
    if user.groups.filter(name=GUESTS_GROUP).exists():
        return GUEST
    return BREWER


def set_role(user, role: str) -> None:
    """Give `user` exactly one role (saves the user)."""
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    guests, _ = Group.objects.get_or_create(name=GUESTS_GROUP)
    user.is_staff = user.is_superuser = role == ADMIN
    user.save(update_fields=["is_staff", "is_superuser"])
    if role == GUEST:
        user.groups.add(guests)
    else:
        user.groups.remove(guests)


class BrewerySettings(models.Model):
    brewery_name = models.CharField(max_length=64, default="Fermentrack")
    temp_format = models.CharField(max_length=1, choices=[("C", "°C"), ("F", "°F")], default="C")
    time_zone = models.CharField(max_length=64, default="UTC")
    dashboard_requires_login = models.BooleanField(
        default=True, help_text="off: anyone who can reach this site sees the dashboard"
    )
    graph_colours = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "brewery settings"

    @classmethod
    def load(cls) -> BrewerySettings:
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings

    def zone(self) -> ZoneInfo:
        """The brewery's time zone: the one its pages show times in."""
        return ZoneInfo(self.time_zone)

    def colours(self) -> dict[str, str]:
        """The colour of every graph series: the brewery's choice, else the default."""
        chosen = self.graph_colours or {}
        return {key: chosen.get(key, default) for key, default in DEFAULT_GRAPH_COLOURS.items()}
