"""Every form of the devices app says what was wrong and what was expected."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fermentrack.web.devices.forms import (
    ConstantsForm,
    DeleteDeviceForm,
    DeviceForm,
    ModeForm,
    StartBeerForm,
    build_link,
    split_link,
)
from fermentrack.web.devices.models import Device

from .form_data import add_form

pytestmark = pytest.mark.django_db

device_data = add_form


def errors_of(form) -> dict:
    assert not form.is_valid()
    return {key: list(value) for key, value in form.errors.items()}


# -- DeviceForm ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "link"),
    [
        ({}, "tcp://brewpi.local:23"),
        ({"host": "192.168.1.20", "port": "2323"}, "tcp://192.168.1.20:2323"),
        ({"host": "[fe80::1]"}, "tcp://[fe80::1]:23"),
        (
            {"connection": "serial", "serial_port": "/dev/ttyUSB0"},
            "serial:///dev/ttyUSB0?baud=57600",
        ),
        (
            {"connection": "serial", "serial_port": "/dev/ttyACM0", "baud": "115200"},
            "serial:///dev/ttyACM0?baud=115200",
        ),
        (
            {"connection": "serial_by_id", "usb_serial": "95433343733351E0F0B0"},
            "serial-by-id://95433343733351E0F0B0",
        ),
        ({"connection": "simulated", "host": ""}, ""),
        ({"connection": "pi_gpio", "host": ""}, ""),
    ],
)
def test_each_connection_becomes_a_link(changes, link):
    form = DeviceForm(device_data(**changes))
    assert form.is_valid(), form.errors
    device = form.save()
    assert device.link == link
    assert device.simulated == (changes.get("connection") == "simulated")
    assert device.pi_gpio == (changes.get("connection") == "pi_gpio")


def test_only_one_active_chamber_may_use_this_pis_pins():
    Device.objects.create(name="keezer", pi_gpio=True)
    form = DeviceForm(device_data(name="fridge-2", connection="pi_gpio"))
    assert errors_of(form)["connection"] == [
        "keezer already uses this Pi's pins: one chamber at a time can "
        "(deactivate or change it first)"
    ]
    Device.objects.filter(name="keezer").update(active=False)
    assert DeviceForm(device_data(name="fridge-2", connection="pi_gpio")).is_valid()


def test_the_database_holds_one_active_chamber_on_the_pins_when_two_saves_race():
    from django.db import IntegrityError, transaction

    Device.objects.create(name="keezer", pi_gpio=True)
    Device.objects.create(name="spare", pi_gpio=True, active=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Device.objects.create(name="fridge-2", pi_gpio=True)


def test_a_chamber_on_this_pis_pins_can_be_edited_and_switched_to_a_link():
    device = Device.objects.create(name="keezer", pi_gpio=True)
    form = DeviceForm(instance=device)
    assert form.initial["connection"] == "pi_gpio"
    form = DeviceForm(device_data(name="keezer", active="on"), instance=device)
    assert form.is_valid(), form.errors
    device = form.save()
    assert (device.pi_gpio, device.link) == (False, "tcp://brewpi.local:23")


@pytest.mark.parametrize(
    "name", ["My Fridge", "fridge_1", "-fridge", "x" * 49, "fridge!", "Fridge-1"]
)
def test_a_name_that_is_not_a_slug_gets_the_exact_rule(name):
    assert errors_of(DeviceForm(device_data(name=name)))["name"] == [
        f"device name {name!r} may hold only a-z, 0-9 and '-', start with a letter or digit, "
        "and be at most 48 characters"
    ]


def test_a_missing_name_is_required():
    assert errors_of(DeviceForm(device_data(name="")))["name"] == ["This field is required."]


def test_a_taken_name_is_refused():
    Device.objects.create(name="fridge-2", simulated=True)
    assert errors_of(DeviceForm(device_data()))["name"] == [
        "a device named 'fridge-2' already exists; choose another name"
    ]


def test_a_network_connection_needs_a_host_and_a_port():
    errors = errors_of(DeviceForm(device_data(host="", port="")))
    assert errors["host"] == [
        "a network connection needs a host name or IP address, e.g. brewpi.local or 192.168.1.20"
    ]
    assert errors["port"] == ["a network connection needs a port from 1 to 65535, usually 23"]


def test_a_host_with_spaces_is_refused():
    assert errors_of(DeviceForm(device_data(host="brew pi")))["host"] == [
        "host 'brew pi' is not a host name or IP address; expected e.g. brewpi.local, "
        "192.168.1.20 or [fe80::1]"
    ]


@pytest.mark.parametrize("port", ["0", "65536"])
def test_a_port_out_of_range_is_refused(port):
    assert errors_of(DeviceForm(device_data(port=port)))["port"] == [
        f"port {port} is out of range: expected 1 to 65535, usually 23"
    ]


def test_a_serial_connection_needs_a_device_path():
    errors = errors_of(DeviceForm(device_data(connection="serial", serial_port="")))
    assert errors["serial_port"] == [
        "a serial connection needs a port, e.g. /dev/ttyUSB0 or /dev/ttyACM0"
    ]
    errors = errors_of(DeviceForm(device_data(connection="serial", serial_port="COM3")))
    assert errors["serial_port"] == [
        "serial port 'COM3' must be a device path such as /dev/ttyUSB0 or /dev/ttyACM0"
    ]


def test_finding_by_usb_serial_needs_a_plain_serial_number():
    errors = errors_of(DeviceForm(device_data(connection="serial_by_id", usb_serial="")))
    assert errors["usb_serial"] == [
        "finding the board by USB serial number needs that number, e.g. 95433343733351E0F0B0"
    ]
    errors = errors_of(DeviceForm(device_data(connection="serial_by_id", usb_serial="a b")))
    assert errors["usb_serial"] == [
        "USB serial number 'a b' may hold only letters, digits, '.', '_', ':' and '-' (at most 64)"
    ]


def test_an_unknown_connection_kind_is_refused():
    errors = errors_of(DeviceForm(device_data(connection="bluetooth")))
    assert errors["connection"] == [
        "Select a valid choice. bluetooth is not one of the available choices."
    ]


def test_two_devices_cannot_share_a_connection():
    Device.objects.create(name="fridge-1", link="serial:///dev/ttyUSB0?baud=9600")
    form = DeviceForm(device_data(connection="serial", serial_port="/dev/ttyUSB0"))
    assert errors_of(form)["__all__"] == [
        "device 'fridge-1' already uses serial:///dev/ttyUSB0; two controllers cannot share one "
        "connection"
    ]


def test_a_log_interval_must_be_one_of_the_choices():
    errors = errors_of(DeviceForm(device_data(log_interval_s="45")))
    assert errors["log_interval_s"] == [
        "Select a valid choice. 45 is not one of the available choices."
    ]


def test_the_log_interval_choices_read_as_times():
    labels = [label for _, label in DeviceForm().fields["log_interval_s"].choices]
    assert labels == ["10 s", "30 s", "1 min", "2 min", "5 min", "10 min", "30 min", "1 h"]


def test_a_new_device_starts_in_the_brewerys_unit():
    assert DeviceForm(brewery_temp_format="F")["temp_format"].value() == "F"


def test_editing_keeps_the_name_and_may_keep_its_own_connection():
    device = Device.objects.create(name="fridge-1", link="tcp://brewpi.local:23")
    form = DeviceForm(device_data(name="other", active="on"), instance=device)
    assert form.is_valid(), form.errors
    assert form.save().name == "fridge-1"


@pytest.mark.parametrize(
    ("link", "hardware"),
    [
        ("tcp://brewpi.local:23", ""),
        ("serial:///dev/ttyUSB0?baud=57600", ""),
        ("serial-by-id://95433343733351E0F0B0", ""),
        ("serial-by-id://9543?baud=9600", ""),
        ("", "sim"),
        ("", "pi"),
    ],
)
def test_a_link_splits_into_the_fields_that_build_it_again(link, hardware):
    fields = {"baud": 57600, **split_link(link, hardware)}
    assert build_link(fields) == link


# -- DeleteDeviceForm ---------------------------------------------------------------------------


def test_deleting_needs_the_exact_name():
    device = Device.objects.create(name="fridge-1", simulated=True)
    form = DeleteDeviceForm({"confirm_name": "Fridge-1"}, device=device)
    assert errors_of(form)["confirm_name"] == ["type fridge-1 to confirm; you typed 'Fridge-1'"]
    assert DeleteDeviceForm({"confirm_name": " fridge-1 "}, device=device).is_valid()


# -- ModeForm -----------------------------------------------------------------------------------


def test_a_constant_mode_needs_a_temperature():
    assert errors_of(ModeForm({"mode": "fridge_constant"}))["temperature"] == [
        "fridge constant mode needs a temperature in °C, e.g. 4.0"
    ]


@pytest.mark.parametrize(
    ("unit", "value", "message"),
    [
        ("C", "61", "temperature 61 °C is out of range: expected -10.0 to 60.0 °C"),
        ("C", "-10.5", "temperature -10.5 °C is out of range: expected -10.0 to 60.0 °C"),
        ("F", "150", "temperature 150 °F is out of range: expected 14.0 to 140.0 °F"),
    ],
)
def test_a_temperature_out_of_range_is_refused(unit, value, message):
    form = ModeForm({"mode": "beer_constant", "temperature": value}, temp_format=unit)
    assert errors_of(form)["temperature"] == [message]


def test_a_temperature_with_two_decimals_is_refused():
    form = ModeForm({"mode": "beer_constant", "temperature": "19.55"})
    assert errors_of(form)["temperature"] == ["Ensure that there are no more than 1 decimal place."]


def test_a_mode_must_be_chosen():
    assert errors_of(ModeForm({}))["mode"] == ["This field is required."]


def test_off_ignores_a_temperature():
    form = ModeForm({"mode": "off", "temperature": "19"})
    assert form.is_valid()
    assert form.cleaned_data["temperature"] is None


def test_the_temperature_label_carries_the_devices_unit():
    assert ModeForm(temp_format="F").fields["temperature"].label == "Temperature (°F)"


# -- ConstantsForm ------------------------------------------------------------------------------


def constants_data(constants: dict, **changes) -> dict:
    data = {}
    for key, value in constants.items():
        data[f"initial-{key}"] = str(value)
        if value is not False:
            data[key] = "on" if value is True else str(value)
    data.update(changes)
    return data


READ = {"tempSetMin": 1.0, "tempSetMax": 30.0, "Kp": 5.0, "heatTargetH": 0.301, "lah": False}


def test_only_the_controllers_keys_get_fields_and_tempformat_is_left_to_the_device():
    form = ConstantsForm(constants={**READ, "tempFormat": "C"})
    assert list(form.fields) == ["tempSetMin", "tempSetMax", "Kp", "heatTargetH", "lah"]


def test_changed_constants_are_only_those_changed():
    form = ConstantsForm(constants_data(READ, Kp="5.5", lah="on"))
    assert form.is_valid(), form.errors
    assert form.changed_constants() == {"Kp": 5.5, "lah": True}


def test_a_value_written_differently_is_not_a_change():
    form = ConstantsForm(constants_data(READ, Kp="5", tempSetMin="1", tempSetMax="30.0"))
    assert form.is_valid(), form.errors
    assert form.changed_constants() == {}


def test_values_are_shown_as_the_firmware_prints_them():
    form = ConstantsForm(constants={"heatTargetH": 0.30078125, "tempSetMin": 1})
    assert form.initial["heatTargetH"] == Decimal("0.301")
    assert form.initial["tempSetMin"] == Decimal("1.0")


def test_the_lowest_setpoint_must_be_below_the_highest():
    form = ConstantsForm(constants_data(READ, tempSetMin="30", tempSetMax="20"))
    assert errors_of(form)["tempSetMax"] == [
        "the highest setpoint (20) must be above the lowest setpoint (30)"
    ]


@pytest.mark.parametrize(
    ("key", "value", "unit", "message"),
    [
        ("beerFastFilt", "7", "C", "Ensure this value is less than or equal to 6."),
        ("maxHeatTimeForEst", "70000", "C", "Ensure this value is less than or equal to 65535."),
        ("tempSetMax", "120", "C", "Ensure this value is less than or equal to 112.0."),
        ("tempSetMax", "240", "F", "Ensure this value is less than or equal to 233.6."),
        ("Kp", "abc", "C", "Enter a number."),
    ],
)
def test_a_constant_out_of_its_range_is_refused(key, value, unit, message):
    read = {**READ, "beerFastFilt": 3, "maxHeatTimeForEst": 600}
    form = ConstantsForm(constants_data(read, **{key: value}), temp_format=unit)
    assert errors_of(form)[key] == [message]


def test_constant_labels_carry_their_units():
    form = ConstantsForm(
        constants={"tempSetMin": 34.0, "pidMax": 18.0, "Kd": -1.5}, temp_format="F"
    )
    labels = {key: field.label for key, field in form.fields.items()}
    assert labels == {
        "tempSetMin": "Lowest setpoint (°F)",
        "pidMax": "Largest fridge setting away from the beer setting (°F)",
        "Kd": "Derivative gain (Kd) (h)",
    }


# -- StartBeerForm ------------------------------------------------------------------------------


def test_a_beer_name_with_other_characters_is_refused():
    device = Device.objects.create(name="fridge-1", simulated=True)
    form = StartBeerForm({"name": "IPA #2"}, device=device)
    assert errors_of(form)["name"] == [
        "'IPA #2' has # in it: a beer name may hold letters, digits, spaces, '-' and '_'"
    ]


def test_a_beer_name_must_be_new_on_its_device():
    device = Device.objects.create(name="fridge-1", simulated=True)
    device.beers.create(name="Stout", started_at=1_700_000_000, ended_at=1_700_100_000)
    form = StartBeerForm({"name": "Stout"}, device=device)
    assert errors_of(form)["name"] == [
        "fridge-1 already has a beer named 'Stout'; choose another name"
    ]


def test_a_beer_name_is_required_and_at_most_255_characters():
    device = Device.objects.create(name="fridge-1", simulated=True)
    assert errors_of(StartBeerForm({"name": ""}, device=device))["name"] == [
        "This field is required."
    ]
    assert errors_of(StartBeerForm({"name": "a" * 256}, device=device))["name"] == [
        "Ensure this value has at most 255 characters (it has 256)."
    ]


def test_a_beer_name_may_hold_letters_of_any_language():
    device = Device.objects.create(name="fridge-1", simulated=True)
    form = StartBeerForm({"name": "Märzen 2_b "}, device=device)
    assert form.is_valid()
    assert form.cleaned_data["name"] == "Märzen 2_b"
