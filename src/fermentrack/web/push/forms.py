"""The push target form: one per service, showing only the fields that service needs. Errors
say what was wrong and what is expected; an interval shorter than the service takes is refused
with the service's reason; an API key is never shown back."""

from __future__ import annotations

import re

from django import forms

from fermentrack.push.services import MIN_INTERVAL_S, Service, url_problem
from fermentrack.web.devices.cards import interval_text
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import GravitySensor
from fermentrack.web.push.models import (
    INTERVAL_MINUTES,
    Choice,
    PushTarget,
    interval_choices,
    send_now_time,
)

# The fields each service's form shows, after name and active.
SERVICE_FIELDS = {
    Service.GENERIC: [
        "url",
        "api_key",
        "interval_s",
        "send_controllers",
        "chosen_controllers",
        "send_sensors",
        "chosen_sensors",
    ],
    Service.BREWERS_FRIEND: ["api_key", "sensor", "interval_s"],
    Service.BREWFATHER: ["url", "sensor", "controller", "interval_s"],
    Service.GRAINFATHER: ["url", "brew_id", "sensor", "interval_s"],
    Service.THINGSPEAK: ["api_key", "controller", "interval_s"],
}
KEY_REQUIRED = (Service.BREWERS_FRIEND, Service.THINGSPEAK)
# Why each service takes no more than it does (shown when a shorter interval is asked for).
LIMIT_REASONS = {
    Service.GENERIC: "we send at most once a minute",
    Service.BREWERS_FRIEND: "Brewer's Friend refuses more than one post per 15 min (HTTP 429)",
    Service.BREWFATHER: "Brewfather ignores posts that come more often than once per 15 min",
    Service.GRAINFATHER: "Grainfather documents no limit, so we keep to its iSpindel's 15 min",
    Service.THINGSPEAK: "we send ThingSpeak at most once a minute",
}
URL_HELP = {
    Service.GENERIC: "the address to post the JSON to, e.g. https://example.com/fermentrack",
    Service.BREWFATHER: "your Custom Stream URL, from Brewfather's Settings > Power-ups, "
    "e.g. https://log.brewfather.net/stream?id=…",
    Service.GRAINFATHER: "the iSpindel logging URL of your Grainfather fermentation device",
}
KEY_HELP = {
    Service.GENERIC: "optional: sent in the body as api_key",
    Service.BREWERS_FRIEND: "your Brewer's Friend API key (Profile > Integrations)",
    Service.THINGSPEAK: "the channel's Write API Key (the channel's API Keys tab)",
}
KEY_CHARACTERS = re.compile(r"^[A-Za-z0-9._~-]+$")


