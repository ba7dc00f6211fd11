"""Thin views of the brewery app: first run, settings, people and the log page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login, update_session_auth_hash
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from fermentrack import config
from fermentrack.web.brewery import logs
from fermentrack.web.brewery.access import change_required, people_required
from fermentrack.web.brewery.forms import (
    AddPersonForm,
    BrewerySettingsForm,
    FirstAdminForm,
    LogViewForm,
    RoleForm,
    SetPasswordForm,
)
from fermentrack.web.brewery.models import BrewerySettings, role_of, set_role


def _posted(request):
    """The POST data to bind a form to (even when empty), or None on GET."""
    return request.POST if request.method == "POST" else None


def first_run(request):
    """Create the first admin; refused once any admin exists."""
    users = get_user_model()
    if users.objects.filter(is_superuser=True).exists():
        messages.info(request, "This brewery already has an admin: log in.")
        return redirect("login")
    form = FirstAdminForm(_posted(request))
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
    form = BrewerySettingsForm(_posted(request), instance=settings)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Settings saved.")
        return redirect("brewery_settings")
    return render(request, "brewery/settings.html", {"form": form})


@people_required
def people(request):
    """Everyone who can log in, and the form that adds a person."""
    form = AddPersonForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = get_user_model().objects.create_user(
            data["username"], data["email"], data["password"]
        )
        set_role(person, data["role"])
        messages.success(request, f"Added {person.username} as {data['role']}.")
        return redirect("people")
    everyone = get_user_model().objects.order_by("username").prefetch_related("groups")
    rows = [(person, role_of(person)) for person in everyone]
    return render(request, "brewery/people.html", {"form": form, "rows": rows})


def _person_page(request, person, *, role_form=None, password_form=None, status=200):
    return render(
        request,
        "brewery/person.html",
        {
            "person": person,
            "role": role_of(person),
            "is_self": person == request.user,
            "role_form": role_form or RoleForm(initial={"role": role_of(person)}),
            "password_form": password_form or SetPasswordForm(person),
        },
        status=status,
    )


@people_required
def person(request, pk: int):
    return _person_page(request, get_object_or_404(get_user_model(), pk=pk))


@people_required
@require_POST
def person_role(request, pk: int):
    person = get_object_or_404(get_user_model(), pk=pk)
    form = RoleForm(request.POST)
    if person == request.user:
        form.add_error(None, "you cannot change your own role: ask another admin")
    if not form.is_valid():
        return _person_page(request, person, role_form=form, status=400)
    set_role(person, form.cleaned_data["role"])
    role = role_of(person)
    article = "an" if role == "admin" else "a"
    messages.success(request, f"{person.username} is now {article} {role}.")
    return redirect("person", pk=person.pk)


@people_required
@require_POST
def person_password(request, pk: int):
    person = get_object_or_404(get_user_model(), pk=pk)
    form = SetPasswordForm(person, request.POST)
    if not form.is_valid():
        return _person_page(request, person, password_form=form, status=400)
    person.set_password(form.cleaned_data["password"])
    person.save(update_fields=["password"])
    if person == request.user:
        update_session_auth_hash(request, person)  # stay logged in with the new password
    messages.success(request, f"New password set for {person.username}.")
    return redirect("person", pk=person.pk)


@people_required
@require_POST
def person_active(request, pk: int):
    """Deactivate (active=0) or reactivate (active=1) a person; never yourself."""
    person = get_object_or_404(get_user_model(), pk=pk)
    if person == request.user:
        messages.error(request, "You cannot deactivate yourself: ask another admin.")
        return redirect("person", pk=person.pk)
    person.is_active = request.POST.get("active") == "1"
    person.save(update_fields=["is_active"])
    state = "can log in again" if person.is_active else "is deactivated and cannot log in"
    messages.success(request, f"{person.username} {state}.")
    return redirect("person", pk=person.pk)


@change_required
def log_view(request):
    """The last lines of one log file in FERMENTRACK_HOME/log/ (default: the first listed)."""
    folder = config.log_dir()
    names = logs.log_files(folder)
    query = {
        "file": request.GET.get("file") or (names[0] if names else ""),
        "lines": request.GET.get("lines") or logs.DEFAULT_LINES,
    }
    form = LogViewForm(names, query)
    chosen, lines, status = None, [], 200
    if names and form.is_valid():
        # `chosen` is one of the names listed from the folder, never a path from the request.
        chosen = form.cleaned_data["file"]
        try:
            lines = logs.last_lines(folder / chosen, form.cleaned_data["lines"])
        except OSError as error:
            form.add_error("file", f"{chosen} cannot be read now ({error.strerror})")
    if form.errors and names:
        status = 400
    context = {"form": form, "names": names, "chosen": chosen, "lines": lines, "folder": folder}
    return render(request, "brewery/logs.html", context, status=status)
