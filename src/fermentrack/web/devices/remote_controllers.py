"""Controllers that run on another computer than the web app: the device's controller address
says where, and its token's fingerprint is the secret the controller asks for (interfaces.md
§2). Installed into client.py when the app starts, so every page, the MQTT bridge and the
pusher reach such a controller the same way as one on this computer."""

from __future__ import annotations

from fermentrack.controller import client
from fermentrack.web.devices.models import Device, split_controller_address


def remote_controller(name: str) -> client.Remote | None:
    row = Device.objects.filter(name=name).values_list("controller_address", "token_hash").first()
    if row is None or not row[0]:
        return None
    host, port = split_controller_address(row[0])
    return client.Remote(host, port, row[1])
