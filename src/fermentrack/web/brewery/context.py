"""Template context every page gets: the brewery's settings and what this visitor may do."""

from __future__ import annotations

from fermentrack.web.brewery.access import can_change, can_manage_people
from fermentrack.web.brewery.models import BrewerySettings


def brewery(request) -> dict:
    return {
        "brewery": BrewerySettings.load(),
        "can_change": can_change(request.user),
        "can_manage_people": can_manage_people(request.user),
    }
