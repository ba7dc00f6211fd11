"""Pages of the profiles app: list, read, edit (with a live preview), copy, delete, import,
export, and start on a device."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db.models import Count, ProtectedError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from fermentrack.brewpi.profile_schedule import format_offset, summary
from fermentrack.web.brewery.access import change_required, view_required
from fermentrack.web.brewery.models import BrewerySettings
from fermentrack.web.devices import control
from fermentrack.web.profiles import formats
from fermentrack.web.profiles.forms import (
    CopyProfileForm,
    ImportProfileForm,
    ProfileEditor,
    StartProfileForm,
)
from fermentrack.web.profiles.models import (
    FermentationProfile,
    holds_summary,
    remove_finished_ramps,
)

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _zone() -> ZoneInfo:
    return BrewerySettings.load().zone()


def _running_on(profile: FermentationProfile) -> list[str]:
    return list(profile.devices.values_list("name", flat=True))


def _point_rows(profile: FermentationProfile) -> list[dict]:
    """The points numbered from 1, with the moment each would fall on if started now (at the
    earliest: a hold before it may move it later) and the point's hold in words."""
    now = timezone.now()
    holds = profile.holds_by_index()
    return [
        {
            "number": number,
            "offset": format_offset(offset),
            "temperature": temperature,
            "if_started_now": now + timedelta(seconds=offset),
            "after_a_hold": any(index < number - 1 for index in holds),
            "hold": holds[number - 1].describe() if number - 1 in holds else "",
        }
        for number, (offset, temperature) in enumerate(profile.point_list(), start=1)
    ]


def _graph_data(profile_points: list, unit: str, holds: dict | None = None) -> dict:
    """What profile-graph.js draws: the points, with each hold drawn as a flat stretch as long
    as its time limit (`holds`: point index -> seconds), marked."""
    colours = BrewerySettings.load().colours()
    return {
        "unit": unit,
        "points": profile_points,
        "holds": {str(index): seconds for index, seconds in (holds or {}).items()},
        "colour": colours["beer_set"],
    }


@view_required
def profile_list(request):
    remove_finished_ramps()  # a ramp another mode or profile replaced
    profiles = FermentationProfile.objects.annotate(point_count=Count("points")).prefetch_related(
        "devices"
    )
    return render(request, "profiles/profile_list.html", {"profiles": profiles})


@view_required
def profile_detail(request, pk: int):
    profile = get_object_or_404(FermentationProfile, pk=pk)
    context = {
        "profile": profile,
        "rows": _point_rows(profile),
        "running_on": _running_on(profile),
        "graph": _graph_data(
            profile.point_list(),
            profile.temp_format,
            {index: hold.max_s for index, hold in profile.holds_by_index().items()},
        ),
    }
    with timezone.override(_zone()):
        return render(request, "profiles/profile_detail.html", context)


def _table_summary(editor: ProfileEditor, unit: str) -> str:
    """The table in words, once it can be read as a whole (no summary of a broken table)."""
    result = editor.result
    if not result.points or result.problems:
        return ""
    ordered = sorted(result.points)
    holds = {
        index: result.holds[offset]
        for index, (offset, _) in enumerate(ordered)
        if offset in result.holds
    }
    held = holds_summary(ordered, holds, unit)
    text = summary(ordered, unit)
    return f"{text}; {held}" if held else text


def _editor_page(request, editor: ProfileEditor, profile: FermentationProfile | None):
    unit = editor.form["temp_format"].value() or "C"
    context = {
        "editor": editor,
        "profile": profile,
        "summary": _table_summary(editor, unit),
        "graph": _graph_data([], unit),
    }
    return render(request, "profiles/profile_form.html", context)


@change_required
def profile_new(request):
    brewery = BrewerySettings.load()
    editor = ProfileEditor(request.POST or None, zone=_zone(), unit=brewery.temp_format)
    if request.method == "POST" and editor.is_valid():
        profile = editor.save()
        messages.success(request, f"Profile {profile.name} saved.")
        return redirect("profile_detail", pk=profile.pk)
    return _editor_page(request, editor, None)


