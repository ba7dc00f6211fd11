"""What the device pages do: turn a brewer's request into controller commands and records.

Views call these and show `Outcome.message`; every failure of the controller becomes a plain
sentence here, so no page fails because a controller is down.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.urls import NoReverseMatch, reverse

from fermentrack.controller import client
from fermentrack.controller.client import ControllerError, ControllerProblem
from fermentrack.web.beers.models import Beer
from fermentrack.web.devices.cards import MODE_NAMES
from fermentrack.web.devices.models import Device
from fermentrack.web.profiles.models import remove_finished_ramps


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str


def problem_message(device: Device, problem: ControllerProblem) -> str:
    """A controller failure in one plain sentence for the brewer."""
    if isinstance(problem, ControllerError):
        return f"The controller of {device.name} refused the change: {problem.error}."
    if getattr(problem, "sent", False):
        return (
            f"The controller of {device.name} {problem.reason}; the change may not have been made."
        )
    return f"The controller of {device.name} {problem.reason}; the change was not sent."


def change_mode(device: Device, mode: str, temperature: Decimal | float | None) -> Outcome:
    """Off, fridge constant or beer constant; a running profile stops with it."""
    value = None if temperature is None else float(temperature)
    try:
        client.set_mode(device.name, mode, value)
    except ControllerProblem as problem:
        return Outcome(False, problem_message(device, problem))
    if device.active_profile_id is not None and mode != "profile":
        device.active_profile = None
        device.profile_started_at = None
        device.save(update_fields=["active_profile", "profile_started_at"])
        device.bump_config_version()
        remove_finished_ramps()
    description = MODE_NAMES[mode].lower()
    if value is None:
        return Outcome(True, f"{device.name} is now {description}.")
    return Outcome(
        True, f"{device.name} is now in {description} mode at {value:g} °{device.temp_format}."
    )


def send_constants(device: Device, changed: dict) -> Outcome:
    """Send only the constants the brewer changed (brewpi-protocol §4.8 keys)."""
    if not changed:
        return Outcome(True, "Nothing was changed, so nothing was sent.")
    try:
        client.set_constants(device.name, changed)
    except ControllerProblem as problem:
        return Outcome(False, problem_message(device, problem))
    names = ", ".join(changed)
    count = len(changed)
    noun = "constant" if count == 1 else "constants"
    return Outcome(True, f"Sent {count} changed {noun} to {device.name}: {names}.")


def ask_to_reload(device: Device) -> bool:
    """Ask the controller to fetch its configuration now; False when it is not there.

    Not needed for correctness: config_version tells it at its next status report anyway.
    """
    try:
        client.send(device.name, "reload_config", timeout=1.0)
    except ControllerProblem:
        return False
    return True


def start_beer(device: Device, name: str, now: int | None = None) -> Beer:
    """Start logging a beer on `device` (the one still running there ends now)."""
    return Beer.start(device, name, now)


def stop_beer(device: Device, now: int | None = None) -> Beer | None:
    """End the active beer of `device`, if there is one; its log stays."""
    return Beer.stop_active(device, now)


@dataclass(frozen=True)
class ProfileStart:
    """How the device page starts a profile: `links` to per-profile start pages, one `form`
    posting `device` and `profile` to `form_url`, or neither while no profile page exists."""

    links: list[tuple[object, str]]
    form_url: str | None


def profile_start(device: Device, profiles) -> ProfileStart:
    """Find the profiles app's start page by its URL name `profile_start`, whatever its shape."""
    try:
        reverse("profile_start", args=[1])
    except NoReverseMatch:
        try:
            return ProfileStart(links=[], form_url=reverse("profile_start"))
        except NoReverseMatch:
            return ProfileStart(links=[], form_url=None)
    links = [
        (profile, f"{reverse('profile_start', args=[profile.pk])}?device={device.name}")
        for profile in profiles
    ]
    return ProfileStart(links=links, form_url=None)


def run_profile(device: Device) -> str | None:
    """Ask the device's controller to load its new profile and run it; None when it did, else
    the problem in plain words (the record stands either way: the controller picks it up from
    its configuration when it is back)."""
    try:
        client.reload_config(device.name)
        client.set_mode(device.name, "profile")
    except ControllerProblem as problem:
        return str(problem)
    return None
