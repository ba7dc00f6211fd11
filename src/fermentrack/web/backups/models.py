"""The brewery's backup settings (one row): the nightly backup, and how many restores this
database has been through (the spawner puts that number into every device watcher's
environment, so a restore replaces them and their controllers get fresh tokens)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

NIGHTLY_KEEP_DEFAULT = 7
NIGHTLY_KEEP_MAX = 365


class BackupSettings(models.Model):
    nightly = models.BooleanField(
        default=False,
        verbose_name="Back up every night",
        help_text="cron runs the nightly backup at 03:17 (fermentrack add2cron adds it)",
    )
    nightly_keep = models.PositiveSmallIntegerField(
        default=NIGHTLY_KEEP_DEFAULT,
        validators=[MinValueValidator(1), MaxValueValidator(NIGHTLY_KEEP_MAX)],
        verbose_name="Keep the last",
        help_text="nightly backups; older nightly ones are deleted, those made by hand never are",
    )
    restore_generation = models.PositiveIntegerField(default=0, editable=False)
    last_restored_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_restored_from = models.CharField(max_length=255, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "backup settings"

    @classmethod
    def load(cls) -> BackupSettings:
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings


def restore_generation() -> int:
    """How many restores this database has been through (0 when never restored)."""
    value = BackupSettings.objects.filter(pk=1).values_list("restore_generation", flat=True)
    return value.first() or 0


# In every device watcher's environment: a restore changes it, so the spawner replaces each
# controller (issuing a fresh token) and each firmware (reading its restored EEPROM).
RESTORE_GENERATION_VARIABLE = "FERMENTRACK_RESTORE_GENERATION"


def restore_environment() -> dict[str, str]:
    """What a device watcher carries of restores: nothing until the first one (so an upgrade
    restarts no controller), then the generation, which each restore raises."""
    generation = restore_generation()
    return {RESTORE_GENERATION_VARIABLE: str(generation)} if generation else {}
