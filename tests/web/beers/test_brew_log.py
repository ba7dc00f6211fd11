"""A beer's brew log: entries a brewer adds at a time of the beer (now by default), marked on
the graph as a person's notes, listed on the beer's page, removable, refused in words when they
fall outside the beer or are not one line of text."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from fermentrack.web.beers.models import Annotation, Beer
from fermentrack.web.brewery.models import BrewerySettings
from fermentrack.web.devices.models import Device

pytestmark = pytest.mark.django_db

MAY_1_2025_NOON_UTC = 1_746_100_800
DAY = 86400


@pytest.fixture
def device() -> Device:
    return Device.objects.create(name="fridge-1", simulated=True)


@pytest.fixture
def ended(device) -> Beer:
    return Beer.objects.create(
        device=device,
        name="Pale Ale",
        started_at=MAY_1_2025_NOON_UTC,
        ended_at=MAY_1_2025_NOON_UTC + 14 * DAY,
    )


@pytest.fixture
def logging_now(device) -> Beer:
    return Beer.objects.create(device=device, name="Stout", started_at=int(time.time()) - DAY)


@pytest.fixture
def amsterdam():
    brewery = BrewerySettings.load()
    brewery.time_zone = "Europe/Amsterdam"
    brewery.save()


def add(client, beer: Beer, **data):
    return client.post(reverse("beer_log_add", args=[beer.pk]), data)


def test_an_entry_without_a_time_is_logged_now_by_the_brewer_and_listed(
    brewer_client, brewer, logging_now
):
    before = int(time.time())
    answer = add(brewer_client, logging_now, text="Pitched US-05")

    assert answer.status_code == 302
    (note,) = Annotation.objects.all()
    assert before <= note.ts <= int(time.time())
    assert (note.text, note.source, note.created_by) == ("Pitched US-05", "person", brewer)
    page = brewer_client.get(reverse("beer_detail", args=[logging_now.pk])).content.decode()
    assert "Pitched US-05" in page and brewer.username in page
    assert "Added to the brew log at" in page


def test_an_entrys_time_is_read_in_the_brewerys_zone(brewer_client, ended, amsterdam):
    add(brewer_client, ended, text="Dry hopped with 100 g Citra", at="2025-05-06T09:30")

    (note,) = Annotation.objects.all()
    assert note.ts == MAY_1_2025_NOON_UTC + 5 * DAY - int(4.5 * 3600)  # 09:30 CEST is 07:30 UTC
    page = brewer_client.get(reverse("beer_detail", args=[ended.pk])).content.decode()
    assert "2025-05-06 09:30" in page


def test_the_graph_and_the_csv_carry_the_entry_as_a_persons_note(brewer_client, ended):
    add(brewer_client, ended, text="Cold crash", at="2025-05-13T12:00")

    graph = brewer_client.get(
        f"/api/beers/{ended.pk}/graph?start={ended.started_at}&end={ended.ended_at}"
    ).json()
    assert [(a["text"], a["source"]) for a in graph["annotations"]] == [("Cold crash", "person")]
    csv = b"".join(brewer_client.get(reverse("beer_csv", args=[ended.pk])).streaming_content)
    assert "Cold crash" in csv.decode()


@pytest.mark.parametrize(
    ("at", "words"),
    [
        ("2025-04-30T12:00", "2025-04-30 12:00 is outside the beer"),
        ("2025-05-20T12:00", "and 2025-05-15 12:00"),
        ("yesterday", "Enter a valid date/time."),
    ],
)
def test_a_time_outside_the_beer_is_refused_saying_when_the_beer_ran(
    brewer_client, ended, at, words
):
    answer = add(brewer_client, ended, text="Too early or late", at=at)

    assert answer.status_code == 400
    (error,) = answer.context["log_form"].errors["at"]
    assert words in error
    if "outside" in error:
        assert "between its start, 2025-05-01 12:00" in error
    assert not Annotation.objects.exists()


def test_an_entry_in_the_future_of_a_logging_beer_is_refused(brewer_client, logging_now):
    tomorrow = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + DAY))
    answer = add(brewer_client, logging_now, text="Bottled", at=tomorrow)

    (error,) = answer.context["log_form"].errors["at"]
    assert error.endswith("and now")
    assert not Annotation.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "This field is required."),
        ("two\nlines", "an entry is one line of text: no tabs or line breaks"),
        ("x" * 501, "Ensure this value has at most 500 characters (it has 501)."),
    ],
)
def test_an_entry_must_be_one_line_of_at_most_500_characters(
    brewer_client, logging_now, text, message
):
    answer = add(brewer_client, logging_now, text=text)

    assert answer.context["log_form"].errors["text"] == [message]
    assert not Annotation.objects.exists()


def test_an_entry_is_removed_and_only_a_persons_entry_of_this_beer_can_be(
    brewer_client, ended, device
):
    add(brewer_client, ended, text="Oops", at="2025-05-02T12:00")
    (note,) = Annotation.objects.all()
    firmware = Annotation.objects.create(
        device=device, ts=ended.started_at + 60, text="Fridge door opened", source="firmware"
    )
    other = Annotation.objects.create(
        device=device, ts=ended.ended_at + DAY, text="another beer's", source="person"
    )

    for foreign in (firmware, other):
        url = reverse("beer_log_delete", args=[ended.pk, foreign.pk])
        assert brewer_client.post(url).status_code == 404
    answer = brewer_client.post(reverse("beer_log_delete", args=[ended.pk, note.pk]), follow=True)

    assert "Removed from the brew log: Oops" in answer.content.decode()
    assert set(Annotation.objects.values_list("text", flat=True)) == {
        "Fridge door opened",
        "another beer's",
    }


def test_guests_see_the_log_but_may_not_add_or_remove(guest_client, brewer_client, ended):
    add(brewer_client, ended, text="Pitched", at="2025-05-01T13:00")
    (note,) = Annotation.objects.all()

    page = guest_client.get(reverse("beer_detail", args=[ended.pk])).content.decode()
    assert "Pitched" in page and "Add to the brew log" not in page and "Remove" not in page
    assert add(guest_client, ended, text="Hacked").status_code == 403
    assert (
        guest_client.post(reverse("beer_log_delete", args=[ended.pk, note.pk])).status_code == 403
    )
    assert Annotation.objects.count() == 1


def test_an_entry_written_this_second_is_on_a_graph_that_ends_this_second(
    brewer_client, logging_now
):
    add(brewer_client, logging_now, text="Gravity 1.012 by hand")
    (note,) = Annotation.objects.all()

    graph = brewer_client.get(
        f"/api/beers/{logging_now.pk}/graph?start={logging_now.started_at}&end={note.ts}"
    ).json()

    assert [a["text"] for a in graph["annotations"]] == ["Gravity 1.012 by hand"]


def test_an_ended_beers_entry_needs_its_time_and_says_when_the_beer_ran(brewer_client, ended):
    answer = add(brewer_client, ended, text="Bottled")

    assert answer.context["log_form"].errors["at"] == ["This field is required."]
    assert "between 2025-05-01 12:00 and 2025-05-15 12:00" in answer.content.decode()
    assert not Annotation.objects.exists()


def test_an_ended_beers_page_says_when_it_ran_in_the_brewerys_zone(brewer_client, ended, amsterdam):
    page = brewer_client.get(reverse("beer_detail", args=[ended.pk])).content.decode()

    assert "between 2025-05-01 14:00 and 2025-05-15 14:00" in page  # noon UTC is 14:00 CEST
