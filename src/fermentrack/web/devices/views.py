"""Thin views of the devices app: the dashboard, a device's page, and adding/editing devices.

Reading pages use what the controllers last reported (Device.status); only commands, the
constants page and the sensors-and-actuators page talk to a controller, through
fermentrack.controller.client.
"""

from __future__ import annotations

import time

from django.contrib import messages
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from fermentrack.controller import client
from fermentrack.controller.client import ControllerProblem
from fermentrack.web.brewery.access import can_change, change_required, view_required
from fermentrack.web.brewery.models import BrewerySettings
from fermentrack.web.devices import control, discovery, hardware, presets
from fermentrack.web.devices.cards import device_card, device_cards, mode_key
from fermentrack.web.devices.forms import (
    ConstantsForm,
    DeleteDeviceForm,
    DeviceForm,
    HardwareForm,
    ModeForm,
    StartBeerForm,
)
from fermentrack.web.devices.models import Device, split_controller_address
from fermentrack.web.profiles.models import FermentationProfile, hold_under_way
from fermentrack.web.profiles.ramps import (
    RampForm,
    beer_temperature_now,
    start_problem,
    start_ramp,
)


@view_required
def dashboard(request):
    cards = device_cards(Device.objects.all(), timezone.now())
    colours = BrewerySettings.load().colours()
    return render(request, "devices/dashboard.html", {"cards": cards, "colours": colours})


@view_required
def dashboard_cards(request):
    """Every card's readings, swapped in place by htmx (out of band) every few seconds."""
    cards = device_cards(Device.objects.all(), timezone.now())
    return render(request, "devices/_card_updates.html", {"cards": cards})


def _mode_initial(status: dict) -> dict:
    mode = mode_key(status.get("mode"))
    if mode == "fridge_constant":
        return {"mode": mode, "temperature": status.get("fridge_set")}
    if mode == "beer_constant":
        return {"mode": mode, "temperature": status.get("beer_set")}
    return {"mode": mode} if mode == "off" else {}


def _detail(request, device: Device, *, mode_form=None, beer_form=None, ramp_form=None):
    card = device_card(device, timezone.now())
    profiles = FermentationProfile.objects.all()
    context = {
        "device": device,
        "card": card,
        "mode_form": mode_form
        or ModeForm(initial=_mode_initial(device.status or {}), temp_format=device.temp_format),
        "beer_form": beer_form or StartBeerForm(device=device),
        "ramp_form": ramp_form or RampForm(temp_format=device.temp_format),
        "profiles": profiles,
        "profile_start": control.profile_start(device, profiles),
        "recent_beers": device.beers.all()[:5],
        "holding": hold_under_way(device, time.time()),
    }
    return render(request, "devices/device_detail.html", context)


@view_required
def device_detail(request, name: str):
    return _detail(request, get_object_or_404(Device, name=name))


@view_required
def device_status(request, name: str):
    device = get_object_or_404(Device, name=name)
    return render(
        request, "devices/_device_status.html", {"card": device_card(device, timezone.now())}
    )


@require_POST
@change_required
def device_set_mode(request, name: str):
    device = get_object_or_404(Device, name=name)
    form = ModeForm(request.POST, temp_format=device.temp_format)
    if not form.is_valid():
        return _detail(request, device, mode_form=form)
    outcome = control.change_mode(
        device, form.cleaned_data["mode"], form.cleaned_data["temperature"]
    )
    (messages.success if outcome.ok else messages.error)(request, outcome.message)
    return redirect("device_detail", name=device.name)


@require_POST
@change_required
def device_ramp(request, name: str):
    """Take the beer from its temperature now to another at a set pace (profiles/ramps.py)."""
    device = get_object_or_404(Device, name=name)
    form = RampForm(request.POST, temp_format=device.temp_format)
    start = beer_temperature_now(device, time.time()) if form.is_valid() else None
    if form.is_valid() and (problem := start_problem(device, start)):
        form.add_error(None, problem)
    if not form.is_valid():
        return _detail(request, device, ramp_form=form)
    target, pace = float(form.cleaned_data["target"]), float(form.cleaned_data["pace"])
    replaced = device.active_profile
    with timezone.override(BrewerySettings.load().zone()):
        profile = start_ramp(device, start, target, pace)
    instead = f" It replaces the profile {replaced.name}, which was running." if replaced else ""
    problem = control.run_profile(device)
    if problem:
        messages.warning(
            request,
            f"The ramp is set to run on {device.name} as {profile.name}, but {problem}, so the "
            f"device has not switched to it yet.{instead}",
        )
    else:
        messages.success(
            request,
            f"{device.name} ramps the beer to {target:g} °{device.temp_format}: "
            f"{profile.name}.{instead}",
        )
    return redirect("device_detail", name=device.name)


