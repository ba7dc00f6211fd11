"""Pages of the beers app: the list, a beer's graph page, rename and notes, its brew log,
delete, and the share link with its public page (that beer's graph and nothing else)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from fermentrack.web.beers.brew_log import BrewLogForm, brew_log, entries_of, local_moment
from fermentrack.web.beers.forms import BeerForm, OriginalGravityForm
from fermentrack.web.beers.models import Annotation, AnnotationSource, Beer
from fermentrack.web.brewery.access import change_required, view_required
from fermentrack.web.brewery.models import BrewerySettings
from fermentrack.web.gravity.summary import beer_gravity


def _moment(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def _device_page(beer: Beer) -> str | None:
    try:
        return reverse("device_detail", args=[beer.device.name])
    except NoReverseMatch:
        return None


def graph_config(beer: Beer, brewery: BrewerySettings, share_token: str | None = None) -> dict:
    """What static/fermentrack/graph.js needs to draw `beer` (passed with json_script)."""
    return {
        "url": f"{reverse('api:api-root')}beers/{beer.pk}/graph",
        "share": share_token,
        "active": beer.is_active,
        "start": beer.started_at,
        "end": beer.ended_at,
        "colours": brewery.colours(),
        "time_zone": brewery.time_zone,
    }


@view_required
def beer_list(request):
    brewery = BrewerySettings.load()
    beers = list(Beer.objects.select_related("device"))
    for beer in beers:
        beer.started = _moment(beer.started_at)
        beer.ended = _moment(beer.ended_at)
    with timezone.override(brewery.zone()):
        return render(request, "beers/beer_list.html", {"beers": beers})


def beer_page(
    request,
    beer: Beer,
    *,
    og_form: OriginalGravityForm | None = None,
    log_form: BrewLogForm | None = None,
    status=200,
):
    brewery = BrewerySettings.load()
    with timezone.override(brewery.zone()):  # the brew log's times are the brewery's
        context = {
            "beer": beer,
            "started": _moment(beer.started_at),
            "ended": _moment(beer.ended_at),
            "device_page": _device_page(beer),
            "graph_config": graph_config(beer, brewery),
            "share_url": _share_url(request, beer),
            "gravity": beer_gravity(beer),
            "og_form": og_form or OriginalGravityForm(instance=beer),
            "brew_log": brew_log(beer),
            "log_form": log_form or BrewLogForm(beer=beer, now=int(time.time())),
        }
        return render(request, "beers/beer_detail.html", context, status=status)


@view_required
def beer_detail(request, pk: int):
    return beer_page(request, get_object_or_404(Beer.objects.select_related("device"), pk=pk))


@change_required
@require_POST
def beer_original_gravity(request, pk: int):
    """Set (or clear) the original gravity measured by hand."""
    beer = get_object_or_404(Beer.objects.select_related("device"), pk=pk)
    form = OriginalGravityForm(request.POST, instance=beer)
    if not form.is_valid():
        return beer_page(request, Beer.objects.get(pk=pk), og_form=form, status=400)
    beer = form.save()
    if beer.original_gravity is None:
        messages.success(request, f"Original gravity of {beer.name} cleared.")
    else:
        messages.success(
            request, f"Original gravity of {beer.name} set to {beer.original_gravity:.3f}."
        )
    return redirect("beer_detail", pk=beer.pk)


@change_required
def beer_edit(request, pk: int):
    beer = get_object_or_404(Beer.objects.select_related("device"), pk=pk)
    form = BeerForm(request.POST or None, instance=beer)
    if request.method == "POST" and form.is_valid():
        beer = form.save()
        messages.success(request, f"Beer {beer.name} saved.")
        return redirect("beer_detail", pk=beer.pk)
    return render(request, "beers/beer_form.html", {"beer": beer, "form": form})


@change_required
def beer_delete(request, pk: int):
    beer = get_object_or_404(Beer.objects.select_related("device"), pk=pk)
    if request.method == "POST" and not beer.is_active:
        beer.delete()
        messages.success(request, f"Beer {beer.name} deleted.")
        return redirect("beer_list")
    status = 409 if request.method == "POST" else 200
    context = {"beer": beer, "device_page": _device_page(beer)}
    return render(request, "beers/beer_confirm_delete.html", context, status=status)


def _share_url(request, beer: Beer) -> str | None:
    if not beer.share_token:
        return None
    return request.build_absolute_uri(reverse("beer_shared", args=[beer.share_token]))


def _share_answer(request, beer: Beer, message: str):
    """The share box again for htmx; for a plain form, back to the beer's page."""
    if request.headers.get("HX-Request"):
        context = {"beer": beer, "share_url": _share_url(request, beer), "share_message": message}
        return render(request, "beers/_share.html", context)
    messages.success(request, message)
    return redirect("beer_detail", pk=beer.pk)


@change_required
@require_POST
def beer_share(request, pk: int):
    beer = get_object_or_404(Beer, pk=pk)
    replaced = bool(beer.share_token)
    beer.share()
    if replaced:
        message = "New share link made; the old one no longer works."
    else:
        message = "Share link made: anyone with it sees this beer's graph, and nothing else."
    return _share_answer(request, beer, message)


@change_required
@require_POST
def beer_unshare(request, pk: int):
    beer = get_object_or_404(Beer, pk=pk)
    beer.unshare()
    return _share_answer(request, beer, "Share link revoked: it no longer opens this beer.")


def beer_shared(request, token: str):
    """The public page of a shared beer: its name and graph; no navigation, no other data."""
    beer = Beer.objects.filter(share_token=token).first() if token else None
    if beer is None:
        raise Http404("this share link does not open any beer (it may have been revoked)")
    brewery = BrewerySettings.load()
    context = {
        "beer": beer,
        "started": _moment(beer.started_at),
        "graph_config": graph_config(beer, brewery, share_token=token),
    }
    with timezone.override(brewery.zone()):
        response = render(request, "beers/beer_shared.html", context)
    response["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    response["X-Robots-Tag"] = "noindex"
    return response


@change_required
@require_POST
def beer_log_add(request, pk: int):
    beer = get_object_or_404(Beer.objects.select_related("device"), pk=pk)
    with timezone.override(BrewerySettings.load().zone()):
        form = BrewLogForm(request.POST, beer=beer, now=int(time.time()))
        if not form.is_valid():
            return beer_page(request, beer, log_form=form, status=400)
        Annotation.objects.create(
            device=beer.device,
            ts=form.cleaned_data["at"],
            text=form.cleaned_data["text"],
            source=AnnotationSource.PERSON,
            created_by=request.user,
        )
        messages.success(
            request, f"Added to the brew log at {local_moment(form.cleaned_data['at'])}."
        )
    return redirect("beer_detail", pk=beer.pk)


@change_required
@require_POST
def beer_log_delete(request, pk: int, entry: int):
    beer = get_object_or_404(Beer.objects.select_related("device"), pk=pk)
    note = get_object_or_404(entries_of(beer), pk=entry)
    note.delete()
    messages.success(request, f"Removed from the brew log: {note.text}")
    return redirect("beer_detail", pk=beer.pk)
