"""Gravity pages: the list (latest reading, stale shown as stale), adding and editing a sensor
with errors in words, a sensor's page (hide, unhide, correct, a manual reading), calibration,
and who may change what."""

from __future__ import annotations

import time

import pytest

from fermentrack.web.gravity.models import (
    CalibrationPoint,
    GravitySensor,
    SensorKind,
    store_readings,
)

from .conftest import T0, store

pytestmark = pytest.mark.django_db
BRIDGED_RED = {"kind": "tiltbridge", "colour": "Red"}


def sensor_form(**changes) -> dict:
    data = {
        "name": "Spindle 2",
        "kind": "ispindel",
        "device": "",
        "colour": "",
        "bridge_mdns_id": "",
        "name_on_device": "spindle-2",
        "token": "",
        "display_unit": "sg",
        "temp_format": "C",
        "temperature_offset": "0",
        "expected_interval_s": "",
        "active": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# -- the list -----------------------------------------------------------------------------------


def test_the_list_shows_each_sensors_latest_gravity_temperature_battery_and_age(
    brewer_client, ispindel
):
    now = int(time.time())
    reading = ispindel.new_reading(now - 120, raw=50.0, temperature=18.6, battery=3.98)
    store_readings(ispindel, [reading])

    page = brewer_client.get("/gravity/").content.decode()

    assert "Spindle 1" in page
    assert "1.000" in page
    assert "18.6 °C" in page
    assert "3.98 V" in page
    assert "2 min ago" in page
    assert "data-current" in page and "data-stale" not in page


def test_a_reading_older_than_twice_the_expected_interval_is_shown_as_stale(brewer_client, tilt):
    store(tilt, (int(time.time()) - 3 * 3600, 1.012, 19.0))  # a Tilt reports every minute

    page = brewer_client.get("/gravity/").content.decode()

    assert "data-stale" in page and "data-current" not in page
    assert "No current reading: the last, 1.012, is 3 h old (expected every 1 min)." in page


def test_a_sensor_that_never_reported_is_not_shown_as_current(brewer_client, tilt):
    page = brewer_client.get("/gravity/").content.decode()

    assert "No reading yet." in page and "data-current" not in page


def test_gravity_is_shown_in_plato_when_the_sensor_says_so(brewer_client, tilt):
    tilt.display_unit = "plato"
    tilt.save()
    store(tilt, (int(time.time()) - 10, 1.048))

    assert "11.9 °P" in brewer_client.get("/gravity/").content.decode()


def test_the_latest_reading_leaves_out_hidden_readings_and_spikes(brewer_client, tilt):
    now = int(time.time())
    readings = store(tilt, *[(now - 50 + 10 * i, 1.020) for i in range(4)], (now - 5, 1.090))
    assert readings[-1].outlier
    readings[-2].hidden = True
    readings[-2].save()

    page = brewer_client.get("/gravity/").content.decode()

    assert "1.020" in page and "1.090" not in page


def test_visitors_of_a_closed_dashboard_are_sent_to_log_in(anonymous_client):
    assert anonymous_client.get("/gravity/").status_code == 302


# -- adding and editing ---------------------------------------------------------------------------


def test_a_brewer_adds_an_ispindel_and_is_told_how_to_point_it_here(brewer_client, chamber):
    response = brewer_client.post(
        "/gravity/add/", sensor_form(device=chamber.pk, token="hop-secret"), follow=True
    )

    sensor = GravitySensor.objects.get(name="Spindle 2")
    assert (sensor.kind, sensor.device, sensor.expected_interval_s) == ("ispindel", chamber, 900)
    assert sensor.token_accepts("hop-secret") and not sensor.token_accepts("other")
    assert "hop-secret" not in sensor.token_hash
    assert "path /ispindel, and name spindle-2" in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "spindle 1"}, "name", "a gravity sensor named 'Spindle 1' already exists"),
        ({"name_on_device": ""}, "name_on_device", "an iSpindel needs the Name set on it"),
        ({"name_on_device": "spindle-ipa"}, "name_on_device", "is already 'Spindle 1'"),
        ({"kind": "tilt"}, "colour", "a Tilt needs its colour"),
        ({"kind": "tilt", "colour": "Purple"}, "colour", "Bluetooth is already 'Purple Tilt'"),
        ({"kind": "tiltbridge", "colour": "Red"}, "bridge_mdns_id", "needs the bridge's name"),
        (BRIDGED_RED | {"bridge_mdns_id": "my bridge!"}, "bridge_mdns_id", "not a TiltBridge name"),
        (BRIDGED_RED | {"bridge_mdns_id": "cellar-bridge.local"}, "colour", "already 'Red Tilt'"),
        ({"expected_interval_s": "5"}, "expected_interval_s", "greater than or equal to 10"),
        ({"temperature_offset": "40"}, "temperature_offset", "expected -20 to 20"),
    ],
)  # fmt: skip
def test_a_sensor_form_with_a_problem_says_what_in_words(
    brewer_client, ispindel, tilt, bridged_tilt, changes, field, message
):
    response = brewer_client.post("/gravity/add/", sensor_form(**changes))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors.get(field, [])), errors
    assert GravitySensor.objects.count() == 3


