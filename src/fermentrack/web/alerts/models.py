"""Alert rules (what to watch, where to send), their history, and the mail server they use.

A rule's state (ok / pending since / firing since) is kept on the rule, so the alerter fires
once and recovers once across its own restarts. Each event (fired, recovered, or a test message)
carries one delivery per channel: pending until sent, then sent or failed with the error.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone

from fermentrack.web.alerts import rules
from fermentrack.web.devices.models import TempFormat

DEFAULT_NTFY_SERVER = "https://ntfy.sh"
SEND_TIMEOUT_S = 10


class AlertKind(models.TextChoices):
    CONTROLLER_SILENT = rules.CONTROLLER_SILENT, "No readings from a chamber"
    HYDROMETER_SILENT = rules.HYDROMETER_SILENT, "Hydrometer not heard from"
    TEMPERATURE_BAND = rules.TEMPERATURE_BAND, "Beer temperature outside a band"
    GRAVITY_STABLE = rules.GRAVITY_STABLE, "Gravity stable (fermentation done)"
    BATTERY_LOW = rules.BATTERY_LOW, "Low hydrometer battery"


DEVICE_KINDS = (AlertKind.CONTROLLER_SILENT, AlertKind.TEMPERATURE_BAND)
SENSOR_KINDS = (AlertKind.HYDROMETER_SILENT, AlertKind.GRAVITY_STABLE, AlertKind.BATTERY_LOW)


class Channel(models.TextChoices):
    EMAIL = "email", "e-mail"
    WEBHOOK = "webhook", "webhook"
    NTFY = "ntfy", "ntfy"


def email_addresses(text: str) -> list[str]:
    """Addresses separated by commas, spaces or new lines."""
    return [part for part in text.replace(",", " ").split() if part]


class AlertRule(models.Model):
    enabled = models.BooleanField(default=True)
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    beer = models.ForeignKey(
        "beers.Beer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    sensor = models.ForeignKey(
        "gravity.GravitySensor", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # How long the condition must hold; for a stable gravity, the span it must stay steady.
    # The form asks minutes (hours for gravity); tests may hold seconds.
    duration_s = models.PositiveIntegerField()
    low = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    temp_format = models.CharField(
        max_length=1, choices=TempFormat.choices, default=TempFormat.CELSIUS
    )
    tolerance_points = models.FloatField(null=True, blank=True)
    battery_volts = models.FloatField(null=True, blank=True)
    battery_weeks = models.PositiveIntegerField(null=True, blank=True)
    email_to = models.TextField(blank=True)
    webhook_url = models.URLField(max_length=500, blank=True)
    ntfy_server = models.URLField(max_length=300, blank=True, default=DEFAULT_NTFY_SERVER)
    ntfy_topic = models.CharField(max_length=64, blank=True)
    state = models.CharField(
        max_length=8,
        choices=[(state.value, state.value) for state in rules.State],
        default=rules.State.OK.value,
    )
    state_since = models.BigIntegerField(null=True, blank=True, help_text="Unix seconds")
    watched_since = models.BigIntegerField(default=0, help_text="Unix seconds")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return self.describe()

    def save(self, *args, **kwargs) -> None:
        if not self.watched_since:
            self.watched_since = int(time.time())
        super().save(*args, **kwargs)

    # -- in words ----------------------------------------------------------------------------

    @property
    def subject_name(self) -> str:
        if self.beer_id is not None:
            return f"{self.beer.name} ({self.beer.device.name})"
        if self.device_id is not None:
            return self.device.name
        if self.sensor_id is not None:
            return self.sensor.name
        return "(nothing)"

    def condition_words(self) -> str:
        duration = rules.duration_words(self.duration_s)
        if self.kind == AlertKind.CONTROLLER_SILENT:
            return f"no readings for {duration}"
        if self.kind == AlertKind.HYDROMETER_SILENT:
            return f"not heard from for {duration}"
        if self.kind == AlertKind.TEMPERATURE_BAND:
            return (
                f"beer temperature outside {self.low:.1f}–{self.high:.1f} °{self.temp_format} "
                f"for {duration}"
            )
        if self.kind == AlertKind.GRAVITY_STABLE:
            return f"gravity within ±{self.tolerance_points:g} points for {duration}"
        if self.battery_weeks is not None:
            return f"battery older than {self.battery_weeks} weeks for {duration}"
        return f"battery below {self.battery_volts:.2f} V for {duration}"

    def describe(self) -> str:
        """'chamber-1: beer temperature outside 18.0–21.0 °C for 15 minutes'."""
        return f"{self.subject_name}: {self.condition_words()}"

    def channels(self) -> list[tuple[str, str]]:
        """(channel, target) for every channel this rule sends to."""
        found = []
        if self.email_to.strip():
            found.append((Channel.EMAIL.value, ", ".join(email_addresses(self.email_to))))
        if self.webhook_url:
            found.append((Channel.WEBHOOK.value, self.webhook_url))
        if self.ntfy_topic:
            found.append((Channel.NTFY.value, self.ntfy_url()))
        return found

    def channel_words(self) -> str:
        """Where it sends, without the secrets a URL or a topic may carry."""
        words = []
        if self.email_to.strip():
            count = len(email_addresses(self.email_to))
            words.append(f"e-mail to {count} address{'es' if count != 1 else ''}")
        if self.webhook_url:
            words.append("webhook")
        if self.ntfy_topic:
            words.append("ntfy")
        return ", ".join(words) or "nowhere"

    def ntfy_url(self) -> str:
        return f"{(self.ntfy_server or DEFAULT_NTFY_SERVER).rstrip('/')}/{self.ntfy_topic}"

    def settings(self) -> rules.RuleSettings:
        """This rule for the pure rule logic."""
        weeks = self.kind == AlertKind.BATTERY_LOW and self.battery_weeks is not None
        return rules.RuleSettings(
            kind=self.kind,
            subject=self.subject_name,
            duration_s=self.duration_s,
            low=self.low,
            high=self.high,
            unit=self.temp_format,
            tolerance_points=self.tolerance_points,
            limit=float(self.battery_weeks if weeks else self.battery_volts or 0.0),
            battery_unit="weeks" if weeks else "V",
        )

    @property
    def state_since_at(self) -> datetime | None:
        return None if self.state_since is None else datetime.fromtimestamp(self.state_since, UTC)

    def last_event(self) -> AlertEvent | None:
        return self.events.first()


class EventKind(models.TextChoices):
    FIRED = rules.Action.FIRE.value, "fired"
    RECOVERED = rules.Action.RECOVER.value, "recovered"
    TEST = "test", "test message"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "pending"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"


class AlertEvent(models.Model):
    """One alert sent (or being sent): `deliveries` holds one entry per channel:
    {"channel", "target", "status", "attempts", "next_try", "error", "sent_at"}."""

    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    title = models.CharField(max_length=200)
    message = models.TextField()
    ts = models.BigIntegerField(help_text="Unix seconds")
    deliveries = models.JSONField(default=list, blank=True)
    sending = models.BooleanField(default=True, help_text="a delivery is still pending")

    class Meta:
        ordering = ["-ts", "-id"]
        indexes = [models.Index(fields=["ts"]), models.Index(fields=["sending"])]

    @classmethod
    def record(cls, rule: AlertRule, action: rules.Action, text: str, now: int) -> AlertEvent:
        """An event with a pending delivery on each of the rule's channels."""
        title = ("Alert: " if action == rules.Action.FIRE else "Recovered: ") + rule.describe()
        return cls.objects.create(
            rule=rule,
            kind=action.value,
            title=title[:200],
            message=text,
            ts=now,
            sending=bool(rule.channels()),
            deliveries=[
                {
                    "channel": channel,
                    "target": target,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_try": now,
                    "error": "",
                    "sent_at": None,
                }
                for channel, target in rule.channels()
            ],
        )

    def update_sending(self) -> None:
        self.sending = any(d["status"] == DeliveryStatus.PENDING for d in self.deliveries)

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.ts, UTC)


