"""A beer's CSV: its window of the log, annotations and gravity readings merged in by time, and
who may fetch it."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from fermentrack.web.beers.ingest import store_points
from fermentrack.web.beers.models import Annotation, Beer, ControlState, LogPoint
from fermentrack.web.brewery.models import BrewerySettings
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import GravityReading, GravitySensor

T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC


@pytest.fixture
def device(db):
    return Device.objects.create(name="fridge-1", simulated=True)


@pytest.fixture
def beer(device):
    store_points(
        device,
        [
            LogPoint(ts=T0 - 30, beer_temp=1.0, temp_format="C"),  # before the beer
            LogPoint(
                ts=T0,
                beer_temp=19.5,
                beer_set=19.0,
                fridge_temp=17.25,
                fridge_set=16.0,
                room_temp=None,
                state=ControlState.COOLING,
                temp_format="C",
            ),
            LogPoint(ts=T0 + 30, beer_temp=19.4, state=ControlState.IDLE, temp_format="C"),
            LogPoint(ts=T0 + 90, beer_temp=None, state=None, temp_format="C"),
            LogPoint(ts=T0 + 120, beer_temp=2.0, temp_format="C"),  # after the beer
        ],
    )
    Annotation.objects.bulk_create(
        [
            Annotation(device=device, ts=T0 + 30, text="Door opened", source="firmware"),
            Annotation(device=device, ts=T0 + 30, text="=1+1", source="person"),
            Annotation(device=device, ts=T0 + 60, text="Profile step 2", source="controller"),
            Annotation(device=device, ts=T0 + 500, text="later", source="controller"),
        ]
    )
    return Beer.objects.create(device=device, name="Pale Ale #1", started_at=T0, ended_at=T0 + 90)


def rows_of(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_the_csv_holds_the_beers_window_with_annotations_merged_in_by_time(brewer_client, beer):
    response = brewer_client.get(reverse("beer_csv", args=[beer.pk]))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="fridge-1-pale-ale-1.csv"'
    assert rows_of(response) == [
        ["time", "beer_temp", "beer_set", "fridge_temp", "fridge_set", "room_temp", "state",
         "unit", "annotations", "gravity", "gravity_sensor"],
        ["2023-11-14T22:13:20Z", "19.5", "19.0", "17.25", "16.0", "", "cooling", "C", "", "", ""],
        ["2023-11-14T22:13:50Z", "19.4", "", "", "", "", "idle", "C",
         "Door opened (firmware) | '=1+1 (person)", "", ""],
        ["2023-11-14T22:14:20Z", "", "", "", "", "", "", "", "Profile step 2 (controller)", "",
         ""],
        ["2023-11-14T22:14:50Z", "", "", "", "", "", "", "C", "", "", ""],
    ]  # fmt: skip


def test_an_active_beers_csv_runs_to_the_last_point(brewer_client, beer):
    beer.ended_at = None
    beer.save()

    rows = rows_of(brewer_client.get(reverse("beer_csv", args=[beer.pk])))

    assert rows[-1] == [
        "2023-11-14T22:21:40Z", "", "", "", "", "", "", "", "later (controller)", "", ""
    ]  # fmt: skip
    assert rows[-2][:2] == ["2023-11-14T22:15:20Z", "2.0"]


def test_a_beer_with_no_log_gives_the_header_alone(brewer_client, device):
    beer = Beer.objects.create(device=device, name="Empty", started_at=T0, ended_at=T0 + 10)

    assert len(rows_of(brewer_client.get(reverse("beer_csv", args=[beer.pk])))) == 1


def test_gravity_readings_that_count_join_the_csv_by_time(brewer_client, beer, device):
    other_chamber = Device.objects.create(name="fridge-2", simulated=True)
    tilt = GravitySensor.objects.create(name="Purple Tilt", kind="tilt", device=device)
    spindel = GravitySensor.objects.create(name="Yellow iSpindel", kind="ispindel", device=device)
    GravityReading.objects.bulk_create(
        [
            GravityReading(sensor=tilt, device=device, ts=T0 - 10, gravity=1.06),  # before
            GravityReading(sensor=tilt, device=device, ts=T0 + 30, gravity=1.0481),  # at a point
            GravityReading(sensor=spindel, device=device, ts=T0 + 30, gravity=1.05),
            GravityReading(sensor=tilt, device=device, ts=T0 + 45, gravity=1.0472),  # between
            GravityReading(sensor=tilt, device=device, ts=T0 + 50, gravity=1.2, hidden=True),
            GravityReading(sensor=tilt, device=device, ts=T0 + 55, gravity=1.3, outlier=True),
            GravityReading(sensor=spindel, device=device, ts=T0 + 60, gravity=1.046),
            GravityReading(sensor=spindel, device=other_chamber, ts=T0 + 70, gravity=1.01),
            GravityReading(
                sensor=spindel, device=device, ts=T0 + 90, gravity=1.04, corrected_gravity=1.0123
            ),
            GravityReading(sensor=tilt, device=device, ts=T0 + 100, gravity=1.001),  # after
        ]
    )

    rows = rows_of(brewer_client.get(reverse("beer_csv", args=[beer.pk])))

    assert rows[1:] == [
        ["2023-11-14T22:13:20Z", "19.5", "19.0", "17.25", "16.0", "", "cooling", "C", "", "", ""],
        ["2023-11-14T22:13:50Z", "19.4", "", "", "", "", "idle", "C",
         "Door opened (firmware) | '=1+1 (person)", "1.0481", "Purple Tilt"],
        ["2023-11-14T22:13:50Z", "", "", "", "", "", "", "", "", "1.0500", "Yellow iSpindel"],
        ["2023-11-14T22:14:05Z", "", "", "", "", "", "", "", "", "1.0472", "Purple Tilt"],
        ["2023-11-14T22:14:20Z", "", "", "", "", "", "", "", "Profile step 2 (controller)", "",
         ""],
        ["2023-11-14T22:14:20Z", "", "", "", "", "", "", "", "", "1.0460", "Yellow iSpindel"],
        ["2023-11-14T22:14:50Z", "", "", "", "", "", "", "C", "", "1.0123", "Yellow iSpindel"],
    ]  # fmt: skip


def test_a_sensor_name_a_spreadsheet_would_run_as_a_formula_is_quoted(brewer_client, beer, device):
    sensor = GravitySensor.objects.create(
        name='=HYPERLINK("http://example.com","x")', kind="manual", device=device
    )
    GravityReading.objects.create(sensor=sensor, device=device, ts=T0, gravity=1.05)

    rows = rows_of(brewer_client.get(reverse("beer_csv", args=[beer.pk])))

    assert rows[1][-2:] == ["1.0500", '\'=HYPERLINK("http://example.com","x")']


def test_anonymous_visitors_are_sent_to_log_in_unless_the_dashboard_is_open(anonymous_client, beer):
    url = reverse("beer_csv", args=[beer.pk])

    assert anonymous_client.get(url).status_code == 302
    settings = BrewerySettings.load()
    settings.dashboard_requires_login = False
    settings.save()
    assert anonymous_client.get(url).status_code == 200


def test_guests_may_download_the_csv(guest_client, beer):
    assert guest_client.get(reverse("beer_csv", args=[beer.pk])).status_code == 200


def test_a_share_token_downloads_its_own_beer_only(anonymous_client, beer, device):
    token = beer.share()
    other = Beer.objects.create(device=device, name="Stout", started_at=T0, ended_at=T0 + 60)

    own = anonymous_client.get(reverse("beer_csv", args=[beer.pk]) + f"?share={token}")
    another = anonymous_client.get(reverse("beer_csv", args=[other.pk]) + f"?share={token}")

    assert own.status_code == 200 and len(rows_of(own)) == 5
    assert another.status_code == 403


def test_an_unknown_beer_is_404(brewer_client, device):
    assert brewer_client.get(reverse("beer_csv", args=[999])).status_code == 404
