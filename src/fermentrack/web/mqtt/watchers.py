"""The mqtt and home assistant process as a spawner watcher (to be written)."""

from __future__ import annotations

from fermentrack.procman.spawner import WatcherSpec


def mqtt_watchers() -> list[WatcherSpec]:
    return []
