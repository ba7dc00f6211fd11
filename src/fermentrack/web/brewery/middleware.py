"""Until the brewery has an admin, every page leads to the first-run page that creates one."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import redirect

# Paths that must work before any account exists: hydrometers post whoever is logged in.
_OPEN_PREFIXES = ("/setup/", "/static/", "/api/", "/tiltbridge", "/ispindel", "/ispindle")


class FirstRunMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self._has_admin = False  # once true it stays true for this process

    def __call__(self, request):
        if not self._has_admin and not request.path.lower().startswith(_OPEN_PREFIXES):
            if get_user_model().objects.filter(is_superuser=True).exists():
                self._has_admin = True
            else:
                return redirect("first_run")
        return self.get_response(request)
