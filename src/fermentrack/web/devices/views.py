"""Thin views of the devices app."""

from __future__ import annotations

from django.shortcuts import render

from fermentrack.web.brewery.access import view_required
from fermentrack.web.devices.models import Device


@view_required
def dashboard(request):
    return render(request, "devices/dashboard.html", {"devices": Device.objects.all()})
