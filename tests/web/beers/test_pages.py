"""Beer pages: the list, a beer's graph page, rename and notes, delete, and the share link."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from fermentrack.web.beers.models import Beer
from fermentrack.web.brewery.models import BrewerySettings
from fermentrack.web.devices.models import Device

pytestmark = pytest.mark.django_db

MAY_1_2025_NOON_UTC = 1_746_100_800


def make_device(name: str) -> Device:
    device = Device(name=name, simulated=True)
    device.issue_token()
    device.save()
    return device


@pytest.fixture
def device() -> Device:
    return make_device("fridge-1")


@pytest.fixture
def pale_ale(device) -> Beer:
    """Ended, so it may be deleted."""
    return Beer.objects.create(
        device=device,
        name="Pale Ale",
        started_at=MAY_1_2025_NOON_UTC,
        ended_at=MAY_1_2025_NOON_UTC + 14 * 86400,
        notes="dry hopped on day 5",
    )


@pytest.fixture
def stout(device) -> Beer:
    """Still logging."""
    return Beer.objects.create(
        device=device, name="Stout", started_at=MAY_1_2025_NOON_UTC + 20 * 86400
    )


def graph_config(page: str) -> dict:
    found = re.search(
        r'<script id="beer-graph-config" type="application/json">(.*?)</script>', page
    )
    return json.loads(found.group(1))


# -- the list and the beer page --------------------------------------------------------------


def test_the_list_shows_each_beer_with_its_device_and_times_in_the_brewery_zone(
    guest_client, pale_ale, stout
):
    brewery = BrewerySettings.load()
    brewery.time_zone = "Europe/Berlin"
    brewery.save()
    page = guest_client.get(reverse("beer_list")).content.decode()
    assert "Pale Ale" in page and "Stout" in page and "fridge-1" in page
    assert "2025-05-01 14:00" in page, "noon UTC is 14:00 in Berlin in May"
    assert "<strong>logging</strong>" in page
    assert reverse("beer_detail", args=[pale_ale.pk]) in page
    assert reverse("beer_csv", args=[pale_ale.pk]) in page
    assert reverse("beer_delete", args=[pale_ale.pk]) not in page, "guests get no delete link"


def test_brewers_see_delete_links_in_the_list(brewer_client, pale_ale):
    page = brewer_client.get(reverse("beer_list")).content.decode()
    assert reverse("beer_delete", args=[pale_ale.pk]) in page


def test_the_beer_page_passes_the_graph_its_data_address_colours_and_zone(guest_client, stout):
    brewery = BrewerySettings.load()
    brewery.time_zone = "America/Chicago"
    brewery.graph_colours = {"beer_temp": "#123456"}
    brewery.save()
    page = guest_client.get(reverse("beer_detail", args=[stout.pk])).content.decode()
    config = graph_config(page)
    assert config["url"] == f"/api/beers/{stout.pk}/graph"
    assert config["share"] is None and config["active"] is True
    assert config["start"] == stout.started_at and config["end"] is None
    assert config["colours"]["beer_temp"] == "#123456"
    assert config["colours"]["fridge_temp"] == brewery.colours()["fridge_temp"]
    assert config["time_zone"] == "America/Chicago"
    assert "vendor/uPlot.iife.min.js" in page and "fermentrack/graph.js" in page


def test_the_beer_page_shows_notes_and_hides_changes_from_guests(guest_client, pale_ale):
    page = guest_client.get(reverse("beer_detail", args=[pale_ale.pk])).content.decode()
    assert "dry hopped on day 5" in page
    assert reverse("beer_edit", args=[pale_ale.pk]) not in page
    assert reverse("beer_share", args=[pale_ale.pk]) not in page


def test_anonymous_visitors_see_beers_only_when_the_brewery_is_open(anonymous_client, pale_ale):
    response = anonymous_client.get(reverse("beer_detail", args=[pale_ale.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    brewery = BrewerySettings.load()
    brewery.dashboard_requires_login = False
    brewery.save()
    assert anonymous_client.get(reverse("beer_list")).status_code == 200
    assert anonymous_client.get(reverse("beer_detail", args=[pale_ale.pk])).status_code == 200
    response = anonymous_client.post(reverse("beer_share", args=[pale_ale.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# -- rename and notes ------------------------------------------------------------------------


def test_a_brewer_renames_a_beer_and_edits_its_notes(brewer_client, pale_ale):
    response = brewer_client.post(
        reverse("beer_edit", args=[pale_ale.pk]), {"name": "Pale Ale 2", "notes": "crisp"}
    )
    assert response["Location"] == reverse("beer_detail", args=[pale_ale.pk])
    pale_ale.refresh_from_db()
    assert (pale_ale.name, pale_ale.notes) == ("Pale Ale 2", "crisp")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "This field is required"),
        ("Pale/Ale!", "has ! / in it: a beer name may hold letters, digits, spaces, &#x27;-&#x27;"),
        ("Stout", "fridge-1 already has a beer named &#x27;Stout&#x27;; choose another name"),
        ("x" * 256, "at most 255 characters"),
    ],
)
def test_renaming_says_what_is_wrong_with_the_name(brewer_client, pale_ale, stout, name, problem):
    response = brewer_client.post(reverse("beer_edit", args=[pale_ale.pk]), {"name": name})
    assert response.status_code == 200
    assert problem in response.content.decode()
    pale_ale.refresh_from_db()
    assert pale_ale.name == "Pale Ale"


def test_a_name_used_on_another_device_is_fine_and_letters_of_any_script_are_allowed(
    brewer_client, pale_ale
):
    Beer.objects.create(device=make_device("fridge-2"), name="Märzen_2 ö", started_at=1)
    response = brewer_client.post(reverse("beer_edit", args=[pale_ale.pk]), {"name": "Märzen_2 ö"})
    assert response.status_code == 302


# -- delete ----------------------------------------------------------------------------------


def test_deleting_an_ended_beer_asks_first_and_keeps_the_device_log(brewer_client, pale_ale):
    page = brewer_client.get(reverse("beer_delete", args=[pale_ale.pk])).content.decode()
    assert "Delete Pale Ale?" in page and "stay with the device" in page
    response = brewer_client.post(reverse("beer_delete", args=[pale_ale.pk]))
    assert response["Location"] == reverse("beer_list")
    assert not Beer.objects.filter(pk=pale_ale.pk).exists()
    assert Device.objects.filter(name="fridge-1").exists()


def test_a_beer_still_logging_cannot_be_deleted_until_it_is_ended(admin_client, stout):
    page = admin_client.get(reverse("beer_delete", args=[stout.pk])).content.decode()
    assert "Stout is still logging on fridge-1, so it cannot be deleted. End the beer" in page
    assert admin_client.post(reverse("beer_delete", args=[stout.pk])).status_code == 409
    assert Beer.objects.filter(pk=stout.pk).exists()
    stout.ended_at = stout.started_at + 3600
    stout.save()
    assert admin_client.post(reverse("beer_delete", args=[stout.pk])).status_code == 302


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("beer_edit", "get"),
        ("beer_edit", "post"),
        ("beer_delete", "get"),
        ("beer_delete", "post"),
        ("beer_share", "post"),
        ("beer_unshare", "post"),
    ],
)
def test_guests_may_not_change_beers(guest_client, pale_ale, name, method):
    url = reverse(name, args=[pale_ale.pk])
    assert getattr(guest_client, method)(url, {"name": "Hacked"}).status_code == 403
    pale_ale.refresh_from_db()
    assert pale_ale.name == "Pale Ale" and pale_ale.share_token is None


def test_share_and_unshare_take_only_posts(brewer_client, pale_ale):
    assert brewer_client.get(reverse("beer_share", args=[pale_ale.pk])).status_code == 405
    assert brewer_client.get(reverse("beer_unshare", args=[pale_ale.pk])).status_code == 405


# -- the share link --------------------------------------------------------------------------


def test_sharing_makes_a_link_that_anyone_can_open_without_logging_in(
    brewer_client, anonymous_client, pale_ale
):
    response = brewer_client.post(reverse("beer_share", args=[pale_ale.pk]))
    assert response["Location"] == reverse("beer_detail", args=[pale_ale.pk])
    pale_ale.refresh_from_db()
    shared_url = reverse("beer_shared", args=[pale_ale.share_token])
    assert shared_url in brewer_client.get(response["Location"]).content.decode()
    page = anonymous_client.get(shared_url)
    assert page.status_code == 200 and "Pale Ale" in page.content.decode()
    assert graph_config(page.content.decode())["share"] == pale_ale.share_token


def test_a_shared_page_shows_that_beer_only_no_other_beers_devices_notes_or_navigation(
    anonymous_client, pale_ale, stout
):
    other = Beer.objects.create(
        device=make_device("secret-fridge"), name="Secret Sour", started_at=5
    )
    token = pale_ale.share()
    page = anonymous_client.get(reverse("beer_shared", args=[token])).content.decode()
    for hidden in ("Stout", "Secret Sour", "secret-fridge", "fridge-1", "dry hopped"):
        assert hidden not in page, f"{hidden!r} leaks onto the shared page"
    for url in (reverse("beer_list"), reverse("dashboard"), reverse("profile_list")):
        assert f'href="{url}"' not in page
    assert f"/api/beers/{other.pk}/" not in page
    assert reverse("beer_csv", args=[pale_ale.pk]) not in page


def test_a_revoked_share_link_no_longer_opens_the_beer(brewer_client, anonymous_client, pale_ale):
    token = pale_ale.share()
    assert anonymous_client.get(reverse("beer_shared", args=[token])).status_code == 200
    brewer_client.post(reverse("beer_unshare", args=[pale_ale.pk]))
    assert anonymous_client.get(reverse("beer_shared", args=[token])).status_code == 404


def test_a_new_link_replaces_the_old_one(brewer_client, anonymous_client, pale_ale):
    old = pale_ale.share()
    brewer_client.post(reverse("beer_share", args=[pale_ale.pk]))
    pale_ale.refresh_from_db()
    assert pale_ale.share_token != old
    assert anonymous_client.get(reverse("beer_shared", args=[old])).status_code == 404
    assert (
        anonymous_client.get(reverse("beer_shared", args=[pale_ale.share_token])).status_code == 200
    )


def test_a_made_up_share_token_is_not_found(anonymous_client, pale_ale):
    assert anonymous_client.get(reverse("beer_shared", args=["not-a-token"])).status_code == 404


def test_the_shared_page_opens_even_when_the_brewery_requires_login(anonymous_client, stout):
    assert BrewerySettings.load().dashboard_requires_login
    token = stout.share()
    response = anonymous_client.get(reverse("beer_shared", args=[token]))
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"
    assert graph_config(response.content.decode())["active"] is True


def test_htmx_share_requests_get_the_share_box_back(brewer_client, pale_ale):
    response = brewer_client.post(reverse("beer_share", args=[pale_ale.pk]), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="share-box">')
    assert "Share link made" in page and "Revoke the link" in page
    response = brewer_client.post(
        reverse("beer_unshare", args=[pale_ale.pk]), HTTP_HX_REQUEST="true"
    )
    assert "Share link revoked" in response.content.decode()