class MailSecurity(models.TextChoices):
    NONE = "none", "None (plain SMTP, port 25)"
    STARTTLS = "starttls", "STARTTLS (usually port 587)"
    SSL = "ssl", "SSL/TLS (usually port 465)"


class MailSettings(models.Model):
    """The one mail server alerts are sent through (one row: MailSettings.load())."""

    host = models.CharField("SMTP server", max_length=255, blank=True)
    port = models.PositiveIntegerField(default=587)
    username = models.CharField(max_length=255, blank=True)
    password = models.CharField(max_length=255, blank=True)
    security = models.CharField(
        max_length=8, choices=MailSecurity.choices, default=MailSecurity.STARTTLS
    )
    from_address = models.EmailField(
        "from address",
        blank=True,
        help_text="the sender alerts come from, e.g. brewery@example.com",
    )

    class Meta:
        verbose_name_plural = "mail settings"

    @classmethod
    def load(cls) -> MailSettings:
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings

    @property
    def configured(self) -> bool:
        return bool(self.host and self.from_address)

    def connection(self, timeout: float = SEND_TIMEOUT_S):
        """A Django SMTP connection built from these settings (not from settings.py)."""
        return get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            host=self.host,
            port=self.port,
            username=self.username or None,
            password=self.password or None,
            use_tls=self.security == MailSecurity.STARTTLS,
            use_ssl=self.security == MailSecurity.SSL,
            timeout=timeout,
            fail_silently=False,
        )

    def send(self, to: list[str], subject: str, body: str) -> None:
        """Send one message; raises the SMTP or socket error when it cannot."""
        if not self.configured:
            raise ValueError("no mail server is set: fill in the mail settings on the alerts page")
        for address in to:
            validate_email(address)
        EmailMessage(
            subject=subject,
            body=body,
            from_email=self.from_address,
            to=to,
            connection=self.connection(),
        ).send()
