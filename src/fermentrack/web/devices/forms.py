"""Forms of the devices app: add/edit a device, delete it, its mode, its constants, a beer, its
sensors and actuators."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms

from fermentrack.brewpi.links import DEFAULT_BAUD, DEFAULT_TCP_PORT
from fermentrack.brewpi.settings import CONSTANTS_FIELDS, ValueKind
from fermentrack.config import ConfigError, check_device_name
from fermentrack.web.beers.models import beer_name_problem
from fermentrack.web.devices.cards import interval_text
from fermentrack.web.devices.hardware import function_label, join_words
from fermentrack.web.devices.models import (
    DEFAULT_LOG_INTERVAL_S,
    HOST_PATTERN,
    LOG_INTERVALS_S,
    Device,
    validate_link,
)

BAUD_RATES = [9600, 19200, 38400, 57600, 115200]
HOST = re.compile(rf"^{HOST_PATTERN}$")
USB_SERIAL = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
SERIAL_PATH = re.compile(r"^/dev/[A-Za-z0-9._/:-]+$")


class Connection:
    SIMULATED = "simulated"
    PI_GPIO = "pi_gpio"
    TCP = "tcp"
    SERIAL = "serial"
    SERIAL_BY_ID = "serial_by_id"
    # The kinds whose firmware (ours) the spawner runs on this computer, by `--hardware`.
    HERE = {"sim": SIMULATED, "pi": PI_GPIO}
    CHOICES = [
        (SIMULATED, "Simulated chamber (our firmware, on this computer)"),
        (PI_GPIO, "This Raspberry Pi's own pins (our firmware: 1-Wire probes, GPIO relays)"),
        (TCP, "Network (WiFi or TCP): host and port"),
        (SERIAL, "Serial port (USB cable): device path"),
        (SERIAL_BY_ID, "Serial, found by its USB serial number"),
    ]


CONNECTION_FIELDS = ("connection", "host", "port", "serial_port", "usb_serial", "baud")
# Which connection kinds each field belongs to (space-separated, for the page's CSS).
FIELD_CONNECTIONS = {
    "host": "tcp",
    "port": "tcp",
    "serial_port": "serial",
    "usb_serial": "serial_by_id",
    "baud": "serial serial_by_id",
    # Our firmware on this computer (simulated, this Pi's pins) has its controller here too.
    "controller_address": "tcp serial serial_by_id",
}


def build_link(data: dict) -> str:
    """The link URL (interfaces.md §1) for a connection chosen on the form; '' when our
    firmware runs the device on this computer."""
    kind = data["connection"]
    if kind == Connection.TCP:
        return f"tcp://{data['host']}:{data['port']}"
    if kind == Connection.SERIAL:
        return f"serial://{data['serial_port']}?baud={data['baud']}"
    if kind == Connection.SERIAL_BY_ID:
        baud = data.get("baud") or DEFAULT_BAUD
        suffix = "" if baud == DEFAULT_BAUD else f"?baud={baud}"
        return f"serial-by-id://{data['usb_serial']}{suffix}"
    return ""


def split_link(link: str, hardware: str = "") -> dict:
    """The form's connection fields for a stored link (the reverse of build_link); `hardware`
    is the device's `firmware_hardware` ("sim", "pi" or "" for a link)."""
    if hardware or not link:
        return {"connection": Connection.HERE.get(hardware, Connection.SIMULATED)}
    scheme, _, rest = link.partition("://")
    rest, _, query = rest.partition("?")
    baud = DEFAULT_BAUD
    match = re.search(r"(?:^|&)baud=(\d+)", query)
    if match:
        baud = int(match.group(1))
    if scheme == "tcp":
        host, _, port = rest.rpartition(":")
        return {
            "connection": Connection.TCP,
            "host": host,
            "port": int(port) if port.isdigit() else DEFAULT_TCP_PORT,
        }
    if scheme == "serial":
        return {"connection": Connection.SERIAL, "serial_port": rest, "baud": baud}
    return {"connection": Connection.SERIAL_BY_ID, "usb_serial": rest, "baud": baud}


def _link_without_options(link: str) -> str:
    return link.partition("?")[0]