@view_required
def device_constants(request, name: str):
    """The control constants as the controller reads them now; brewers may change them."""
    if request.method == "POST":
        return _save_constants(request, name)
    device = get_object_or_404(Device, name=name)
    context = _constants_context(device)
    try:
        answer = client.status(device.name)
    except ControllerProblem as problem:
        context["problem"] = f"The controller of {device.name} {problem.reason}."
    else:
        constants = answer.get("constants") if isinstance(answer.get("constants"), dict) else {}
        context["form"] = ConstantsForm(constants=constants, temp_format=device.temp_format)
    return _render_constants(request, context)


def _constants_context(device: Device, form: ConstantsForm | None = None) -> dict:
    return {
        "device": device,
        "form": form,
        "problem": None,
        "presets": presets.presets_for(device),
        "preset_form": presets.PresetNameForm(),
    }


def _render_constants(request, context: dict, status: int = 200):
    partial = request.headers.get("HX-Request") == "true"
    template = "devices/_constants.html" if partial else "devices/constants.html"
    return render(request, template, context, status=status)


@change_required
def _save_constants(request, name: str):
    device = get_object_or_404(Device, name=name)
    form = ConstantsForm(request.POST, temp_format=device.temp_format)
    if not form.is_valid():
        return _render_constants(request, _constants_context(device, form))
    outcome = control.send_constants(device, form.changed_constants())
    (messages.success if outcome.ok else messages.error)(request, outcome.message)
    return redirect("device_detail", name=device.name)


@require_http_methods(["GET", "HEAD", "POST"])
@view_required
def device_hardware(request, name: str):
    """Sensors and actuators as the firmware lists them now; brewers assign and uninstall."""
    if request.method == "POST":
        return _change_hardware(request, name)
    device = get_object_or_404(Device, name=name)
    try:
        listing = hardware.load(device)
    except ControllerProblem as problem:
        return _render_hardware(request, device, problem=problem)
    return _render_hardware(request, device, listing=listing)


def _render_hardware(
    request, device: Device, *, listing=None, problem=None, bound: HardwareForm | None = None
):
    """The page, or only its listing for htmx ("refresh readings"); `bound` is a form that
    failed, shown in place of its row's fresh one."""
    context = {"device": device, "listing": listing, "problem": None}
    if problem is not None:
        context["problem"] = f"The controller of {device.name} {problem.reason}."
    if listing is not None:
        with_forms = can_change(request.user)

        def entries(rows):
            return [
                (row, _hardware_form(row, device, bound) if with_forms else None) for row in rows
            ]

        context.update(
            installed=entries(listing.installed),
            available=entries(listing.available),
            summary=listing.summary(),
        )
    partial = request.headers.get("HX-Request") == "true" and bound is None
    template = "devices/_hardware.html" if partial else "devices/hardware.html"
    return render(request, template, context)


def _hardware_form(row, device: Device, bound: HardwareForm | None) -> HardwareForm:
    if bound is not None and bound.row.key == row.key:
        return bound
    return HardwareForm(row=row, temp_format=device.temp_format)


@change_required
def _change_hardware(request, name: str):
    device = get_object_or_404(Device, name=name)
    try:
        listing = hardware.load(device)
    except ControllerProblem as problem:
        messages.error(request, control.problem_message(device, problem))
        return redirect("device_hardware", name=device.name)
    key = request.POST.get("key", "")
    if request.POST.get("action") == "uninstall":
        slot = request.POST.get("slot", "")
        row = listing.in_slot(int(slot)) if slot.isdigit() else None
        if row is None or row.key != key:
            messages.error(
                request,
                f"Slot {slot or '?'} no longer holds that hardware; nothing was sent. "
                "The list below is fresh.",
            )
            return redirect("device_hardware", name=device.name)
        outcome = hardware.uninstall(device, row)
    else:
        row = listing.find(key)
        if row is None:
            messages.error(
                request,
                f"The controller of {device.name} no longer lists that hardware (unplugged?); "
                "nothing was sent. The list below is fresh.",
            )
            return redirect("device_hardware", name=device.name)
        form = HardwareForm(request.POST, row=row, temp_format=device.temp_format)
        if not form.is_valid():
            return _render_hardware(request, device, listing=listing, bound=form)
        outcome = hardware.assign(
            device,
            listing,
            row,
            form.cleaned_data["function"],
            invert=form.cleaned_data.get("invert", False),
            calibration=form.cleaned_data.get("calibration"),
        )
    (messages.success if outcome.ok else messages.error)(request, outcome.message)
    return redirect("device_hardware", name=device.name)


