"""The brewery's own settings (one row) and the roles of the people who use it."""

from __future__ import annotations

from django.db import models

DEFAULT_GRAPH_COLOURS = {
    "beer_temp": "#e3b505",
    "beer_set": "#8a6d00",
    "fridge_temp": "#1f6fb2",
    "fridge_set": "#0f8a87",
    "room_temp": "#8b2a6b",
    "heating": "#d9534f",
    "cooling": "#5bc0de",
}
GUESTS_GROUP = "Guests"  # logged-in users who may look but not change anything


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

    def colours(self) -> dict[str, str]:
        return {**DEFAULT_GRAPH_COLOURS, **(self.graph_colours or {})}
