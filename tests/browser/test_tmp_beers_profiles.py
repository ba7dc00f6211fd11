"""TEMPORARY verification of beer and profile pages in a browser (profiles/beers helper)."""

from __future__ import annotations

import math
import re
import time

import pytest
from playwright.sync_api import expect

from fermentrack.web.beers.ingest import store_annotations, store_points
from fermentrack.web.beers.models import Annotation, Beer, LogPoint
from fermentrack.web.devices.models import Device
from fermentrack.web.profiles.models import FermentationProfile

pytestmark = pytest.mark.django_db(transaction=True)


def chamber_with_beer():
    device = Device(name="fridge-1", simulated=True)
    device.issue_token()
    device.save()
    now = int(time.time())
    start = now - 6 * 3600
    points = []
    for i in range(0, 6 * 3600, 60):
        ts = start + i
        phase = i / 3600
        points.append(
            LogPoint(
                ts=ts,
                beer_temp=19 + 0.5 * math.sin(phase),
                beer_set=19.0,
                fridge_temp=17 + 2 * math.sin(phase * 3),
                fridge_set=17.0,
                room_temp=21.0,
                state=4 if (i // 600) % 3 == 0 else (3 if (i // 600) % 3 == 1 else 0),
            )
        )
    store_points(device, points)
    store_annotations(device, [Annotation(ts=start + 3600, text="Dry hops in", source="person")])
    return Beer.objects.create(device=device, name="Pale Ale", started_at=start)


def test_beer_graph(page, log_in, brewer, shoot, live_server):
    beer = chamber_with_beer()
    log_in(brewer)
    requests = []
    page.on("request", lambda r: "/graph" in r.url and requests.append(r.url))
    page.goto(f"/beers/{beer.pk}/")
    expect(page.locator(".beer-graph canvas")).to_be_visible()
    expect(page.locator(".u-legend")).to_contain_text("Beer")
    expect(page.locator(".annotation-marker")).to_have_count(1)
    page.wait_for_timeout(300)
    shoot("tmp-beer")
    print(page.locator(".graph-status").inner_text(), "|", page.locator(".graph-duty").inner_text())
    assert "Heating" in page.locator(".graph-duty").inner_text()
    over = page.locator(".u-over")
    box = over.bounding_box()
    if page.viewport_name == "desktop":
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 50)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + 60, steps=5)
        page.mouse.up()
        page.wait_for_timeout(500)
        assert any("start=" in url for url in requests), requests
        shoot("tmp-beer-zoomed")
        page.locator(".u-over").dblclick(position={"x": 100, "y": 50})
        page.wait_for_timeout(500)
        assert "start=" not in requests[-1]
        page.locator(".annotation-marker").hover()
        expect(page.locator(".annotation-text")).to_contain_text("Dry hops in")
        page.locator(".u-legend .u-series").nth(1).click()
        shoot("tmp-beer-hidden")
    else:
        page.locator(".annotation-marker").tap()
        expect(page.locator(".annotation-text")).to_contain_text("Dry hops in")
        # Pinch: two touches spreading apart.
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        cdp = page.context.new_cdp_session(page)

        def touch(kind, spread):
            pts = [] if kind == "touchEnd" else [
                {"x": cx - spread, "y": cy, "id": 1}, {"x": cx + spread, "y": cy, "id": 2}
            ]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": pts})

        touch("touchStart", 20)
        for s in (40, 60, 80, 100):
            touch("touchMove", s)
        touch("touchEnd", 0)
        page.wait_for_timeout(600)
        assert any("start=" in url for url in requests), requests
        shoot("tmp-beer-pinched")


def test_shared_page(page, brewer, shoot):
    beer = chamber_with_beer()
    token = beer.share()
    page.goto(f"/beers/shared/{token}/")
    expect(page.locator(".beer-graph canvas")).to_be_visible()
    page.wait_for_timeout(300)
    shoot("tmp-shared")


def test_profile_editor(page, log_in, brewer, shoot):
    log_in(brewer)
    page.goto("/profiles/new/")
    page.get_by_label("Name").fill("Ale")
    page.locator("#id_points-0-when").fill("0")
    page.locator("#id_points-0-temperature").fill("18")
    page.locator("#id_points-1-when").fill("3d")
    page.locator("#id_points-1-temperature").fill("18")
    page.locator("#id_points-2-when").fill("5d")
    page.locator("#id_points-2-temperature").fill("21")
    expect(page.locator("#profile-preview")).to_contain_text("Hold 18.0 °C for 3 days, ramp to 21.0 °C over 2 days")
    page.get_by_role("button", name="Add a row").click()
    page.locator("#id_points-3-when").fill("4d")
    page.locator("#id_points-3-temperature").fill("5")
    expect(page.locator("#profile-preview")).to_contain_text("row 4: 4d comes before row 3")
    shoot("tmp-profile-editor")
    page.locator("#id_points-3-when").fill("8d")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile Ale saved")).to_be_visible()
    assert FermentationProfile.objects.get(name="Ale").point_list()[-1] == (8 * 86400, 5.0)
    expect(page.locator(".profile-graph canvas")).to_be_visible()
    shoot("tmp-profile-detail")
    page.goto(f"/profiles/{FermentationProfile.objects.get().pk}/edit/")
    page.get_by_label("dates and times").check()
    expect(page.get_by_label("Start (for dates)")).to_be_visible()
    shoot("tmp-profile-dates")
