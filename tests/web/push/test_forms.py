"""The push target form: only the chosen service's fields, its interval limit refused in words,
keys required where the service needs one and never shown back, addresses checked."""

from __future__ import annotations

import pytest

from fermentrack.push.services import Service
from fermentrack.web.push.forms import PushTargetForm
from fermentrack.web.push.models import PushTarget


def form(service: Service, instance=None, **data) -> PushTargetForm:
    return PushTargetForm(
        {"name": "Target", "active": "on", **data}, instance=instance, service=service
    )


@pytest.mark.django_db
def test_brewfather_refuses_an_interval_shorter_than_15_minutes_with_its_reason(tilt):
    bound = form(
        Service.BREWFATHER,
        url="https://log.brewfather.net/stream?id=x",
        sensor=tilt.pk,
        interval_s=300,
    )
    assert not bound.is_valid()
    assert bound.errors["interval_s"] == [
        "every 5 min is too often for Brewfather: Brewfather ignores posts that come more often "
        "than once per 15 min; choose 15 min or longer"
    ]


@pytest.mark.django_db
def test_brewers_friend_offers_only_15_minutes_and_longer(tilt):
    offered = [
        value
        for value, _ in PushTargetForm(service=Service.BREWERS_FRIEND).fields["interval_s"].choices
    ]
    assert offered == [900, 1800, 3600]
    generic = PushTargetForm(service=Service.GENERIC).fields["interval_s"].choices
    assert generic[0] == (60, "1 min")


@pytest.mark.django_db
def test_an_interval_off_the_menu_is_refused(tilt):
    bound = form(Service.GENERIC, url="http://x.example/in", interval_s=61)
    assert not bound.is_valid()
    assert "interval_s" in bound.errors


@pytest.mark.django_db
def test_a_missing_key_is_refused_saying_where_to_find_it(chamber):
    bound = form(Service.THINGSPEAK, controller=chamber.pk, interval_s=60)
    assert not bound.is_valid()
    assert bound.errors["api_key"] == [
        "ThingSpeak needs your API key: the channel's Write API Key (the channel's API Keys tab)"
    ]


@pytest.mark.django_db
def test_an_address_without_a_scheme_is_refused_with_the_address_to_write(tilt):
    bound = form(
        Service.BREWFATHER, url="log.brewfather.net/stream?id=x", sensor=tilt.pk, interval_s=900
    )
    assert not bound.is_valid()
    assert bound.errors["url"] == [
        "'log.brewfather.net/stream?id=x' does not start with http:// or https://; write the whole "
        "address, e.g. https://log.brewfather.net/stream?id=x"
    ]


@pytest.mark.django_db
def test_brewfather_takes_a_sensor_or_a_controller_not_both_and_not_neither(tilt, chamber):
    both = form(
        Service.BREWFATHER,
        url="https://bf.example/s?id=1",
        sensor=tilt.pk,
        controller=chamber.pk,
        interval_s=900,
    )
    assert not both.is_valid()
    assert "not both" in str(both.non_field_errors())
    neither = form(Service.BREWFATHER, url="https://bf.example/s?id=1", interval_s=900)
    assert not neither.is_valid()
    assert "a gravity sensor or a controller" in str(neither.non_field_errors())


@pytest.mark.django_db
def test_each_service_shows_only_its_own_fields():
    def shown(service):
        return list(PushTargetForm(service=service).fields)

    assert shown(Service.BREWERS_FRIEND) == ["name", "active", "api_key", "sensor", "interval_s"]
    assert shown(Service.THINGSPEAK) == ["name", "active", "api_key", "controller", "interval_s"]
    assert shown(Service.GRAINFATHER) == [
        "name",
        "active",
        "url",
        "brew_id",
        "sensor",
        "interval_s",
    ]


@pytest.mark.django_db
def test_an_edit_keeps_the_stored_key_when_left_empty_and_never_shows_it(tilt):
    target = PushTarget.objects.create(
        name="BF",
        service=Service.BREWERS_FRIEND,
        api_key="secret-key-5678",
        sensor=tilt,
        interval_s=900,
    )
    edit = form(Service.BREWERS_FRIEND, instance=target, sensor=tilt.pk, interval_s=1800)
    assert "secret-key-5678" not in str(edit["api_key"])
    assert edit.is_valid(), edit.errors
    saved = edit.save()
    assert (saved.api_key, saved.interval_s) == ("secret-key-5678", 1800)


@pytest.mark.django_db
def test_a_key_with_spaces_is_refused(tilt):
    bound = form(Service.BREWERS_FRIEND, api_key="abc def", sensor=tilt.pk, interval_s=900)
    assert not bound.is_valid()
    assert "no spaces" in bound.errors["api_key"][0]


@pytest.mark.django_db
def test_generic_with_chosen_controllers_needs_at_least_one_ticked(chamber):
    bound = form(
        Service.GENERIC,
        url="http://x.example/in",
        interval_s=60,
        send_controllers="chosen",
        send_sensors="none",
    )
    assert not bound.is_valid()
    assert bound.errors["chosen_controllers"] == [
        "tick at least one controller, or choose All or None"
    ]
    ok = form(
        Service.GENERIC,
        url="http://x.example/in",
        interval_s=60,
        send_controllers="chosen",
        chosen_controllers=[chamber.pk],
        send_sensors="none",
    )
    assert ok.is_valid(), ok.errors
    assert list(ok.save().chosen_controllers.all()) == [chamber]


@pytest.mark.django_db
def test_saving_an_edit_with_the_key_left_empty_and_nothing_else_changed_changes_nothing(tilt):
    # A 'changed' target is marked due at once: an untouched key must not count as a change.
    target = PushTarget.objects.create(
        name="Target",
        service=Service.BREWERS_FRIEND,
        api_key="secret-key-5678",
        sensor=tilt,
        interval_s=900,
    )
    edit = form(Service.BREWERS_FRIEND, instance=target, sensor=tilt.pk, interval_s=900)
    assert edit.is_valid(), edit.errors
    assert not edit.has_changed()
    assert form(
        Service.BREWERS_FRIEND, instance=target, api_key="new-key-1", sensor=tilt.pk, interval_s=900
    ).has_changed()
