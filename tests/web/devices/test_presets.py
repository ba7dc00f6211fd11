"""Presets of control constants: saved from what one chamber's controller holds now, given to
another chamber in the same unit (only the constants that differ are sent), deleted; refused in
words for another unit, a taken name, a controller that does not answer, or a guest."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fermentrack.web.devices.models import ConstantsPreset, Device

pytestmark = pytest.mark.django_db


@pytest.fixture
def twin(db) -> Device:
    return Device.objects.create(name="fridge-2", link="tcp://192.168.1.21:23")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def save(client, device: str, name: str):
    return client.post(reverse("device_preset_save", args=[device]), {"name": name}, follow=True)


def give(client, device: str, preset: ConstantsPreset):
    url = reverse("device_preset_give", args=[device, preset.pk])
    return client.post(url, follow=True)


def test_a_chambers_constants_are_saved_as_a_preset_without_its_unit(
    brewer_client, device, fake_controller
):
    fake_controller.state["constants"]["Kp"] = 7.5

    answer = save(brewer_client, "fridge-1", "Chest freezer, tuned")

    preset = ConstantsPreset.objects.get()
    assert (preset.name, preset.temp_format, preset.saved_from) == (
        "Chest freezer, tuned",
        "C",
        "fridge-1",
    )
    assert preset.constants["Kp"] == 7.5 and "tempFormat" not in preset.constants
    assert not {"lah", "hs"} & set(preset.constants)  # the chamber's wiring stays its own
    count = len(preset.constants)
    assert messages_of(answer) == [
        f"Saved {count} constants of fridge-1 as the preset Chest freezer, tuned."
    ]
    assert "Chest freezer, tuned" in answer.content.decode()


def test_giving_a_preset_sends_only_the_constants_that_differ(
    brewer_client, device, twin, start_controller
):
    first, second = start_controller("fridge-1"), start_controller("fridge-2")
    first.state["constants"].update({"Kp": 7.5, "Ki": 0.3})
    save(brewer_client, "fridge-1", "Tuned")

    answer = give(brewer_client, "fridge-2", ConstantsPreset.objects.get())

    (sent,) = [r["constants"] for r in second.requests if r["cmd"] == "set_constants"]
    assert sent == {"Kp": 7.5, "Ki": 0.3}
    assert second.state["constants"]["Kp"] == 7.5
    assert messages_of(answer) == [
        "Sent 2 changed constants to fridge-2: Kp, Ki (from the preset Tuned)."
    ]
    again = give(brewer_client, "fridge-2", ConstantsPreset.objects.get())
    assert messages_of(again) == ["fridge-2 already holds every constant of Tuned."]


def test_a_preset_in_another_unit_is_not_given_and_not_offered(
    brewer_client, device, twin, start_controller
):
    second = start_controller("fridge-2")
    preset = ConstantsPreset.objects.create(
        name="American fridge", temp_format="F", constants={"tempSetMax": 86.0}, saved_from="x"
    )

    answer = give(brewer_client, "fridge-2", preset)

    assert messages_of(answer) == [
        "The preset American fridge holds temperatures in °F and fridge-2 works in °C: nothing "
        "was sent."
    ]
    assert "set_constants" not in second.commands
    page = brewer_client.get(reverse("device_constants", args=["fridge-2"])).content.decode()
    assert "American fridge" not in page


def test_a_taken_name_is_refused_whatever_its_case(brewer_client, device, fake_controller):
    save(brewer_client, "fridge-1", "Tuned")

    answer = save(brewer_client, "fridge-1", "tuned")

    assert ConstantsPreset.objects.count() == 1
    assert messages_of(answer) == [
        "a preset named 'tuned' already exists: choose another name, or delete that one first"
    ]


def test_a_controller_that_does_not_answer_saves_nothing_and_gets_nothing(
    brewer_client, device, no_controller
):
    answer = save(brewer_client, "fridge-1", "Tuned")
    assert messages_of(answer) == [
        "The controller of fridge-1 is not running: its constants cannot be read."
    ]
    preset = ConstantsPreset.objects.create(
        name="Tuned", temp_format="C", constants={"Kp": 7.5}, saved_from="fridge-9"
    )
    answer = give(brewer_client, "fridge-1", preset)
    assert messages_of(answer) == [
        "The controller of fridge-1 is not running: its constants cannot be read. Nothing was sent."
    ]


def test_a_preset_is_deleted(brewer_client, device, fake_controller):
    save(brewer_client, "fridge-1", "Tuned")
    preset = ConstantsPreset.objects.get()

    url = reverse("device_preset_delete", args=["fridge-1", preset.pk])
    answer = brewer_client.post(url, follow=True)

    assert not ConstantsPreset.objects.exists()
    assert messages_of(answer) == ["Deleted the preset Tuned."]


def test_guests_may_not_save_give_or_delete_presets(guest_client, device, fake_controller):
    preset = ConstantsPreset.objects.create(
        name="Tuned", temp_format="C", constants={"Kp": 7.5}, saved_from="fridge-9"
    )
    for name, args in (
        ("device_preset_save", ["fridge-1"]),
        ("device_preset_give", ["fridge-1", preset.pk]),
        ("device_preset_delete", ["fridge-1", preset.pk]),
    ):
        assert guest_client.post(reverse(name, args=args), {"name": "x"}).status_code == 403
    assert list(ConstantsPreset.objects.values_list("name", flat=True)) == ["Tuned"]
    assert "set_constants" not in fake_controller.commands