class PushTargetForm(forms.ModelForm):
    interval_s = forms.TypedChoiceField(label="How often", coerce=int)
    clear_api_key = forms.BooleanField(required=False, label="Send no API key from now on")

    class Meta:
        model = PushTarget
        fields = [
            "name",
            "active",
            "url",
            "api_key",
            "brew_id",
            "sensor",
            "controller",
            "interval_s",
            "send_controllers",
            "chosen_controllers",
            "send_sensors",
            "chosen_sensors",
        ]
        labels = {"sensor": "Gravity sensor", "controller": "Controller"}
        help_texts = {"name": "what the pages call it, e.g. Brewfather IPA"}
        widgets = {
            "send_controllers": forms.RadioSelect,
            "send_sensors": forms.RadioSelect,
            "chosen_controllers": forms.CheckboxSelectMultiple,
            "chosen_sensors": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, service: Service, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.service = Service(service)
        shown = ["name", "active", *SERVICE_FIELDS[self.service]]
        if self.service == Service.GENERIC and self.instance.pk and self.instance.api_key:
            shown.insert(shown.index("api_key") + 1, "clear_api_key")
        for name in list(self.fields):
            if name not in shown:
                del self.fields[name]
        self.order_fields(shown)
        interval = self.fields["interval_s"]
        # Every menu value is accepted by the field so that a shorter one is refused in clean
        # with the service's reason, not as 'not a valid choice'; only the allowed are offered.
        interval.choices = interval_choices(self.service)
        interval.valid_value = lambda value: _menu_value(value)
        if not self.instance.pk:
            self.initial.setdefault("interval_s", max(15 * 60, MIN_INTERVAL_S[self.service]))
        if "url" in self.fields:
            self.fields["url"].required = True
            self.fields["url"].help_text = URL_HELP[self.service]
            self.fields["url"].widget.attrs.update(inputmode="url", autocapitalize="none")
        if "api_key" in self.fields:
            self._set_up_key()
        if "brew_id" in self.fields:
            self.fields["brew_id"].required = True
        if "sensor" in self.fields:
            self.fields["sensor"].queryset = GravitySensor.objects.order_by("name")
            self.fields["sensor"].required = self.service != Service.BREWFATHER
            self.fields["sensor"].empty_label = (
                "None: send a controller" if self.service == Service.BREWFATHER else "Choose one"
            )
        if "controller" in self.fields:
            self.fields["controller"].queryset = Device.objects.order_by("name")
            self.fields["controller"].required = self.service == Service.THINGSPEAK
            self.fields["controller"].empty_label = (
                "None: send a gravity sensor"
                if self.service == Service.BREWFATHER
                else "Choose one"
            )
            if self.service == Service.BREWFATHER:
                self.fields["controller"].help_text = "send either a gravity sensor or a controller"
        if self.service == Service.GENERIC:
            self.fields["chosen_controllers"].queryset = Device.objects.order_by("name")
            self.fields["chosen_sensors"].queryset = GravitySensor.objects.order_by("name")
            self.fields["chosen_controllers"].label = "Chosen controllers"
            self.fields["chosen_sensors"].label = "Chosen gravity sensors"

    def _set_up_key(self) -> None:
        field = self.fields["api_key"]
        field.help_text = KEY_HELP[self.service]
        field.required = False  # checked in clean_api_key: an edit may keep the stored key
        field.widget = forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "autocapitalize": "none"}
        )
        if self.instance.pk and self.instance.api_key:
            field.help_text = (
                f"a key ending {self.instance.masked_key} is kept; type a new one to replace it"
            )
        # The box starts empty and an empty box keeps the stored key: only a typed key is a
        # change (a change marks the target due at once).
        self.initial["api_key"] = ""

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("the push target needs a name")
        taken = PushTarget.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"a push target named {name!r} exists already")
        return name

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        problem = url_problem(url)
        if problem:
            raise forms.ValidationError(problem)
        return url

    def clean_api_key(self) -> str:
        key = self.cleaned_data.get("api_key", "").strip()
        stored = self.instance.api_key if self.instance.pk else ""
        if not key:
            if self.service in KEY_REQUIRED and not stored:
                raise forms.ValidationError(
                    f"{self.service.label} needs your API key: {KEY_HELP[self.service]}"
                )
            return stored
        if not KEY_CHARACTERS.match(key):
            raise forms.ValidationError(
                "an API key holds only letters, digits and . _ ~ - (no spaces); "
                "copy it again from the service"
            )
        return key

    def clean_brew_id(self) -> str:
        brew_id = self.cleaned_data["brew_id"].strip()
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", brew_id):
            raise forms.ValidationError(
                f"brew id {brew_id!r}: expected the number (or letters, digits, - and _) "
                "Grainfather shows for the brew session"
            )
        return brew_id

    def clean_interval_s(self) -> int:
        interval = self.cleaned_data["interval_s"]
        shortest = MIN_INTERVAL_S[self.service]
        if interval < shortest:
            raise forms.ValidationError(
                f"every {interval_text(interval)} is too often for {self.service.label}: "
                f"{LIMIT_REASONS[self.service]}; choose {interval_text(shortest)} or longer"
            )
        return interval

    def clean(self) -> dict:
        data = super().clean()
        if self.service == Service.BREWFATHER:
            sensor, controller = data.get("sensor"), data.get("controller")
            if sensor and controller:
                raise forms.ValidationError(
                    "Brewfather takes one thing per stream: choose a gravity sensor or a "
                    "controller, not both"
                )
            if not sensor and not controller and not self.errors:
                raise forms.ValidationError(
                    "choose what to send to Brewfather: a gravity sensor or a controller"
                )
        if self.service == Service.GENERIC:
            if data.get("clear_api_key"):
                data["api_key"] = ""
            for choice, chosen, noun in (
                ("send_controllers", "chosen_controllers", "controller"),
                ("send_sensors", "chosen_sensors", "gravity sensor"),
            ):
                if data.get(choice) == Choice.CHOSEN and not data.get(chosen):
                    self.add_error(chosen, f"tick at least one {noun}, or choose All or None")
            if (
                data.get("send_controllers") == Choice.NONE
                and data.get("send_sensors") == Choice.NONE
            ):
                raise forms.ValidationError(
                    "choose at least controllers or gravity sensors to send"
                )
        return data

    def save(self, commit: bool = True) -> PushTarget:
        target = super().save(commit=False)
        target.service = self.service
        if "api_key" in self.cleaned_data:
            target.api_key = self.cleaned_data["api_key"]
        if self.has_changed():  # a changed target is sent at once, as the service allows
            target.next_due_at = send_now_time(target)
        if commit:
            target.save()
            self.save_m2m()
        return target


def _menu_value(value) -> bool:
    try:
        return int(value) in [minutes * 60 for minutes in INTERVAL_MINUTES]
    except (TypeError, ValueError):
        return False
