"""The device pages: dashboard, device page, adding/editing/deleting, against a fake controller."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fermentrack.web.beers.models import Beer, LogPoint
from fermentrack.web.devices.models import Device
from fermentrack.web.profiles.models import FermentationProfile

from .conftest import reported_status
from .form_data import add_form

pytestmark = pytest.mark.django_db

NOT_RUNNING = "The controller of fridge-1 is not running; the change was not sent."


def detail_url(name: str = "fridge-1") -> str:
    return reverse("device_detail", args=[name])


def log_point(device: Device, seconds_ago: int = 30, **values) -> LogPoint:
    fields = {
        "beer_temp": 19.1,
        "beer_set": 19.0,
        "fridge_temp": 17.3,
        "fridge_set": 17.2,
        "room_temp": 21.4,
        "state": 3,
    }
    fields.update(values)
    return LogPoint.objects.create(device=device, ts=int(time.time()) - seconds_ago, **fields)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# -- dashboard ----------------------------------------------------------------------------------


def test_the_dashboard_sends_anonymous_visitors_to_log_in_when_the_brewery_requires_it(
    anonymous_client, device
):
    response = anonymous_client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_visitors_see_the_dashboard_when_the_brewery_allows_it(
    anonymous_client, device, open_dashboard
):
    response = anonymous_client.get("/")
    assert response.status_code == 200
    assert b"fridge-1" in response.content
    assert reverse("device_add").encode() not in response.content


def test_an_empty_dashboard_offers_to_add_a_device(brewer_client):
    response = brewer_client.get("/")
    assert b"No devices yet" in response.content
    assert f'href="{reverse("device_add")}"'.encode() in response.content


def test_a_guest_sees_the_empty_dashboard_without_the_add_button(guest_client):
    response = guest_client.get("/")
    assert b"No devices yet" in response.content
    assert reverse("device_add").encode() not in response.content


def test_a_card_shows_readings_setpoints_mode_state_last_seen_and_the_beer(brewer_client, device):
    log_point(device)
    Beer.objects.create(device=device, name="Summer IPA", started_at=int(time.time()) - 3600)
    response = brewer_client.get("/")
    text = response.content.decode()
    assert "19.1" in text and "setting 19.0 °C" in text
    assert "17.3" in text and "setting 17.2 °C" in text
    assert "Beer constant · heating" in text
    assert 'Last report: <span class="last-seen">3 min ago</span>' in text
    assert "Now logging" in text and "Summer IPA" in text
    assert 'class="warning"' not in text


def test_a_card_draws_a_sparkline_from_the_graph_api(brewer_client, device):
    text = brewer_client.get("/").content.decode()
    assert 'data-graph-url="/api/devices/fridge-1/graph"' in text
    assert "vendor/uPlot.iife.min.js" in text and "vendor/uPlot.min.css" in text
    assert "fermentrack/dashboard.js" in text
    assert 'id="graph-colours"' in text


def test_the_cards_refresh_every_ten_seconds_from_one_request(brewer_client, device):
    text = brewer_client.get("/").content.decode()
    assert f'hx-get="{reverse("dashboard_cards")}" hx-trigger="every 10s"' in text
    update = brewer_client.get(reverse("dashboard_cards")).content.decode()
    assert 'id="card-status-fridge-1"' in update and 'hx-swap-oob="true"' in update


def test_a_card_warns_when_the_controller_missed_three_log_intervals(brewer_client, device):
    device.last_seen_at = timezone.now() - timedelta(seconds=16 * 60 + 5)  # interval 5 min
    device.save()
    text = brewer_client.get("/").content.decode()
    assert "The controller has not reported for 16 min; it should report every 5 min." in text


def test_a_card_says_when_the_controller_never_reported(brewer_client, device):
    device.last_seen_at = None
    device.status = {}
    device.save()
    text = brewer_client.get("/").content.decode()
    assert "The controller has not reported yet." in text
    assert "never" in text


def test_a_card_says_when_the_controller_cannot_reach_the_firmware(brewer_client, device):
    device.status = reported_status(connected=False, last_error="no answer on /dev/ttyUSB0")
    device.save()
    text = brewer_client.get("/").content.decode()
    assert "The controller cannot reach the firmware: no answer on /dev/ttyUSB0." in text


def test_the_dashboard_never_asks_a_controller(brewer_client, device, fake_controller):
    brewer_client.get("/")
    brewer_client.get(reverse("dashboard_cards"))
    brewer_client.get(detail_url())
    assert fake_controller.requests == []


# -- device page ------------------------------------------------------------------------------


def test_the_device_page_shows_the_lcd_and_readings(brewer_client, device):
    log_point(device)
    text = brewer_client.get(detail_url()).content.decode()
    assert "Heating for    05m12" in text
    assert "21.4" in text  # room
    assert "firmware 0.2.13 (avr)" in text
    assert f'hx-get="{reverse("device_status", args=["fridge-1"])}"' in text


def test_the_device_page_preselects_the_current_mode(brewer_client, device):
    response = brewer_client.get(detail_url())
    form = response.context["mode_form"]
    assert form.initial == {"mode": "beer_constant", "temperature": 19.0}


def test_the_device_page_links_each_profile_to_its_start_page(brewer_client, device):
    profile = FermentationProfile.objects.create(name="Ale")
    text = brewer_client.get(detail_url()).content.decode()
    assert f'href="{reverse("profile_start", args=[profile.pk])}?device=fridge-1"' in text


def test_an_unknown_device_is_a_404(brewer_client):
    assert brewer_client.get(detail_url("no-such")).status_code == 404


def test_the_status_part_refreshes_alone(brewer_client, device):
    response = brewer_client.get(reverse("device_status", args=["fridge-1"]))
    assert response.status_code == 200
    assert b'id="device-status"' in response.content and b"<html" not in response.content


def test_setting_beer_constant_sends_set_mode_with_the_temperature(
    brewer_client, device, fake_controller
):
    response = brewer_client.post(
        reverse("device_set_mode", args=["fridge-1"]),
        {"mode": "beer_constant", "temperature": "19.5"},
        follow=True,
    )
    assert fake_controller.requests == [
        {"cmd": "set_mode", "mode": "beer_constant", "temperature": 19.5}
    ]
    assert "fridge-1 is now in beer constant mode at 19.5 °C." in messages_of(response)


def test_setting_fridge_constant_sends_the_fridge_temperature(
    brewer_client, device, fake_controller
):
    brewer_client.post(
        reverse("device_set_mode", args=["fridge-1"]),
        {"mode": "fridge_constant", "temperature": "4"},
    )
    assert fake_controller.requests == [
        {"cmd": "set_mode", "mode": "fridge_constant", "temperature": 4.0}
    ]


def test_turning_off_sends_no_temperature(brewer_client, device, fake_controller):
    response = brewer_client.post(
        reverse("device_set_mode", args=["fridge-1"]),
        {"mode": "off", "temperature": "19"},
        follow=True,
    )
    assert fake_controller.requests == [{"cmd": "set_mode", "mode": "off"}]
    assert "fridge-1 is now off." in messages_of(response)


def test_a_constant_mode_ends_a_running_profile(brewer_client, device, fake_controller):
    profile = FermentationProfile.objects.create(name="Ale")
    device.active_profile = profile
    device.profile_started_at = timezone.now()
    device.save()
    version = device.config_version
    brewer_client.post(
        reverse("device_set_mode", args=["fridge-1"]),
        {"mode": "beer_constant", "temperature": "18"},
    )
    device.refresh_from_db()
    assert device.active_profile is None and device.profile_started_at is None
    assert device.config_version == version + 1


def test_a_mode_change_without_a_controller_says_so_plainly(brewer_client, device, no_controller):
    response = brewer_client.post(
        reverse("device_set_mode", args=["fridge-1"]),
        {"mode": "beer_constant", "temperature": "19.5"},
        follow=True,
    )
    assert response.status_code == 200
    assert messages_of(response) == [NOT_RUNNING]


def test_a_mode_change_the_controller_refuses_shows_its_reason(
    brewer_client, device, fake_controller
):
    fake_controller.refuse("set_mode", "firmware not connected")
    response = brewer_client.post(
        reverse("device_set_mode", args=["fridge-1"]),
        {"mode": "off"},
        follow=True,
    )
    assert messages_of(response) == [
        "The controller of fridge-1 refused the change: firmware not connected."
    ]


def test_a_controller_that_sends_garbage_gets_a_plain_message_not_a_500(
    brewer_client, device, fake_controller
):
    fake_controller.behaviour = "garbage"
    response = brewer_client.post(
        reverse("device_set_mode", args=["fridge-1"]), {"mode": "off"}, follow=True
    )
    assert response.status_code == 200
    (message,) = messages_of(response)
    assert message.startswith("The controller of fridge-1 gave an answer to 'set_mode' that is not")
    assert message.endswith("the change may not have been made.")


def test_a_mode_form_error_is_shown_on_the_device_page_and_nothing_is_sent(
    brewer_client, device, fake_controller
):
    response = brewer_client.post(
        reverse("device_set_mode", args=["fridge-1"]), {"mode": "beer_constant"}
    )
    assert response.status_code == 200
    assert "beer constant mode needs a temperature in °C, e.g. 19.5" in response.content.decode()
    assert fake_controller.requests == []


def test_mode_changes_accept_only_post(brewer_client, device):
    assert brewer_client.get(reverse("device_set_mode", args=["fridge-1"])).status_code == 405


# -- constants ---------------------------------------------------------------------------------


def test_the_constants_come_from_the_controller_with_units(brewer_client, device, fake_controller):
    response = brewer_client.get(reverse("device_constants", args=["fridge-1"]))
    text = response.content.decode()
    assert fake_controller.commands == ["status"]
    assert "Proportional gain (Kp) (°/°)" in text
    assert "Lowest setpoint (°C)" in text
    assert "Longest heating counted for the overshoot estimate (s)" in text
    assert 'name="initial-Kp"' in text
    assert "<html" in text  # a page of its own without htmx ...


def test_the_constants_load_into_the_device_page_with_htmx(brewer_client, device, fake_controller):
    page = brewer_client.get(detail_url()).content.decode()
    url = reverse("device_constants", args=["fridge-1"])
    assert f'hx-get="{url}" hx-trigger="load"' in page
    fragment = brewer_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and "Kp" in fragment


def constants_post(**changes) -> dict:
    from controller.fake_controller import DEFAULT_CONSTANTS

    data = {}
    for key, value in DEFAULT_CONSTANTS.items():
        if key == "tempFormat":
            continue
        if isinstance(value, bool):
            data[f"initial-{key}"] = str(value)
            if value:
                data[key] = "on"
        else:
            data[f"initial-{key}"] = str(value)
            data[key] = str(value)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_only_changed_constants_are_sent(brewer_client, device, fake_controller):
    response = brewer_client.post(
        reverse("device_constants", args=["fridge-1"]),
        constants_post(Kp="6.5", lah="on"),
        follow=True,
    )
    assert fake_controller.requests == [
        {"cmd": "set_constants", "constants": {"Kp": 6.5, "lah": True}}
    ]
    assert "Sent 2 changed constants to fridge-1: Kp, lah." in messages_of(response)


def test_unchanged_constants_send_nothing(brewer_client, device, fake_controller):
    response = brewer_client.post(
        reverse("device_constants", args=["fridge-1"]), constants_post(), follow=True
    )
    assert fake_controller.requests == []
    assert "Nothing was changed, so nothing was sent." in messages_of(response)


def test_a_constants_error_is_shown_and_nothing_is_sent(brewer_client, device, fake_controller):
    response = brewer_client.post(
        reverse("device_constants", args=["fridge-1"]), constants_post(beerFastFilt="9")
    )
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 6." in response.content.decode()
    assert fake_controller.requests == []


def test_the_constants_page_says_plainly_when_the_controller_is_not_running(
    brewer_client, device, no_controller
):
    response = brewer_client.get(reverse("device_constants", args=["fridge-1"]))
    assert response.status_code == 200
    assert "The controller of fridge-1 is not running. The constants cannot be read now." in (
        response.content.decode()
    )


def test_sending_constants_without_a_controller_says_so_plainly(
    brewer_client, device, no_controller
):
    response = brewer_client.post(
        reverse("device_constants", args=["fridge-1"]), constants_post(Kp="6"), follow=True
    )
    assert messages_of(response) == [NOT_RUNNING]


def test_a_guest_sees_the_constants_but_gets_no_form(guest_client, device, fake_controller):
    text = guest_client.get(reverse("device_constants", args=["fridge-1"])).content.decode()
    assert "Proportional gain (Kp)" in text and '<form method="post" action="/devices' not in text


# -- beers -------------------------------------------------------------------------------------


def test_starting_a_beer_logs_it_on_the_device(brewer_client, device):
    response = brewer_client.post(
        reverse("device_beer_start", args=["fridge-1"]), {"name": "Summer IPA"}, follow=True
    )
    beer = Beer.objects.get(device=device)
    assert beer.name == "Summer IPA" and beer.ended_at is None
    assert "Logging Summer IPA on fridge-1." in messages_of(response)


def test_starting_a_beer_ends_the_one_before(brewer_client, device):
    first = Beer.objects.create(device=device, name="Stout", started_at=int(time.time()) - 99)
    brewer_client.post(reverse("device_beer_start", args=["fridge-1"]), {"name": "Porter"})
    first.refresh_from_db()
    assert first.ended_at is not None
    assert Beer.objects.get(device=device, ended_at__isnull=True).name == "Porter"


def test_a_bad_beer_name_is_shown_on_the_device_page(brewer_client, device):
    response = brewer_client.post(reverse("device_beer_start", args=["fridge-1"]), {"name": "IPA!"})
    assert response.status_code == 200
    assert "a beer name may hold letters, digits, spaces" in response.content.decode()
    assert not Beer.objects.exists()


def test_stopping_the_beer_keeps_its_log(brewer_client, device):
    Beer.objects.create(device=device, name="Stout", started_at=int(time.time()) - 99)
    response = brewer_client.post(reverse("device_beer_stop", args=["fridge-1"]), follow=True)
    assert Beer.objects.get().ended_at is not None
    assert "Stopped Stout; its log is kept." in messages_of(response)


def test_stopping_when_no_beer_runs_says_so(brewer_client, device):
    response = brewer_client.post(reverse("device_beer_stop", args=["fridge-1"]), follow=True)
    assert "fridge-1 had no beer running." in messages_of(response)


# -- add, edit, new token, delete ------------------------------------------------------------


def test_adding_a_device_whose_controller_runs_elsewhere_shows_its_token_once_and_how_to_start_it(
    brewer_client,
):
    response = brewer_client.post(
        reverse("device_add"), add_form(controller_address="cellar-pi.local:7070")
    )
    assert response.status_code == 200
    token = response.context["token"]
    page = response.content.decode()
    assert token in page
    assert (
        f"FERMENTRACK_DEVICE_TOKEN={token} \\\nFERMENTRACK_API_URL=http://testserver \\\n"
        "fermentrack controller fridge-2 --listen 0.0.0.0:7070"
    ) in page
    assert response["Cache-Control"] == "no-store"
    device = Device.objects.get(name="fridge-2")
    assert device.link == "tcp://brewpi.local:23" and not device.simulated
    assert device.controller_address == "cellar-pi.local:7070"
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert device.token_matches(token)
    assert token not in brewer_client.get(detail_url("fridge-2")).content.decode()
    assert token not in str(brewer_client.session.items())


def test_adding_a_device_whose_controller_runs_here_shows_no_token_the_spawner_replaces(
    brewer_client,
):
    response = brewer_client.post(reverse("device_add"), add_form())

    assert response.status_code == 302
    page = brewer_client.get(response["Location"]).content.decode()
    assert "Added fridge-2: its controller starts on this computer within a few seconds." in page


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("cellar-pi.local", "must be HOST:PORT with a port from 1 to 65535"),
        ("cellar-pi.local:99999", "must be HOST:PORT with a port from 1 to 65535"),
        ("-x:7070", "must be HOST:PORT"),
    ],
)
def test_a_controller_address_that_is_not_host_and_port_is_refused(brewer_client, address, message):
    response = brewer_client.post(reverse("device_add"), add_form(controller_address=address))
    assert response.status_code == 200
    (error,) = response.context["form"].errors["controller_address"]
    assert message in error
    assert not Device.objects.filter(name="fridge-2").exists()


def test_a_chamber_whose_firmware_runs_here_keeps_its_controller_here(brewer_client, device):
    device.controller_address = "cellar-pi.local:7070"
    device.save()

    # The address field is hidden for these kinds: what it still holds is dropped, not refused.
    response = brewer_client.post(
        reverse("device_edit", args=["fridge-1"]),
        add_form(
            name="fridge-1",
            connection="simulated",
            controller_address="cellar-pi.local:7070",
            active="on",
        ),
    )

    assert response.status_code == 302, response.context["form"].errors
    device.refresh_from_db()
    assert (device.simulated, device.controller_address) == (True, "")


def test_moving_a_controller_to_another_computer_gives_a_new_token_to_take_there(
    brewer_client, device, fake_controller
):
    old_hash = device.token_hash
    response = brewer_client.post(
        reverse("device_edit", args=["fridge-1"]),
        add_form(
            name="fridge-1", host="192.168.1.20", controller_address="[fd00::7]:7070", active="on"
        ),
    )
    device.refresh_from_db()
    assert device.controller_address == "[fd00::7]:7070"
    assert device.token_hash != old_hash and device.token_matches(response.context["token"])
    assert "--listen [::]:7070" in response.content.decode()


def test_a_controller_on_this_computer_is_not_given_a_token_to_copy(brewer_client, device):
    old_hash = device.token_hash
    response = brewer_client.post(reverse("device_new_token", args=["fridge-1"]), follow=True)
    device.refresh_from_db()
    assert device.token_hash == old_hash
    assert (
        "runs on this computer and gets a fresh token each time it starts"
        in messages_of(response)[0]
    )


def test_adding_a_simulated_chamber_needs_no_link(brewer_client):
    brewer_client.post(reverse("device_add"), add_form(name="sim-1", connection="simulated"))
    device = Device.objects.get(name="sim-1")
    assert device.simulated and device.link == ""


def test_adding_a_simulated_chamber_leads_to_its_page_without_a_token_the_spawner_replaces(
    brewer_client,
):
    response = brewer_client.post(
        reverse("device_add"), add_form(name="sim-2", connection="simulated")
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("device_detail", args=["sim-2"])
    page = brewer_client.get(response["Location"])
    assert "start on this computer within a few seconds" in page.content.decode()


def test_the_add_form_starts_with_the_brewerys_unit(brewer_client):
    from fermentrack.web.brewery.models import BrewerySettings

    settings = BrewerySettings.load()
    settings.temp_format = "F"
    settings.save()
    form = brewer_client.get(reverse("device_add")).context["form"]
    assert form["temp_format"].value() == "F"
    assert form["log_interval_s"].value() == 30


def test_a_bad_name_on_the_add_page_shows_the_slug_rule(brewer_client):
    response = brewer_client.post(reverse("device_add"), add_form(name="My Fridge"))
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [
        "device name 'My Fridge' may hold only a-z, 0-9 and '-', start with a letter or digit, "
        "and be at most 48 characters"
    ]
    assert not Device.objects.filter(name="My Fridge").exists()


def test_editing_a_device_bumps_its_config_version_and_asks_the_controller_to_reload(
    brewer_client, device, fake_controller
):
    version = device.config_version
    response = brewer_client.post(
        reverse("device_edit", args=["fridge-1"]),
        add_form(name="ignored", host="192.168.1.30", log_interval_s="60", active="on"),
        follow=True,
    )
    device.refresh_from_db()
    assert device.name == "fridge-1"
    assert device.link == "tcp://192.168.1.30:23" and device.log_interval_s == 60
    assert device.config_version == version + 1
    assert fake_controller.commands == ["reload_config"]
    assert "Saved; the controller of fridge-1 reloaded it." in messages_of(response)


def test_editing_without_a_controller_still_saves(brewer_client, device, no_controller):
    response = brewer_client.post(
        reverse("device_edit", args=["fridge-1"]),
        add_form(name="fridge-1", log_interval_s="300", active="on"),
        follow=True,
    )
    device.refresh_from_db()
    assert device.log_interval_s == 300
    assert "Saved; the controller of fridge-1 picks it up when it runs." in messages_of(response)


def test_the_edit_form_shows_the_stored_connection(brewer_client, device):
    form = brewer_client.get(reverse("device_edit", args=["fridge-1"])).context["form"]
    assert form["connection"].value() == "tcp"
    assert form["host"].value() == "192.168.1.20" and form["port"].value() == 23


def test_saving_an_unchanged_device_does_not_bump_its_version(brewer_client, device):
    version = device.config_version
    brewer_client.post(
        reverse("device_edit", args=["fridge-1"]),
        add_form(name="fridge-1", host="192.168.1.20", log_interval_s="300", active="on"),
    )
    device.refresh_from_db()
    assert device.config_version == version


def test_a_new_token_replaces_the_old_one(brewer_client, device):
    device.controller_address = "cellar-pi.local:7070"
    device.save()
    old_hash = device.token_hash
    response = brewer_client.post(reverse("device_new_token", args=["fridge-1"]))
    token = response.context["token"]
    device.refresh_from_db()
    assert device.token_hash != old_hash and device.token_matches(token)
    assert "The old token no longer works." in response.content.decode()


def test_deleting_a_device_needs_its_name_typed(brewer_client, device):
    url = reverse("device_delete", args=["fridge-1"])
    assert "This deletes fridge-1 with its 0 beers" in brewer_client.get(url).content.decode()
    response = brewer_client.post(url, {"confirm_name": "fridge"})
    assert "type fridge-1 to confirm; you typed &#x27;fridge&#x27;" in response.content.decode()
    assert Device.objects.filter(name="fridge-1").exists()
    response = brewer_client.post(url, {"confirm_name": "fridge-1"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert not Device.objects.filter(name="fridge-1").exists()


# -- who may do what ---------------------------------------------------------------------------


CHANGES = [
    ("device_set_mode", {"mode": "off"}),
    ("device_constants", {"initial-Kp": "5.0", "Kp": "6"}),
    ("device_beer_start", {"name": "Stout"}),
    ("device_beer_stop", {}),
    ("device_edit", {}),
    ("device_new_token", {}),
    ("device_delete", {"confirm_name": "fridge-1"}),
]


@pytest.mark.parametrize(("url_name", "data"), CHANGES, ids=[name for name, _ in CHANGES])
def test_a_guest_gets_403_on_every_change_and_nothing_is_sent(
    guest_client, device, fake_controller, url_name, data
):
    response = guest_client.post(reverse(url_name, args=["fridge-1"]), data)
    assert response.status_code == 403
    assert fake_controller.requests == []
    assert Device.objects.filter(name="fridge-1").exists()


def test_a_guest_gets_403_on_adding_a_device(guest_client):
    assert guest_client.get(reverse("device_add")).status_code == 403
    assert guest_client.post(reverse("device_add"), add_form()).status_code == 403
    assert not Device.objects.exists()


@pytest.mark.parametrize(("url_name", "data"), CHANGES, ids=[name for name, _ in CHANGES])
def test_anonymous_changes_go_to_the_login_page_even_on_an_open_dashboard(
    anonymous_client, device, fake_controller, open_dashboard, url_name, data
):
    response = anonymous_client.post(reverse(url_name, args=["fridge-1"]), data)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert fake_controller.requests == []


def test_a_guest_sees_the_device_page_without_controls(guest_client, device):
    text = guest_client.get(detail_url()).content.decode()
    assert "Log in as a brewer to change it." in text
    assert reverse("device_set_mode", args=["fridge-1"]) not in text
    assert reverse("device_edit", args=["fridge-1"]) not in text


@pytest.mark.parametrize("who", ["brewer_client", "admin_client"])
def test_brewers_and_admins_may_change_the_mode(request, who, device, fake_controller):
    client = request.getfixturevalue(who)
    text = client.get(detail_url()).content.decode()
    assert reverse("device_set_mode", args=["fridge-1"]) in text
    client.post(reverse("device_set_mode", args=["fridge-1"]), {"mode": "off"})
    assert fake_controller.commands == ["set_mode"]


def test_the_device_page_follows_the_dashboard_login_rule(anonymous_client, device):
    response = anonymous_client.get(detail_url())
    assert response.status_code == 302


def test_an_open_dashboard_shows_the_device_page_without_controls(
    anonymous_client, device, open_dashboard
):
    response = anonymous_client.get(detail_url())
    assert response.status_code == 200
    assert reverse("device_set_mode", args=["fridge-1"]).encode() not in response.content


def test_forms_need_a_csrf_token(brewer, device, fake_controller):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(brewer)
    response = client.post(reverse("device_set_mode", args=["fridge-1"]), {"mode": "off"})
    assert response.status_code == 403
    assert fake_controller.requests == []


def test_the_device_page_says_which_gravity_a_running_profile_is_holding_for(brewer_client, device):
    profile = FermentationProfile.objects.create(name="Ale")
    profile.points.create(offset_s=0, temperature=20.0)
    profile.points.create(
        offset_s=86400,
        temperature=20.0,
        hold_until="gravity_at_most",
        hold_gravity=1.03,
        hold_max_s=3 * 86400,
    )
    profile.points.create(offset_s=2 * 86400, temperature=22.0)
    started = timezone.now() - timedelta(days=1, hours=5)
    device.active_profile = profile
    device.profile_started_at = started
    since = int(time.time()) - 5 * 3600
    device.profile_progress = {
        "id": profile.pk,
        "started_at": int(started.timestamp()),
        "holds": [],
        "holding": {"index": 1, "since": since},
    }
    device.save()

    page = brewer_client.get(reverse("device_detail", args=["fridge-1"])).content.decode()

    assert "holding until gravity ≤ 1.030 for 5 hours (at most 3 days)" in page

    # A progress left from an earlier run of the profile says nothing about this one.
    device.profile_progress = {**device.profile_progress, "started_at": since - 7 * 86400}
    device.save()
    page = brewer_client.get(reverse("device_detail", args=["fridge-1"])).content.decode()
    assert "holding until" not in page
