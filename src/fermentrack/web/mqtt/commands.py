"""Commands that arrive over MQTT, carried out as the device page would carry them out: the same
permission rule (brewery/access.py), the same form (devices/forms.py ModeForm) and the same
function (devices/control.py change_mode)."""

from __future__ import annotations

from fermentrack.controller import client
from fermentrack.controller.client import ControllerProblem
from fermentrack.mqtt.commands import CommandRefused, parse_mode, parse_temperature
from fermentrack.mqtt.topics import COMMANDS
from fermentrack.web.brewery.access import can_change
from fermentrack.web.devices import control
from fermentrack.web.devices.control import Outcome
from fermentrack.web.devices.forms import ModeForm
from fermentrack.web.devices.models import Device
from fermentrack.web.mqtt.models import MqttSettings

STATUS_TIMEOUT_S = 1.5


def apply_command(
    settings: MqttSettings, device_name: str, command: str, payload: bytes
) -> Outcome:
    """Carry out one command; the outcome's message says what happened or why not."""
    try:
        return _apply(settings, device_name, command, payload)
    except CommandRefused as refusal:
        return Outcome(False, f"{command} command for {device_name} refused: {refusal}")


def _apply(settings: MqttSettings, device_name: str, command: str, payload: bytes) -> Outcome:
    if not settings.accept_commands:
        raise CommandRefused("commands from MQTT are turned off in Fermentrack's MQTT settings")
    user = settings.command_user
    if user is None:
        raise CommandRefused("no person is chosen for MQTT commands to act as")
    if not can_change(user):
        raise CommandRefused(f"{user.username}, whom MQTT commands act as, may not change anything")
    if command not in COMMANDS:
        raise CommandRefused(f"{command!r} is not a command: expected one of {', '.join(COMMANDS)}")
    device = Device.objects.filter(name=device_name).first()
    if device is None:
        raise CommandRefused(f"there is no device named {device_name!r}")
    if not device.active:
        raise CommandRefused(f"{device.name} is switched off: no controller runs for it")
    if command == "mode":
        mode = parse_mode(payload)
        if mode == "profile":
            if device.active_profile_id is None:
                raise CommandRefused(
                    f"no profile is set to run on {device.name}: start one on its page first"
                )
            return control.change_mode(device, "profile", None)
        temperature = None if mode == "off" else _current_setting(device, mode)
    elif command == "beer_setting":
        mode, temperature = "beer_constant", parse_temperature(payload, "beer setting")
    else:
        mode, temperature = "fridge_constant", parse_temperature(payload, "fridge setting")
    form = ModeForm(
        {"mode": mode, "temperature": temperature or ""}, temp_format=device.temp_format
    )
    if not form.is_valid():
        problems = [
            f"{field}: {' '.join(errors)}" if field != "__all__" else " ".join(errors)
            for field, errors in form.errors.items()
        ]
        raise CommandRefused("; ".join(problems))
    return control.change_mode(device, form.cleaned_data["mode"], form.cleaned_data["temperature"])


def _current_setting(device: Device, mode: str) -> str:
    """The setting a constant mode starts at: what the chamber holds now."""
    key = "beer_set" if mode == "beer_constant" else "fridge_set"
    try:
        value = client.status(device.name, timeout=STATUS_TIMEOUT_S).get(key)
    except ControllerProblem:
        value = (device.status or {}).get(key)
    if value is None:
        what = "beer" if mode == "beer_constant" else "fridge"
        raise CommandRefused(
            f"{what} constant mode needs a temperature and none is known yet: publish one to "
            f"the {what}_setting/set topic instead"
        )
    return f"{float(value):.1f}"  # the form takes one decimal, as the page shows it
