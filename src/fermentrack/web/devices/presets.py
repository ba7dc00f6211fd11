"""Presets of control constants: the constants one chamber's controller holds now, saved under
a name, and given to another chamber later (a tuned fridge's gains and filters for its twin).

A preset keeps the unit its temperatures were read in and is only given to a chamber working
in that unit. Giving one sends only the constants that differ from what the controller holds,
through the same path as the constants form.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import IntegrityError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from fermentrack.controller import client
from fermentrack.controller.client import ControllerProblem
from fermentrack.web.brewery.access import change_required
from fermentrack.web.devices import control
from fermentrack.web.devices.forms import CONSTANT_LABELS
from fermentrack.web.devices.models import ConstantsPreset, Device


class PresetNameForm(forms.Form):
    name = forms.CharField(
        max_length=64,
        label="Save these constants as a preset named",
        help_text="e.g. Chest freezer, tuned; to give them to another chamber later",
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if ConstantsPreset.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(
                f"a preset named {name!r} already exists: choose another name, or delete that "
                "one first"
            )
        return name


def presets_for(device: Device):
    """The presets that may be given to `device`: those in its unit."""
    return ConstantsPreset.objects.filter(temp_format=device.temp_format)


# What a chamber is wired with, not how it is tuned: a light used as a heater, a rotary encoder.
HARDWARE_CONSTANTS = frozenset({"lah", "hs"})


def preset_values(constants: dict) -> dict:
    """The constants a preset keeps: the tuning, without the unit (the device's) and without
    what belongs to the chamber's wiring."""
    return {
        key: constants[key]
        for key in CONSTANT_LABELS
        if key in constants and key not in HARDWARE_CONSTANTS
    }


def changes_for(preset: ConstantsPreset, current: dict) -> dict:
    """The preset's constants that differ from the controller's `current` ones, in the
    constants page's order (PostgreSQL keeps a JSON object's keys in an order of its own)."""
    kept = preset.constants
    return {
        key: kept[key] for key in CONSTANT_LABELS if key in kept and current.get(key) != kept[key]
    }


def _read_constants(device: Device) -> tuple[dict | None, str | None]:
    try:
        status = client.status(device.name)
    except ControllerProblem as problem:
        return (
            None,
            f"The controller of {device.name} {problem.reason}: its constants cannot be read.",
        )
    constants = status.get("constants")
    return (constants if isinstance(constants, dict) else {}), None


@require_POST
@change_required
def save_preset(request, name: str):
    device = get_object_or_404(Device, name=name)
    form = PresetNameForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["name"]))
        return redirect("device_constants", name=device.name)
    constants, problem = _read_constants(device)
    values = preset_values(constants or {})
    if problem or not values:
        messages.error(
            request, problem or f"The controller of {device.name} reported no constants."
        )
        return redirect("device_constants", name=device.name)
    try:
        preset = ConstantsPreset.objects.create(
            name=form.cleaned_data["name"],
            temp_format=device.temp_format,
            constants=values,
            saved_from=device.name,
        )
    except IntegrityError:  # saved by someone else at the same moment
        messages.error(request, f"a preset named {form.cleaned_data['name']!r} already exists")
        return redirect("device_constants", name=device.name)
    messages.success(
        request, f"Saved {len(values)} constants of {device.name} as the preset {preset.name}."
    )
    return redirect("device_constants", name=device.name)


@require_POST
@change_required
def give_preset(request, name: str, preset: int):
    device = get_object_or_404(Device, name=name)
    chosen = get_object_or_404(ConstantsPreset, pk=preset)
    if chosen.temp_format != device.temp_format:
        messages.error(
            request,
            f"The preset {chosen.name} holds temperatures in °{chosen.temp_format} and "
            f"{device.name} works in °{device.temp_format}: nothing was sent.",
        )
        return redirect("device_constants", name=device.name)
    current, problem = _read_constants(device)
    if problem:
        messages.error(request, f"{problem} Nothing was sent.")
        return redirect("device_constants", name=device.name)
    changes = changes_for(chosen, current)
    outcome = control.send_constants(device, changes)
    if outcome.ok and changes:
        messages.success(request, f"{outcome.message.rstrip('.')} (from the preset {chosen.name}).")
    elif outcome.ok:
        messages.info(request, f"{device.name} already holds every constant of {chosen.name}.")
    else:
        messages.error(request, outcome.message)
    return redirect("device_constants", name=device.name)


@require_POST
@change_required
def delete_preset(request, name: str, preset: int):
    device = get_object_or_404(Device, name=name)
    chosen = get_object_or_404(ConstantsPreset, pk=preset)
    chosen.delete()
    messages.success(request, f"Deleted the preset {chosen.name}.")
    return redirect("device_constants", name=device.name)
