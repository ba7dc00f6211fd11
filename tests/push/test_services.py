"""Each push service's exact request, what each refuses to send, and how replies are judged
(gravity-and-push.md §5)."""

from __future__ import annotations

import json

import pytest

from fermentrack.push.services import (
    NothingToSend,
    Service,
    brewers_friend_request,
    brewfather_request,
    generic_request,
    grainfather_request,
    reply_problem,
    thingspeak_request,
    url_problem,
)
from fermentrack.push.snapshots import ControllerSnapshot, SensorSnapshot, mode_letter

FRIDGE = ControllerSnapshot(
    name="Ferm Fridge",
    internal_id=2,
    unit="F",
    mode="b",
    beer_temp=66.1,
    fridge_temp=61.4,
    room_temp=70.2,
    beer_setting=66.0,
    fridge_setting=None,
    state=4,
    beer_name="Batch 42 IPA",
    gravity=1.018,
)
TILT = SensorSnapshot(
    name="Purple Tilt", internal_id=5, sensor_type="tilt", gravity=1.018, temperature=66.0, unit="F"
)
SPINDLE = SensorSnapshot(
    name="spindle-ipa",
    internal_id=7,
    sensor_type="ispindel",
    gravity=1.0184,
    temperature=19.0,
    unit="C",
    battery=3.98,
)


def test_generic_sends_controllers_and_sensors_as_one_json_document():
    request = generic_request("http://example.com/in", "k-123", [FRIDGE], [TILT, SPINDLE])
    assert (request.method, request.url) == ("POST", "http://example.com/in")
    assert request.headers == {"Content-Type": "application/json"}
    assert json.loads(request.body) == {
        "api_key": "k-123",
        "version": "1.0",
        "brewpi_devices": [
            {
                "name": "Ferm Fridge",
                "internal_id": 2,
                "temp_format": "F",
                "control_mode": "b",
                "beer_temp": 66.1,
                "fridge_temp": 61.4,
                "room_temp": 70.2,
                "beer_setting": 66.0,
                "controller_state": 4,
                "gravity": 1.018,
            }
        ],
        "gravity_sensors": [
            {
                "name": "Purple Tilt",
                "internal_id": 5,
                "sensor_type": "tilt",
                "gravity": 1.018,
                "temp": 66.0,
                "temp_format": "F",
            },
            {
                "name": "spindle-ipa",
                "internal_id": 7,
                "sensor_type": "ispindel",
                "gravity": 1.0184,
                "temp": 19.0,
                "temp_format": "C",
                "battery": 3.98,
            },
        ],
        "battery": 3.98,
    }


def test_generic_keeps_a_zero_temperature_and_an_idle_state_but_leaves_out_unknowns():
    cold = ControllerSnapshot(name="lager", internal_id=3, unit="C", beer_temp=0.0, state=0)
    entry = json.loads(generic_request("http://x/", "", [cold], []).body)["brewpi_devices"][0]
    assert entry == {
        "name": "lager",
        "internal_id": 3,
        "temp_format": "C",
        "control_mode": None,
        "beer_temp": 0.0,
        "controller_state": 0,
    }


def test_generic_sensor_without_gravity_goes_without_a_gravity_key():
    silent = SensorSnapshot(name="Blue Tilt", internal_id=9, sensor_type="tilt")
    body = json.loads(generic_request("http://x/", "", [], [silent]).body)
    assert body["gravity_sensors"] == [
        {"name": "Blue Tilt", "internal_id": 9, "sensor_type": "tilt"}
    ]
    assert "battery" not in body


def test_generic_with_nothing_chosen_sends_nothing():
    with pytest.raises(NothingToSend, match="no controller or gravity sensor"):
        generic_request("http://x/", "", [], [])


def test_brewers_friend_gets_the_key_in_the_path_and_the_header():
    request = brewers_friend_request("https://log.example/stream/", "ab/c d", SPINDLE)
    assert request.url == "https://log.example/stream/ab%2Fc%20d"
    assert request.headers == {"Content-Type": "application/json", "X-API-KEY": "ab/c d"}
    assert json.loads(request.body) == {
        "report_source": "Fermentrack",
        "name": "spindle-ipa",
        "device_source": "iSpindel",
        "gravity": 1.0184,
        "gravity_unit": "G",
        "temp": 19.0,
        "temp_unit": "C",
        "battery": 3.98,
    }


def test_brewers_friend_gives_a_tilt_no_battery_and_names_its_source():
    body = json.loads(brewers_friend_request("https://l/stream", "k", TILT).body)
    assert body["device_source"] == "Tilt"
    assert "battery" not in body


@pytest.mark.parametrize("gravity", [None, 0.0])
def test_a_sensor_without_gravity_is_not_sent_to_the_gravity_services(gravity):
    empty = SensorSnapshot(name="Purple Tilt", internal_id=5, sensor_type="tilt", gravity=gravity)
    for build in (
        lambda: brewers_friend_request("https://l/stream", "k", empty),
        lambda: brewfather_request("https://bf/stream?id=1", sensor=empty),
        lambda: grainfather_request("https://gf/log", "48213", empty),
    ):
        with pytest.raises(NothingToSend, match="Purple Tilt has no recent gravity reading"):
            build()


def test_a_deleted_sensor_is_nothing_to_send():
    with pytest.raises(NothingToSend, match="no gravity sensor is chosen"):
        brewers_friend_request("https://l/stream", "k", None)


