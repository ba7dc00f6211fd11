"""The sensors and actuators page: listing, assigning, uninstalling, refusals and permissions.

The fake controller (tests/controller/fake_controller.py) answers with a simulated chamber's
hardware: cooler on pin 5 (slot 0), heater on pin 6 (slot 1), fridge probe (slot 2) and beer
probe (slot 3) installed; pins 2, 19 and 4 and a third probe free.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from controller.fake_controller import BEER_PROBE, FRIDGE_PROBE, ROOM_PROBE
from fermentrack.web.devices import hardware
from fermentrack.web.devices.forms import HardwareForm
from fermentrack.web.devices.hardware import HardwareRow, read_listing

pytestmark = pytest.mark.django_db

URL = reverse("device_hardware", args=["fridge-1"])


def key(kind: int, pin: int, address: str = "") -> str:
    return HardwareRow(hardware=kind, pin=pin, address=address).key


PIN_19 = key(1, 19)
ROOM = key(2, 18, ROOM_PROBE)
BEER = key(2, 18, BEER_PROBE)
FRIDGE = key(2, 18, FRIDGE_PROBE)


def applied(fake) -> list[dict]:
    return [request["definition"] for request in fake.requests if request["cmd"] == "apply_device"]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def hardware_forms(text: str) -> int:
    return text.count(f'<form method="post" action="{URL}"')


# -- the listing --------------------------------------------------------------------------------


def test_the_page_lists_installed_devices_with_slot_function_hardware_and_value(
    brewer_client, device, fake_controller
):
    response = brewer_client.get(URL)
    assert response.status_code == 200
    assert fake_controller.commands == ["list_devices", "scan_hardware"]
    installed = [row for row, _ in response.context["installed"]]
    assert [(row.slot, row.function_label) for row in installed] == [
        (0, "Cooler"),
        (1, "Heater"),
        (2, "Fridge temperature"),
        (3, "Beer temperature"),
    ]
    text = response.content.decode()
    assert "1-Wire bus on pin 18, address 2802EEFFC00000B0" in text
    assert "19.12 °C" in text and "17.31 °C" in text
    assert "-0.25 °C" in text  # the beer probe's calibration
    assert "<th>Inverted</th><td>yes</td>" in text
    assert "<th>State</th><td><strong>on</strong></td>" in text  # the heater is on


def test_the_page_lists_free_pins_and_sensors_with_their_readings(
    brewer_client, device, fake_controller
):
    response = brewer_client.get(URL)
    available = [row for row, _ in response.context["available"]]
    assert [row.name for row in available] == [
        "pin 2",
        "pin 19",
        "pin 4",
        f"sensor {ROOM_PROBE}",
    ]
    text = response.content.decode()
    assert "21.50 °C" in text
    assert "<h3>Pin 19</h3>" in text and f"<h3>Sensor {ROOM_PROBE}</h3>" in text


def test_the_summary_says_what_is_missing_and_what_that_costs(
    brewer_client, device, fake_controller
):
    text = brewer_client.get(URL).content.decode()
    assert "Temperature control: cooling and heating." in text
    assert "Beer sensor: beer constant and beer profiles can run." in text
    assert '<p class="warning">No room sensor: the room temperature is not logged.</p>' in text
    assert "No door switch: door openings are not noted on the graph." in text


def test_with_nothing_installed_the_summary_says_there_is_no_control(
    brewer_client, device, fake_controller
):
    fake_controller.devices = []
    text = brewer_client.get(URL).content.decode()
    assert (
        "No temperature control: it needs a cooler or a heater and a fridge temperature sensor."
        in text
    )
    assert "No beer sensor: beer constant and beer profiles cannot run (fridge constant can)." in (
        text
    )
    assert "Nothing is installed" in text


def test_a_cooler_without_a_heater_still_controls_but_says_cooling_only():
    listing = read_listing([{"i": 0, "f": 3, "h": 1, "p": 5}, {"i": 1, "f": 5, "h": 2, "p": 9}], [])
    assert listing.summary()[0].text == "Temperature control: cooling only (no heater installed)."


def test_readings_are_shown_in_the_devices_unit(brewer_client, device, fake_controller):
    device.temp_format = "F"
    device.save()
    fake_controller.hardware[-1]["v"] = 70.7
    response = brewer_client.get(URL)
    assert "70.70 °F" in response.content.decode()
    form = dict(response.context["available"])[
        next(row for row, _ in response.context["available"] if row.key == ROOM)
    ]
    assert form.fields["calibration"].label == "Calibration offset (°F)"


def test_esp_answers_with_booleans_and_text_calibration_are_read_alike():
    devices = [
        {"c": 1, "b": 0, "f": 2, "h": 1, "p": 12, "x": True, "d": False, "v": 1, "i": 0},
        {"c": 1, "b": 1, "f": 9, "h": 2, "p": 4, "x": False, "d": False, "a": "28ff0011",
         "j": " 0.500", "v": 18.5, "i": 1},
    ]  # fmt: skip
    listing = read_listing(devices, [], temp_format="C", slots=20)
    heater, beer = listing.installed
    assert heater.inverted is True and heater.reading == "on"
    assert beer.calibration == 0.5 and beer.calibration_text == "+0.50 °C"
    assert beer.address == "28FF0011" and beer.reading == "18.50 °C"
    assert listing.free_slot() == 2


def test_an_installed_sensor_the_scan_did_not_find_is_marked(
    brewer_client, device, fake_controller
):
    fake_controller.hardware = [
        item for item in fake_controller.hardware if item.get("a") != BEER_PROBE
    ]
    text = brewer_client.get(URL).content.decode()
    assert "The firmware did not find it in its latest scan: check its wiring." in text


def test_a_sensor_without_a_reading_says_so():
    listing = read_listing([{"i": 0, "f": 9, "h": 2, "p": 9, "a": "28AA", "v": None}], [])
    assert listing.installed[0].reading == "no reading"


def test_an_installed_device_takes_its_reading_from_the_scan_when_its_listing_has_none():
    listing = read_listing(
        [{"i": 0, "f": 5, "h": 2, "p": 18, "a": FRIDGE_PROBE}],
        [{"i": 0, "h": 2, "p": 18, "a": FRIDGE_PROBE, "v": 4.5}],
    )
    assert listing.installed[0].reading == "4.50 °C"


def test_functions_offered_fit_the_hardware():
    pin = HardwareRow(hardware=1, pin=5)
    probe = HardwareRow(hardware=2, pin=18, address=ROOM_PROBE)
    assert [label for _, label in pin.function_choices] == [
        "Cooler",
        "Heater",
        "Chamber door",
        "Chamber light",
        "Chamber fan",
    ]
    assert [label for _, label in probe.function_choices] == [
        "Fridge temperature",
        "Beer temperature",
        "Room temperature",
    ]


def test_refresh_readings_swaps_in_a_fresh_listing_with_htmx(
    brewer_client, device, fake_controller
):
    text = brewer_client.get(URL).content.decode()
    assert f'hx-get="{URL}" hx-target="#hardware"' in text
    fake_controller.hardware[-1]["v"] = 22.25
    response = brewer_client.get(URL, headers={"HX-Request": "true"})
    part = response.content.decode()
    assert part.startswith('<div id="hardware">') and "<html" not in part
    assert "22.25 °C" in part


def test_the_device_page_links_to_the_hardware_page(guest_client, device):
    text = guest_client.get(reverse("device_detail", args=["fridge-1"])).content.decode()
    assert f'href="{URL}"' in text


def test_an_unknown_device_is_a_404(brewer_client, fake_controller):
    assert brewer_client.get(reverse("device_hardware", args=["no-such"])).status_code == 404


def test_only_get_and_post_are_accepted(brewer_client, device, fake_controller):
    assert brewer_client.put(URL).status_code == 405


# -- assigning and uninstalling ------------------------------------------------------------------


def test_assigning_a_free_sensor_sends_its_definition_in_the_first_free_slot(
    brewer_client, device, fake_controller
):
    response = brewer_client.post(
        URL, {"action": "assign", "key": ROOM, "function": "6", "calibration": "0.5"}, follow=True
    )
    assert applied(fake_controller) == [
        {"i": 4, "c": 1, "b": 0, "f": 6, "h": 2, "p": 18, "a": ROOM_PROBE, "j": 0.5}
    ]
    assert messages_of(response) == [f"Sensor {ROOM_PROBE} is now the room temperature (slot 4)."]
    assert "Room sensor: the room temperature is logged." in response.content.decode()


def test_assigning_a_relay_sends_pin_function_and_inversion(brewer_client, device, fake_controller):
    brewer_client.post(URL, {"action": "assign", "key": PIN_19, "function": "4"})
    assert applied(fake_controller) == [{"i": 4, "c": 1, "b": 0, "f": 4, "h": 1, "p": 19, "x": 0}]
    brewer_client.post(URL, {"action": "assign", "key": key(1, 2), "function": "7", "invert": "on"})
    assert applied(fake_controller)[-1] == {"i": 5, "c": 1, "b": 0, "f": 7, "h": 1, "p": 2, "x": 1}


def test_a_new_assignment_takes_the_first_gap_in_the_slots(brewer_client, device, fake_controller):
    fake_controller.devices = [d for d in fake_controller.devices if d["i"] != 1]
    brewer_client.post(URL, {"action": "assign", "key": PIN_19, "function": "2", "invert": "on"})
    assert applied(fake_controller)[0]["i"] == 1


def test_changing_an_installed_sensor_keeps_its_slot_and_marks_a_beer_function(
    brewer_client, device, fake_controller
):
    brewer_client.post(
        URL, {"action": "assign", "key": FRIDGE, "function": "9", "calibration": "-0.125"}
    )
    assert applied(fake_controller) == [
        {"i": 2, "c": 1, "b": 1, "f": 9, "h": 2, "p": 18, "a": FRIDGE_PROBE, "j": -0.125}
    ]


def test_the_form_starts_from_what_is_installed(brewer_client, device, fake_controller):
    response = brewer_client.get(URL)
    forms = {row.key: form for row, form in response.context["installed"]}
    beer = forms[BEER]
    assert beer.initial["function"] == 9 and str(beer.initial["calibration"]) == "-0.25"
    cooler = forms[key(1, 5)]
    assert cooler.initial["invert"] is True and "calibration" not in cooler.fields
    free = {row.key: form for row, form in response.context["available"]}[PIN_19]
    assert free.initial["invert"] is True  # the firmware's default for a pin
    assert "function" not in free.initial


@pytest.mark.parametrize(("dialect", "slots"), [("avr", 16), ("esp", 20)])
def test_when_every_slot_is_taken_nothing_is_sent(
    brewer_client, device, fake_controller, dialect, slots
):
    device.dialect = dialect
    device.save()
    fake_controller.devices = [
        {"i": slot, "f": 3 if slot == 0 else 8, "h": 1, "p": 100 + slot} for slot in range(slots)
    ]
    response = brewer_client.post(
        URL, {"action": "assign", "key": PIN_19, "function": "4"}, follow=True
    )
    assert applied(fake_controller) == []
    assert messages_of(response) == [
        f"All {slots} slots of fridge-1 are in use: uninstall something first. Nothing was sent."
    ]


def test_uninstalling_sends_function_zero_for_its_slot(brewer_client, device, fake_controller):
    response = brewer_client.post(
        URL, {"action": "uninstall", "key": BEER, "slot": "3"}, follow=True
    )
    assert applied(fake_controller) == [{"i": 3, "f": 0}]
    assert messages_of(response) == [
        f"Uninstalled the beer temperature from slot 3; sensor {BEER_PROBE} is free."
    ]
    assert "No beer sensor" in response.content.decode()


def test_uninstalling_a_slot_that_now_holds_something_else_sends_nothing(
    brewer_client, device, fake_controller
):
    response = brewer_client.post(
        URL, {"action": "uninstall", "key": BEER, "slot": "2"}, follow=True
    )
    assert applied(fake_controller) == []
    assert messages_of(response) == [
        "Slot 2 no longer holds that hardware; nothing was sent. The list below is fresh."
    ]


def test_assigning_hardware_the_controller_no_longer_lists_sends_nothing(
    brewer_client, device, fake_controller
):
    response = brewer_client.post(
        URL, {"action": "assign", "key": key(1, 42), "function": "4"}, follow=True
    )
    assert applied(fake_controller) == []
    assert messages_of(response) == [
        "The controller of fridge-1 no longer lists that hardware (unplugged?); nothing was "
        "sent. The list below is fresh."
    ]


def test_the_firmwares_refusal_is_shown_in_its_own_words(brewer_client, device, fake_controller):
    fake_controller.device_errors = [
        "Device definition update is invalid",
        "Cannot assign device type 1 to hardware 1",
    ]
    response = brewer_client.post(
        URL, {"action": "assign", "key": ROOM, "function": "6"}, follow=True
    )
    assert response.status_code == 200
    assert messages_of(response) == [
        "The firmware of fridge-1 refused the change: Device definition update is invalid; "
        "Cannot assign device type 1 to hardware 1."
    ]
    assert 'class="message error"' in response.content.decode()


def test_a_firmware_that_quietly_kept_the_old_definition_is_reported(
    brewer_client, device, fake_controller
):
    fake_controller.answer = lambda request: (
        {"ok": True, "definition": {"i": 4, "f": 0}}
        if request["cmd"] == "apply_device"
        else type(fake_controller).answer(fake_controller, request)
    )
    response = brewer_client.post(
        URL, {"action": "assign", "key": ROOM, "function": "6"}, follow=True
    )
    assert messages_of(response) == [
        "The firmware of fridge-1 did not make the change: slot 4 holds nothing. "
        "Refresh the list and try again."
    ]


def test_a_controller_that_refuses_the_command_is_reported_plainly(
    brewer_client, device, fake_controller
):
    fake_controller.refuse("apply_device", "firmware not connected")
    response = brewer_client.post(
        URL, {"action": "uninstall", "key": BEER, "slot": "3"}, follow=True
    )
    assert messages_of(response) == [
        "The controller of fridge-1 refused the change: firmware not connected."
    ]


# -- the controller is not there ------------------------------------------------------------------


def test_without_a_controller_the_page_says_so_and_offers_no_forms(
    brewer_client, device, no_controller
):
    response = brewer_client.get(URL)
    assert response.status_code == 200
    text = response.content.decode()
    assert "The controller of fridge-1 is not running." in text
    assert hardware_forms(text) == 0
    assert "Refresh readings" not in text


def test_a_change_without_a_controller_says_so_and_does_not_fail(
    brewer_client, device, no_controller
):
    response = brewer_client.post(
        URL, {"action": "assign", "key": ROOM, "function": "6"}, follow=True
    )
    assert response.status_code == 200
    assert messages_of(response) == [
        "The controller of fridge-1 is not running; the change was not sent."
    ]


def test_a_controller_that_sends_garbage_gets_a_plain_message(
    brewer_client, device, fake_controller
):
    fake_controller.behaviour = "garbage"
    response = brewer_client.get(URL)
    assert response.status_code == 200
    assert "gave an answer to &#x27;list_devices&#x27; that is not JSON" in (
        response.content.decode()
    )


def test_an_answer_without_a_device_list_gets_a_plain_message(
    brewer_client, device, fake_controller
):
    fake_controller.answer = lambda request: {"ok": True}
    text = brewer_client.get(URL).content.decode()
    assert "The controller of fridge-1 gave an answer to &#x27;list_devices&#x27; without a " in (
        text
    )
    assert hardware_forms(text) == 0


# -- who may look, who may change ------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in_when_the_brewery_requires_it(
    anonymous_client, device, fake_controller
):
    response = anonymous_client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert fake_controller.requests == []


def test_anonymous_visitors_see_the_page_without_forms_on_an_open_dashboard(
    anonymous_client, device, fake_controller, open_dashboard
):
    response = anonymous_client.get(URL)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Beer temperature" in text and hardware_forms(text) == 0
    assert "Log in as a brewer to assign or uninstall them." in text
    assert "Refresh readings" in text


def test_anonymous_changes_go_to_the_login_page_even_on_an_open_dashboard(
    anonymous_client, device, fake_controller, open_dashboard
):
    response = anonymous_client.post(URL, {"action": "uninstall", "key": BEER, "slot": "3"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert fake_controller.requests == []


def test_a_guest_sees_the_page_without_forms(guest_client, device, fake_controller):
    response = guest_client.get(URL)
    assert response.status_code == 200
    assert hardware_forms(response.content.decode()) == 0
    assert all(form is None for _, form in response.context["installed"])


@pytest.mark.parametrize(
    "data",
    [
        {"action": "assign", "key": ROOM, "function": "6"},
        {"action": "uninstall", "key": BEER, "slot": "3"},
    ],
    ids=["assign", "uninstall"],
)
def test_a_guest_gets_403_on_every_change_and_nothing_is_sent(
    guest_client, device, fake_controller, data
):
    assert guest_client.post(URL, data).status_code == 403
    assert fake_controller.requests == []


@pytest.mark.parametrize("who", ["brewer_client", "admin_client"])
def test_brewers_and_admins_get_the_forms_and_may_change(request, who, device, fake_controller):
    client = request.getfixturevalue(who)
    text = client.get(URL).content.decode()
    assert hardware_forms(text) == 4 * 2 + 4  # installed: save and uninstall; free: install
    response = client.post(URL, {"action": "assign", "key": PIN_19, "function": "4"})
    assert response.status_code == 302 and response["Location"] == URL
    assert len(applied(fake_controller)) == 1


# -- form errors -----------------------------------------------------------------------------------


def post_form(client, data) -> tuple:
    response = client.post(URL, {"action": "assign", **data})
    assert response.status_code == 200
    form = next(
        form
        for _, form in response.context["installed"] + response.context["available"]
        if form.is_bound
    )
    return response, form


def test_a_calibration_out_of_range_is_refused_and_nothing_is_sent(
    brewer_client, device, fake_controller
):
    response, form = post_form(brewer_client, {"key": ROOM, "function": "6", "calibration": "9"})
    assert form.errors["calibration"] == [
        "calibration 9 °C is out of range: expected -8.0 to 7.9 °C"
    ]
    assert "calibration 9 °C is out of range" in response.content.decode()
    assert applied(fake_controller) == []


def test_the_calibration_range_follows_the_devices_unit(brewer_client, device, fake_controller):
    device.temp_format = "F"
    device.save()
    _, form = post_form(brewer_client, {"key": ROOM, "function": "6", "calibration": "-15"})
    assert form.errors["calibration"] == [
        "calibration -15 °F is out of range: expected -14.4 to 14.2 °F"
    ]
    brewer_client.post(URL, {"action": "assign", "key": ROOM, "function": "6", "calibration": "14"})
    assert applied(fake_controller)[0]["j"] == 14.0


def test_a_calibration_that_is_not_a_number_says_what_is_expected(
    brewer_client, device, fake_controller
):
    _, form = post_form(brewer_client, {"key": ROOM, "function": "6", "calibration": "warm"})
    assert form.errors["calibration"] == [
        "calibration must be a number of degrees, e.g. -0.25 or 0.5"
    ]


def test_a_function_that_does_not_fit_the_hardware_is_refused(
    brewer_client, device, fake_controller
):
    _, form = post_form(brewer_client, {"key": PIN_19, "function": "9"})
    assert form.errors["function"] == [
        "beer temperature does not fit pin 19: expected cooler, heater, chamber door, "
        "chamber light or chamber fan"
    ]
    _, form = post_form(brewer_client, {"key": ROOM, "function": "3"})
    assert form.errors["function"] == [
        f"cooler does not fit sensor {ROOM_PROBE}: expected fridge temperature, beer "
        "temperature or room temperature"
    ]
    assert applied(fake_controller) == []


def test_a_missing_function_says_what_to_choose(brewer_client, device, fake_controller):
    _, form = post_form(brewer_client, {"key": PIN_19, "function": ""})
    assert form.errors["function"] == [
        "choose what pin 19 does: cooler, heater, chamber door, chamber light or chamber fan"
    ]


def test_the_form_shows_its_errors_in_place_of_its_rows_form():
    row = HardwareRow(hardware=2, pin=18, address=ROOM_PROBE)
    form = HardwareForm(
        {"key": row.key, "function": "6", "calibration": "0.1234"}, row=row, temp_format="C"
    )
    assert form.errors["calibration"] == ["calibration takes at most 3 decimals, e.g. -0.125"]
    assert form["function"].id_for_label == "id_hw-2-18-2803eeffc0000087_function"


def test_assignment_definitions_carry_every_key_for_esp_firmware():
    row = HardwareRow(hardware=2, pin=4, address="28FF0011")
    assert hardware.assignment(row, 7, 5, calibration=None) == {
        "i": 7,
        "c": 1,
        "b": 0,
        "f": 5,
        "h": 2,
        "p": 4,
        "a": "28FF0011",
        "j": 0.0,
    }
    assert hardware.uninstalling(HardwareRow(hardware=1, pin=5, slot=0, function=3)) == {
        "i": 0,
        "f": 0,
    }
