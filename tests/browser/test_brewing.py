"""A brewer's day in a real browser, at a phone's width and a desktop's: add a device, start a
beer, watch its graph draw and zoom into it, write a fermentation profile and import an
exported one, and open a beer's share link logged out."""

from __future__ import annotations

import json
import math
import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from controller.fake_controller import FakeController, short_home
from fermentrack import config
from fermentrack.web.beers.ingest import store_points
from fermentrack.web.beers.models import Beer, LogPoint
from fermentrack.web.brewery.models import BrewerySettings
from fermentrack.web.devices.models import Device
from fermentrack.web.profiles.models import FermentationProfile

pytestmark = pytest.mark.django_db(transaction=True)

HOURS = 6


@pytest.fixture
def device(brewer) -> Device:
    device = Device(name="fridge-1", simulated=True)
    device.issue_token()
    device.save()
    return device


@pytest.fixture
def beer(device) -> Beer:
    """An active beer started six hours ago, with a point a minute since then."""
    now = int(time.time())
    start = now - HOURS * 3600
    beer = Beer.objects.create(device=device, name="Summer IPA", started_at=start)
    points = [
        LogPoint(
            ts=ts,
            beer_temp=round(19 + 0.8 * math.sin((ts - start) / 3600), 2),
            beer_set=19.0,
            fridge_temp=round(17 + 1.5 * math.cos((ts - start) / 1800), 2),
            fridge_set=17.0,
            room_temp=21.0,
            state=0,
            temp_format="C",
        )
        for ts in range(start, now, 60)
    ]
    store_points(device, points)
    return beer


def drawn_pixels(page, series: str) -> int:
    """How many pixels of the graph's canvas have the colour of `series` (a line is drawn)."""
    colour = BrewerySettings.load().colours()[series]
    return page.evaluate(
        """(hex) => {
            const canvas = document.querySelector(".beer-graph canvas");
            if (!canvas || !canvas.width) return 0;
            const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
            const context = canvas.getContext("2d");
            const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
            let count = 0;
            for (let i = 0; i < data.length; i += 4) {
                const distance = Math.abs(data[i] - rgb[0]) + Math.abs(data[i + 1] - rgb[1])
                    + Math.abs(data[i + 2] - rgb[2]);
                if (data[i + 3] > 200 && distance < 40) count++;
            }
            return count;
        }""",
        colour,
    )


def wait_for_lines(page) -> None:
    """Wait until the beer and fridge temperature lines are on the canvas."""
    expect(page.locator(".beer-graph canvas").first).to_be_visible()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if drawn_pixels(page, "beer_temp") > 100 and drawn_pixels(page, "fridge_temp") > 100:
            return
        page.wait_for_timeout(100)
    pytest.fail(
        f"the graph drew {drawn_pixels(page, 'beer_temp')} beer and "
        f"{drawn_pixels(page, 'fridge_temp')} fridge pixels; expected lines of both"
    )


def graph_window(url: str) -> tuple[int, int] | None:
    query = parse_qs(urlparse(url).query)
    if "start" in query and "end" in query:
        return int(query["start"][0]), int(query["end"][0])
    return None


def test_a_brewer_adds_a_simulated_device(page, log_in, brewer, shoot, assert_fits_width):
    log_in(brewer)
    page.goto("/devices/add/")
    shoot("device-add")
    assert_fits_width()
    page.get_by_label("Name").fill("fridge-2")
    page.get_by_role("button", name="Add device").click()
    expect(page).to_have_url(re.compile(r"/devices/fridge-2/$"))
    expect(page.get_by_text("start on this computer within a few seconds")).to_be_visible()
    assert Device.objects.get(name="fridge-2").simulated
    shoot("device")
    assert_fits_width()


def test_a_brewer_adds_a_chamber_whose_controller_runs_on_another_computer(
    page, log_in, brewer, shoot, assert_fits_width
):
    log_in(brewer)
    page.goto("/devices/add/")
    page.get_by_label("Name").fill("cellar")
    page.get_by_label("Network (WiFi or TCP): host and port").check()
    page.get_by_label("Host", exact=True).fill("192.168.1.40")
    page.get_by_label("Controller on another computer (optional)").fill("cellar-pi.local:7070")
    page.get_by_role("button", name="Add device").click()

    expect(page.get_by_role("heading", name="cellar added")).to_be_visible()
    command = page.locator("#controller-command")
    expect(command).to_contain_text("fermentrack controller cellar --listen 0.0.0.0:7070")
    token = page.locator("#device-token").inner_text().strip()
    assert Device.objects.get(name="cellar").token_matches(token)
    expect(command).to_contain_text(f"FERMENTRACK_DEVICE_TOKEN={token}")
    shoot("device-token")
    assert_fits_width()