def test_brewfather_sensor_in_a_chamber_carries_its_temperatures_in_the_sensors_unit():
    in_fridge = SensorSnapshot(
        name="spindle-ipa",
        internal_id=7,
        sensor_type="ispindel",
        gravity=1.0184,
        temperature=18.0,
        unit="C",
        battery=3.98,
        controller=FRIDGE,  # in °F
    )
    request = brewfather_request("https://log.brewfather.net/stream?id=abc", sensor=in_fridge)
    assert request.url == "https://log.brewfather.net/stream?id=abc"
    assert request.headers == {"Content-Type": "application/json"}
    assert json.loads(request.body) == {
        "report_source": "Fermentrack",
        "name": "spindle-ipa",
        "gravity": 1.0184,
        "gravity_unit": "G",
        "temp": 18.94,  # the chamber's beer temperature, 66.1 °F
        "temp_unit": "C",
        "battery": 3.98,
        "aux_temp": 16.33,
        "ext_temp": 21.22,
        "beer": "Batch 42 IPA",
    }


def test_brewfather_controller_sends_its_temperatures_beer_and_gravity():
    body = json.loads(brewfather_request("https://bf/stream?id=1", controller=FRIDGE).body)
    assert body == {
        "report_source": "Fermentrack",
        "name": "Ferm Fridge",
        "temp_unit": "F",
        "temp": 66.1,
        "aux_temp": 61.4,
        "ext_temp": 70.2,
        "beer": "Batch 42 IPA",
        "gravity": 1.018,
        "gravity_unit": "G",
    }


def test_a_controller_without_temperatures_is_not_sent():
    quiet = ControllerSnapshot(name="fridge-1", internal_id=1, unit="C", mode="o")
    with pytest.raises(NothingToSend, match="fridge-1 has no recent temperatures"):
        brewfather_request("https://bf/stream?id=1", controller=quiet)
    with pytest.raises(NothingToSend, match="fridge-1 has no recent temperatures"):
        thingspeak_request("https://ts/update.json", "K", quiet)


def test_grainfather_poses_as_an_ispindel_named_after_the_brew():
    request = grainfather_request(
        "http://community.grainfather.com/iot/x/ispindel", "48213", SPINDLE
    )
    assert request.url == "http://community.grainfather.com/iot/x/ispindel"
    assert json.loads(request.body) == {
        "report_source": "Fermentrack",
        "name": "48213,SG",
        "token": "grainfather",
        "ID": 0,
        "angle": 0,
        "battery": 0,
        "interval": 900,
        "RSSI": 0,
        "gravity": 1.0184,
        "temperature": 19.0,
        "temp_units": "C",
    }


def test_thingspeak_gets_the_documented_url_with_the_key_in_the_body_and_gravity_filled_in():
    request = thingspeak_request(
        "https://api.thingspeak.com/update.json", "ABCDEF0123456789", FRIDGE
    )
    assert request.url == "https://api.thingspeak.com/update.json"
    assert request.headers == {"Content-Type": "application/json"}
    assert json.loads(request.body) == {
        "api_key": "ABCDEF0123456789",
        "field1": "Batch 42 IPA",
        "field2": "Ferm Fridge",
        "field3": "F",
        "field4": 66.1,
        "field5": 61.4,
        "field6": 70.2,
        "field7": 1.018,
    }


def test_thingspeak_without_a_beer_leaves_field1_out():
    no_beer = ControllerSnapshot(name="fridge-1", internal_id=1, unit="C", beer_temp=19.5)
    body = json.loads(thingspeak_request("https://ts/u", "K", no_beer).body)
    assert body == {"api_key": "K", "field2": "fridge-1", "field3": "C", "field4": 19.5}


def test_a_2xx_reply_is_success_and_anything_else_an_error_naming_status_and_text():
    assert reply_problem(200, b'{"message": "success"}') is None
    assert reply_problem(204, b"") is None
    assert reply_problem(401, b'{"message":  "bad\n key"}') == (
        'the service answered HTTP 401: {"message": "bad key"}'
    )
    long = reply_problem(500, b"x" * 500)
    assert long == "the service answered HTTP 500: " + "x" * 200 + "…"
    assert reply_problem(302, b"") == "the service answered HTTP 302 with no text"


def test_addresses_without_a_scheme_are_refused_with_the_address_to_write():
    assert url_problem("https://log.brewfather.net/stream?id=abc") is None
    assert url_problem("log.brewfather.net/stream?id=abc") == (
        "'log.brewfather.net/stream?id=abc' does not start with http:// or https://; write the "
        "whole address, e.g. https://log.brewfather.net/stream?id=abc"
    )
    assert "no spaces" in url_problem("http://my host/")
    assert "not a usable address" in url_problem("http://host:99999/")


def test_status_modes_become_brewpi_letters():
    assert [mode_letter(m) for m in ("beer_constant", "profile", "off", "f", None, "x")] == [
        "b",
        "p",
        "o",
        "f",
        None,
        None,
    ]


def test_each_service_knows_its_own_minimum_interval():
    assert {s: s.min_interval_s for s in Service} == {
        Service.GENERIC: 60,
        Service.BREWERS_FRIEND: 900,
        Service.BREWFATHER: 900,
        Service.GRAINFATHER: 900,
        Service.THINGSPEAK: 60,
    }


def test_thingspeak_answering_200_with_0_or_minus_1_is_a_refused_update_not_a_send():
    # ThingSpeak says "no" to an update it drops (too soon after the last, a bad key) with a 200
    # whose body is 0 (text) or -1 (JSON) instead of the new entry's number.
    for body in (b"0", b"-1", b" -1\n"):
        problem = reply_problem(200, body, Service.THINGSPEAK)
        assert problem is not None and "ThingSpeak did not store the update" in problem
    assert reply_problem(200, b'{"entry_id": 17}', Service.THINGSPEAK) is None
    assert reply_problem(200, b"17", Service.THINGSPEAK) is None
    assert reply_problem(200, b"0", Service.GENERIC) is None  # only ThingSpeak means that
