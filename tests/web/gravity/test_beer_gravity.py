"""Gravity on a beer: the original gravity set by hand, the latest gravity, apparent
attenuation, and the gravity series of the beer's graph (bucketed like the temperatures)."""

from __future__ import annotations

import time

import pytest

from fermentrack.web.beers.graph import Buckets, graph_data
from fermentrack.web.beers.ingest import store_points
from fermentrack.web.beers.models import Beer, LogPoint
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import GravityReading, GravitySensor, SensorKind
from fermentrack.web.gravity.series import device_gravity_series, sensor_series
from fermentrack.web.gravity.summary import abv_estimate, apparent_attenuation

from .conftest import T0, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def beer(chamber) -> Beer:
    """A beer logging in fridge-1 since an hour ago."""
    return Beer.objects.create(
        device=chamber, name="Summer IPA", started_at=int(time.time()) - 3600
    )


# -- original gravity, attenuation -------------------------------------------------------------


def test_apparent_attenuation_and_abv_from_the_original_gravity():
    # (1.050 − 1.010) / (1.050 − 1) = 0.040 / 0.050 = 80 %; ABV 0.040 × 131.25 = 5.25 %
    assert apparent_attenuation(1.050, 1.010) == 80.0
    assert abv_estimate(1.050, 1.010) == 5.3
    assert apparent_attenuation(1.0, 1.0) is None


def test_the_brewer_sets_the_original_gravity_and_sees_attenuation(brewer_client, beer, tilt):
    store(tilt, (int(time.time()) - 30, 1.010))

    response = brewer_client.post(
        f"/beers/{beer.pk}/original-gravity/", {"original_gravity": "1.050"}, follow=True
    )

    beer.refresh_from_db()
    assert beer.original_gravity == 1.050
    page = response.content.decode()
    assert "Original gravity <strong>1.050</strong>" in page
    assert '<span class="value" data-latest-gravity>1.010</span>' in page
    assert '<span class="value" data-attenuation>80.0 %</span>' in page


@pytest.mark.parametrize("value", ["0.998", "1.5", "heavy"])
def test_an_original_gravity_that_is_no_worts_is_refused(brewer_client, beer, value):
    response = brewer_client.post(
        f"/beers/{beer.pk}/original-gravity/", {"original_gravity": value}
    )

    assert response.status_code == 400
    beer.refresh_from_db()
    assert beer.original_gravity is None


def test_the_original_gravity_can_be_cleared(brewer_client, beer):
    beer.original_gravity = 1.060
    beer.save()

    brewer_client.post(f"/beers/{beer.pk}/original-gravity/", {"original_gravity": ""})

    beer.refresh_from_db()
    assert beer.original_gravity is None


def test_a_guest_cannot_set_the_original_gravity(guest_client, beer):
    response = guest_client.post(
        f"/beers/{beer.pk}/original-gravity/", {"original_gravity": "1.05"}
    )

    assert response.status_code == 403


def test_a_logging_beers_stale_gravity_is_shown_as_stale(brewer_client, beer, tilt):
    store(tilt, (int(time.time()) - 1800, 1.020))  # half an hour: a Tilt reports every minute

    page = brewer_client.get(f"/beers/{beer.pk}/").content.decode()

    assert "No current reading: the last, 1.020, is 30 min old" in page
    assert "data-latest-gravity" not in page


def test_the_beer_page_uses_readings_from_its_own_window_only(brewer_client, beer, tilt):
    before, during, after = beer.started_at - 600, beer.started_at + 600, int(time.time()) - 20
    store(tilt, (before, 1.044), (during, 1.042), (after, 1.040))
    beer.ended_at = int(time.time()) - 60
    beer.save()

    page = brewer_client.get(f"/beers/{beer.pk}/").content.decode()

    assert "Last gravity" in page  # an ended beer's last gravity is never called stale
    assert "data-latest-gravity>1.042<" in page


# -- the graph's gravity series -----------------------------------------------------------------


def window(start: int, end: int, width: int) -> Buckets:
    return Buckets.for_range(start, end, width)


def test_gravity_is_averaged_per_bucket_leaving_out_hidden_readings_and_spikes(tilt):
    readings = store(
        tilt,
        (T0, 1.050), (T0 + 60, 1.048),  # bucket 0: mean 1.049
        (T0 + 600, 1.046), (T0 + 660, 1.040),  # bucket 1: 1.040 hidden
        (T0 + 1200, 1.044), (T0 + 1260, 1.044), (T0 + 1320, 1.090),  # 1.090 a spike
    )  # fmt: skip
    GravityReading.objects.filter(pk=readings[3].pk).update(hidden=True)
    assert readings[6].outlier

    (series,) = device_gravity_series(tilt.device, window(T0, T0 + 6000, 10))  # 600 s buckets

    assert series == {
        "sensor": "Purple Tilt",
        "sensor_id": tilt.pk,
        "unit": "sg",
        "t": [T0, T0 + 600, T0 + 1200],
        "gravity": [1.049, 1.046, 1.044],
    }