def test_a_second_tilt_of_a_colour_may_be_added_switched_off(brewer_client, tilt):
    response = brewer_client.post(
        "/gravity/add/", sensor_form(name="Spare", kind="tilt", colour="Purple", active=None)
    )

    assert response.status_code == 302
    assert GravitySensor.objects.filter(colour="Purple").count() == 2


def test_the_kind_stays_as_it_was_when_editing(brewer_client, ispindel):
    data = sensor_form(name="Spindle 1", kind="tilt", name_on_device="spindle-ipa")

    brewer_client.post(f"/gravity/{ispindel.pk}/edit/", data)

    ispindel.refresh_from_db()
    assert ispindel.kind == "ispindel"


def test_editing_keeps_the_token_unless_a_new_one_is_typed_or_it_is_cleared(
    brewer_client, ispindel
):
    ispindel.set_token("old")
    ispindel.save()
    url = f"/gravity/{ispindel.pk}/edit/"
    base = sensor_form(name="Spindle 1", name_on_device="spindle-ipa", temperature_offset="0.5")

    brewer_client.post(url, base)
    ispindel.refresh_from_db()
    assert ispindel.token_accepts("old") and ispindel.temperature_offset == 0.5

    brewer_client.post(url, {**base, "token": "new"})
    ispindel.refresh_from_db()
    assert ispindel.token_accepts("new") and not ispindel.token_accepts("old")

    brewer_client.post(url, {**base, "clear_token": "on"})
    ispindel.refresh_from_db()
    assert ispindel.token_accepts(None)


def test_changing_the_temperature_unit_converts_the_stored_readings(brewer_client, tilt):
    store(tilt, (T0, 1.050, 20.0))
    data = sensor_form(name="Purple Tilt", kind="tilt", colour="Purple", temp_format="F")

    brewer_client.post(f"/gravity/{tilt.pk}/edit/", data)

    assert tilt.readings.get().temperature == pytest.approx(68.0)


def test_turning_on_temperature_correction_restates_the_stored_readings(brewer_client, tilt):
    store(tilt, (T0, 1.050, 30.0))  # 30 °C: 1.0534 at 60 °F (test_readings works it out)
    data = sensor_form(name="Purple Tilt", kind="tilt", colour="Purple", correct_to_60f="on")

    answer = brewer_client.post(f"/gravity/{tilt.pk}/edit/", data, follow=True)

    assert tilt.readings.get().gravity == 1.0534
    assert "1 stored readings restated" in answer.content.decode()


def test_deleting_a_sensor_deletes_its_readings(brewer_client, tilt):
    store(tilt, (T0, 1.050))

    assert "1 reading" in brewer_client.get(f"/gravity/{tilt.pk}/delete/").content.decode()
    brewer_client.post(f"/gravity/{tilt.pk}/delete/")

    assert not GravitySensor.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/gravity/add/"), ("post", "/gravity/{pk}/edit/"), ("post", "/gravity/{pk}/delete/"),
     ("post", "/gravity/{pk}/readings/add/"), ("post", "/gravity/{pk}/calibration/")],
)  # fmt: skip
def test_a_guest_may_look_but_not_change(guest_client, tilt, method, path):
    response = getattr(guest_client, method)(path.format(pk=tilt.pk), {"action": "fit"})

    assert response.status_code == 403
    assert GravitySensor.objects.get() == tilt


