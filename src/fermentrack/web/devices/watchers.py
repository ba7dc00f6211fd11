"""Which processes each device needs on this host, as the spawner's watcher specs: a controller
(`dev-<name>`) for every active device, and our firmware (`fw-<name>`) for a simulated chamber
or a chamber on this Raspberry Pi's own pins, reached by its controller through a
pseudo-terminal; and the Tilt scanner while a Tilt listens over Bluetooth
(gravity/watchers.py)."""

from __future__ import annotations

import sys

from fermentrack import config
from fermentrack.procman.layout import Layout, controller_watcher, firmware_watcher
from fermentrack.procman.spawner import WatcherSpec
from fermentrack.web.alerts.watchers import alert_watchers
from fermentrack.web.backups.models import restore_environment
from fermentrack.web.devices.models import Device, hash_token
from fermentrack.web.gravity.watchers import scanner_watchers
from fermentrack.web.mqtt.watchers import mqtt_watchers
from fermentrack.web.push.watchers import push_watchers

CLI = ("-m", "fermentrack.cli")
SIMULATED_BEER_SETTING_C = 19.0


def _token_issuer(device_name: str):
    """A new controller token each time the watcher is added; only its hash is kept, and the
    controller finds the token in its environment (interfaces.md §1)."""

    def issue() -> dict[str, str]:
        token = Device(name=device_name).issue_token()
        Device.objects.filter(name=device_name).update(token_hash=hash_token(token))
        return {"FERMENTRACK_DEVICE_TOKEN": token}

    return issue


def device_watchers(device: Device, layout: Layout) -> list[WatcherSpec]:
    if device.controller_address:
        return []  # its controller runs on another computer, with the token copied there
    restored = restore_environment()  # changed by a restore: fresh tokens, restored EEPROMs
    controller_env = {"FERMENTRACK_API_URL": config.local_api_url(), **restored}
    specs = []
    hardware = device.firmware_hardware
    if hardware:
        pty = layout.firmware_pty(device.name)
        args = [
            *CLI,
            "firmware",
            "--eeprom",
            str(config.firmware_dir() / device.name),
            "--pty",
            str(pty),
            "--dialect",
            device.dialect,
            "--hardware",
            hardware,
        ]
        if hardware == "sim":
            # A new simulated chamber comes fitted and holding the beer, so its graph shows
            # control at once; the brewer changes either on the device's pages. Real probes and
            # relays are the brewer's to assign: nobody but they knows which is which.
            args += ["--fit-chamber", str(SIMULATED_BEER_SETTING_C)]
        specs.append(
            WatcherSpec(
                name=firmware_watcher(device.name),
                cmd=sys.executable,
                args=tuple(args),
                env=restored,
            )
        )
        controller_env["FERMENTRACK_DEVICE_LINK"] = f"serial://{pty}"
        controller_env["FERMENTRACK_DEVICE_STARTUP_DELAY_S"] = "0"  # a pty is no Uno
    specs.append(
        WatcherSpec(
            name=controller_watcher(device.name),
            cmd=sys.executable,
            args=(*CLI, "controller", device.name),
            env=controller_env,
            make_secrets=_token_issuer(device.name),
        )
    )
    return specs


def desired_watchers(layout: Layout) -> list[WatcherSpec]:
    specs = []
    for device in Device.objects.filter(active=True).order_by("name"):
        specs += device_watchers(device, layout)
    return specs + scanner_watchers() + push_watchers() + mqtt_watchers() + alert_watchers()
