"""The MQTT bridge as a spawner watcher (`mqtt`): it runs while MQTT is enabled with a broker
host. The settings' fingerprint is in its environment, so saving new connection settings makes
the spawner replace it; what it reads at each command (accept commands, acting user) needs no
restart."""

from __future__ import annotations

import sys

from fermentrack.procman.layout import MQTT_WATCHER
from fermentrack.procman.spawner import WatcherSpec
from fermentrack.web.mqtt.models import MqttSettings

SETTINGS_VARIABLE = "FERMENTRACK_MQTT_SETTINGS"


def mqtt_watchers() -> list[WatcherSpec]:
    """[the mqtt bridge's spec] while MQTT is enabled with a host, else []."""
    settings = MqttSettings.objects.filter(pk=1).first()
    if settings is None or not settings.enabled or not settings.host:
        return []
    return [
        WatcherSpec(
            name=MQTT_WATCHER,
            cmd=sys.executable,
            args=("-m", "fermentrack.cli", "manage", "mqtt_bridge"),
            env={SETTINGS_VARIABLE: settings.connection_fingerprint()},
        )
    ]