@change_required
def profile_edit(request, pk: int):
    profile = get_object_or_404(FermentationProfile, pk=pk)
    running_on = _running_on(profile)
    if running_on:
        # A running profile is what a controller follows right now: change a copy instead.
        status = 409 if request.method == "POST" else 200
        context = {"profile": profile, "running_on": running_on, "copy_form": _copy_form(profile)}
        return render(request, "profiles/profile_in_use.html", context, status=status)
    editor = ProfileEditor(request.POST or None, instance=profile, zone=_zone())
    if request.method == "POST" and editor.is_valid():
        profile = editor.save()
        messages.success(request, f"Profile {profile.name} saved.")
        return redirect("profile_detail", pk=profile.pk)
    return _editor_page(request, editor, profile)


@change_required
@require_POST
def profile_preview(request):
    """The summary and problems of the table being edited (htmx swaps it in as one types)."""
    editor = ProfileEditor(request.POST, zone=_zone())
    editor.is_valid()
    unit = editor.form["temp_format"].value() or "C"
    context = {"summary": _table_summary(editor, unit), "problems": editor.result.problems}
    return render(request, "profiles/_preview.html", context)


def _free_copy_name(name: str) -> str:
    candidate, number = f"Copy of {name}"[:128], 2
    while FermentationProfile.objects.filter(name=candidate).exists():
        candidate, number = f"Copy {number} of {name}"[:128], number + 1
    return candidate


def _copy_form(profile: FermentationProfile, data=None) -> CopyProfileForm:
    return CopyProfileForm(data, initial={"name": _free_copy_name(profile.name)})


@change_required
def profile_copy(request, pk: int):
    profile = get_object_or_404(FermentationProfile, pk=pk)
    form = _copy_form(profile, request.POST or None)
    if request.method == "POST" and form.is_valid():
        twin = profile.copy(form.cleaned_data["name"])
        messages.success(request, f"Copied {profile.name} to {twin.name}; edit the copy here.")
        return redirect("profile_edit", pk=twin.pk)
    return render(request, "profiles/profile_copy.html", {"profile": profile, "form": form})


@change_required
def profile_delete(request, pk: int):
    profile = get_object_or_404(FermentationProfile, pk=pk)
    running_on = _running_on(profile)
    if request.method == "POST" and not running_on:
        try:
            profile.delete()
        except ProtectedError:  # a device started it since the page was read
            running_on = _running_on(profile)
        else:
            messages.success(request, f"Profile {profile.name} deleted.")
            return redirect("profile_list")
    status = 409 if request.method == "POST" else 200
    context = {"profile": profile, "running_on": running_on}
    return render(request, "profiles/profile_confirm_delete.html", context, status=status)


@view_required
def profile_export(request, pk: int, kind: str):
    if kind not in EXPORT_TYPES:
        raise Http404(f"profiles export as csv or json, not {kind!r}")
    profile = get_object_or_404(FermentationProfile, pk=pk)
    data = formats.ProfileFile.of(profile)
    content = formats.to_csv(data) if kind == "csv" else formats.to_json(data)
    response = HttpResponse(content, content_type=EXPORT_TYPES[kind])
    filename = f"{slugify(profile.name) or 'profile'}.profile.{kind}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@change_required
def profile_import(request):
    form = ImportProfileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        profile = form.save()
        messages.success(request, f"Imported {profile.name} with {profile.points.count()} points.")
        return redirect("profile_detail", pk=profile.pk)
    return render(request, "profiles/profile_import.html", {"form": form})


def _device_page(device) -> str:
    try:
        return reverse("device_detail", args=[device.name])
    except NoReverseMatch:
        return reverse("dashboard")


@change_required
def profile_start(request, pk: int):
    profile = get_object_or_404(FermentationProfile, pk=pk)
    initial = {"device": request.GET.get("device", "")}
    form = StartProfileForm(request.POST or None, profile=profile, initial=initial)
    if request.method == "POST" and form.is_valid():
        device, offset = form.cleaned_data["device"], form.cleaned_data["start_at"]
        profile.start_on(device, offset)
        where = "from the beginning" if offset == 0 else f"{format_offset(offset)} in"
        problem = control.run_profile(device)
        if problem:
            messages.warning(
                request,
                f"{profile.name} is set to run on {device.name} {where}, but {problem}, "
                "so the device has not switched to it yet.",
            )
        else:
            messages.success(request, f"{device.name} now follows {profile.name}, {where}.")
        return redirect(_device_page(device))
    context = {"profile": profile, "form": form, "rows": _point_rows(profile)}
    with timezone.override(_zone()):
        return render(request, "profiles/profile_start.html", context)