class DeviceForm(forms.ModelForm):
    """Add or edit a device. The name is fixed once the device exists (it names the controller
    process, its socket and its log files)."""

    name = forms.CharField(
        help_text="lower-case letters, digits and '-', e.g. fridge-1; at most 48 characters",
        widget=forms.TextInput(
            attrs={"maxlength": 48, "autocapitalize": "none", "autocorrect": "off"}
        ),
    )
    connection = forms.ChoiceField(
        choices=Connection.CHOICES, initial=Connection.SIMULATED, widget=forms.RadioSelect
    )
    host = forms.CharField(
        required=False,
        label="Host",
        help_text="for a network connection: a name or IP address, e.g. brewpi.local",
    )
    port = forms.IntegerField(
        required=False,
        initial=DEFAULT_TCP_PORT,
        label="Port",
        help_text="for a network connection: usually 23",
    )
    serial_port = forms.CharField(
        required=False,
        label="Serial port",
        help_text="for a serial port: e.g. /dev/ttyUSB0 or /dev/ttyACM0",
    )
    usb_serial = forms.CharField(
        required=False,
        label="USB serial number",
        help_text="finds the board on whichever port it appears, e.g. 95433343733351E0F0B0",
    )
    baud = forms.TypedChoiceField(
        choices=[(rate, str(rate)) for rate in BAUD_RATES],
        coerce=int,
        required=False,
        empty_value=DEFAULT_BAUD,
        initial=DEFAULT_BAUD,
        label="Serial speed (baud)",
        help_text="BrewPi firmware uses 57600",
    )
    log_interval_s = forms.TypedChoiceField(
        choices=[(seconds, interval_text(seconds)) for seconds in LOG_INTERVALS_S],
        coerce=int,
        initial=DEFAULT_LOG_INTERVAL_S,
        label="Log interval",
        help_text="how often a reading is stored",
    )

    field_order = [
        "name",
        "connection",
        "host",
        "port",
        "serial_port",
        "usb_serial",
        "baud",
        "dialect",
        "log_interval_s",
        "temp_format",
        "controller_address",
        "active",
    ]

    class Meta:
        model = Device
        fields = [
            "name",
            "dialect",
            "log_interval_s",
            "temp_format",
            "controller_address",
            "active",
        ]
        labels = {
            "dialect": "Firmware",
            "temp_format": "Temperature unit",
            "controller_address": "Controller on another computer (optional)",
        }
        help_texts = {
            "controller_address": "leave empty to run the controller here; otherwise HOST:PORT "
            "of the computer the firmware is plugged into, e.g. cellar-pi.local:7070",
        }
        widgets = {
            "controller_address": forms.TextInput(
                attrs={"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}
            )
        }

    def __init__(self, *args, brewery_temp_format: str = "C", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, kinds in FIELD_CONNECTIONS.items():
            self.fields[name].connection_kinds = kinds  # the page hides the others' fields
        self.adding = self.instance.pk is None
        if self.adding:
            del self.fields["active"]
            self.fields["temp_format"].initial = brewery_temp_format
        else:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "a device keeps its name"
            for key, value in split_link(
                self.instance.link, self.instance.firmware_hardware
            ).items():
                self.initial.setdefault(key, value)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if not self.adding:
            return self.instance.name
        try:
            check_device_name(name)
        except ConfigError as error:
            raise forms.ValidationError(str(error)) from None
        if Device.objects.filter(name=name).exists():
            raise forms.ValidationError(
                f"a device named {name!r} already exists; choose another name"
            )
        return name

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("connection")
        if kind == Connection.TCP:
            self._check_tcp(data)
        elif kind == Connection.SERIAL:
            self._check_serial(data)
        elif kind == Connection.SERIAL_BY_ID:
            self._check_usb_serial(data)
        if kind and not self.errors:
            link = build_link(data)
            if link:
                try:
                    validate_link(link)
                except forms.ValidationError as error:
                    raise forms.ValidationError(error.messages) from None
                self._check_link_free(link)
            self.instance.link = link
            self.instance.simulated = kind == Connection.SIMULATED
            self.instance.pi_gpio = kind == Connection.PI_GPIO
            if self.instance.firmware_hardware:
                # Our firmware here has its controller here: the address field, hidden for
                # these kinds, may still hold what an earlier choice left in it.
                data["controller_address"] = ""
        return data

    def _update_errors(self, errors) -> None:
        # The model checks `link` and `pi_gpio`, which this form sets from the connection
        # fields: their complaints belong to "connection", unless those fields already say what
        # is wrong.
        for field in ("link", "pi_gpio"):
            if hasattr(errors, "error_dict") and field in errors.error_dict:
                field_errors = errors.error_dict.pop(field)
                connection_errors = any(name in self._errors for name in CONNECTION_FIELDS)
                if not connection_errors and not self.non_field_errors():
                    errors.error_dict.setdefault("connection", []).extend(field_errors)
        super()._update_errors(errors)

    def _check_tcp(self, data: dict) -> None:
        host = (data.get("host") or "").strip()
        if not host:
            self.add_error(
                "host",
                "a network connection needs a host name or IP address, e.g. brewpi.local "
                "or 192.168.1.20",
            )
        elif not HOST.match(host):
            self.add_error(
                "host",
                f"host {host!r} is not a host name or IP address; expected e.g. brewpi.local, "
                "192.168.1.20 or [fe80::1]",
            )
        data["host"] = host
        port = data.get("port")
        if port is None:
            self.add_error("port", "a network connection needs a port from 1 to 65535, usually 23")
        elif not 1 <= port <= 65535:
            self.add_error("port", f"port {port} is out of range: expected 1 to 65535, usually 23")

    def _check_serial(self, data: dict) -> None:
        path = (data.get("serial_port") or "").strip()
        data["serial_port"] = path
        if not path:
            self.add_error(
                "serial_port", "a serial connection needs a port, e.g. /dev/ttyUSB0 or /dev/ttyACM0"
            )
        elif not SERIAL_PATH.match(path):
            self.add_error(
                "serial_port",
                f"serial port {path!r} must be a device path such as /dev/ttyUSB0 or /dev/ttyACM0",
            )

    def _check_usb_serial(self, data: dict) -> None:
        serial = (data.get("usb_serial") or "").strip()
        data["usb_serial"] = serial
        if not serial:
            self.add_error(
                "usb_serial",
                "finding the board by USB serial number needs that number, "
                "e.g. 95433343733351E0F0B0",
            )
        elif not USB_SERIAL.match(serial):
            self.add_error(
                "usb_serial",
                f"USB serial number {serial!r} may hold only letters, digits, '.', '_', ':' "
                "and '-' (at most 64)",
            )

    def _check_link_free(self, link: str) -> None:
        others = Device.objects.exclude(pk=self.instance.pk).exclude(link="")
        for other in others.only("name", "link"):
            if _link_without_options(other.link) == _link_without_options(link):
                raise forms.ValidationError(
                    f"device {other.name!r} already uses {_link_without_options(link)}; "
                    "two controllers cannot share one connection"
                )


class DeleteDeviceForm(forms.Form):
    confirm_name = forms.CharField(label="Type the device's name to confirm")

    def __init__(self, *args, device: Device, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"].strip()
        if typed != self.device.name:
            raise forms.ValidationError(f"type {self.device.name} to confirm; you typed {typed!r}")
        return typed


# Setpoints a brewer may choose, in °C and °F; the firmware clamps further to tempSetMin/Max.
SETPOINT_RANGE = {
    "C": (Decimal("-10.0"), Decimal("60.0")),
    "F": (Decimal("14.0"), Decimal("140.0")),
}


class ModeForm(forms.Form):
    mode = forms.ChoiceField(
        choices=[
            ("off", "Off"),
            ("fridge_constant", "Fridge constant: hold the fridge at a temperature"),
            ("beer_constant", "Beer constant: hold the beer at a temperature"),
        ],
        widget=forms.RadioSelect,
    )
    temperature = forms.DecimalField(
        required=False,
        max_digits=5,
        decimal_places=1,
        help_text="for the constant modes, one decimal",
    )

    def __init__(self, *args, temp_format: str = "C", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.temp_format = temp_format
        self.fields["temperature"].label = f"Temperature (°{temp_format})"

    def clean(self) -> dict:
        data = super().clean()
        mode = data.get("mode")
        temperature = data.get("temperature")
        if mode in ("fridge_constant", "beer_constant"):
            low, high = SETPOINT_RANGE[self.temp_format]
            unit = f"°{self.temp_format}"
            if temperature is None and "temperature" not in self.errors:
                what = "fridge" if mode == "fridge_constant" else "beer"
                self.add_error(
                    "temperature",
                    f"{what} constant mode needs a temperature in {unit}, e.g. "
                    f"{'4.0' if what == 'fridge' else '19.5'}",
                )
            elif temperature is not None and not low <= temperature <= high:
                self.add_error(
                    "temperature",
                    f"temperature {temperature} {unit} is out of range: expected {low} to "
                    f"{high} {unit}",
                )
        elif mode == "off":
            data["temperature"] = None
        return data


class StartBeerForm(forms.Form):
    name = forms.CharField(
        label="Beer name",
        max_length=255,
        help_text="letters, digits, spaces, '-' and '_'; e.g. Summer IPA 2",
    )

    def __init__(self, *args, device: Device, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        problem = beer_name_problem(name)
        if problem:
            raise forms.ValidationError(problem)
        if self.device.beers.filter(name=name).exists():
            raise forms.ValidationError(
                f"{self.device.name} already has a beer named {name!r}; choose another name"
            )
        return name


# -- control constants (brewpi-protocol §4.8) -------------------------------------------------

# The brewer's words for each key; tempFormat is left out: it follows the device's unit.
CONSTANT_LABELS = {
    "tempSetMin": "Lowest setpoint",
    "tempSetMax": "Highest setpoint",
    "pidMax": "Largest fridge setting away from the beer setting",
    "Kp": "Proportional gain (Kp)",
    "Ki": "Integral gain (Ki)",
    "Kd": "Derivative gain (Kd)",
    "iMaxErr": "Integrate only while the beer is off by less than",
    "idleRangeH": "Idle range above the fridge setting",
    "idleRangeL": "Idle range below the fridge setting",
    "heatTargetH": "Heating overshoot target, high",
    "heatTargetL": "Heating overshoot target, low",
    "coolTargetH": "Cooling overshoot target, high",
    "coolTargetL": "Cooling overshoot target, low",
    "maxHeatTimeForEst": "Longest heating counted for the overshoot estimate",
    "maxCoolTimeForEst": "Longest cooling counted for the overshoot estimate",
    "fridgeFastFilt": "Fridge sensor fast filter",
    "fridgeSlowFilt": "Fridge sensor slow filter",
    "fridgeSlopeFilt": "Fridge sensor slope filter",
    "beerFastFilt": "Beer sensor fast filter",
    "beerSlowFilt": "Beer sensor slow filter",
    "beerSlopeFilt": "Beer sensor slope filter",
    "lah": "Light as heater",
    "hs": "Rotary encoder half steps",
}
CONSTANT_KINDS = {f.key: f.kind for f in CONSTANTS_FIELDS if f.key in CONSTANT_LABELS}
CONSTANT_UNITS = {"Kp": "°/°", "Ki": "°/° per step", "Kd": "h"}
# Internal temperatures are 1/512 °C in a signed 16-bit number with 48 °C at zero (§5.1).
TEMPERATURE_RANGE_C = (Decimal("-16.0"), Decimal("112.0"))
DIFFERENCE_RANGE_C = (Decimal("-64.000"), Decimal("63.998"))
FIXED_POINT_RANGE = (Decimal("-64.000"), Decimal("63.998"))


def _fahrenheit(value: Decimal, absolute: bool) -> Decimal:
    return (value * 9 / 5 + (32 if absolute else 0)).quantize(value)


def constant_unit(key: str, temp_format: str) -> str:
    kind = CONSTANT_KINDS[key]
    if kind in (ValueKind.TEMPERATURE, ValueKind.DIFFERENCE):
        return f"°{temp_format}"
    if kind is ValueKind.SECONDS:
        return "s"
    if kind is ValueKind.FILTER:
        return "0 to 6"
    return CONSTANT_UNITS.get(key, "")


def _constant_field(key: str, temp_format: str) -> forms.Field:
    kind = CONSTANT_KINDS[key]
    unit = constant_unit(key, temp_format)
    label = f"{CONSTANT_LABELS[key]} ({unit})" if unit else CONSTANT_LABELS[key]
    common = {"label": label, "show_hidden_initial": True, "help_text": key}
    if kind is ValueKind.BOOL:
        return forms.BooleanField(required=False, **common)
    if kind is ValueKind.SECONDS:
        return forms.IntegerField(min_value=0, max_value=65535, **common)
    if kind is ValueKind.FILTER:
        return forms.IntegerField(min_value=0, max_value=6, **common)
    if kind is ValueKind.TEMPERATURE:
        low, high = TEMPERATURE_RANGE_C
        if temp_format == "F":
            low, high = _fahrenheit(low, True), _fahrenheit(high, True)
        places = 1
    elif kind is ValueKind.DIFFERENCE:
        low, high = DIFFERENCE_RANGE_C
        if temp_format == "F":
            low, high = _fahrenheit(low, False), _fahrenheit(high, False)
        places = 3
    else:
        low, high = FIXED_POINT_RANGE
        places = 3
    return forms.DecimalField(
        min_value=low, max_value=high, max_digits=7, decimal_places=places, **common
    )


def _json_value(value: object) -> object:
    return float(value) if isinstance(value, Decimal) else value


class ConstantsForm(forms.Form):
    """The controller's control constants; `changed_constants()` is what the brewer changed.

    Each field carries its value as read in a hidden input, so what changed is known without
    asking the controller again. Only keys the controller reported get a field.
    """

    def __init__(
        self, data=None, *, constants: dict | None = None, temp_format: str = "C", **kwargs
    ) -> None:
        super().__init__(data, initial=dict(constants or {}), **kwargs)
        if data is not None:
            keys = [key for key in CONSTANT_LABELS if f"initial-{key}" in data]
        else:
            keys = [key for key in CONSTANT_LABELS if key in (constants or {})]
        for key in keys:
            field = self.fields[key] = _constant_field(key, temp_format)
            value = self.initial.get(key)
            if isinstance(field, forms.DecimalField) and isinstance(value, int | float):
                # Shown as the firmware prints it, so an untouched field never reads as changed.
                step = Decimal(1).scaleb(-field.decimal_places)
                self.initial[key] = Decimal(str(value)).quantize(step)

    def clean(self) -> dict:
        data = super().clean()
        low, high = data.get("tempSetMin"), data.get("tempSetMax")
        if low is not None and high is not None and low >= high:
            self.add_error(
                "tempSetMax",
                f"the highest setpoint ({high}) must be above the lowest setpoint ({low})",
            )
        return data

    def changed_constants(self) -> dict:
        """The changed keys and their new values, ready for client.set_constants."""
        return {key: _json_value(self.cleaned_data[key]) for key in self.changed_data}


# -- sensors and actuators (brewpi-protocol §7) -----------------------------------------------

# The firmware keeps a sensor's offset in a signed byte of 1/16 °C: -8 to +7.94 °C (§5.1).
CALIBRATION_RANGE = {
    "C": (Decimal("-8.0"), Decimal("7.9")),
    "F": (Decimal("-14.4"), Decimal("14.2")),
}


class HardwareForm(forms.Form):
    """Give one sensor or actuator a function, and its inversion (pins) or calibration offset
    (temperature sensors). `row` is the hardware as the controller listed it just now."""

    key = forms.CharField(widget=forms.HiddenInput)
    function = forms.IntegerField(
        label="Function",
        widget=forms.Select,
    )
    invert = forms.BooleanField(
        required=False,
        label="Inverted (active low)",
        help_text="most relay boards switch on when the pin is low",
    )
    calibration = forms.DecimalField(
        required=False,
        decimal_places=3,
        error_messages={
            "invalid": "calibration must be a number of degrees, e.g. -0.25 or 0.5",
            "max_decimal_places": "calibration takes at most 3 decimals, e.g. -0.125",
        },
    )

    def __init__(self, data=None, *, row, temp_format: str = "C", **kwargs) -> None:
        super().__init__(data, auto_id=f"id_{row.html_id}_%s", **kwargs)
        self.row = row
        self.temp_format = temp_format
        self.expected = join_words([label.lower() for _, label in row.function_choices])
        function = self.fields["function"]
        function.error_messages["required"] = f"choose what {row.name} does: {self.expected}"
        function.error_messages["invalid"] = f"choose a function from the list: {self.expected}"
        choices = list(row.function_choices)
        if not row.installed:
            choices.insert(0, ("", "Choose a function…"))
        function.widget.choices = choices
        self.initial = {"key": row.key, "invert": row.inverted if row.installed else True}
        if row.installed:
            self.initial["function"] = row.function
        if not row.takes_invert:
            del self.fields["invert"]
        if row.takes_calibration:
            low, high = CALIBRATION_RANGE[temp_format]
            field = self.fields["calibration"]
            field.label = f"Calibration offset (°{temp_format})"
            field.help_text = f"added to every reading, {low} to {high} °{temp_format}"
            field.widget.attrs.update({"step": "0.01", "min": str(low), "max": str(high)})
            self.initial["calibration"] = Decimal(str(row.calibration or 0)).quantize(
                Decimal("0.01")
            )
        else:
            del self.fields["calibration"]

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        if key != self.row.key:
            raise forms.ValidationError(
                f"this form belongs to {self.row.name}; reload the page and try again"
            )
        return key

    def clean_function(self) -> int:
        function = self.cleaned_data["function"]
        if function not in self.row.functions:
            raise forms.ValidationError(
                f"{function_label(function).lower()} does not fit {self.row.name}: "
                f"expected {self.expected}"
            )
        return function

    def clean_calibration(self) -> Decimal:
        value = self.cleaned_data.get("calibration")
        if value is None:
            return Decimal(0)
        low, high = CALIBRATION_RANGE[self.temp_format]
        unit = f"°{self.temp_format}"
        if not low <= value <= high:
            raise forms.ValidationError(
                f"calibration {value} {unit} is out of range: expected {low} to {high} {unit}"
            )
        return value
