"""The MQTT settings: one row (pk 1), edited on /settings/mqtt/; the bridge writes how it is doing
into the same row (the `bridge_*` and `last_*` fields), by update(), never by save()."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone

from fermentrack.mqtt.topics import Topics, id_part

DEFAULT_PORT = 1883
DEFAULT_TLS_PORT = 8883
DEFAULT_BASE_TOPIC = "fermentrack"
DEFAULT_DISCOVERY_PREFIX = "homeassistant"
# The bridge writes a heartbeat this often; twice as long without one means it is not running.
HEARTBEAT_S = 10
# What the bridge connects with: a change of any of these restarts it (watchers.py).
CONNECTION_FIELDS = (
    "host",
    "port",
    "tls",
    "ca_certificate",
    "username",
    "password",
    "client_id",
    "base_topic",
    "discovery_prefix",
)


class MqttSettings(models.Model):
    enabled = models.BooleanField(
        "Publish to MQTT", default=False, help_text="run the MQTT bridge on this computer"
    )
    host = models.CharField(
        "Broker host",
        max_length=255,
        blank=True,
        help_text="a name or IP address, without mqtt://, e.g. homeassistant.local or 192.168.1.10",
    )
    port = models.PositiveIntegerField(
        "Broker port", default=DEFAULT_PORT, help_text="usually 1883, or 8883 with TLS"
    )
    tls = models.BooleanField(
        "Use TLS",
        default=False,
        help_text="encrypt the connection; the broker's certificate "
        "must be signed by an authority this computer trusts, or by the CA certificate below",
    )
    ca_certificate = models.TextField(
        "Broker's CA certificate",
        blank=True,
        help_text="only with TLS, for a broker with its own certificate authority: paste the "
        "CA's certificate (PEM, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----); "
        "empty: the authorities this computer trusts",
    )
    username = models.CharField(max_length=128, blank=True, help_text="empty: no login")
    password = models.CharField(max_length=256, blank=True)
    client_id = models.CharField(
        "Client id",
        max_length=64,
        blank=True,
        help_text="empty: fermentrack- and the base topic; each client of a broker needs its own",
    )
    base_topic = models.CharField(
        max_length=100,
        default=DEFAULT_BASE_TOPIC,
        help_text="every topic starts with this, e.g. fermentrack/fridge-1/state",
    )
    discovery_prefix = models.CharField(
        "Home Assistant discovery prefix",
        max_length=100,
        default=DEFAULT_DISCOVERY_PREFIX,
        help_text="Home Assistant listens on homeassistant unless you changed it there",
    )
    accept_commands = models.BooleanField(
        "Accept commands from MQTT",
        default=False,
        help_text="let anyone who can publish to the broker change modes and setpoints",
    )
    command_user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="Commands act as",
        help_text="commands are carried out with this person's permissions, and fail when they "
        "may not change things",
    )
    # Written by the bridge.
    bridge_seen_at = models.DateTimeField(null=True, blank=True)
    connected = models.BooleanField(default=False)
    last_connected_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "MQTT settings"
        verbose_name_plural = "MQTT settings"

    @classmethod
    def load(cls) -> MqttSettings:
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings

    def topics(self) -> Topics:
        return Topics(self.base_topic, self.discovery_prefix)

    def effective_client_id(self) -> str:
        return self.client_id or f"fermentrack-{id_part(self.base_topic)}"[:64]

    def connection_fingerprint(self) -> str:
        """Changes whenever what the bridge connects with changes (the password included, which
        is why this is a hash)."""
        values = [getattr(self, field) for field in CONNECTION_FIELDS]
        return hashlib.sha256(json.dumps(values).encode()).hexdigest()[:16]

    def bridge_running(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.bridge_seen_at is not None and now - self.bridge_seen_at < timedelta(
            seconds=2 * HEARTBEAT_S
        )

    def record(self, **fields) -> None:
        """The bridge's own fields, written without touching what a person edits."""
        MqttSettings.objects.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)
