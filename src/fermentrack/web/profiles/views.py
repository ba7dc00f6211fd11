"""Thin views of the profiles app."""

from __future__ import annotations

from django.shortcuts import render

from fermentrack.web.brewery.access import view_required
from fermentrack.web.profiles.models import FermentationProfile


@view_required
def profile_list(request):
    profiles = FermentationProfile.objects.all()
    return render(request, "profiles/profile_list.html", {"profiles": profiles})
