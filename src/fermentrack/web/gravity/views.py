"""Pages of the gravity app: the sensor list, adding and editing a sensor, a sensor's page (its
graph, its readings with hide, unhide and correct, a manual reading) and its calibration."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from fermentrack.gravity.calibration import CalibrationError, fit_ispindel, fit_tilt
from fermentrack.web.brewery.access import can_change, change_required, view_required
from fermentrack.web.brewery.models import BrewerySettings
from fermentrack.web.gravity.forms import (
    FIELD_KINDS,
    CalibrationPointForm,
    CoefficientsForm,
    CorrectionForm,
    ManualReadingForm,
    SensorForm,
)
from fermentrack.web.gravity.models import (
    CalibrationPoint,
    GravitySensor,
    SensorKind,
    format_gravity,
    refresh_outliers,
    store_readings,
)
from fermentrack.web.gravity.summary import latest

READINGS_PER_PAGE = 50


def _zone() -> ZoneInfo:
    return BrewerySettings.load().zone()


def _moment(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@view_required
def sensor_list(request):
    sensors = GravitySensor.objects.select_related("device")
    return render(request, "gravity/sensor_list.html", {"items": [latest(s) for s in sensors]})


@change_required
def sensor_add(request):
    brewery_unit = BrewerySettings.load().temp_format
    form = SensorForm(request.POST or None, brewery_temp_format=brewery_unit)
    if request.method == "POST" and form.is_valid():
        sensor = form.save()
        messages.success(request, f"Added {sensor.name}: {_how_to_connect(request, sensor)}")
        return redirect("gravity_detail", pk=sensor.pk)
    return render(
        request, "gravity/sensor_form.html", {"form": form, "sensor": None, "kinds": FIELD_KINDS}
    )


@change_required
def sensor_edit(request, pk: int):
    sensor = get_object_or_404(GravitySensor, pk=pk)
    form = SensorForm(request.POST or None, instance=sensor)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            form.save()
            if "correct_to_60f" in form.changed_data:
                result = sensor.recalibrate()  # the correction restates stored readings too
                messages.success(
                    request, f"Saved {sensor.name}; {result.restated} stored readings restated."
                )
            else:
                messages.success(request, f"Saved {sensor.name}.")
        else:
            messages.info(request, "Nothing was changed.")
        return redirect("gravity_detail", pk=sensor.pk)
    return render(request, "gravity/sensor_form.html", {"form": form, "sensor": sensor})


@change_required
def sensor_delete(request, pk: int):
    sensor = get_object_or_404(GravitySensor, pk=pk)
    if request.method == "POST":
        sensor.delete()
        messages.success(request, f"Deleted {sensor.name} with its readings.")
        return redirect("gravity_list")
    context = {"sensor": sensor, "reading_count": sensor.readings.count()}
    return render(request, "gravity/sensor_confirm_delete.html", context)


def _how_to_connect(request, sensor: GravitySensor) -> str:
    """One sentence on pointing the hydrometer at us."""
    host = request.get_host().split(":")[0] or "this computer"
    port = request.get_port()
    if sensor.kind == SensorKind.ISPINDEL:
        return (
            f"in the iSpindel's configuration choose service HTTP, server {host}, port {port}, "
            f"path /ispindel, and name {sensor.name_on_device}."
        )
    if sensor.kind == SensorKind.TILTBRIDGE:
        return (
            f"on the TiltBridge {sensor.bridge_mdns_id}, set the Fermentrack target to "
            f"{request.build_absolute_uri('/tiltbridge/')}"
        )
    if sensor.kind == SensorKind.TILT:
        return (
            "this computer's Tilt scanner starts within a few seconds and listens for the "
            f"{sensor.colour} Tilt (it needs a Bluetooth adapter)."
        )
    return "add readings on its page as you take them."


# -- a sensor's page ---------------------------------------------------------------------------


def _detail(request, sensor: GravitySensor, *, reading_form=None, status: int = 200):
    brewery = BrewerySettings.load()
    paginator = Paginator(sensor.readings.order_by("-ts"), READINGS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    editing = can_change(request.user)
    rows = []
    for reading in page.object_list:
        reading.moment = _moment(reading.ts)
        reading.measured_text = format_gravity(reading.gravity, sensor.display_unit, precise=True)
        reading.corrected_text = (
            None
            if reading.corrected_gravity is None
            else format_gravity(reading.corrected_gravity, sensor.display_unit, precise=True)
        )
        reading.correction_form = (
            CorrectionForm(
                sensor=sensor,
                prefix=f"r{reading.pk}",
                initial={
                    "corrected": sensor.gravity_in_unit(reading.corrected_gravity),
                    "note": reading.note,
                },
            )
            if editing
            else None
        )
        rows.append(reading)
    context = {
        "sensor": sensor,
        "latest": latest(sensor),
        "page": page,
        "readings": rows,
        "reading_form": reading_form or ManualReadingForm(sensor=sensor),
        "how_to_connect": _how_to_connect(request, sensor),
        "graph_config": {
            "url": f"{reverse('api:api-root')}gravity/sensors/{sensor.pk}/graph",
            "unit": sensor.display_unit,
            "unit_label": sensor.gravity_unit_label,
            "temp_format": sensor.temp_format,
            "colours": brewery.colours(),
            "time_zone": brewery.time_zone,
        },
        "reported": sorted((sensor.reported or {}).items()),
    }
    with timezone.override(brewery.zone()):
        return render(request, "gravity/sensor_detail.html", context, status=status)


@view_required
def sensor_detail(request, pk: int):
    sensor = get_object_or_404(GravitySensor.objects.select_related("device"), pk=pk)
    return _detail(request, sensor)


@require_POST
@change_required
def reading_add(request, pk: int):
    """A reading a person took; stored as a manual reading, never marked as an outlier."""
    sensor = get_object_or_404(GravitySensor, pk=pk)
    with timezone.override(_zone()):
        form = ManualReadingForm(request.POST, sensor=sensor)
        valid = form.is_valid()
    if not valid:
        return _detail(request, sensor, reading_form=form, status=400)
    data = form.cleaned_data
    reading = sensor.new_reading(
        data["taken_at"], gravity=data["gravity"], manual=True, note=data["note"]
    )
    reading.temperature = data["temperature"]  # as typed: the sensor's offset is for its probe
    store_readings(sensor, [reading])
    messages.success(request, f"Added {sensor.format_gravity(data['gravity'])} to {sensor.name}.")
    return redirect("gravity_detail", pk=sensor.pk)


@require_POST
@change_required
def reading_change(request, pk: int, reading_pk: int):
    """Hide or show a reading, or correct its gravity; the outlier marks around it follow."""
    sensor = get_object_or_404(GravitySensor, pk=pk)
    reading = get_object_or_404(sensor.readings, pk=reading_pk)
    action = request.POST.get("action")
    when = timezone.localtime(_moment(reading.ts), _zone()).strftime("%Y-%m-%d %H:%M")
    if action in ("hide", "unhide"):
        reading.hidden = action == "hide"
        reading.save(update_fields=["hidden"])
        done = "Hid" if reading.hidden else "Showed again"
        messages.success(request, f"{done} the reading of {when}.")
    elif action == "correct":
        form = CorrectionForm(request.POST, sensor=sensor, prefix=f"r{reading.pk}")
        if not form.is_valid():
            problems = "; ".join(e for errors in form.errors.values() for e in errors)
            messages.error(request, f"The reading of {when} was not changed: {problems}.")
            return _back(request, sensor)
        reading.corrected_gravity = form.cleaned_data["corrected"]
        reading.note = form.cleaned_data["note"]
        if reading.corrected_gravity is not None:
            reading.outlier = False
        reading.save(update_fields=["corrected_gravity", "note", "outlier"])
        if reading.corrected_gravity is None:
            messages.success(request, f"The reading of {when} shows its measured gravity again.")
        else:
            shown = sensor.format_gravity(reading.corrected_gravity)
            messages.success(request, f"The reading of {when} now shows {shown}.")
    else:
        messages.error(request, f"Unknown action {action!r}: expected hide, unhide or correct.")
        return _back(request, sensor)
    refresh_outliers(sensor, since_ts=reading.ts)
    return _back(request, sensor)


def _back(request, sensor: GravitySensor):
    """Back to the sensor's page, on the page of readings the form was on."""
    url = reverse("gravity_detail", args=[sensor.pk])
    page = request.POST.get("page", "")
    if page.isdigit() and page != "1":
        url += f"?page={page}"
    return redirect(f"{url}#readings")