@require_POST
@change_required
def beer_start(request, name: str):
    device = get_object_or_404(Device, name=name)
    form = StartBeerForm(request.POST, device=device)
    if not form.is_valid():
        return _detail(request, device, beer_form=form)
    beer = control.start_beer(device, form.cleaned_data["name"])
    messages.success(request, f"Logging {beer.name} on {device.name}.")
    return redirect("device_detail", name=device.name)


@require_POST
@change_required
def beer_stop(request, name: str):
    device = get_object_or_404(Device, name=name)
    beer = control.stop_beer(device)
    if beer is None:
        messages.info(request, f"{device.name} had no beer running.")
    else:
        messages.success(request, f"Stopped {beer.name}; its log is kept.")
    return redirect("device_detail", name=device.name)


def _show_token(request, device: Device, token: str, added: bool):
    """The token is in this one answer and nowhere else: only its hash is stored. Shown for a
    controller on another computer only: one here gets a fresh token from the spawner."""
    host, port = split_controller_address(device.controller_address)
    context = {
        "device": device,
        "token": token,
        "added": added,
        "api_url": request.build_absolute_uri("/").rstrip("/"),
        # Every address of that computer, of the address's family.
        "listen": client.Remote("::" if ":" in host else "0.0.0.0", port, "").where,
    }
    response = render(request, "devices/token.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _starts_here_message(device: Device) -> str:
    what = {
        "sim": "simulated chamber and controller start",
        "pi": "firmware on this Pi's pins and its controller start",
    }.get(device.firmware_hardware, "controller starts")
    return f"{device.name}: its {what} on this computer within a few seconds."


@change_required
def device_add(request):
    brewery_unit = BrewerySettings.load().temp_format
    # "Use this" on a found device without JavaScript: its link arrives in the query string.
    initial = discovery.initial_from_query(request.GET) if request.method == "GET" else None
    form = DeviceForm(request.POST or None, brewery_temp_format=brewery_unit, initial=initial)
    if request.method == "POST" and form.is_valid():
        device = form.save(commit=False)
        token = device.issue_token()
        device.save()
        if device.controller_address:
            return _show_token(request, device, token, added=True)
        # The spawner runs its controller (and our firmware) here, with a token of their own.
        messages.success(request, f"Added {_starts_here_message(device)}")
        return redirect("device_detail", name=device.name)
    context = {"form": form, "device": None, "serial_choices": discovery.serial_choices()}
    return render(request, "devices/device_form.html", context)


@change_required
def device_edit(request, name: str):
    device = get_object_or_404(Device, name=name)
    was_remote = device.controller_address
    form = DeviceForm(request.POST or None, instance=device)
    if request.method == "POST" and form.is_valid():
        if not form.has_changed():
            messages.info(request, "Nothing was changed.")
            return redirect("device_detail", name=device.name)
        form.save()
        device.bump_config_version()
        if device.controller_address and device.controller_address != was_remote:
            # Moved to another computer: it needs a token to take there.
            token = device.issue_token()
            device.save(update_fields=["token_hash"])
            return _show_token(request, device, token, added=False)
        if was_remote and not device.controller_address:
            messages.success(request, f"Saved. {_starts_here_message(device)}")
        elif control.ask_to_reload(device):
            messages.success(request, f"Saved; the controller of {device.name} reloaded it.")
        else:
            messages.success(
                request, f"Saved; the controller of {device.name} picks it up when it runs."
            )
        return redirect("device_detail", name=device.name)
    return render(request, "devices/device_form.html", {"form": form, "device": device})


@require_POST
@change_required
def device_new_token(request, name: str):
    device = get_object_or_404(Device, name=name)
    if not device.controller_address:
        messages.error(
            request,
            f"The controller of {device.name} runs on this computer and gets a fresh token each "
            "time it starts. A token to copy is for a controller on another computer: give its "
            "address in Edit settings.",
        )
        return redirect("device_detail", name=device.name)
    token = device.issue_token()
    device.save(update_fields=["token_hash"])
    return _show_token(request, device, token, added=False)


@change_required
def device_delete(request, name: str):
    device = get_object_or_404(Device, name=name)
    form = DeleteDeviceForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        try:
            device.delete()
        except ProtectedError as error:
            users = ", ".join(sorted({str(item) for item in error.protected_objects}))
            form.add_error(None, f"{device.name} is still used by {users}; detach those first")
        else:
            messages.success(request, f"Deleted {device.name} with its beers and log.")
            return redirect("dashboard")
    context = {
        "device": device,
        "form": form,
        "beer_count": device.beers.count(),
        "point_count": device.points.count(),
    }
    return render(request, "devices/device_confirm_delete.html", context)
