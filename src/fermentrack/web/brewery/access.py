"""Who may see and who may change what: the one place the permission rules live.

- Anonymous visitors see the dashboard and device pages only when the brewery turned off
  "dashboard requires login"; they never change anything.
- Guests (members of the Guests group) see everything and change nothing.
- Every other logged-in user (brewers, and the admin) sees and changes everything; only staff
  manage people.
- A beer's share link shows that beer's graph to anyone who has it, and nothing else.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from fermentrack.web.brewery.models import GUESTS_GROUP, BrewerySettings


def is_guest(user) -> bool:
    return user.is_authenticated and user.groups.filter(name=GUESTS_GROUP).exists()


def can_view(user) -> bool:
    if user.is_authenticated:
        return True
    return not BrewerySettings.load().dashboard_requires_login


def can_change(user) -> bool:
    return user.is_authenticated and user.is_active and not is_guest(user)


def can_manage_people(user) -> bool:
    return user.is_authenticated and user.is_staff


def _guard(allowed):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if allowed(request.user):
                return view(request, *args, **kwargs)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise PermissionDenied("your account may look but not change anything here")

        return wrapper

    return decorator


view_required = _guard(can_view)
change_required = _guard(can_change)
people_required = _guard(can_manage_people)
