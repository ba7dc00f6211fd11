"""A device: one fermentation chamber with its BrewPi firmware and its controller process."""

from __future__ import annotations

import re
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from fermentrack.config import ConfigError, check_device_name, token_fingerprint

LOG_INTERVALS_S = [10, 30, 60, 120, 300, 600, 1800, 3600]
DEFAULT_LOG_INTERVAL_S = 30
LINK_SCHEMES = ("tcp://", "serial://", "serial-by-id://")


def validate_device_name(value: str) -> None:
    try:
        check_device_name(value)
    except ConfigError as error:
        raise ValidationError(str(error)) from None


def validate_link(value: str) -> None:
    if not value.startswith(LINK_SCHEMES):
        raise ValidationError(
            f"link {value!r} must start with tcp://, serial:// or serial-by-id://, "
            "e.g. tcp://192.168.1.20:23 or serial:///dev/ttyUSB0"
        )


# A host name or an IP address, IPv6 in brackets: of a firmware's tcp:// link or of a
# controller on another computer.
HOST_PATTERN = (
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?|\[[0-9A-Fa-f:.]+\])"
)
CONTROLLER_ADDRESS = re.compile(rf"^(?P<host>{HOST_PATTERN}):(?P<port>[0-9]{{1,5}})$")


def split_controller_address(value: str) -> tuple[str, int]:
    """('brewpi-2.local', 7070) of 'brewpi-2.local:7070'; ValidationError saying what is
    expected otherwise."""
    match = CONTROLLER_ADDRESS.match(value.strip())
    port = int(match["port"]) if match else 0
    if not match or not 1 <= port <= 65535:
        raise ValidationError(
            f"controller address {value!r} must be HOST:PORT with a port from 1 to 65535, "
            "e.g. cellar-pi.local:7070 or 192.168.1.30:7070"
        )
    return match["host"].strip("[]"), port


def validate_controller_address(value: str) -> None:
    split_controller_address(value)


def hash_token(token: str) -> str:
    return token_fingerprint(token)


class TempFormat(models.TextChoices):
    CELSIUS = "C", "°C"
    FAHRENHEIT = "F", "°F"


class Dialect(models.TextChoices):
    ESP = "esp", "ESP8266/ESP32 firmware"
    AVR = "avr", "Arduino (AVR) firmware"


class Device(models.Model):
    name = models.CharField(max_length=48, unique=True, validators=[validate_device_name])
    link = models.CharField(
        max_length=255,
        blank=True,
        validators=[validate_link],
        help_text="tcp://host:port, serial:///dev/ttyUSB0?baud=57600 or serial-by-id://<serial>; "
        "empty when our firmware runs on this host",
    )
    simulated = models.BooleanField(
        default=False, help_text="our firmware with a simulated chamber, run on this host"
    )
    pi_gpio = models.BooleanField(
        default=False,
        help_text="our firmware on this Raspberry Pi's own 1-Wire probes and GPIO relays, "
        "run on this host",
    )
    controller_address = models.CharField(
        max_length=255,
        blank=True,
        validators=[validate_controller_address],
        help_text="HOST:PORT where the controller answers when it runs on another computer "
        "(started there with --listen PORT); empty: the controller runs on this computer",
    )
    dialect = models.CharField(max_length=3, choices=Dialect.choices, default=Dialect.ESP)
    log_interval_s = models.PositiveIntegerField(
        default=DEFAULT_LOG_INTERVAL_S, choices=[(s, f"{s} s") for s in LOG_INTERVALS_S]
    )
    temp_format = models.CharField(max_length=1, choices=TempFormat.choices, default="C")
    active = models.BooleanField(default=True, help_text="run a controller for this device")
    token_hash = models.CharField(max_length=64, editable=False)
    active_profile = models.ForeignKey(
        "profiles.FermentationProfile",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="devices",
    )
    profile_started_at = models.DateTimeField(null=True, blank=True)
    # How far the running profile's holds have got, as the controller last reported it
    # (docs/interfaces-additions.md §1): {"id", "started_at", "holds", "holding"}.
    profile_progress = models.JSONField(default=dict, blank=True)
    config_version = models.PositiveIntegerField(default=1)
    # The controller's last status report (interfaces.md §1), as it sent it.
    status = models.JSONField(default=dict, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            # clean() says it in words; this holds when two saves race.
            models.UniqueConstraint(
                fields=["pi_gpio"],
                condition=models.Q(pi_gpio=True, active=True),
                name="one_active_chamber_on_the_pis_pins",
                violation_error_message="another active chamber already uses this Pi's pins",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def firmware_hardware(self) -> str:
        """The `--hardware` of our firmware when the spawner runs it on this host for this
        device ("sim" or "pi"); "" when the device's firmware runs elsewhere (its link)."""
        if self.simulated:
            return "sim"
        return "pi" if self.pi_gpio else ""

    def clean(self) -> None:
        if self.simulated and self.pi_gpio:
            raise ValidationError(
                {"pi_gpio": "a device is either a simulated chamber or on this Pi's pins, not both"}
            )
        if self.firmware_hardware and self.controller_address:
            raise ValidationError(
                {
                    "controller_address": "a chamber whose firmware runs on this computer has "
                    "its controller here too: leave the controller address empty"
                }
            )
        if not self.firmware_hardware and not self.link:
            raise ValidationError(
                {"link": "a device needs a link unless our firmware runs it on this host"}
            )
        if self.pi_gpio and self.active:
            # The pins are this computer's, set once in fermentrack.env: two chambers on them
            # would fight over the same relays.
            other = (
                Device.objects.filter(pi_gpio=True, active=True)
                .exclude(pk=self.pk)
                .values_list("name", flat=True)
                .first()
            )
            if other:
                raise ValidationError(
                    {
                        "pi_gpio": f"{other} already uses this Pi's pins: one chamber at a time "
                        "can (deactivate or change it first)"
                    }
                )

    def issue_token(self) -> str:
        """A new token for the controller; only its hash is kept, so show it once."""
        token = secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        return token

    def token_matches(self, token: str) -> bool:
        return secrets.compare_digest(self.token_hash, hash_token(token))

    def bump_config_version(self) -> None:
        """Tell the controller (through its next status answer) to fetch its config again."""
        Device.objects.filter(pk=self.pk).update(config_version=models.F("config_version") + 1)
        self.refresh_from_db(fields=["config_version"])


class ConstantsPreset(models.Model):
    """Control constants saved from one chamber to give to others (a tuned fridge's PID gains
    and filters for its twin), in the unit they were read in."""

    name = models.CharField(max_length=64, unique=True)
    temp_format = models.CharField(max_length=1, choices=TempFormat.choices)
    constants = models.JSONField(help_text="brewpi-protocol §4.8 keys and their values")
    saved_from = models.CharField(max_length=48, help_text="the device they were read from")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