def test_a_correction_stands_in_for_the_measured_gravity(tilt):
    (reading,) = store(tilt, (T0, 1.050))
    GravityReading.objects.filter(pk=reading.pk).update(corrected_gravity=1.047)

    (series,) = device_gravity_series(tilt.device, window(T0, T0 + 600, 10))

    assert series["gravity"] == [1.047]


def test_the_series_is_in_the_sensors_unit_and_breaks_at_gaps(tilt):
    tilt.display_unit = "plato"
    tilt.save()
    store(tilt, (T0, 1.048), (T0 + 60, 1.048), (T0 + 7200, 1.046))

    (series,) = device_gravity_series(tilt.device, window(T0, T0 + 7260, 121))

    assert series["unit"] == "plato"
    assert series["t"] == [T0, T0 + 60, T0 + 120, T0 + 7200]  # 3 × 60 s is a gap: a null row
    assert series["gravity"] == [11.91, 11.91, None, 11.43]


def test_each_sensor_in_the_chamber_has_a_series_and_other_chambers_sensors_none(
    tilt, bridged_tilt
):
    elsewhere = Device.objects.create(name="fridge-2", simulated=True)
    stranger = GravitySensor.objects.create(
        name="Blue Tilt", kind=SensorKind.TILT, colour="Blue", device=elsewhere
    )
    for sensor in (tilt, bridged_tilt, stranger):
        store(sensor, (T0, 1.050))

    names = [s["sensor"] for s in device_gravity_series(tilt.device, window(T0, T0 + 60, 10))]

    assert names == ["Purple Tilt", "Red Tilt"]


def test_readings_stay_with_the_chamber_the_sensor_was_in_when_they_arrived(tilt):
    store(tilt, (T0, 1.050))
    tilt.device = Device.objects.create(name="fridge-2", simulated=True)
    tilt.save()
    store(tilt, (T0 + 60, 1.049))

    old = device_gravity_series(Device.objects.get(name="fridge-1"), window(T0, T0 + 120, 120))
    new = device_gravity_series(tilt.device, window(T0, T0 + 120, 120))

    assert (old[0]["t"], new[0]["t"]) == ([T0], [T0 + 60])


def test_the_beer_graph_answer_keeps_its_fields_and_gains_gravity(chamber, tilt):
    store_points(
        chamber, [LogPoint(ts=T0 + 30 * i, beer_temp=19.0, temp_format="C") for i in range(4)]
    )
    store(tilt, (T0 + 30, 1.050))

    data = graph_data(chamber, T0, T0 + 120, 10)

    assert data["beer_temp"] == [19.0, 19.0, 19.0, 19.0]
    assert data["gravity"] == [
        {
            "sensor": "Purple Tilt",
            "sensor_id": tilt.pk,
            "unit": "sg",
            "t": [T0 + 24],
            "gravity": [1.05],
        }
    ]


def test_the_beer_graph_api_answers_gravity_series(brewer_client, beer, tilt):
    store(tilt, (beer.started_at + 60, 1.050))

    answer = brewer_client.get(f"/api/beers/{beer.pk}/graph?width=100").json()

    assert answer["gravity"][0]["gravity"] == [1.05]
    assert answer["gravity"][0]["sensor"] == "Purple Tilt"
    assert "beer_temp" in answer and "annotations" in answer


def test_a_sensors_own_graph_has_gravity_and_temperature(brewer_client, tilt):
    store(tilt, (T0, 1.050, 19.0), (T0 + 60, 1.048, 19.4))

    assert sensor_series(tilt, window(T0, T0 + 120, 120)) == {
        "t": [T0, T0 + 60],
        "gravity": [1.05, 1.048],
        "temperature": [19.0, 19.4],
    }
    answer = brewer_client.get(
        f"/api/gravity/sensors/{tilt.pk}/graph?start={T0}&end={T0 + 1200}&width=10"
    ).json()
    assert (answer["unit"], answer["gravity"], answer["temp_format"]) == ("sg", [1.049], "C")


def test_a_sensors_graph_is_refused_to_visitors_and_unknown_sensors(
    anonymous_client, brewer_client, tilt
):
    assert anonymous_client.get(f"/api/gravity/sensors/{tilt.pk}/graph").status_code == 401
    assert brewer_client.get("/api/gravity/sensors/999/graph").status_code == 404
