"""The receivers' contracts: the iSpindel and TiltBridge posts and our Tilt scanner's API, each
good, malformed, from an unknown sensor, and with a bad token; refused readings and skipped
colours."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from fermentrack.web.gravity.models import GravityReading, GravitySensor, SensorKind
from fermentrack.web.gravity.scanner_auth import issue_scanner_token

from .conftest import T0, post_json

pytestmark = pytest.mark.django_db


def ispindel_body(**changes) -> dict:
    body = {
        "name": "spindle-ipa",
        "ID": 1234567,
        "token": "fermentrack",
        "angle": 50.0,
        "temperature": 18.6,
        "temp_units": "C",
        "battery": 3.98,
        "gravity": 12.4,
        "interval": 900,
        "RSSI": -67,
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


# -- iSpindel ----------------------------------------------------------------------------------


def test_an_ispindel_post_is_stored_with_gravity_from_its_angle(ispindel):
    response = post_json("/ispindel", ispindel_body())

    # 0.0001·50² + 0.001·50 + 0.7 = 0.25 + 0.05 + 0.7 = 1.0
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "gravity": "1.0000"}
    reading = ispindel.readings.get()
    assert (reading.raw, reading.gravity, reading.temperature) == (50.0, 1.0, 18.6)
    assert (reading.battery, reading.rssi, reading.device_id) == (3.98, -67, ispindel.device_id)
    assert reading.extra == {"chip_id": 1234567, "device_gravity": 12.4, "interval": 900}
    assert ispindel.readings.get().manual is False


@pytest.mark.parametrize("path", ["/ispindel", "/iSpindel/", "/ispindle", "/iSpindle/"])
def test_every_spelling_of_the_ispindel_address_is_heard(ispindel, path):
    assert post_json(path, ispindel_body()).status_code == 200


@pytest.mark.parametrize(
    ("units", "temperature", "stored_c"),
    [("F", 65.3, 18.5), ("K", 291.65, 18.5), (None, 18.5, 18.5), ("c", 18.5, 18.5)],
)
def test_ispindel_temperatures_in_fahrenheit_kelvin_or_unnamed_celsius_are_converted(
    ispindel, units, temperature, stored_c
):
    response = post_json("/ispindel", ispindel_body(temp_units=units, temperature=temperature))

    assert response.status_code == 200
    assert ispindel.readings.get().temperature == pytest.approx(stored_c, abs=0.01)


def test_a_sensor_in_fahrenheit_stores_fahrenheit_plus_its_offset(ispindel):
    ispindel.temp_format = "F"
    ispindel.temperature_offset = -0.5
    ispindel.save()

    post_json("/ispindel", ispindel_body(temperature=20.0))

    assert ispindel.readings.get().temperature == 67.5  # 68.0 °F − 0.5


def test_an_uncalibrated_ispindel_stores_its_angle_without_gravity(chamber):
    sensor = GravitySensor.objects.create(
        name="New spindle", kind=SensorKind.ISPINDEL, name_on_device="spindle-ipa"
    )

    response = post_json("/ispindel", ispindel_body())

    assert response.status_code == 200
    assert response.json()["gravity"] is None
    assert "calibrate" in response.json()["message"]
    reading = sensor.readings.get()
    assert (reading.raw, reading.gravity) == (50.0, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"angle": None}, "angle: required, but missing"),
        ({"angle": "steep"}, 'angle: expected a number from 0 to 180, got "steep"'),
        ({"angle": True}, "angle: expected a number from 0 to 180, got true"),
        ({"angle": 200}, "angle: expected a number from 0 to 180, got 200"),
        ({"temperature": None}, "temperature: required, but missing"),
        ({"temp_units": "R"}, 'temp_units: expected one of "C", "F", "K", got "R"'),
        ({"name": 7}, "name: expected a text of 1 to 64 characters, got 7"),
        ({"battery": "full"}, 'battery: expected a number from 0 to 10, got "full"'),
        ({"RSSI": -67.5}, "RSSI: expected a whole number from -150 to 0, got -67.5"),
    ],
)
def test_a_malformed_ispindel_post_gets_400_naming_the_field_and_stores_nothing(
    ispindel, caplog, changes, message
):
    with caplog.at_level(logging.WARNING, logger="fermentrack.gravity"):
        response = post_json("/ispindel", ispindel_body(**changes))

    assert response.status_code == 400
    assert response.json() == {"status": "failed", "message": message}
    assert not GravityReading.objects.exists()
    assert message in caplog.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "the body is empty: expected a JSON object"),
        ("{not json", "the body is not JSON"),
        ("[1, 2]", "the body is [1, 2]: expected a JSON object"),
    ],
)
def test_a_body_that_is_not_a_json_object_gets_400(ispindel, body, message):
    response = post_json("/ispindel", body)

    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


def test_an_ispindel_nobody_added_gets_404_and_stores_nothing(ispindel):
    response = post_json("/ispindel", ispindel_body(name="stranger"))

    assert response.status_code == 404
    assert "no iSpindel named 'stranger'" in response.json()["message"]
    assert not GravityReading.objects.exists()


@pytest.mark.parametrize("token", [None, "", "wrong"])
def test_a_sensor_with_a_token_refuses_posts_without_it(ispindel, token):
    ispindel.set_token("s3cret-hop")
    ispindel.save()

    response = post_json("/ispindel", ispindel_body(token=token))

    assert response.status_code == 401
    assert "token" in response.json()["message"]
    assert not GravityReading.objects.exists()


def test_a_sensor_with_a_token_takes_posts_carrying_it(ispindel):
    ispindel.set_token("s3cret-hop")
    ispindel.save()

    assert post_json("/ispindel", ispindel_body(token="s3cret-hop")).status_code == 200


def test_a_sensor_without_a_token_takes_any_token_or_none(ispindel):
    assert post_json("/ispindel", ispindel_body(token="anything")).status_code == 200
    ispindel.readings.all().delete()
    assert post_json("/ispindel", ispindel_body(token=None)).status_code == 200


def test_an_ispindel_reading_gravity_beyond_the_physical_limits_is_refused_with_the_reason(
    ispindel, caplog
):
    with caplog.at_level(logging.WARNING, logger="fermentrack.gravity"):
        response = post_json("/ispindel", ispindel_body(angle=80.0))  # 0.64 + 0.08 + 0.7

    assert response.status_code == 422
    assert response.json() == {
        "status": "refused",
        "message": "gravity 1.42 is outside 0.980 to 1.200 SG",
    }
    assert not GravityReading.objects.exists()
    assert "gravity 1.42 is outside" in caplog.text


def test_a_switched_off_ispindel_is_told_so_and_nothing_is_stored(ispindel):
    ispindel.active = False
    ispindel.save()

    response = post_json("/ispindel", ispindel_body())

    assert response.status_code == 409
    assert not GravityReading.objects.exists()


def test_only_posts_are_taken(ispindel, client):
    response = client.get("/ispindel")

    assert response.status_code == 405
    assert response.json()["message"] == "GET is not accepted here: expected a POST"


# -- TiltBridge --------------------------------------------------------------------------------


def bridge_entry(colour: str, gravity="1.0520", temp="64.0", unit="F", **changes) -> dict:
    entry = {
        "color": colour,
        "temp": temp,
        "tempUnit": unit,
        "gravity": gravity,
        "weeks_on_battery": 12,
        "sends_battery": True,
        "high_resolution": False,
        "fwVersion": 1004,
        "rssi": -71,
        "gsheets_name": "",
        "gsheets_link": "",
    }
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not None}


def bridge_body(*entries: dict, mdns_id: str = "cellar-bridge") -> dict:
    return {"mdns_id": mdns_id, "tilts": {entry["color"]: entry for entry in entries}}


def test_a_tiltbridge_post_stores_each_colour_calibrated_and_skips_colours_nobody_listens_to(
    bridged_tilt,
):
    response = post_json("/tiltbridge/", bridge_body(bridge_entry("Red"), bridge_entry("Blue")))

    assert response.status_code == 200
    assert response.json() == {"status": "success", "stored": 1, "skipped": ["Blue"], "refused": []}
    reading = bridged_tilt.readings.get()
    assert (reading.raw, reading.gravity) == (1.052, 1.05)  # d = −0.002
    assert reading.temperature == pytest.approx(17.78, abs=0.01)  # 64 °F in the sensor's °C
    assert reading.extra == {"pro": False, "battery_weeks": 12}
    assert reading.rssi == -71
    bridged_tilt.refresh_from_db()
    assert bridged_tilt.reported == {"firmware_version": 1004, "pro": False}


@pytest.mark.parametrize("path", ["/tiltbridge", "/TiltBridge/", "/Tiltbridge", "/tiltBridge/"])
def test_every_spelling_of_the_tiltbridge_address_is_heard(bridged_tilt, path):
    assert post_json(path, bridge_body(bridge_entry("Red"))).status_code == 200


def test_the_bridge_name_is_matched_without_case(bridged_tilt):
    response = post_json("/tiltbridge", bridge_body(bridge_entry("RED"), mdns_id="Cellar-Bridge"))

    assert response.json()["stored"] == 1


def test_a_bridge_nobody_added_gets_404_with_a_message(bridged_tilt):
    response = post_json("/tiltbridge", bridge_body(bridge_entry("Red"), mdns_id="attic"))

    assert response.status_code == 404
    assert response.json()["status"] == "failed"
    assert "no Tilt here listens to a TiltBridge named 'attic'" in response.json()["message"]
    assert not GravityReading.objects.exists()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (bridge_entry("Red", gravity="heavy"), 'tilts.Red.gravity: expected a number, got "heav'),
        (bridge_entry("Red", gravity=None), "tilts.Red.gravity: required, but missing"),
        (bridge_entry("Red", unit="K"), 'tilts.Red.tempUnit: expected one of "C", "F", got "K"'),
        (bridge_entry("Red", unit=None), "tilts.Red.tempUnit: required, but missing"),
        (bridge_entry("Red", rssi="loud"), 'tilts.Red.rssi: expected a whole number'),
    ],
)  # fmt: skip
def test_a_malformed_colour_gets_400_naming_the_field_and_the_post_stores_nothing(
    bridged_tilt, caplog, entry, message
):
    purple = GravitySensor.objects.create(
        name="Purple on bridge",
        kind=SensorKind.TILTBRIDGE,
        colour="Purple",
        bridge_mdns_id="cellar-bridge",
    )
    with caplog.at_level(logging.WARNING, logger="fermentrack.gravity"):
        response = post_json("/tiltbridge", bridge_body(bridge_entry("Purple"), entry))

    assert response.status_code == 400
    assert response.json()["status"] == "failed"
    assert response.json()["message"].startswith(message)
    assert not purple.readings.exists()
    assert message in caplog.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"tilts": {}}, "mdns_id: required, but missing"),
        ({"mdns_id": "cellar-bridge", "tilts": [1]}, "tilts: expected an object keyed by colour"),
        ({"mdns_id": ["x"], "tilts": {}}, "mdns_id: expected a text"),
    ],
)
def test_a_malformed_bridge_post_gets_400(bridged_tilt, body, message):
    response = post_json("/tiltbridge", body)

    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


@pytest.mark.parametrize("tilts", [{}, None])
def test_a_bridge_that_hears_no_tilt_gets_success(bridged_tilt, tilts):
    response = post_json("/tiltbridge", {"mdns_id": "cellar-bridge", "tilts": tilts})

    assert response.status_code == 200
    assert response.json()["stored"] == 0


def test_a_reading_outside_the_limits_is_refused_and_the_others_are_stored(bridged_tilt, caplog):
    GravitySensor.objects.create(
        name="Purple on bridge",
        kind=SensorKind.TILTBRIDGE,
        colour="Purple",
        bridge_mdns_id="cellar-bridge",
    )
    with caplog.at_level(logging.WARNING, logger="fermentrack.gravity"):
        response = post_json(
            "/tiltbridge",
            bridge_body(bridge_entry("Red", gravity="1.8000"), bridge_entry("Purple")),
        )

    answer = response.json()
    assert response.status_code == 200
    assert answer["stored"] == 1
    assert answer["refused"] == [
        {"colour": "Red", "reason": "gravity 1.798 is outside 0.980 to 1.200 SG"}
    ]
    assert not bridged_tilt.readings.exists()
    assert "Red Tilt reading refused: gravity 1.798" in caplog.text


def test_a_temperature_outside_the_limits_is_refused(bridged_tilt):
    response = post_json("/tiltbridge", bridge_body(bridge_entry("Red", temp="180.0")))

    assert response.json()["refused"][0]["reason"].startswith("temperature 82.22 °C is outside")


def junior_entry(colour: str, **changes) -> dict:
    entry = {
        "color": colour,
        "raw_gravity": "1.0521",
        "raw_temp": "64.3",
        "smoothed_gravity": "1.0519",
        "smoothed_temp": "64.2",
        "temp_format": "F",
        "smoothing_window": 60,
        "rssi": -66,
        "tilt_pro": True,
        "sends_battery": True,
        "weeks_on_battery": 12,
        "firmware_version": 0,
    }
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not None}


def test_a_tiltbridge_junior_post_goes_to_the_tilts_heard_over_bluetooth(tilt, bridged_tilt):
    body = {"tiltbridge_junior": True, "tilts": [junior_entry("Purple"), junior_entry("Red")]}

    response = post_json("/tiltbridge", body)

    assert response.json() == {"status": "success", "stored": 1, "skipped": ["Red"], "refused": []}
    reading = tilt.readings.get()
    assert (reading.raw, reading.gravity) == (1.0519, 1.0519)  # the smoothed values
    assert reading.extra == {"pro": True, "battery_weeks": 12}


def test_a_junior_entry_without_smoothed_values_uses_the_raw_ones(tilt):
    entry = junior_entry("Purple", smoothed_gravity=None, smoothed_temp=None)

    post_json("/tiltbridge", {"tiltbridge_junior": True, "tilts": [entry]})

    assert tilt.readings.get().raw == 1.0521


def test_a_malformed_junior_entry_gets_400_naming_its_place_in_the_list(tilt):
    body = {"tiltbridge_junior": True, "tilts": [junior_entry("Purple", smoothed_gravity="x")]}

    response = post_json("/tiltbridge", body)

    assert response.status_code == 400
    assert response.json()["message"] == 'tilts[0].smoothed_gravity: expected a number, got "x"'


# -- our Tilt scanner --------------------------------------------------------------------------


def scanner_reading(colour="Purple", ts=T0, **changes) -> dict:
    reading = {
        "colour": colour,
        "ts": ts,
        "temp_f": 64.0,
        "gravity": 1.052,
        "pro": False,
        "battery_weeks": 12,
        "rssi": -71,
    }
    reading.update(changes)
    return reading


@pytest.fixture
def scanner_token(db) -> str:
    return issue_scanner_token()


def post_scanner(body, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return post_json("/api/gravity/bluetooth", body, **headers)


def test_the_scanner_posts_readings_and_versions(tilt, scanner_token):
    body = {
        "readings": [scanner_reading(ts=T0), scanner_reading(ts=T0 + 30, gravity=1.051)],
        "versions": [{"colour": "Purple", "firmware_version": 1004}],
    }

    response = post_scanner(body, scanner_token)

    assert response.status_code == 200
    assert response.json() == {"stored": 2, "skipped": 0, "duplicates": 0, "refused": []}
    assert list(tilt.readings.order_by("ts").values_list("ts", "gravity")) == [
        (T0, 1.052),
        (T0 + 30, 1.051),
    ]
    tilt.refresh_from_db()
    assert tilt.reported == {"firmware_version": 1004}


def test_the_scanners_readings_of_colours_nobody_listens_to_are_skipped(tilt, scanner_token):
    body = {"readings": [scanner_reading("Black"), scanner_reading("Purple")]}

    assert post_scanner(body, scanner_token).json()["skipped"] == 1


def test_a_resent_batch_counts_as_duplicates(tilt, scanner_token):
    body = {"readings": [scanner_reading(ts=T0), scanner_reading(ts=T0 + 30)]}
    post_scanner(body, scanner_token)

    answer = post_scanner(body, scanner_token).json()

    assert (answer["stored"], answer["duplicates"]) == (0, 2)
    assert tilt.readings.count() == 2


def test_the_scanners_unphysical_readings_are_refused_one_by_one(tilt, scanner_token):
    body = {"readings": [scanner_reading(ts=T0, gravity=0.5), scanner_reading(ts=T0 + 30)]}

    answer = post_scanner(body, scanner_token).json()

    assert answer["stored"] == 1
    assert answer["refused"] == [
        {"colour": "Purple", "ts": T0, "reason": "gravity 0.5 is outside 0.980 to 1.200 SG"}
    ]


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_the_scanner_api_refuses_a_missing_or_wrong_token(tilt, scanner_token, token):
    response = post_scanner({"readings": [scanner_reading()]}, token)

    assert response.status_code == 401
    assert "scanner's token" in response.json()["detail"]
    assert not GravityReading.objects.exists()


def test_a_new_scanner_token_replaces_the_old(tilt, scanner_token):
    issue_scanner_token()

    assert post_scanner({"readings": [scanner_reading()]}, scanner_token).status_code == 401


@pytest.mark.parametrize(
    ("reading", "message"),
    [
        (scanner_reading(ts="soon"), "readings[1].ts: expected an integer Unix time"),
        (scanner_reading(gravity="1.050"), "readings[1].gravity: expected a number"),
        (scanner_reading(rssi=-300), "readings[1].rssi: expected dBm from -150 to 20, got -300"),
        ({"colour": "Purple"}, "readings[1].ts: required, but missing"),
    ],
)
def test_a_malformed_scanner_post_gets_400_naming_the_field_and_stores_nothing(
    tilt, scanner_token, reading, message
):
    response = post_scanner({"readings": [scanner_reading(ts=T0 + 60), reading]}, scanner_token)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)
    assert not GravityReading.objects.exists()


def test_hydrometers_need_no_csrf_token(ispindel, bridged_tilt):
    client = Client(enforce_csrf_checks=True)
    for path, body in (
        ("/ispindel", ispindel_body()),
        ("/tiltbridge", bridge_body(bridge_entry("Red"))),
    ):
        response = client.post(path, data=json.dumps(body), content_type="application/json")
        assert response.status_code == 200, path


def test_a_body_over_a_megabyte_gets_413(ispindel):
    body = json.dumps(ispindel_body(padding="x" * (1024 * 1024)))

    response = post_json("/ispindel", body)

    assert response.status_code == 413
    assert not GravityReading.objects.exists()
