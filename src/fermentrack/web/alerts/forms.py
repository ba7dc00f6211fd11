"""The alert rule form (the fields of the chosen kind only), the mail settings, the test message."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from fermentrack.web.alerts.models import (
    DEFAULT_NTFY_SERVER,
    DEVICE_KINDS,
    SENSOR_KINDS,
    AlertKind,
    AlertRule,
    MailSettings,
    email_addresses,
)
from fermentrack.web.beers.models import Beer
from fermentrack.web.gravity.models import TILT_KINDS, SensorKind

NTFY_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_MINUTES = 60 * 24 * 30
MAX_HOURS = 24 * 60
# The rule's fields that say what it watches: changing one starts the rule afresh.
CONDITION_FIELDS = (
    "kind",
    "device",
    "beer",
    "sensor",
    "minutes",
    "hours",
    "low",
    "high",
    "tolerance_points",
    "battery_volts",
    "battery_weeks",
)

# Written by a save besides the form's own fields: computed from them.
DERIVED_FIELDS = ("duration_s", "temp_format")
# The alerter's: written by a save only when the rule starts afresh.
STATE_FIELDS = ("state", "state_since", "watched_since")


def _for(field: forms.Field, *kinds: str) -> forms.Field:
    """Show `field` only when one of `kinds` is chosen (site.css, .alert-form)."""
    field.kinds = " ".join(kinds)
    return field


def _web_address(value: str, what: str) -> str:
    if value and not value.lower().startswith(("http://", "https://")):
        raise ValidationError(f"{what} {value!r} must start with http:// or https://")
    return value


class AlertRuleForm(forms.ModelForm):
    webhook_url = forms.URLField(
        label="Webhook URL",
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="receives a JSON POST: rule, subject, kind, state, message, ts",
    )
    ntfy_server = forms.URLField(
        label="ntfy server", max_length=300, required=False, assume_scheme="https"
    )
    minutes = _for(
        forms.IntegerField(
            label="For (minutes)",
            min_value=1,
            max_value=MAX_MINUTES,
            required=False,
            help_text="how long the condition must last before the alert goes out",
        ),
        AlertKind.CONTROLLER_SILENT,
        AlertKind.HYDROMETER_SILENT,
        AlertKind.TEMPERATURE_BAND,
        AlertKind.BATTERY_LOW,
    )
    hours = _for(
        forms.IntegerField(
            label="Over (hours)",
            min_value=1,
            max_value=MAX_HOURS,
            required=False,
            help_text="how long the gravity must stay within the tolerance, such as 24",
        ),
        AlertKind.GRAVITY_STABLE,
    )

    class Meta:
        model = AlertRule
        fields = [
            "kind",
            "enabled",
            "device",
            "beer",
            "sensor",
            "low",
            "high",
            "tolerance_points",
            "battery_volts",
            "battery_weeks",
            "email_to",
            "webhook_url",
            "ntfy_server",
            "ntfy_topic",
        ]
        labels = {
            "kind": "Alert when",
            "device": "Chamber",
            "beer": "or a beer",
            "sensor": "Hydrometer",
            "low": "Lowest beer temperature",
            "high": "Highest beer temperature",
            "tolerance_points": "Tolerance (gravity points)",
            "battery_volts": "iSpindel: alert below (volts)",
            "battery_weeks": "Tilt: alert when the battery is older than (weeks)",
            "email_to": "E-mail to",
            "webhook_url": "Webhook URL",
            "ntfy_server": "ntfy server",
            "ntfy_topic": "ntfy topic",
        }
        help_texts = {
            "beer": "watch this beer while it is logging, instead of the chamber",
            "low": "in the chamber's unit",
            "high": "in the chamber's unit",
            "tolerance_points": "2 means the readings stay within ±0.002 of their median",
            "email_to": "addresses separated by commas or new lines; the mail server is set "
            "below the rules",
            "ntfy_topic": "letters, digits, '-' and '_'; subscribe to it in the ntfy app",
        }
        widgets = {
            "kind": forms.RadioSelect,
            "email_to": forms.Textarea(attrs={"rows": 2}),
            "low": forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
            "high": forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
            "tolerance_points": forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
            "battery_volts": forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = AlertKind.choices
        self.fields["beer"].queryset = Beer.objects.filter(ended_at__isnull=True).select_related(
            "device"
        )
        self.fields["beer"].label_from_instance = lambda beer: f"{beer.name} ({beer.device.name})"
        _for(self.fields["device"], *DEVICE_KINDS)
        _for(self.fields["beer"], AlertKind.TEMPERATURE_BAND)
        _for(self.fields["sensor"], *SENSOR_KINDS)
        for name in ("low", "high"):
            _for(self.fields[name], AlertKind.TEMPERATURE_BAND)
        _for(self.fields["tolerance_points"], AlertKind.GRAVITY_STABLE)
        _for(self.fields["battery_volts"], AlertKind.BATTERY_LOW)
        _for(self.fields["battery_weeks"], AlertKind.BATTERY_LOW)
        rule = self.instance
        if rule.pk and rule.duration_s:
            if rule.kind == AlertKind.GRAVITY_STABLE:
                self.initial.setdefault("hours", max(1, round(rule.duration_s / 3600)))
            else:
                self.initial.setdefault("minutes", max(1, round(rule.duration_s / 60)))
        elif not rule.pk:
            # A kind is always chosen, so the page shows only the fields it uses.
            self.initial.setdefault("kind", AlertKind.TEMPERATURE_BAND)
            self.initial.setdefault("minutes", 15)
            self.initial.setdefault("hours", 24)
            self.initial.setdefault("ntfy_server", DEFAULT_NTFY_SERVER)

    def clean_email_to(self) -> str:
        text = self.cleaned_data.get("email_to", "")
        addresses = email_addresses(text)
        wrong = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                wrong.append(address)
        if wrong:
            raise ValidationError(
                f"{', '.join(repr(a) for a in wrong)} "
                f"{'is not an e-mail address' if len(wrong) == 1 else 'are not e-mail addresses'}"
                ": expected name@example.com"
            )
        return ", ".join(addresses)

    def clean_webhook_url(self) -> str:
        return _web_address(self.cleaned_data.get("webhook_url", ""), "webhook URL")

    def clean_ntfy_server(self) -> str:
        return _web_address(self.cleaned_data.get("ntfy_server", ""), "ntfy server")

    def clean_ntfy_topic(self) -> str:
        topic = self.cleaned_data.get("ntfy_topic", "").strip()
        if topic and not NTFY_TOPIC.fullmatch(topic):
            raise ValidationError(
                f"ntfy topic {topic!r} may hold only letters, digits, '-' and '_' (at most 64)"
            )
        return topic

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        if not kind:
            return data
        # Drop what the chosen kind does not use, so a hidden field never trips a check.
        used = {
            name
            for name, field in self.fields.items()
            if not getattr(field, "kinds", "") or kind in field.kinds.split()
        }
        for name in list(data):
            if name not in used and name in CONDITION_FIELDS:
                data[name] = None
        self.used_fields = used
        self._clean_subject(kind, data)
        if kind == AlertKind.GRAVITY_STABLE:
            if data.get("hours") is None and "hours" not in self.errors:
                self.add_error("hours", "say over how many hours (1 or more) the gravity is steady")
        elif data.get("minutes") is None and "minutes" not in self.errors:
            self.add_error("minutes", "say for how many minutes (1 or more)")
        if kind == AlertKind.TEMPERATURE_BAND:
            self._clean_band(data)
        if kind == AlertKind.GRAVITY_STABLE:
            tolerance = data.get("tolerance_points")
            if tolerance is None and "tolerance_points" not in self.errors:
                self.add_error("tolerance_points", "give a tolerance in gravity points, such as 2")
            elif tolerance is not None and not 0 < tolerance <= 20:
                self.add_error(
                    "tolerance_points",
                    f"tolerance {tolerance:g} is not between 0 and 20 gravity points",
                )
        if kind == AlertKind.BATTERY_LOW:
            self._clean_battery(data)
        if not (data.get("email_to") or data.get("webhook_url") or data.get("ntfy_topic")):
            raise ValidationError(
                "choose at least one channel: e-mail addresses, a webhook URL or an ntfy topic"
            )
        if data.get("ntfy_topic") and not data.get("ntfy_server"):
            data["ntfy_server"] = DEFAULT_NTFY_SERVER
        return data

    def _clean_subject(self, kind: str, data: dict) -> None:
        if kind == AlertKind.TEMPERATURE_BAND:
            if data.get("device") and data.get("beer"):
                self.add_error("beer", "choose a chamber or a beer, not both")
            elif not data.get("device") and not data.get("beer"):
                self.add_error("device", "choose the chamber (or a beer) to watch")
        elif kind in DEVICE_KINDS:
            if not data.get("device"):
                self.add_error("device", "choose the chamber whose controller to watch")
        elif not data.get("sensor"):
            self.add_error("sensor", "choose the hydrometer to watch")

    def _clean_band(self, data: dict) -> None:
        low, high = data.get("low"), data.get("high")
        for name, value in (("low", low), ("high", high)):
            if value is None and name not in self.errors:
                self.add_error(name, "give a temperature in the chamber's unit")
        if low is not None and high is not None and low >= high:
            self.add_error(
                "high", f"the highest temperature {high:g} must be above the lowest, {low:g}"
            )

    def _clean_battery(self, data: dict) -> None:
        sensor = data.get("sensor")
        if sensor is None:
            return
        if sensor.kind == SensorKind.ISPINDEL:
            data["battery_weeks"] = None
            volts = data.get("battery_volts")
            if volts is None:
                self.add_error("battery_volts", "give the voltage to alert below, such as 3.6")
            elif not 2.5 <= volts <= 5:
                self.add_error(
                    "battery_volts", f"{volts:g} V is not an iSpindel battery voltage (2.5 to 5 V)"
                )
        elif sensor.kind in TILT_KINDS:
            data["battery_volts"] = None
            weeks = data.get("battery_weeks")
            if weeks is None:
                self.add_error(
                    "battery_weeks", "give the battery age in weeks to alert above, such as 52"
                )
            elif weeks > 255:
                self.add_error("battery_weeks", f"{weeks} weeks: a Tilt counts up to 255 weeks")
        else:
            self.add_error("sensor", f"{sensor.name} takes readings by hand: it has no battery")

    def save(self, commit: bool = True) -> AlertRule:
        rule = super().save(commit=False)
        data = self.cleaned_data
        if rule.kind == AlertKind.GRAVITY_STABLE:
            rule.duration_s = data["hours"] * 3600
        else:
            rule.duration_s = data["minutes"] * 60
        device = rule.beer.device if rule.beer_id else rule.device
        if rule.kind == AlertKind.TEMPERATURE_BAND and device is not None:
            rule.temp_format = device.temp_format
        editing = not rule._state.adding
        written = [*self._meta.fields, *DERIVED_FIELDS]
        changed = set(self.changed_data) & set(CONDITION_FIELDS) & self.used_fields
        if editing and changed:
            # It watches something else now: start afresh rather than carry an old state.
            rule.state, rule.state_since, rule.watched_since = "ok", None, 0
            written += STATE_FIELDS
        if commit:
            # Only what the person edited: the alerter may have changed the rule's state since
            # this page loaded it, and writing back the old state would lose or repeat an alert.
            rule.save(update_fields=written if editing else None)
        return rule


class MailSettingsForm(forms.ModelForm):
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="kept as it is when left empty",
    )
    clear_password = forms.BooleanField(required=False, label="Remove the stored password")

    class Meta:
        model = MailSettings
        fields = ["host", "port", "security", "username", "password", "from_address"]
        widgets = {"security": forms.RadioSelect}

    def clean_port(self) -> int:
        port = self.cleaned_data["port"]
        if not 1 <= port <= 65535:
            raise ValidationError(f"port {port} is not between 1 and 65535")
        return port

    def clean(self) -> dict:
        data = super().clean()
        if data.get("host") and not data.get("from_address") and "from_address" not in self.errors:
            self.add_error("from_address", "give the address alerts are sent from")
        return data

    def save(self, commit: bool = True) -> MailSettings:
        settings = super().save(commit=False)
        if self.cleaned_data.get("clear_password"):
            settings.password = ""
        elif not self.cleaned_data.get("password"):
            settings.password = MailSettings.objects.get(pk=settings.pk).password
        if commit:
            settings.save()
        return settings


class TestMessageForm(forms.Form):
    to = forms.EmailField(label="Send a test message to")