# -- calibration -------------------------------------------------------------------------------


@view_required
def calibration(request, pk: int):
    """Calibration points, a fit from them (shown for saving, with its warning), or the
    coefficients typed in; saving restates every stored reading."""
    sensor = get_object_or_404(GravitySensor, pk=pk)
    if sensor.kind == SensorKind.MANUAL:
        messages.info(request, "Manual readings are true gravities: there is nothing to calibrate.")
        return redirect("gravity_detail", pk=sensor.pk)
    context = {
        "sensor": sensor,
        "point_form": CalibrationPointForm(sensor=sensor),
        "coefficients_form": CoefficientsForm(sensor=sensor),
        "fit": None,
        "fit_problem": None,
    }
    status = 200
    if request.method == "POST":
        if not can_change(request.user):
            raise PermissionDenied("your account may look but not change anything here")
        action = request.POST.get("action")
        if action == "add_point":
            form = CalibrationPointForm(request.POST, sensor=sensor)
            if form.is_valid():
                CalibrationPoint.objects.create(sensor=sensor, **form.cleaned_data)
                messages.success(request, "Point added.")
                return redirect("gravity_calibration", pk=sensor.pk)
            context["point_form"], status = form, 400
        elif action == "delete_point":
            sensor.calibration_points.filter(pk=request.POST.get("point", "")).delete()
            messages.success(request, "Point deleted.")
            return redirect("gravity_calibration", pk=sensor.pk)
        elif action == "fit":
            context.update(_fit(sensor))
        elif action == "save":
            form = CoefficientsForm(request.POST, sensor=sensor)
            if form.is_valid():
                sensor.set_coefficients(form.coefficients())
                sensor.save(update_fields=list(sensor.coefficient_fields()))
                result = sensor.recalibrate()
                message = (
                    f"Calibration saved; {result.restated} stored reading"
                    f"{'' if result.restated == 1 else 's'} recalculated."
                )
                if result.unphysical:
                    message += (
                        f" {result.unphysical} came out outside the physical limits and show "
                        "no gravity."
                    )
                messages.success(request, message)
                return redirect("gravity_calibration", pk=sensor.pk)
            context["coefficients_form"], status = form, 400
    context["points"] = _points_with_fitted(sensor)
    return render(request, "gravity/calibration.html", context, status=status)


