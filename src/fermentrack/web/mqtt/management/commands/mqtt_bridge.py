"""`fermentrack manage mqtt_bridge`: the `mqtt` watcher (web/mqtt/bridge.py)."""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from fermentrack.web.mqtt.bridge import Bridge, tick_s
from fermentrack.web.mqtt.models import MqttSettings

log = logging.getLogger("fermentrack.mqtt")


class Command(BaseCommand):
    help = "Publish every active device to the MQTT broker of the MQTT settings, for ever."

    def handle(self, *args, **options) -> None:
        stopping = threading.Event()
        current: list[Bridge] = []

        def stop(signum, frame) -> None:
            stopping.set()
            for bridge in current:
                bridge.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        waiting_said = False
        while not stopping.is_set():
            close_old_connections()
            try:
                settings = MqttSettings.load()
            except DatabaseError as error:
                log.warning("database unavailable (%s): trying again", error)
                stopping.wait(tick_s())
                continue
            if not settings.enabled or not settings.host:
                if not waiting_said:
                    log.info("MQTT is off in the settings (or has no broker host): waiting")
                    waiting_said = True
                stopping.wait(tick_s())
                continue
            waiting_said = False
            bridge = Bridge(settings)
            current[:] = [bridge]
            if stopping.is_set():  # a signal between the check and the list
                break
            bridge.run()
            current.clear()
