"""Gravity in a real browser, at a phone's width and a desktop's: a brewer adds an iSpindel to a
chamber, the iSpindel posts to /ispindel, a calibration typed in turns its angles into gravity,
and the beer's graph draws it on its own axis; and a Tilt is calibrated from measured points."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import expect

from browser.test_brewing import drawn_pixels, wait_for_lines
from fermentrack.web.beers.ingest import store_points
from fermentrack.web.beers.models import Beer, LogPoint
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import GravitySensor, SensorKind, store_readings

pytestmark = pytest.mark.django_db(transaction=True)

HOURS = 6


@pytest.fixture
def beer(brewer) -> Beer:
    """Summer IPA, logging in fridge-1 for six hours, a temperature point a minute."""
    device = Device(name="fridge-1", simulated=True)
    device.issue_token()
    device.save()
    now = int(time.time())
    start = now - HOURS * 3600
    beer = Beer.objects.create(device=device, name="Summer IPA", started_at=start)
    store_points(
        device,
        [
            LogPoint(ts=ts, beer_temp=19.0, beer_set=19.0, fridge_temp=17.5, temp_format="C")
            for ts in range(start, now, 60)
        ],
    )
    return beer


def test_an_ispindel_added_on_the_page_posts_readings_that_the_beer_graph_draws(
    page, log_in, brewer, beer, live_server, shoot, assert_fits_width
):
    log_in(brewer)
    page.goto("/gravity/add/")
    page.get_by_label("iSpindel", exact=True).check()
    page.get_by_label("Name", exact=True).fill("Spindle 1")
    page.get_by_label("Name on the iSpindel").fill("spindle-ipa")
    page.get_by_label("Chamber").select_option(label="fridge-1")
    expect(page.get_by_label("Tilt colour")).to_be_hidden()  # only the iSpindel's fields show
    shoot("gravity-add")
    assert_fits_width()
    page.get_by_role("button", name="Add sensor").click()
    expect(page.locator(".message.success")).to_contain_text("path /ispindel, and name spindle-ipa")
    sensor = GravitySensor.objects.get(name="Spindle 1")
    assert sensor.device == beer.device

    # It has been floating for the whole beer (stored as it would have posted them) ...
    now = int(time.time())
    earlier = [
        sensor.new_reading(ts, raw=50 - 14 * (ts - beer.started_at) / (HOURS * 3600))
        for ts in range(beer.started_at + 60, now - 600, 900)
    ]
    store_readings(sensor, earlier)
    # ... and now posts as an iSpindel does.
    for angle in (36.2, 36.0):
        answer = page.request.post(
            f"{live_server.url}/ispindel",
            data=json.dumps({"name": "spindle-ipa", "angle": angle, "temperature": 19.1}),
            headers={"Content-Type": "application/json"},
        )
        assert answer.ok, answer.text()
        assert answer.json()["gravity"] is None  # not calibrated yet: angles only
        time.sleep(1.05)  # one reading per second at most

    page.goto(f"/gravity/{sensor.pk}/calibration/")
    page.get_by_label("X coefficient (c)").fill("0.002")  # SG = 0.002·angle + 0.95
    page.get_by_label("Constant (d)").fill("0.95")
    page.get_by_role("button", name="Save calibration").click()
    expect(page.get_by_text(f"{len(earlier) + 2} stored readings recalculated")).to_be_visible()
    assert sensor.readings.order_by("-ts").first().gravity == 1.022

    with page.expect_response(lambda r: f"/api/beers/{beer.pk}/graph" in r.url) as graph:
        page.goto(f"/beers/{beer.pk}/")
    (series,) = graph.value.json()["gravity"]
    assert series["sensor"] == "Spindle 1" and series["gravity"][-1] == pytest.approx(
        1.022, abs=5e-4
    )
    wait_for_lines(page)
    deadline = time.monotonic() + 10
    while drawn_pixels(page, "gravity") < 100 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert drawn_pixels(page, "gravity") >= 100, "the gravity line is not on the graph"
    expect(page.locator(".beer-graph .u-legend")).to_contain_text("Spindle 1 (SG)")
    expect(page.locator("[data-latest-gravity]")).to_have_text("1.022")
    shoot("beer-graph-gravity")
    assert_fits_width()


@pytest.fixture
def purple_tilt(beer) -> GravitySensor:
    """The Purple Tilt in fridge-1, reading 0.003 high, with two readings stored."""
    sensor = GravitySensor.objects.create(
        name="Purple Tilt", kind=SensorKind.TILT, colour="Purple", device=beer.device
    )
    now = int(time.time())
    store_readings(
        sensor, [sensor.new_reading(now - 120, raw=1.053), sensor.new_reading(now - 60, raw=1.052)]
    )
    return sensor


def test_a_brewer_calibrates_a_tilt_from_points(
    page, log_in, brewer, purple_tilt, shoot, assert_fits_width
):
    log_in(brewer)
    page.goto("/gravity/")
    expect(page.locator(".gravity-card [data-current]")).to_contain_text("1.052")
    shoot("gravity-list")
    assert_fits_width()
    page.get_by_role("link", name="Purple Tilt").click()
    expect(page.locator(".gravity-readings tbody tr")).to_have_count(2)
    shoot("gravity-sensor")
    assert_fits_width()
    page.get_by_role("link", name="Calibration").click()
    expect(page).to_have_url(re.compile(rf"/gravity/{purple_tilt.pk}/calibration/$"))
    for measured, actual in (("1.003", "1.000"), ("1.039", "1.036"), ("1.067", "1.064")):
        page.get_by_label("Tilt's reading (SG)").fill(measured)
        page.get_by_label("True gravity (SG)").fill(actual)
        page.get_by_role("button", name="Add point").click()
        expect(page.get_by_text("Point added.")).to_be_visible()
    expect(page.locator(".calibration-points tbody tr")).to_have_count(3)

    page.get_by_role("button", name="Fit from these points").click()
    expect(page.get_by_text("Fitted a quadratic through 3 points")).to_be_visible()
    assert float(page.get_by_label("X coefficient (c)").input_value()) == pytest.approx(1, abs=1e-6)
    assert float(page.get_by_label("Constant (d)").input_value()) == pytest.approx(-0.003, abs=1e-6)
    shoot("gravity-calibration-fit")
    assert_fits_width()

    page.get_by_role("button", name="Save calibration").click()
    expect(page.get_by_text("Calibration saved; 2 stored readings recalculated.")).to_be_visible()
    purple_tilt.refresh_from_db()
    assert purple_tilt.tilt_d == pytest.approx(-0.003, abs=1e-6)
    assert list(purple_tilt.readings.order_by("ts").values_list("gravity", flat=True)) == [
        1.05,
        1.049,
    ]
    shoot("gravity-calibrated")
    assert_fits_width()
