"""Commands over MQTT follow the device page's rules: who may, which values, what is sent."""

from __future__ import annotations

from fermentrack.web.devices.models import Device
from fermentrack.web.mqtt.commands import apply_command
from fermentrack.web.mqtt.models import MqttSettings
from fermentrack.web.profiles.models import FermentationProfile


def set_modes(fake) -> list[dict]:
    return [request for request in fake.requests if request.get("cmd") == "set_mode"]


def test_a_beer_setting_puts_the_chamber_in_beer_constant_mode_at_it(
    commanding, device, fake_controller
):
    outcome = apply_command(commanding, "fridge-1", "beer_setting", b"19.5")
    assert outcome.ok, outcome.message
    assert outcome.message == "fridge-1 is now in beer constant mode at 19.5 °C."
    assert set_modes(fake_controller) == [
        {"cmd": "set_mode", "mode": "beer_constant", "temperature": 19.5}
    ]


def test_choosing_a_constant_mode_keeps_the_setting_the_chamber_holds(
    commanding, device, fake_controller
):
    fake_controller.state["fridge_set"] = 4.04
    outcome = apply_command(commanding, "fridge-1", "mode", b"Fridge constant")
    assert outcome.ok, outcome.message
    assert set_modes(fake_controller)[-1] == {
        "cmd": "set_mode",
        "mode": "fridge_constant",
        "temperature": 4.0,
    }


def test_off_needs_no_temperature(commanding, device, fake_controller):
    assert apply_command(commanding, "fridge-1", "mode", b"off").ok
    assert set_modes(fake_controller) == [{"cmd": "set_mode", "mode": "off"}]


def test_a_setting_out_of_the_pages_range_is_refused_with_the_range(
    commanding, device, fake_controller
):
    outcome = apply_command(commanding, "fridge-1", "fridge_setting", b"99")
    assert not outcome.ok
    assert "temperature 99 °C is out of range: expected -10.0 to 60.0 °C" in outcome.message
    assert outcome.message.startswith("fridge_setting command for fridge-1 refused: ")
    assert set_modes(fake_controller) == []


def test_a_setting_with_two_decimals_is_refused_as_the_page_refuses_it(
    commanding, device, fake_controller
):
    outcome = apply_command(commanding, "fridge-1", "beer_setting", b"19.55")
    assert not outcome.ok and "decimal place" in outcome.message
    assert set_modes(fake_controller) == []


def test_nothing_is_sent_while_commands_are_turned_off(commanding, device, fake_controller):
    commanding.accept_commands = False
    outcome = apply_command(commanding, "fridge-1", "beer_setting", b"19.5")
    assert outcome.message == (
        "beer_setting command for fridge-1 refused: commands from MQTT are turned off in "
        "Fermentrack's MQTT settings"
    )
    assert fake_controller.requests == []


def test_commands_acting_as_a_guest_are_refused(commanding, guest, device, fake_controller):
    commanding.command_user = guest
    outcome = apply_command(commanding, "fridge-1", "mode", b"off")
    assert not outcome.ok and "guest, whom MQTT commands act as, may not change" in outcome.message
    assert fake_controller.requests == []


def test_commands_acting_as_nobody_are_refused(commanding, device, fake_controller):
    commanding.command_user = None
    outcome = apply_command(commanding, "fridge-1", "mode", b"off")
    assert "no person is chosen for MQTT commands to act as" in outcome.message


def test_a_command_for_a_missing_or_switched_off_device_is_refused(commanding, device):
    assert (
        "there is no device named 'cellar'"
        in apply_command(commanding, "cellar", "mode", b"off").message
    )
    Device.objects.filter(pk=device.pk).update(active=False)
    assert (
        "fridge-1 is switched off" in apply_command(commanding, "fridge-1", "mode", b"off").message
    )


def test_an_unknown_command_or_mode_is_refused_in_words(commanding, device, fake_controller):
    assert "'heat' is not a command: expected one of mode, beer_setting, fridge_setting" in (
        apply_command(commanding, "fridge-1", "heat", b"1").message
    )
    assert "mode 'warm' is not one of Off, Fridge constant" in (
        apply_command(commanding, "fridge-1", "mode", b"warm").message
    )
    assert set_modes(fake_controller) == []


def test_a_profile_runs_only_when_one_is_set_for_the_device(commanding, device, fake_controller):
    outcome = apply_command(commanding, "fridge-1", "mode", b"Beer profile")
    assert "no profile is set to run on fridge-1: start one on its page first" in outcome.message
    profile = FermentationProfile.objects.create(name="Ale", temp_format="C")
    Device.objects.filter(pk=device.pk).update(active_profile=profile)
    assert apply_command(commanding, "fridge-1", "mode", b"Beer profile").ok
    assert set_modes(fake_controller) == [{"cmd": "set_mode", "mode": "profile"}]


def test_a_controller_that_refuses_is_reported_as_the_page_reports_it(
    commanding, device, fake_controller
):
    fake_controller.refuse("set_mode", "firmware not connected")
    outcome = apply_command(commanding, "fridge-1", "beer_setting", b"18")
    assert outcome == outcome.__class__(
        False, "The controller of fridge-1 refused the change: firmware not connected."
    )


def test_settings_are_read_fresh_so_turning_commands_off_needs_no_restart(commanding, device):
    MqttSettings.objects.filter(pk=1).update(accept_commands=False)
    fresh = MqttSettings.objects.get(pk=1)
    assert "turned off" in apply_command(fresh, "fridge-1", "mode", b"off").message


def test_the_modes_offered_over_mqtt_carry_the_device_pages_words():
    from fermentrack.mqtt.state import MODE_LABELS
    from fermentrack.web.devices.cards import MODE_NAMES

    assert {mode: MODE_NAMES[mode] for mode in MODE_LABELS} == MODE_LABELS
