"""Thin views of the brewery app: first run and the settings page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.shortcuts import redirect, render

from fermentrack.web.brewery.access import change_required
from fermentrack.web.brewery.forms import BrewerySettingsForm, FirstAdminForm
from fermentrack.web.brewery.models import BrewerySettings


def first_run(request):
    """Create the first admin; refused once any admin exists."""
    users = get_user_model()
    if users.objects.filter(is_superuser=True).exists():
        messages.info(request, "This brewery already has an admin: log in.")
        return redirect("login")
    form = FirstAdminForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        admin = users.objects.create_superuser(data["username"], data["email"], data["password"])
        login(request, admin)
        messages.success(request, f"Welcome, {admin.username}. Add your first device.")
        return redirect("dashboard")
    return render(request, "brewery/first_run.html", {"form": form})


@change_required
def brewery_settings(request):
    settings = BrewerySettings.load()
    form = BrewerySettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Settings saved.")
        return redirect("brewery_settings")
    return render(request, "brewery/settings.html", {"form": form})
