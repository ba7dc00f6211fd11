"""Forms of the gravity app: a sensor, a manual reading, a correction, calibration points and
coefficients. Errors say what was wrong and what is expected."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from django import forms
from django.utils import timezone

from fermentrack.gravity import hygiene
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import (
    DEFAULT_INTERVAL_S,
    TILT_KINDS,
    GravitySensor,
    GravityUnit,
    SensorKind,
)

MDNS_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,29}[a-z0-9])$")
# Which kinds each kind-specific field belongs to (space-separated, for the page's CSS).
FIELD_KINDS = {
    "colour": "tilt tiltbridge",
    "bridge_mdns_id": "tiltbridge",
    "name_on_device": "ispindel",
    "token": "ispindel",
    "clear_token": "ispindel",
}


def _finite(value: float | None, label: str) -> float | None:
    if value is not None and not math.isfinite(value):
        raise forms.ValidationError(f"{label} must be a number")
    return value


class SensorForm(forms.ModelForm):
    """Add or edit a gravity sensor; its kind is fixed once it exists (what a reading's raw
    value means depends on it)."""

    kind = forms.ChoiceField(
        choices=SensorKind.choices, initial=SensorKind.MANUAL, widget=forms.RadioSelect
    )
    token = forms.CharField(
        required=False,
        max_length=128,
        label="Token",
        help_text="optional: the Token set in the iSpindel; once set, its posts without it are "
        "refused. Kept only as a hash: leave empty to keep the current one",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    clear_token = forms.BooleanField(required=False, label="Accept posts without a token again")
    expected_interval_s = forms.IntegerField(
        required=False,
        min_value=10,
        max_value=30 * 86400,
        label="Expected interval (seconds)",
        help_text="how often it reports; blank for the usual: a Tilt 60, an iSpindel 900, "
        "manual readings a day. A reading older than twice this shows as stale",
    )

    class Meta:
        model = GravitySensor
        fields = [
            "name",
            "kind",
            "device",
            "colour",
            "bridge_mdns_id",
            "name_on_device",
            "display_unit",
            "temp_format",
            "temperature_offset",
            "correct_to_60f",
            "expected_interval_s",
            "active",
        ]
        labels = {
            "device": "Chamber",
            "colour": "Tilt colour",
            "display_unit": "Show gravity as",
            "temp_format": "Temperature unit",
            "temperature_offset": "Temperature offset",
        }
        help_texts = {"name": "what the pages call it, e.g. Purple Tilt or Spindle 1"}

    def __init__(self, *args, brewery_temp_format: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["device"].queryset = Device.objects.order_by("name")
        self.fields["device"].empty_label = "None (not in a chamber)"
        self.fields["colour"].choices = [
            ("", "Choose its colour"),
            *self.fields["colour"].choices[1:],
        ]
        self.fields["display_unit"].widget = forms.RadioSelect(choices=GravityUnit.choices)
        if self.instance.pk:
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = "fixed once the sensor exists"
            self.initial["expected_interval_s"] = self.instance.expected_interval_s
            if self.instance.token_hash:
                self.fields[
                    "token"
                ].help_text = (
                    "a token is set; type a new one to replace it, or leave empty to keep it"
                )
        elif brewery_temp_format:
            self.initial["temp_format"] = brewery_temp_format
        for name, kinds in FIELD_KINDS.items():
            self.fields[name].kinds = kinds
        self.old_temp_format = self.instance.temp_format if self.instance.pk else None

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("the sensor needs a name")
        taken = GravitySensor.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                f"a gravity sensor named {taken.first().name!r} already exists; choose another name"
            )
        return name

    def clean_bridge_mdns_id(self) -> str:
        return self.cleaned_data["bridge_mdns_id"].strip().lower().removesuffix(".local")

    def clean_name_on_device(self) -> str:
        return self.cleaned_data["name_on_device"].strip()

    def clean_temperature_offset(self) -> float:
        value = _finite(self.cleaned_data["temperature_offset"], "the offset")
        if value is not None and abs(value) > 20:
            raise forms.ValidationError(
                f"an offset of {value:g}° is more than any probe is off; expected -20 to 20"
            )
        return value or 0.0

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind") or self.instance.kind
        if kind in TILT_KINDS:
            self._check_colour(kind, data)
        else:
            data["colour"] = ""
        if kind == SensorKind.TILTBRIDGE:
            bridge = data.get("bridge_mdns_id", "")
            if not bridge:
                self.add_error("bridge_mdns_id", "a Tilt on a TiltBridge needs the bridge's name")
            elif not MDNS_NAME.match(bridge):
                self.add_error(
                    "bridge_mdns_id",
                    f"{bridge!r} is not a TiltBridge name: expected 3 to 31 letters, digits and "
                    "inner '-', as set on the bridge (e.g. tiltbridge), without .local",
                )
        else:
            data["bridge_mdns_id"] = ""
        if kind == SensorKind.ISPINDEL:
            self._check_ispindel_name(data)
        else:
            data["name_on_device"] = ""
        if not data.get("expected_interval_s") and kind:
            data["expected_interval_s"] = DEFAULT_INTERVAL_S[SensorKind(kind)]
        return data

    def _check_colour(self, kind: str, data: dict) -> None:
        colour = data.get("colour")
        if not colour:
            self.add_error("colour", "a Tilt needs its colour: the one printed on it")
            return
        if not data.get("active", True):
            return
        same = GravitySensor.objects.filter(kind=kind, colour=colour, active=True).exclude(
            pk=self.instance.pk
        )
        if kind == SensorKind.TILTBRIDGE:
            same = same.filter(bridge_mdns_id=data.get("bridge_mdns_id", ""))
        other = same.first()
        if other is not None:
            where = "over Bluetooth" if kind == SensorKind.TILT else "on that TiltBridge"
            self.add_error(
                "colour",
                f"the {colour} Tilt {where} is already {other.name!r}: one colour can only be "
                "one sensor (switch the other off first)",
            )

    def _check_ispindel_name(self, data: dict) -> None:
        name = data.get("name_on_device", "")
        if not name:
            self.add_error(
                "name_on_device", "an iSpindel needs the Name set on it: its posts carry it"
            )
            return
        other = (
            GravitySensor.objects.filter(kind=SensorKind.ISPINDEL, name_on_device=name)
            .exclude(pk=self.instance.pk)
            .first()
        )
        if other is not None:
            self.add_error(
                "name_on_device",
                f"the iSpindel named {name!r} is already {other.name!r}; each needs its own name",
            )

    def validate_unique(self) -> None:
        """clean_name and clean already said, in our words, what is taken."""

    def save(self, commit: bool = True) -> GravitySensor:
        sensor = super().save(commit=False)
        sensor.expected_interval_s = self.cleaned_data["expected_interval_s"]
        if sensor.kind != SensorKind.ISPINDEL or self.cleaned_data.get("clear_token"):
            sensor.set_token("")
        elif self.cleaned_data.get("token"):
            sensor.set_token(self.cleaned_data["token"])
        if commit:
            sensor.save()
            if self.old_temp_format:
                sensor.change_temperature_unit(self.old_temp_format)
        return sensor


class GravityField(forms.FloatField):
    """A gravity typed in the sensor's display unit; cleaned to SG within the physical limits."""

    def __init__(self, sensor: GravitySensor, **kwargs) -> None:
        self.sensor = sensor
        plato = sensor.display_unit == GravityUnit.PLATO
        kwargs.setdefault("label", f"Gravity ({sensor.gravity_unit_label})")
        kwargs.setdefault(
            "help_text", "in °Plato, e.g. 12.4" if plato else "specific gravity, e.g. 1.048"
        )
        kwargs["widget"] = forms.NumberInput(
            attrs={"step": "0.1" if plato else "0.0001", "inputmode": "decimal"}
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value is None:
            return None
        if not math.isfinite(value):
            raise forms.ValidationError("expected a number")
        sg = self.sensor.sg_from_unit(value)
        problem = hygiene.reading_problem(sg, None)
        if problem:
            raise forms.ValidationError(problem)
        return sg


class ManualReadingForm(forms.Form):
    """A reading a person took (a hydrometer or refractometer sample), now or at a time."""

    taken_at = forms.DateTimeField(
        required=False,
        label="Taken at",
        help_text="blank for now; in the brewery's time zone",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )
    temperature = forms.FloatField(required=False, label="Temperature")
    note = forms.CharField(required=False, max_length=200, label="Note")

    def __init__(self, *args, sensor: GravitySensor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sensor = sensor
        self.fields["gravity"] = GravityField(sensor)
        self.fields["temperature"].label = f"Temperature (°{sensor.temp_format})"
        self.fields["temperature"].help_text = "optional"
        self.order_fields(["gravity", "temperature", "taken_at", "note"])

    def clean_temperature(self) -> float | None:
        value = _finite(self.cleaned_data["temperature"], "the temperature")
        problem = hygiene.reading_problem(None, self.sensor.temperature_c(value))
        if problem:
            raise forms.ValidationError(problem)
        return value

    def clean_taken_at(self) -> int:
        moment = self.cleaned_data["taken_at"]
        now = timezone.now()
        if moment is None:
            return int(now.timestamp())
        if moment > now + timedelta(minutes=5):
            raise forms.ValidationError("that is in the future; expected a time already past")
        if moment < datetime(2000, 1, 1, tzinfo=UTC):
            raise forms.ValidationError("expected a time after the year 2000")
        return int(moment.timestamp())

    def clean(self) -> dict:
        data = super().clean()
        ts = data.get("taken_at")
        if ts is not None and self.sensor.readings.filter(ts=ts).exists():
            self.add_error(
                "taken_at", "the sensor already has a reading at that second; pick another time"
            )
        return data


class CorrectionForm(forms.Form):
    """A person's gravity in place of the measured one; blank takes the correction away."""

    def __init__(self, *args, sensor: GravitySensor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["corrected"] = GravityField(
            sensor, required=False, label="Corrected gravity", help_text="blank: no correction"
        )
        self.fields["note"] = forms.CharField(required=False, max_length=200, label="Note")


class CalibrationPointForm(forms.Form):
    measured = forms.FloatField(label="Measured")
    actual_gravity = forms.FloatField(
        label="True gravity (SG)",
        help_text="from a hydrometer or refractometer, e.g. 1.036",
        widget=forms.NumberInput(attrs={"step": "0.0001", "inputmode": "decimal"}),
    )

    def __init__(self, *args, sensor: GravitySensor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sensor = sensor
        measured = self.fields["measured"]
        measured.widget = forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"})
        if sensor.kind == SensorKind.ISPINDEL:
            measured.label = "Angle (degrees)"
            measured.help_text = "the iSpindel's angle in that liquid, e.g. 52.3"
        else:
            measured.label = "Tilt's reading (SG)"
            measured.help_text = "what the Tilt shows in that liquid, e.g. 1.038"

    def clean_measured(self) -> float:
        value = _finite(self.cleaned_data["measured"], "the measured value")
        if self.sensor.kind == SensorKind.ISPINDEL:
            if not 0 <= value <= 180:
                raise forms.ValidationError(f"an angle of {value:g}° is not possible: 0 to 180")
        elif not 0.9 <= value <= 1.3:
            raise forms.ValidationError(
                f"a Tilt reading of {value:g} is not a gravity: expected about 0.990 to 1.200"
            )
        if self.sensor.calibration_points.filter(measured=value).exists():
            raise forms.ValidationError(
                f"there is already a point measured at {value:g}; delete it first to replace it"
            )
        return value

    def clean_actual_gravity(self) -> float:
        value = _finite(self.cleaned_data["actual_gravity"], "the true gravity")
        problem = hygiene.reading_problem(value, None)
        if problem:
            raise forms.ValidationError(problem)
        return value


class CoefficientsForm(forms.Form):
    """The calibration polynomial typed in (or a fit's result, shown for saving)."""

    def __init__(self, *args, sensor: GravitySensor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sensor = sensor
        for name in sensor.coefficient_fields():
            model_field = GravitySensor._meta.get_field(name)
            self.fields[name] = forms.FloatField(
                label=str(model_field.verbose_name).capitalize(),
                initial=getattr(sensor, name),
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )

    def clean(self) -> dict:
        data = super().clean()
        for name, value in data.items():
            if value is not None and not math.isfinite(value):
                self.add_error(name, "expected a number")
        return data

    def coefficients(self) -> tuple[float, ...]:
        return tuple(self.cleaned_data[name] for name in self.sensor.coefficient_fields())