def test_a_brewer_saves_a_chambers_constants_as_a_preset_and_gives_them_to_another(
    page, log_in, brewer, monkeypatch, shoot, assert_fits_width
):
    with short_home() as home:
        monkeypatch.setenv("FERMENTRACK_HOME", str(home))
        for name in ("fridge-1", "fridge-2"):
            Device.objects.create(name=name, link=f"tcp://192.168.1.2{name[-1]}:23")
        tuned = FakeController(config.controller_socket_path("fridge-1")).start()
        twin = FakeController(config.controller_socket_path("fridge-2")).start()
        try:
            tuned.state["constants"]["Kp"] = 7.5
            log_in(brewer)
            page.goto("/devices/fridge-1/constants/")
            page.get_by_label("Save these constants as a preset named").fill("Chest freezer")
            page.get_by_role("button", name="Save as a preset").click()
            expect(page.get_by_text("as the preset Chest freezer.")).to_be_visible()

            page.goto("/devices/fridge-2/constants/")
            shoot("constants-presets")
            assert_fits_width()
            page.get_by_role("button", name="Give to fridge-2").click()
            expect(
                page.get_by_text("Sent 1 changed constant to fridge-2: Kp (from")
            ).to_be_visible()
            assert twin.state["constants"]["Kp"] == 7.5
        finally:
            tuned.stop()
            twin.stop()


def test_a_bad_device_name_is_refused_on_the_page(page, log_in, brewer):
    log_in(brewer)
    page.goto("/devices/add/")
    page.get_by_label("Name").fill("My Fridge!")
    page.get_by_role("button", name="Add device").click()
    expect(page.locator(".errorlist").first).to_contain_text("a-z, 0-9 and '-'")
    assert not Device.objects.exists()


def test_a_brewer_starts_a_beer_on_a_device(page, log_in, device, brewer, shoot):
    log_in(brewer)
    page.goto("/devices/fridge-1/")
    page.get_by_label("Beer name").fill("Winter Stout")
    page.get_by_role("button", name="Start a beer").click()
    expect(page.get_by_text("Winter Stout").first).to_be_visible()
    beer = Beer.objects.get(device=device, name="Winter Stout")
    assert beer.ended_at is None
    shoot("beer-started")


def test_the_beer_graph_draws_its_lines(page, log_in, beer, brewer, shoot, assert_fits_width):
    log_in(brewer)
    page.goto(f"/beers/{beer.pk}/")
    wait_for_lines(page)
    shoot("beer-graph")
    assert_fits_width()
    box = page.locator(".beer-graph canvas").first.bounding_box()
    assert box["width"] <= page.viewport_size["width"]


def test_pointing_at_the_graph_shows_that_moments_date_and_time(page, log_in, beer, brewer):
    log_in(brewer)
    page.goto(f"/beers/{beer.pk}/")
    wait_for_lines(page)
    over = page.locator(".beer-graph .u-over").first.bounding_box()
    page.mouse.move(over["x"] + over["width"] * 0.9, over["y"] + over["height"] / 2)
    moment = page.locator(".beer-graph .u-legend .u-series").first.locator(".u-value")
    # The brewery's zone is UTC here; the beer's six hours may straddle a New Year.
    years = {time.gmtime(beer.started_at).tm_year, time.gmtime().tm_year}
    expect(moment).to_contain_text(re.compile("|".join(str(year) for year in years)))
    expect(moment).to_contain_text(re.compile(r"\d{1,2}:\d{2}"))


def test_a_brewer_logs_what_they_did_and_finds_it_marked_on_the_graph(
    page, log_in, beer, brewer, shoot, assert_fits_width
):
    log_in(brewer)
    page.goto(f"/beers/{beer.pk}/")
    wait_for_lines(page)
    page.get_by_label("What happened").fill("Dry hopped with 100 g Citra")
    page.get_by_role("button", name="Add to the brew log").click()

    expect(page.get_by_text("Added to the brew log at")).to_be_visible()
    expect(page.locator(".brew-log-entries li")).to_contain_text("Dry hopped with 100 g Citra")
    wait_for_lines(page)
    marker = page.locator(".annotation-marker.person")
    expect(marker).to_have_count(1)
    marker.click()
    expect(page.locator(".annotation-text")).to_contain_text("Dry hopped with 100 g Citra")
    expect(page.locator(".annotation-text")).not_to_contain_text("(person)")
    shoot("beer-brew-log")
    assert_fits_width()

    page.get_by_role(
        "button", name="Remove “Dry hopped with 100 g Citra” from the brew log"
    ).click()
    expect(page.get_by_text("Removed from the brew log: Dry hopped")).to_be_visible()
    expect(page.locator(".brew-log-entries")).to_have_count(0)


