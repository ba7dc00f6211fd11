"""The settings page: brewery name, temperature format, time zone, graph colours and whether
the dashboard needs a login; every wrong value is refused with what was expected."""

from __future__ import annotations

import pytest

from fermentrack.web.brewery.models import DEFAULT_GRAPH_COLOURS, BrewerySettings

pytestmark = pytest.mark.django_db


def good_settings(**changes) -> dict:
    data = {
        "brewery_name": "Garage Ales",
        "temp_format": "F",
        "time_zone": "Europe/Amsterdam",
        "dashboard_requires_login": "on",
        **{f"colour_{key}": colour for key, colour in DEFAULT_GRAPH_COLOURS.items()},
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_settings_page_shows_every_setting_with_a_colour_input_per_series(brewer_client):
    page = brewer_client.get("/settings/").content.decode()
    for name in ("brewery_name", "temp_format", "time_zone", "dashboard_requires_login"):
        assert f'name="{name}"' in page
    assert page.count('type="color"') == len(DEFAULT_GRAPH_COLOURS)
    assert '<option value="Europe/Amsterdam">' in page


def test_saving_settings_stores_them_and_shows_the_name_on_every_page(brewer_client):
    response = brewer_client.post(
        "/settings/", good_settings(colour_beer_temp="#AABBCC", dashboard_requires_login=None)
    )
    assert response.status_code == 302
    settings = BrewerySettings.load()
    assert settings.brewery_name == "Garage Ales"
    assert settings.temp_format == "F"
    assert settings.time_zone == "Europe/Amsterdam"
    assert settings.dashboard_requires_login is False
    assert settings.colours()["beer_temp"] == "#aabbcc"
    assert settings.colours()["room_temp"] == DEFAULT_GRAPH_COLOURS["room_temp"]
    assert "Garage Ales" in brewer_client.get("/").content.decode()


def test_an_unknown_time_zone_is_refused_with_an_example(brewer_client):
    response = brewer_client.post("/settings/", good_settings(time_zone="Mars/Olympus_Mons"))
    assert response.status_code == 200
    assert "Mars/Olympus_Mons is not a time zone this system knows" in response.content.decode()
    assert BrewerySettings.load().time_zone == "UTC"


def test_a_colour_that_is_not_hex_is_refused(brewer_client):
    response = brewer_client.post("/settings/", good_settings(colour_fridge_temp="blue"))
    assert "expected a colour as #rrggbb" in response.content.decode()
    assert BrewerySettings.load().brewery_name == "Fermentrack"


def test_a_short_hex_colour_is_refused(brewer_client):
    response = brewer_client.post("/settings/", good_settings(colour_heating="#fff"))
    assert "expected a colour as #rrggbb" in response.content.decode()


def test_an_unknown_temperature_format_is_refused(brewer_client):
    response = brewer_client.post("/settings/", good_settings(temp_format="K"))
    assert "Select a valid choice. K is not one of the available choices." in (
        response.content.decode()
    )


def test_an_empty_or_too_long_brewery_name_is_refused(brewer_client):
    assert (
        "This field is required."
        in brewer_client.post("/settings/", good_settings(brewery_name="")).content.decode()
    )
    too_long = brewer_client.post("/settings/", good_settings(brewery_name="x" * 65))
    assert "at most 64 characters" in too_long.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(anonymous_client):
    response = anonymous_client.get("/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/settings/")


def test_guests_may_not_see_or_change_settings(guest_client):
    assert guest_client.get("/settings/").status_code == 403
    assert guest_client.post("/settings/", good_settings()).status_code == 403
    assert BrewerySettings.load().brewery_name == "Fermentrack"


def test_admins_change_settings_and_see_the_people_link(admin_client):
    page = admin_client.get("/settings/").content.decode()
    assert 'href="/settings/people/"' in page
    assert admin_client.post("/settings/", good_settings()).status_code == 302


def test_brewers_do_not_see_the_people_link(brewer_client):
    assert 'href="/settings/people/"' not in brewer_client.get("/settings/").content.decode()


def test_guests_do_not_see_the_settings_link(guest_client):
    assert 'href="/settings/"' not in guest_client.get("/").content.decode()


def test_settings_posts_need_a_csrf_token(brewer):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(brewer)
    assert client.post("/settings/", good_settings()).status_code == 403


def test_the_dashboard_follows_the_login_setting(anonymous_client):
    assert anonymous_client.get("/").status_code == 302  # requires login by default
    settings = BrewerySettings.load()
    settings.dashboard_requires_login = False
    settings.save()
    assert anonymous_client.get("/").status_code == 200
