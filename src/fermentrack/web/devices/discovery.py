"""The "find a device" part of the add-device page (`fermentrack discover` is beside it, in
discover_command.py).

Serial ports are listed when the page is drawn (fast); the network search is an htmx request
that browses mDNS for a few seconds. Each found device carries the form values "Use this"
fills in: the connection fields of its link (split_link, the form's own reading of a link),
the firmware dialect when the board tells it, and a name for a device found by mDNS.
"""

from __future__ import annotations

import json
import re

from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from fermentrack.config import DEVICE_NAME_PATTERN
from fermentrack.discovery.network import DEFAULT_BROWSE_S, BrowseResult, browse_brewpi
from fermentrack.discovery.serial_ports import list_serial_ports
from fermentrack.web.brewery.access import change_required
from fermentrack.web.devices.forms import split_link
from fermentrack.web.devices.models import Device


def used_links() -> dict[str, str]:
    """Every stored link and the device that uses it."""
    return dict(Device.objects.exclude(link="").values_list("link", "name"))


def device_name_from(text: str) -> str:
    """A device name suggested by an mDNS name: lower case, '-' for anything else."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].strip("-")
    return name if DEVICE_NAME_PATTERN.match(name) else ""


def form_values(link: str, dialect: str | None = None, name: str = "") -> dict:
    """The add form's values for a found device: what "Use this" fills in."""
    values = split_link(link)
    if dialect in ("esp", "avr"):
        values["dialect"] = dialect
    if name:
        values["name"] = name
    return values


def initial_from_query(query) -> dict:
    """Initial form values from `?link=...&dialect=...&name=...`: "Use this" without JavaScript.
    Anything that is not a link the form understands is ignored (the form checks it anyway)."""
    link = query.get("link", "")
    if not link.startswith(("tcp://", "serial://", "serial-by-id://")):
        return {}
    name = query.get("name", "")
    return form_values(link, query.get("dialect"), name if DEVICE_NAME_PATTERN.match(name) else "")


class Choice:
    """One found device as the page shows it."""

    def __init__(self, found, values: dict) -> None:
        self.found = found
        self.values = values

    @property
    def fill_json(self) -> str:
        return json.dumps(self.values)

    @property
    def query(self) -> str:
        keys = {"link": self.found.link}
        if self.values.get("dialect"):
            keys["dialect"] = self.values["dialect"]
        if self.values.get("name"):
            keys["name"] = self.values["name"]
        return "?" + urlencode(keys)


def serial_choices() -> list[Choice]:
    ports = list_serial_ports(used_links())
    return [Choice(port, form_values(port.link, port.dialect)) for port in ports]


def network_choices(result: BrowseResult) -> list[Choice]:
    return [
        Choice(found, form_values(found.link, found.dialect, device_name_from(found.name)))
        for found in result.found
    ]


@require_GET
@change_required
def discover_network(request):
    """Browse mDNS for BrewPi firmware (about 3 s) and answer the list, for htmx."""
    result = browse_brewpi(DEFAULT_BROWSE_S, used_links())
    context = {
        "choices": network_choices(result),
        "problem": result.problem,
        "seconds": DEFAULT_BROWSE_S,
    }
    return render(request, "devices/_found_network.html", context)