def drag_across(page, over: dict) -> None:
    """A mouse drag over the middle third of the graph: what a desktop user does to zoom."""
    y = over["y"] + over["height"] / 2
    page.mouse.move(over["x"] + over["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(over["x"] + over["width"] * 0.5, y, steps=8)
    page.mouse.move(over["x"] + over["width"] * 0.6, y, steps=4)
    page.mouse.up()


def spread_two_fingers(page, over: dict) -> None:
    """Two fingers spreading apart on the graph: what a phone user does to zoom."""
    middle_x, y = over["x"] + over["width"] / 2, over["y"] + over["height"] / 2
    touch = page.context.new_cdp_session(page)

    def fingers(kind: str, apart: float) -> None:
        points = [
            {"x": middle_x - apart / 2, "y": y, "id": 1},
            {"x": middle_x + apart / 2, "y": y, "id": 2},
        ]
        touch.send(
            "Input.dispatchTouchEvent",
            {"type": kind, "touchPoints": [] if kind == "touchEnd" else points},
        )

    fingers("touchStart", 40)
    for apart in (80, 120, 160, 200):
        fingers("touchMove", apart)
    fingers("touchEnd", 0)


def test_zooming_the_graph_narrows_its_time_range(page, log_in, beer, brewer, shoot):
    """Dragging across the graph (desktop) or spreading two fingers (phone) asks for a
    narrower window of the beer and draws it."""
    log_in(brewer)
    page.goto(f"/beers/{beer.pk}/")
    wait_for_lines(page)
    over = page.locator(".beer-graph .u-over").first.bounding_box()
    with page.expect_request(lambda r: "/graph" in r.url and graph_window(r.url)) as zoomed:
        if page.viewport_name == "phone":
            spread_two_fingers(page, over)
        else:
            drag_across(page, over)
    start, end = graph_window(zoomed.value.url)
    assert beer.started_at <= start < end <= int(time.time())
    assert end - start < HOURS * 3600 * 0.5, f"zoomed to {end - start} s of a {HOURS} h beer"
    wait_for_lines(page)
    shoot("beer-graph-zoomed")


def test_a_brewer_writes_a_profile_and_imports_its_export(
    page, log_in, brewer, shoot, assert_fits_width
):
    log_in(brewer)
    page.goto("/profiles/new/")
    page.get_by_label("Name").fill("Ale 18 to 20")
    for row, (when, temperature) in enumerate([("0", "18"), ("3d", "18"), ("5d", "20")]):
        page.locator(f"input[name='points-{row}-when']").fill(when)
        page.locator(f"input[name='points-{row}-temperature']").fill(temperature)
    shoot("profile-new")
    assert_fits_width()
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile Ale 18 to 20 saved.")).to_be_visible()
    shoot("profile")
    assert_fits_width()
    profile = FermentationProfile.objects.get(name="Ale 18 to 20")

    exported = page.request.get(f"/profiles/{profile.pk}/export.json")
    assert exported.ok
    data = json.loads(exported.text())

    page.goto("/profiles/import/")
    page.get_by_label("File").set_input_files(
        {"name": "ale.profile.json", "mimeType": "application/json", "buffer": exported.body()}
    )
    page.locator("input[name='name']").fill("Ale 18 to 20 (imported)")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported Ale 18 to 20 (imported) with 3 points.")).to_be_visible()
    imported = FermentationProfile.objects.get(name="Ale 18 to 20 (imported)")
    assert imported.point_list() == profile.point_list()
    assert data  # the export was a JSON document


def test_a_share_link_shows_the_graph_to_someone_logged_out(
    page, browser, log_in, beer, brewer, live_server, shoot, assert_fits_width
):
    log_in(brewer)
    page.goto(f"/beers/{beer.pk}/")
    page.get_by_role("button", name="Make a share link").click()
    link = page.get_by_label("Share link")
    expect(link).to_have_value(re.compile(r"/beers/shared/"))
    url = link.input_value()

    page.context.clear_cookies()  # now a stranger with the link
    page.goto(url)
    expect(page.get_by_role("heading", name="Summer IPA")).to_be_visible()
    wait_for_lines(page)
    expect(page.get_by_role("link", name="Log out")).to_have_count(0)
    shoot("beer-shared")
    assert_fits_width()
    page.goto(f"/beers/{beer.pk}/")
    expect(page).to_have_url(re.compile(r"/login/"))
