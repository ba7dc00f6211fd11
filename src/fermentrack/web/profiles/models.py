"""Fermentation profiles: temperature over time, as points offset from the profile's start."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


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