def test_a_guest_sees_the_sensor_and_its_calibration(guest_client, tilt):
    assert guest_client.get(f"/gravity/{tilt.pk}/").status_code == 200
    page = guest_client.get(f"/gravity/{tilt.pk}/calibration/").content.decode()
    assert "Save calibration" not in page


# -- a sensor's readings ------------------------------------------------------------------------


def test_a_brewer_adds_a_manual_reading_in_the_sensors_unit(brewer_client, tilt):
    tilt.display_unit = "plato"
    tilt.save()

    response = brewer_client.post(
        f"/gravity/{tilt.pk}/readings/add/",
        {
            "gravity": "12.0",
            "temperature": "19.5",
            "taken_at": "2023-11-14T10:00",
            "note": "sample",
        },
    )

    assert response.status_code == 302
    reading = tilt.readings.get()
    assert reading.manual and reading.raw is None
    assert reading.gravity == pytest.approx(1.0484, abs=0.0001)
    assert (reading.temperature, reading.note) == (19.5, "sample")
    assert reading.ts == 1_699_956_000  # 10:00 in the brewery's zone, UTC


@pytest.mark.parametrize(
    ("gravity", "message"),
    [("1.5", "gravity 1.5 is outside 0.980 to 1.200 SG"), ("", "This field is required.")],
)
def test_a_manual_reading_with_a_problem_is_refused_with_the_reason(
    brewer_client, tilt, gravity, message
):
    response = brewer_client.post(f"/gravity/{tilt.pk}/readings/add/", {"gravity": gravity})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not tilt.readings.exists()


def test_hiding_and_showing_a_reading(brewer_client, tilt):
    (reading,) = store(tilt, (T0, 1.050))
    url = f"/gravity/{tilt.pk}/readings/{reading.pk}/"

    brewer_client.post(url, {"action": "hide"})
    reading.refresh_from_db()
    assert reading.hidden

    brewer_client.post(url, {"action": "unhide"})
    reading.refresh_from_db()
    assert not reading.hidden


def test_correcting_a_reading_shows_the_correction_beside_the_measured_value(brewer_client, tilt):
    readings = store(tilt, *[(T0 + 60 * i, 1.050) for i in range(4)], (T0 + 240, 1.090))
    spike = readings[-1]
    assert spike.outlier
    url = f"/gravity/{tilt.pk}/readings/{spike.pk}/"

    brewer_client.post(
        url,
        {"action": "correct", f"r{spike.pk}-corrected": "1.049", f"r{spike.pk}-note": "knocked"},
    )

    spike.refresh_from_db()
    assert (spike.corrected_gravity, spike.gravity, spike.note) == (1.049, 1.090, "knocked")
    assert not spike.outlier  # a person vouched for it
    page = brewer_client.get(f"/gravity/{tilt.pk}/").content.decode()
    assert "<strong>1.0490</strong>" in page and "1.0900" in page

    brewer_client.post(url, {"action": "correct", f"r{spike.pk}-corrected": ""})
    spike.refresh_from_db()
    assert spike.corrected_gravity is None


def test_a_correction_outside_the_limits_changes_nothing(brewer_client, tilt):
    (reading,) = store(tilt, (T0, 1.050))

    response = brewer_client.post(
        f"/gravity/{tilt.pk}/readings/{reading.pk}/",
        {"action": "correct", f"r{reading.pk}-corrected": "2.0"},
        follow=True,
    )

    assert "was not changed: gravity 2.0 is outside" in response.content.decode()
    reading.refresh_from_db()
    assert reading.corrected_gravity is None


def test_the_sensor_page_marks_manual_readings_spikes_and_hidden_ones(brewer_client, tilt):
    readings = store(tilt, *[(T0 + 60 * i, 1.050) for i in range(4)], (T0 + 240, 1.090))
    readings[0].hidden = True
    readings[0].save()
    manual = tilt.new_reading(T0 + 600, manual=True)
    manual.gravity = 1.049
    store_readings(tilt, [manual])

    page = brewer_client.get(f"/gravity/{tilt.pk}/").content.decode()

    assert page.count('class="flag">by hand<') == 1
    assert page.count(">spike<") == 1
    assert page.count('class="flag">hidden<') == 1


