"""Which processes the spawner runs for a device: a controller for every active device, and our
firmware beside it when the chamber is simulated or on this Pi's own pins."""

from __future__ import annotations

import pytest

from fermentrack import config
from fermentrack.procman.layout import Layout
from fermentrack.web.devices.models import Device
from fermentrack.web.devices.watchers import device_watchers

pytestmark = pytest.mark.django_db


def specs_of(device: Device, home) -> dict[str, tuple[str, ...]]:
    return {spec.name: spec.args for spec in device_watchers(device, Layout(home))}


def option(args: tuple[str, ...], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def test_a_device_reached_by_its_link_gets_a_controller_only(tmp_path):
    device = Device.objects.create(name="fridge-1", link="tcp://brewpi.local:23")
    assert list(specs_of(device, tmp_path)) == ["dev-fridge-1"]


def test_a_simulated_chamber_gets_our_firmware_fitted_and_holding_the_beer(tmp_path):
    device = Device.objects.create(name="fridge-1", simulated=True, dialect="avr")
    specs = specs_of(device, tmp_path)
    firmware = specs["fw-fridge-1"]
    assert option(firmware, "--hardware") == "sim"
    assert option(firmware, "--dialect") == "avr"
    assert option(firmware, "--fit-chamber") == "19.0"


def test_a_chamber_on_this_pis_pins_gets_our_firmware_on_the_pi_hardware_unfitted(tmp_path):
    device = Device.objects.create(name="keezer", pi_gpio=True)
    specs = specs_of(device, tmp_path)
    firmware = specs["fw-keezer"]
    assert option(firmware, "--hardware") == "pi"
    assert option(firmware, "--pty") == str(Layout(tmp_path).firmware_pty("keezer"))
    # Which probe is the beer's only the brewer knows: nothing is assigned for them.
    assert "--fit-chamber" not in firmware
    controller = {spec.name: spec for spec in device_watchers(device, Layout(tmp_path))}
    link = controller["dev-keezer"].env["FERMENTRACK_DEVICE_LINK"]
    assert link == f"serial://{Layout(tmp_path).firmware_pty('keezer')}"


def test_a_device_whose_controller_runs_on_another_computer_gets_no_process_here(tmp_path):
    device = Device.objects.create(
        name="far", link="tcp://192.168.1.40:23", controller_address="cellar-pi.local:7070"
    )
    assert specs_of(device, tmp_path) == {}


def test_client_py_is_told_where_a_controller_on_another_computer_answers(tmp_path):
    from fermentrack.controller.client import Remote
    from fermentrack.web.devices.remote_controllers import remote_controller

    device = Device(name="far", link="tcp://192.168.1.40:23", controller_address="[fd00::7]:7070")
    token = device.issue_token()
    device.save()
    Device.objects.create(name="near", link="tcp://192.168.1.41:23")

    assert remote_controller("far") == Remote("fd00::7", 7070, config.token_fingerprint(token))
    assert remote_controller("near") is None
    assert remote_controller("gone") is None