def _fit(sensor: GravitySensor) -> dict:
    points = [(p.measured, p.actual_gravity) for p in sensor.calibration_points.all()]
    fitter = fit_ispindel if sensor.kind == SensorKind.ISPINDEL else fit_tilt
    try:
        fit = fitter(points)
    except CalibrationError as error:
        return {"fit_problem": str(error)}
    # Shown for saving: rounded well below what a hydrometer resolves (a Tilt's x is about 1,
    # an iSpindel's up to 90, so its cubic term needs more places), dropping float noise.
    places = 12 if sensor.kind == SensorKind.ISPINDEL else 10
    rounded = [round(value, places) + 0.0 for value in fit.coefficients]  # + 0.0: no -0.0
    initial = dict(zip(sensor.coefficient_fields(), rounded, strict=True))
    shape = {1: "a straight line", 2: "a quadratic", 3: "a cubic"}.get(fit.degree, "a curve")
    return {
        "fit": {"shape": shape, "warning": fit.warning, "coefficients": rounded},
        "coefficients_form": CoefficientsForm(sensor=sensor, initial=initial),
    }


def _points_with_fitted(sensor: GravitySensor) -> list:
    """Each point with what the saved calibration makes of its measured value."""
    points = list(sensor.calibration_points.all())
    for point in points:
        point.fitted = sensor.gravity_from_raw(point.measured)
        point.off_by = None if point.fitted is None else point.fitted - point.actual_gravity
    return points
