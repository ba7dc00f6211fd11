"""Thin views of the beers app."""

from __future__ import annotations

from django.shortcuts import render

from fermentrack.web.beers.models import Beer
from fermentrack.web.brewery.access import view_required


@view_required
def beer_list(request):
    return render(request, "beers/beer_list.html", {"beers": Beer.objects.select_related("device")})