# -- calibration ----------------------------------------------------------------------------


def add_points(client, sensor, *points):
    for measured, actual in points:
        response = client.post(
            f"/gravity/{sensor.pk}/calibration/",
            {"action": "add_point", "measured": measured, "actual_gravity": actual},
        )
        assert response.status_code == 302, response.content.decode()


def test_a_tilt_is_calibrated_from_points_and_its_stored_readings_follow(brewer_client, tilt):
    store(tilt, (T0, 1.050), (T0 + 60, 1.040))
    # The Tilt reads 0.002 high everywhere: true = x − 0.002.
    add_points(brewer_client, tilt, ("1.002", "1.000"), ("1.038", "1.036"), ("1.066", "1.064"))

    fitted = brewer_client.post(f"/gravity/{tilt.pk}/calibration/", {"action": "fit"})
    form = fitted.context["coefficients_form"]
    assert fitted.context["fit"]["shape"] == "a quadratic"
    # Shown rounded to 10 places: no float noise such as 3.6e-13 for a term that is zero.
    assert [form.initial[name] for name in ("tilt_b", "tilt_c", "tilt_d")] == [0.0, 1.0, -0.002]
    tilt.refresh_from_db()
    assert tilt.coefficients == (0.0, 1.0, 0.0)  # a fit is only shown until it is saved

    saved = brewer_client.post(
        f"/gravity/{tilt.pk}/calibration/",
        {"action": "save", "tilt_b": "0", "tilt_c": "1", "tilt_d": "-0.002"},
        follow=True,
    )

    assert "Calibration saved; 2 stored readings recalculated." in saved.content.decode()
    assert list(tilt.readings.order_by("ts").values_list("gravity", flat=True)) == [1.048, 1.038]


def test_a_two_point_ispindel_fit_is_shown_with_its_warning(brewer_client, ispindel):
    add_points(brewer_client, ispindel, ("25", "1.000"), ("55", "1.060"))

    page = brewer_client.post(f"/gravity/{ispindel.pk}/calibration/", {"action": "fit"})

    assert page.context["fit"]["shape"] == "a straight line"
    assert "a straight line through 2 points" in page.content.decode()


def test_a_fit_from_too_few_points_says_why(brewer_client, tilt):
    add_points(brewer_client, tilt, ("1.002", "1.000"))

    page = brewer_client.post(f"/gravity/{tilt.pk}/calibration/", {"action": "fit"})

    assert "These points give no calibration: a Tilt calibration needs at least 2 points" in (
        page.content.decode()
    )


@pytest.mark.parametrize(
    ("measured", "actual", "message"),
    [("1.6", "1.000", "is not a gravity"), ("1.002", "0.5", "gravity 0.5 is outside"),
     ("1.010", "1.000", "there is already a point measured at 1.01")],
)  # fmt: skip
def test_a_calibration_point_with_a_problem_is_refused_in_words(
    brewer_client, tilt, measured, actual, message
):
    CalibrationPoint.objects.create(sensor=tilt, measured=1.010, actual_gravity=1.008)

    response = brewer_client.post(
        f"/gravity/{tilt.pk}/calibration/",
        {"action": "add_point", "measured": measured, "actual_gravity": actual},
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert tilt.calibration_points.count() == 1


def test_a_point_can_be_deleted(brewer_client, tilt):
    point = CalibrationPoint.objects.create(sensor=tilt, measured=1.010, actual_gravity=1.008)

    brewer_client.post(
        f"/gravity/{tilt.pk}/calibration/", {"action": "delete_point", "point": point.pk}
    )

    assert not tilt.calibration_points.exists()


def test_a_manual_sensor_has_nothing_to_calibrate(brewer_client, chamber):
    sensor = GravitySensor.objects.create(name="Hydrometer", kind=SensorKind.MANUAL)

    response = brewer_client.get(f"/gravity/{sensor.pk}/calibration/", follow=True)

    assert "nothing to calibrate" in response.content.decode()
