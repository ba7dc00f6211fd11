"""The MQTT settings form: every problem said in words, the password never shown back."""

from __future__ import annotations

import re
import ssl

from django import forms
from django.contrib.auth import get_user_model

from fermentrack.mqtt.topics import topic_problem
from fermentrack.web.brewery.access import can_change
from fermentrack.web.devices.forms import HOST
from fermentrack.web.mqtt.models import MqttSettings

SCHEMES = ("mqtt://", "mqtts://", "tcp://", "ssl://", "ws://", "wss://", "http://", "https://")


class MqttSettingsForm(forms.ModelForm):
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="left empty, the saved password is kept",
    )
    forget_password = forms.BooleanField(
        required=False, label="Forget the saved password", help_text="log in without one"
    )
    port = forms.IntegerField(
        label="Broker port", help_text="usually 1883, or 8883 with TLS", initial=1883
    )

    class Meta:
        model = MqttSettings
        fields = [
            "enabled",
            "host",
            "port",
            "tls",
            "ca_certificate",
            "username",
            "password",
            "client_id",
            "base_topic",
            "discovery_prefix",
            "accept_commands",
            "command_user",
        ]
        widgets = {
            "host": forms.TextInput(attrs={"autocapitalize": "none", "autocorrect": "off"}),
            "username": forms.TextInput(
                attrs={"autocapitalize": "none", "autocomplete": "username"}
            ),
            "ca_certificate": forms.Textarea(
                attrs={
                    "rows": 5,
                    "spellcheck": "false",
                    "autocapitalize": "none",
                    "autocorrect": "off",
                    "placeholder": "-----BEGIN CERTIFICATE-----",
                }
            ),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        beside = self.Meta.fields.index("password") + 1
        self.order_fields([*self.Meta.fields[:beside], "forget_password"])  # beside the password
        self.saved_password = self.instance.password if self.instance.pk else ""
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        allowed = [user.pk for user in users if can_change(user)]
        self.fields["command_user"].queryset = users.filter(pk__in=allowed)
        self.fields["command_user"].empty_label = "nobody (commands are refused)"
        if self.saved_password:
            self.fields["password"].help_text = "a password is saved; left empty, it is kept"

    def clean_host(self) -> str:
        host = self.cleaned_data["host"].strip()
        lowered = host.lower()
        for scheme in SCHEMES:
            if lowered.startswith(scheme):
                raise forms.ValidationError(
                    f"host {host!r} should not start with {scheme}: give the name or address "
                    "only, e.g. homeassistant.local; the port and TLS have their own fields"
                )
        if host and not HOST.match(host):
            raise forms.ValidationError(
                f"host {host!r} is not a host name or IP address: expected e.g. "
                "homeassistant.local or 192.168.1.10, with no port, path or spaces"
            )
        return host

    def clean_port(self) -> int:
        port = self.cleaned_data["port"]
        if not 1 <= port <= 65535:
            raise forms.ValidationError(
                f"port {port} is out of range: expected 1 to 65535 (usually 1883, or 8883 with TLS)"
            )
        return port

    def clean_base_topic(self) -> str:
        return self._topic("base_topic", "the base topic")

    def clean_discovery_prefix(self) -> str:
        return self._topic("discovery_prefix", "the discovery prefix")

    def _topic(self, field: str, what: str) -> str:
        value = self.cleaned_data[field].strip()
        problem = topic_problem(value, what)
        if problem:
            raise forms.ValidationError(problem)
        return value

    def clean_ca_certificate(self) -> str:
        text = self.cleaned_data["ca_certificate"].replace("\r\n", "\n").strip()
        if not text:
            return ""
        problem = ca_certificate_problem(text)
        if problem:
            raise forms.ValidationError(problem)
        return text + "\n"

    def clean_client_id(self) -> str:
        client_id = self.cleaned_data["client_id"].strip()
        if any(character.isspace() or ord(character) < 32 for character in client_id):
            raise forms.ValidationError(
                f"client id {client_id!r} may not hold spaces: e.g. fermentrack-cellar"
            )
        return client_id

    def clean(self) -> dict:
        data = super().clean()
        if data.get("enabled") and not data.get("host") and "host" not in self.errors:
            self.add_error(
                "host", "publishing to MQTT needs the broker's host, e.g. homeassistant.local"
            )
        if data.get("accept_commands") and not data.get("command_user"):
            self.add_error(
                "command_user",
                "commands from MQTT need a person to act as: choose one who may change things",
            )
        if data.get("ca_certificate") and not data.get("tls"):
            self.add_error(
                "ca_certificate",
                "a CA certificate is used only with TLS: tick Use TLS (the broker's TLS port is "
                "usually 8883), or empty this field",
            )
        if data.get("password") and not data.get("username"):
            self.add_error("username", "a password needs a username too")
        return data

    def save(self, commit: bool = True) -> MqttSettings:
        settings = super().save(commit=False)
        if self.cleaned_data.get("forget_password"):
            settings.password = ""
        elif not self.cleaned_data.get("password"):
            settings.password = self.saved_password
        if commit:
            # Not the bridge's own fields: it may be writing them right now.
            settings.save(update_fields=[*self.Meta.fields])
        return settings


def ca_certificate_problem(text: str) -> str | None:
    """What is wrong with `text` as the broker's CA certificate, in words; None if it is one or
    more PEM certificates Python's ssl module accepts."""
    expected = (
        "expected one or more PEM certificates, each from -----BEGIN CERTIFICATE----- to "
        "-----END CERTIFICATE-----, e.g. the ca.crt the broker's certificates were made with"
    )
    if "PRIVATE KEY-----" in text:
        return (
            "this is a private key, which must stay on the broker: paste the CA's certificate "
            f"instead; {expected}"
        )
    if "-----BEGIN CERTIFICATE-----" not in text:
        return f"this is not a PEM certificate: {expected}"
    if not text.isascii():
        return f"this certificate holds characters a PEM certificate never has: {expected}"
    try:
        ssl.create_default_context(cadata=text)
    except ssl.SSLError as error:
        why = re.sub(r"\s*\(_ssl\.c:\d+\)$", "", str(error.args[-1] if error.args else error))
        return f"this certificate cannot be read ({why}): {expected}"
    return None
